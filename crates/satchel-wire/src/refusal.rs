//! Why the relay refused a request, as a code a program can act on.
//!
//! Every refusal is a 4xx answer whose JSON body is a [`Refusal`]: a stable
//! code, a sentence for a person, and, where waiting helps, how long to
//! wait (also sent as `Retry-After`). Bad input never gets a 5xx.

use serde::{Deserialize, Serialize};

/// The reasons the relay refuses a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// A header or body the relay cannot read.
    Malformed,
    /// The request does not speak tus 1.0.0.
    UnsupportedVersion,
    /// No token, or an expired or forged one.
    Unauthenticated,
    /// The device may not do this: another device's mailbox, or a device
    /// the directory no longer lists.
    Forbidden,
    /// No such upload, envelope or mailbox entry.
    NotFound,
    /// A `PATCH` not at the upload's current offset.
    OffsetMismatch,
    /// An envelope or chunk larger than the relay takes.
    TooLarge,
    /// The device has used its storage quota.
    QuotaExceeded,
    /// Too many requests; wait `retry_after_seconds`.
    RateLimited,
    /// A directory older than the one the relay holds.
    Rollback,
    /// A sign-in challenge that was used already or has expired.
    ChallengeUsed,
}

impl Code {
    /// The HTTP status the relay answers with.
    pub fn status(self) -> u16 {
        match self {
            Code::Malformed => 400,
            Code::Unauthenticated | Code::ChallengeUsed => 401,
            Code::Forbidden => 403,
            Code::NotFound => 404,
            Code::OffsetMismatch | Code::Rollback => 409,
            Code::UnsupportedVersion => 412,
            Code::TooLarge | Code::QuotaExceeded => 413,
            Code::RateLimited => 429,
        }
    }
}

/// The body of a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    pub code: Code,
    /// What went wrong and what to do, for a person; never holds a token,
    /// a signature or anything from a request body.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}
