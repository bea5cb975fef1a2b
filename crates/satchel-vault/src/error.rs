//! The vault's one error type.
//!
//! Messages are lowercase and say what a person can do next. None of them
//! carries a passphrase, a key or any stored content.

use std::path::PathBuf;

/// Everything that can go wrong opening or using a vault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `create` found a vault already set up in the data directory.
    #[error("a vault already exists in {0}; unlock it instead of creating a new one")]
    AlreadyExists(PathBuf),

    /// `unlock` found no vault in the data directory.
    #[error("no vault has been set up in {0} yet; create one first")]
    NotFound(PathBuf),

    /// The passphrase does not meet the minimum policy.
    #[error("the passphrase is too short: use at least {min} characters")]
    PassphraseTooShort {
        /// The minimum length, in characters.
        min: usize,
    },

    /// The passphrase did not unwrap any key in the keyring.
    #[error("that passphrase does not unlock this vault; check it and try again")]
    WrongPassphrase,

    /// The keyring names key-derivation settings weaker than the floor.
    #[error(
        "the keyring asks for weaker key derivation than Satchel allows; restore it from a backup"
    )]
    WeakKeyDerivation,

    /// The keyring file is not something this version can read.
    #[error("the keyring at {path} is unreadable: {reason}")]
    BadKeyring {
        /// Where the keyring lives.
        path: PathBuf,
        /// What was wrong with it, without any key material.
        reason: String,
    },

    /// The database does not open with the key its keyring holds, or failed
    /// its integrity check.
    #[error(
        "the vault database is damaged or does not belong to this keyring; restore it from a backup"
    )]
    Damaged,

    /// The database was written by a newer Satchel.
    #[error(
        "the vault was written by a newer Satchel (schema {found}, this build knows up to {known}); update Satchel"
    )]
    SchemaTooNew {
        /// The schema version in the file.
        found: u32,
        /// The newest schema this build can migrate to.
        known: u32,
    },

    /// A value handed in does not fit what the vault stores.
    #[error("{0}")]
    Invalid(String),

    /// A new passphrase is too easy to guess; the text says why and what to
    /// do instead.
    #[error("{0}")]
    WeakPassphrase(String),

    /// No local account has that name.
    #[error("there is no account named {0:?} on this laptop; check the name")]
    UnknownAccount(String),

    /// Too many wrong passphrases in a row: wait before the next try.
    #[error("too many wrong passphrases; wait {wait_seconds} seconds and try again")]
    TryAgainLater {
        /// Seconds until the next attempt is accepted.
        wait_seconds: u64,
    },

    /// The account is locked out after repeated wrong passphrases.
    #[error(
        "this account is locked after too many wrong passphrases; wait {wait_seconds} seconds or use the recovery code"
    )]
    LockedOut {
        /// Seconds until the lockout ends.
        wait_seconds: u64,
    },

    /// The account needs its authenticator code to sign in.
    #[error("enter the 6-digit code from your authenticator app")]
    TotpRequired,

    /// The authenticator code was wrong, expired or already used.
    #[error("that authenticator code is wrong or has expired; enter the current one")]
    TotpWrong,

    /// The recovery code did not match the account's.
    #[error("that recovery code does not match this account; check it and try again")]
    WrongRecoveryCode,

    /// The vault handle is locked (by hand or after being idle).
    #[error("the vault is locked; sign in again to continue")]
    Locked,

    /// A high-stakes operation needs the passphrase typed again first.
    #[error("confirm your passphrase first: this action needs it typed again")]
    ReauthRequired,

    /// The signed-in account may not do this, or may not see this record.
    #[error("{0}")]
    NotAllowed(String),

    /// No record with that id exists (or it belongs to another account).
    #[error("{kind} {id} was not found")]
    RecordNotFound {
        /// What kind of record was asked for.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },

    /// An attachment was refused: wrong type, too large, or empty.
    #[error("{0}")]
    AttachmentRefused(String),

    /// The malware scanner found something in an attachment.
    #[error("the file was not attached: the virus scanner found {signature}")]
    Infected {
        /// The scanner's name for what it found.
        signature: String,
    },

    /// Scanning is required but the scanner could not be reached.
    #[error(
        "the file was not attached: the virus scanner is not running ({0}); start it or ask your administrator"
    )]
    ScannerUnavailable(String),

    /// The audit log failed verification.
    #[error("the audit log failed verification: {0}")]
    AuditBroken(String),

    /// The operating system refused a file operation.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What was being attempted, as a verb phrase.
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// SQLite or SQLCipher reported an error.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),

    /// The system random number generator failed.
    #[error("the system random number generator is unavailable")]
    Random,
}

/// The vault's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
