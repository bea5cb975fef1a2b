//! The messages that cross between the Yew UI and the Tauri shell.
//!
//! Both sides compile this crate, so a renamed field or command fails to
//! build instead of failing at run time. It holds plain data only: no
//! secrets are kept in these types beyond the call that carries them.

#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};

/// The names of the shell's commands, as the UI invokes them.
pub mod command {
    /// Reports whether a vault exists and is unlocked. Takes no arguments.
    pub const VAULT_STATUS: &str = "vault_status";
    /// Sets up a new vault with its first account. Takes
    /// [`CreateVault`](super::CreateVault) and answers with
    /// [`VaultCreated`](super::VaultCreated).
    pub const CREATE_VAULT: &str = "create_vault";
    /// Signs an account in and unlocks the vault. Takes
    /// [`UnlockVault`](super::UnlockVault).
    pub const UNLOCK_VAULT: &str = "unlock_vault";
    /// Locks the vault, dropping its key from memory. Takes no arguments.
    pub const LOCK_VAULT: &str = "lock_vault";
}

/// Where the device's vault stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VaultState {
    /// Nothing has been set up on this device yet.
    Absent,
    /// A vault exists and waits for someone to sign in.
    Locked,
    /// The vault is open.
    Unlocked,
}

/// What every vault command answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultStatus {
    /// Where the vault stands.
    pub state: VaultState,
    /// The data directory, shown so staff and support can find it.
    pub data_dir: String,
    /// The laptop's name, read from the vault; only known when unlocked.
    pub device_label: Option<String>,
    /// The names of the accounts on this laptop, for the sign-in screen.
    /// Empty when no vault exists. Names only: nothing secret.
    pub accounts: Vec<String>,
    /// The signed-in account's name; only known when unlocked.
    pub account_name: Option<String>,
}

/// Arguments of [`command::CREATE_VAULT`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateVault {
    /// The name of the person setting up, which becomes the first
    /// account's name.
    pub account_name: String,
    /// The name staff give this laptop.
    pub device_label: String,
    /// The new passphrase.
    pub passphrase: String,
}

/// What [`command::CREATE_VAULT`] answers with.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultCreated {
    /// The new vault, unlocked and signed in to.
    pub status: VaultStatus,
    /// The first account's recovery code, to show the person exactly once
    /// and then forget.
    pub recovery_code: String,
}

/// Arguments of [`command::UNLOCK_VAULT`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnlockVault {
    /// The account name typed (or prefilled) at the lock screen.
    pub account_name: String,
    /// The passphrase typed at the lock screen.
    pub passphrase: String,
}

/// A command's failure, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandError {
    /// One or two sentences: what went wrong and what to do.
    pub message: String,
}
