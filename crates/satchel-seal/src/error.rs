//! The sealing crate's errors.
//!
//! Authenticity failures are deliberately one variant with no detail: a
//! flipped bit in a MAC, a chunk, a signature or an attachment hash all
//! answer [`Error::Unauthentic`], so an attacker learns nothing about which
//! check failed. Only two things may be told apart from that, because a
//! person can act on them: the input is not an envelope at all, and the
//! envelope is not addressed to any key the caller holds.

/// Everything that can go wrong sealing, opening or verifying.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not an age v1 file (or not one this crate can parse).
    #[error("this is not a Satchel envelope or age file")]
    NotAnEnvelope,

    /// The file is well formed but none of its recipient stanzas opens with
    /// the keys supplied.
    #[error("this envelope is not addressed to any of your keys")]
    NoMatchingKey,

    /// Some integrity or authenticity check failed. Deliberately without
    /// detail.
    #[error("the envelope failed verification; it may have been damaged or tampered with")]
    Unauthentic,

    /// A valid age feature Satchel does not accept (passphrase or
    /// post-quantum recipients, ASCII armor).
    #[error("unsupported: {0}")]
    Unsupported(&'static str),

    /// A signed document is older than the one already held.
    #[error(
        "this directory (version {offered}) is older than the one already held (version {held}); it was refused"
    )]
    Rollback {
        /// The version already held.
        held: u64,
        /// The version offered.
        offered: u64,
    },

    /// A signed document or key is outside its validity window.
    #[error("{0} has expired")]
    Expired(&'static str),

    /// Input from the caller that cannot be used, with what to do.
    #[error("{0}")]
    Invalid(String),

    /// The system random number generator failed.
    #[error("the system random number generator is unavailable")]
    Random,

    /// Reading or writing one of the caller's streams failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Fills `bytes` from the operating system's random number generator.
pub(crate) fn random(bytes: &mut [u8]) -> Result<()> {
    getrandom::fill(bytes).map_err(|_| Error::Random)
}
