//! The vault: Satchel's encrypted local store.
//!
//! Each device keeps one SQLCipher 4 database in its data directory, opened
//! with a random 256-bit raw key. That key never touches the disk in the
//! clear: the keyring beside the database holds it wrapped under a key
//! derived from a passphrase with Argon2id (the `keyring` module).
//!
//! ```text
//! <data dir>/vault.db       SQLCipher database (pages encrypted, WAL mode)
//! <data dir>/keyring.json   the database key, wrapped per passphrase
//! ```

#![forbid(unsafe_code)]

mod account;
mod attachments;
pub mod audit;
mod backup;
mod crypto;
mod directory_cache;
mod drafts;
mod error;
mod inbox;
mod keyring;
mod keys;
mod location;
mod migrations;
mod outbox;
mod retention;
pub mod scan;
mod secret;
pub mod strength;
pub mod totp;
mod vault;

pub use account::{
    Account, FREE_ATTEMPTS, LOCKOUT_AFTER, LOCKOUT_SECONDS, NewAccount, RecoveryCode,
};
pub use attachments::{AttachmentInfo, AttachmentRules, CHUNK_BYTES, Scanning};
pub use backup::{BackupInfo, restore, restore_with_totp};
pub use drafts::{Draft, DraftState, DraftSummary, MAX_ANSWER_BYTES};
pub use error::{Error, Result};
pub use inbox::{InboxEntry, InboxState, InboxSummary};
pub use keys::{KeyKind, KeyRecord};
pub use location::{DATA_DIR_VAR, default_data_dir};
pub use migrations::LATEST as LATEST_SCHEMA;
pub use outbox::{NewEnvelope, OutboxEntry, OutboxState};
pub use retention::{
    MAX_REASON_CHARS, MAX_RETENTION_DAYS, RetentionPolicy, RetentionReport, Tombstone,
};
pub use satchel_seal::directory::Role;
pub use secret::{MIN_PASSPHRASE_CHARS, Passphrase};
pub use vault::{
    DATABASE_FILE, DEFAULT_IDLE_TIMEOUT, FRESH_AUTH_LIFETIME, FreshAuth, KEYRING_FILE, Presence,
    Vault, check_device_label,
};

/// The current time as Unix seconds, as the vault's sign-in and retention
/// functions take it.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
