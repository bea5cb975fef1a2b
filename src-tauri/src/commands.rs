//! The commands the UI may call. Each is listed in `build.rs` and granted to
//! the main window in `tauri.conf.json`; anything else is refused by Tauri.
//!
//! Key derivation takes a noticeable fraction of a second by design, so
//! commands that unwrap or wrap the vault key run on a blocking thread and
//! never freeze the window.

use std::collections::BTreeSet;

use satchel_ipc::{CreateVault, UnlockVault, VaultCreated, VaultStatus};
use satchel_vault::{NewAccount, Passphrase, Role, Vault, unix_now};
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
) -> Result<VaultCreated, CommandError> {
    let state = state.inner().clone();
    run_blocking(move || {
        let CreateVault {
            account_name,
            device_label,
            passphrase,
        } = request;
        let passphrase = Passphrase::new(passphrase);
        // Check what can be checked before anything touches the disk; the
        // vault checks the name and the passphrase's strength itself
        // before it writes anything.
        let label = satchel_vault::check_device_label(&device_label)?.to_owned();

        // At first set-up no organisation directory exists on this laptop
        // yet, so there is no member id to look up: the first account gets
        // a local one made from the name, and runs the laptop (admin) as
        // well as interviews (intake).
        let member_id = local_member_id(&account_name);
        let first = NewAccount {
            name: &account_name,
            member_id: &member_id,
            roles: BTreeSet::from([Role::Admin, Role::Intake]),
            passphrase: &passphrase,
        };
        let (mut vault, code) = Vault::create(state.data_dir(), &first, unix_now())?;
        vault.set_device_label(&label)?;
        *state.vault() = Some(vault);
        Ok(VaultCreated {
            status: state.status()?,
            recovery_code: code.as_str().to_owned(),
        })
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
        let UnlockVault {
            account_name,
            passphrase,
        } = request;
        let passphrase = Passphrase::new(passphrase);
        let vault = Vault::sign_in(
            state.data_dir(),
            &account_name,
            &passphrase,
            None,
            unix_now(),
        )?;
        *state.vault() = Some(vault);
        state.status()
    })
    .await
}

#[tauri::command]
pub(crate) fn lock_vault(state: State<'_, AppState>) -> Result<VaultStatus, CommandError> {
    // Locking closes the database and wipes the keys; dropping the handle
    // as well lets whoever comes next sign in with their own account.
    if let Some(mut vault) = state.vault().take() {
        vault.lock();
    }
    tracing::info!("vault locked");
    state.status()
}

/// A member id for an account made before the laptop has an organisation
/// directory: `local-` and the name in lower case, with each run of
/// anything but letters and digits turned into one dash.
fn local_member_id(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push_str("account");
    }
    format!("local-{slug}")
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

#[cfg(test)]
mod tests {
    use super::local_member_id;

    #[test]
    fn local_member_ids_are_slugs_of_the_name() {
        assert_eq!(local_member_id("Rosa Díaz"), "local-rosa-díaz");
        assert_eq!(local_member_id("  O'Brien, J.  "), "local-o-brien-j");
        assert_eq!(local_member_id("sam_lee-2"), "local-sam-lee-2");
        assert_eq!(local_member_id("..."), "local-account");
    }
}
