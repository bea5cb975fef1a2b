//! The commands the UI may call. Each is listed in `build.rs` and granted to
//! the main window in `tauri.conf.json`; anything else is refused by Tauri.
//!
//! Key derivation takes a noticeable fraction of a second by design, so
//! commands that unwrap or wrap the vault key run on a blocking thread and
//! never freeze the window.

use satchel_ipc::{CreateVault, UnlockVault, VaultStatus};
use satchel_vault::{Passphrase, Vault};
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

#[tauri::command]
pub(crate) fn vault_status(state: State<'_, AppState>) -> Result<VaultStatus, CommandError> {
    state.status()
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub(crate) async fn create_vault(
    state: State<'_, AppState>,
    request: CreateVault,
) -> Result<VaultStatus, CommandError> {
    let state = state.inner().clone();
    run_blocking(move || {
        let CreateVault {
            device_label,
            passphrase,
        } = request;
        let passphrase = Passphrase::new(passphrase);
        // Check what can be checked before anything touches the disk.
        let label = satchel_vault::check_device_label(&device_label)?.to_owned();
        passphrase.check_new()?;

        let vault = Vault::create(state.data_dir(), &passphrase)?;
        vault.set_device_label(&label)?;
        *state.vault() = Some(vault);
        state.status()
    })
    .await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub(crate) async fn unlock_vault(
    state: State<'_, AppState>,
    request: UnlockVault,
) -> Result<VaultStatus, CommandError> {
    let state = state.inner().clone();
    run_blocking(move || {
        let passphrase = Passphrase::new(request.passphrase);
        let vault = Vault::unlock(state.data_dir(), &passphrase)?;
        *state.vault() = Some(vault);
        state.status()
    })
    .await
}

#[tauri::command]
pub(crate) fn lock_vault(state: State<'_, AppState>) -> Result<VaultStatus, CommandError> {
    // Dropping the vault closes the database; SQLCipher wipes its key.
    state.vault().take();
    tracing::info!("vault locked");
    state.status()
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .unwrap_or_else(|error| {
            tracing::error!(%error, "a vault task stopped unexpectedly");
            Err(CommandError::new("that did not finish; try again"))
        })
}
