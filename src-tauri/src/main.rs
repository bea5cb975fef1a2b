//! Satchel's desktop app: a Tauri window around the Yew UI.
//!
//! The shell stays thin. Each command checks its input, calls into the
//! crates that do the work, and answers with data or an error a person can
//! act on. Nothing here keeps client content outside the vault.

#![forbid(unsafe_code)]

mod commands;
mod error;
mod state;

use std::process::ExitCode;

use state::AppState;

fn main() -> ExitCode {
    satchel_telemetry::init("info");

    let Some(data_dir) = satchel_vault::default_data_dir() else {
        tracing::error!("no data directory: set SATCHEL_DATA_DIR or HOME");
        return ExitCode::FAILURE;
    };
    tracing::info!(data.dir = %data_dir.display(), "starting Satchel");

    let state = AppState::new(data_dir);
    state.start_housekeeping();
    let outcome = tauri::Builder::default()
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::vault_status,
            commands::create_vault,
            commands::unlock_vault,
            commands::lock_vault,
        ])
        .run(context());

    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the desktop app stopped with an error");
            ExitCode::FAILURE
        }
    }
}

/// The configuration, capabilities and UI assets that `build.rs` generated.
#[allow(
    clippy::unwrap_used,
    reason = "the generated code unwraps values it parsed at build time"
)]
fn context() -> tauri::Context {
    tauri::tauri_build_context!()
}
