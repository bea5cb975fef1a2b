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

pub mod audit;
mod error;
mod keyring;
mod keys;
mod location;
mod migrations;
pub mod scan;
mod secret;
pub mod strength;
pub mod totp;
mod vault;

pub use error::{Error, Result};
pub use keys::{KeyKind, KeyRecord};
pub use location::{DATA_DIR_VAR, default_data_dir};
pub use migrations::LATEST as LATEST_SCHEMA;
pub use secret::{MIN_PASSPHRASE_CHARS, Passphrase};
pub use vault::{DATABASE_FILE, KEYRING_FILE, Presence, Vault, check_device_label};
