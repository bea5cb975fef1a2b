//! Build script for the desktop shell.
//!
//! It embeds the already-built UI (`ui/dist`, made by `scripts/build-ui.sh`)
//! and the root `tauri.conf.json` into the binary, and generates one
//! permission per command so the window's capability can name exactly the
//! commands it may call.

/// Every command the shell exposes. Each gets an `allow-<name>` permission,
/// which `tauri.conf.json` grants to the main window.
const COMMANDS: &[&str] = &["vault_status", "create_vault", "unlock_vault", "lock_vault"];

fn main() {
    // WebKitGTK's libraries link the system libsqlite3, and GTK links this
    // executable with --export-dynamic. Without this flag the statically
    // linked SQLCipher would export its sqlite3_* symbols and WebKit's own
    // SQLite calls would bind to SQLCipher instead. Keep every symbol from
    // static archives private to the binary.
    println!("cargo:rustc-link-arg-bins=-Wl,--exclude-libs,ALL");

    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS))
        .codegen(tauri_build::CodegenContext::new());
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed (has scripts/build-ui.sh made ui/dist?): {error:#}");
    }
}
