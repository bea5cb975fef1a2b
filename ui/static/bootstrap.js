// Loads the WebAssembly UI. Kept in its own file so the content security
// policy can forbid every inline script.
import init from "./satchel_ui.js";

init();
