//! What the shell keeps between commands: the data directory and, while
//! unlocked, the open vault.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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

    /// Starts the thread that, every half minute, locks a vault left idle
    /// past its timeout and, every hour, applies the retention policy, so
    /// both happen even when nobody touches the window.
    pub(crate) fn start_housekeeping(&self) {
        const TICK: Duration = Duration::from_secs(30);
        const RETENTION_EVERY: Duration = Duration::from_secs(60 * 60);
        let state = self.clone();
        let started = std::thread::Builder::new()
            .name("satchel-housekeeping".to_owned())
            .spawn(move || {
                let mut last_retention = Instant::now();
                loop {
                    std::thread::sleep(TICK);
                    let mut slot = state.vault();
                    let Some(vault) = slot.as_mut() else {
                        continue;
                    };
                    if vault.lock_if_idle() {
                        tracing::info!("the vault locked itself after being idle");
                        slot.take();
                    } else if last_retention.elapsed() >= RETENTION_EVERY {
                        last_retention = Instant::now();
                        if let Err(error) = vault.run_retention(satchel_vault::unix_now()) {
                            tracing::error!(%error, "retention did not run");
                        }
                    }
                }
            });
        if let Err(error) = started {
            tracing::error!(%error, "could not start the idle lock and retention timer");
        }
    }

    /// Describes the vault as the UI needs it, reading the laptop's name
    /// from the database itself. A vault that locked itself after sitting
    /// idle is closed here, so the UI shows the sign-in screen.
    pub(crate) fn status(&self) -> Result<VaultStatus, CommandError> {
        let mut slot = self.vault();
        if slot.as_mut().is_some_and(Vault::lock_if_idle) {
            tracing::info!("the vault locked itself after being idle");
            slot.take();
        }
        let (state, device_label, account_name) = match slot.as_mut() {
            Some(vault) => (
                VaultState::Unlocked,
                vault.device_label()?,
                Some(vault.account().name.clone()),
            ),
            None => match Vault::presence(&self.data_dir) {
                Presence::Present => (VaultState::Locked, None, None),
                Presence::Absent => (VaultState::Absent, None, None),
            },
        };
        // The names only help fill in the sign-in screen. If the keyring
        // cannot be read, signing in reports why, in words a person can
        // act on, so the screen is still shown.
        let accounts = match state {
            VaultState::Absent => Vec::new(),
            VaultState::Locked | VaultState::Unlocked => match Vault::accounts(&self.data_dir) {
                Ok(accounts) => accounts.into_iter().map(|account| account.name).collect(),
                Err(error) => {
                    tracing::warn!(%error, "could not list the accounts on this laptop");
                    Vec::new()
                }
            },
        };
        Ok(VaultStatus {
            state,
            data_dir: self.data_dir.display().to_string(),
            device_label,
            accounts,
            account_name,
        })
    }
}
