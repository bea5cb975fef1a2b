//! What the shell keeps between commands: the data directory and, while
//! unlocked, the open vault.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use satchel_ipc::{VaultState, VaultStatus};
use satchel_vault::{Presence, Vault};

use crate::error::CommandError;

/// Shared by every command. Cloning shares the same vault slot.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    data_dir: PathBuf,
    vault: Arc<Mutex<Option<Vault>>>,
}

impl AppState {
    pub(crate) fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            vault: Arc::new(Mutex::new(None)),
        }
    }

    pub(crate) fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The open vault slot. A command that panicked while holding it leaves
    /// the vault as it was; the next caller may still use it.
    pub(crate) fn vault(&self) -> MutexGuard<'_, Option<Vault>> {
        self.vault
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Describes the vault as the UI needs it, reading the laptop's name
    /// from the database itself.
    pub(crate) fn status(&self) -> Result<VaultStatus, CommandError> {
        let slot = self.vault();
        let (state, device_label) = match slot.as_ref() {
            Some(vault) => (VaultState::Unlocked, vault.device_label()?),
            None => match Vault::presence(&self.data_dir) {
                Presence::Present => (VaultState::Locked, None),
                Presence::Absent => (VaultState::Absent, None),
            },
        };
        Ok(VaultStatus {
            state,
            data_dir: self.data_dir.display().to_string(),
            device_label,
        })
    }
}
