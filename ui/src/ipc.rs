//! Calling the desktop shell's commands.
//!
//! Tauri exposes `window.__TAURI__.core.invoke` (enabled by
//! `withGlobalTauri` in `tauri.conf.json`). Arguments and answers are the
//! shared types from `satchel-ipc`.

use satchel_ipc::CommandError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(command: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// Invokes `command` with no arguments.
pub(crate) async fn call<R: DeserializeOwned>(command: &str) -> Result<R, String> {
    invoke(command, JsValue::from(js_sys::Object::new())).await
}

/// Invokes `command` with its arguments under the name `request`, which is
/// the parameter name every shell command with arguments uses.
pub(crate) async fn call_with<A: Serialize, R: DeserializeOwned>(
    command: &str,
    request: &A,
) -> Result<R, String> {
    #[derive(Serialize)]
    struct Envelope<'a, A> {
        request: &'a A,
    }
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let args = Envelope { request }
        .serialize(&serializer)
        .map_err(|_| "the request could not be prepared; please report this".to_owned())?;
    invoke(command, args).await
}

async fn invoke<R: DeserializeOwned>(command: &str, args: JsValue) -> Result<R, String> {
    match tauri_invoke(command, args).await {
        Ok(value) => serde_wasm_bindgen::from_value(value)
            .map_err(|_| "the app answered in an unexpected form; please report this".to_owned()),
        Err(error) => Err(describe(error)),
    }
}

/// A refusal from one of our commands carries a [`CommandError`]; Tauri's
/// own refusals arrive as a plain string.
fn describe(error: JsValue) -> String {
    if let Ok(CommandError { message }) = serde_wasm_bindgen::from_value(error.clone()) {
        return message;
    }
    error
        .as_string()
        .unwrap_or_else(|| "something went wrong; please try again".to_owned())
}
