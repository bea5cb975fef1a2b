//! The ids the relay sees.
//!
//! An envelope id is the 64 lowercase hex digits of the SHA-256 the sealing
//! crate computes over an envelope's header and signed manifest; the relay
//! stores blobs under it, so it must never be able to name anything else.
//! A mailbox id names the device whose mailbox it is, as the organisation
//! directory writes device ids. Both are checked on the way in, so a `../`,
//! a NUL or a slash is refused before it can reach a file name or a query.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What is wrong with an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an envelope id is 64 lowercase hex digits; this one is {0} characters long")]
    EnvelopeIdLength(usize),
    #[error("an envelope id holds only the digits 0-9 and the letters a-f")]
    EnvelopeIdDigits,
    #[error("a mailbox id is 1 to {MAX_MAILBOX_ID} characters long")]
    MailboxIdLength,
    #[error(
        "a mailbox id holds only lowercase letters, digits, `-` and `_`, and starts with a letter or digit"
    )]
    MailboxIdCharacters,
}

/// The id of one envelope.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvelopeId([u8; 32]);

impl EnvelopeId {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for EnvelopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for EnvelopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvelopeId({self})")
    }
}

impl FromStr for EnvelopeId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, IdError> {
        if text.len() != 64 {
            return Err(IdError::EnvelopeIdLength(text.chars().count()));
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let digit = |c: u8| match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                _ => Err(IdError::EnvelopeIdDigits),
            };
            *byte = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Ok(Self(bytes))
    }
}

/// The longest mailbox id accepted.
pub const MAX_MAILBOX_ID: usize = 64;

/// The id of one device's mailbox.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MailboxId(String);

impl MailboxId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for MailboxId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, IdError> {
        if text.is_empty() || text.len() > MAX_MAILBOX_ID {
            return Err(IdError::MailboxIdLength);
        }
        let first_ok = text
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let rest_ok = text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !(first_ok && rest_ok) {
            return Err(IdError::MailboxIdCharacters);
        }
        Ok(Self(text.to_owned()))
    }
}

macro_rules! serde_as_text {
    ($type:ty) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_as_text!(EnvelopeId);
serde_as_text!(MailboxId);
