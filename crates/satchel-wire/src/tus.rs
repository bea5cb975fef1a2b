//! The tus 1.0 headers of a resumable upload (core protocol, with the
//! creation and termination extensions).
//!
//! An upload is created with `POST` carrying `Upload-Length` and
//! `Upload-Metadata`, continued with `PATCH` at `Upload-Offset`, asked for
//! its offset with `HEAD`, and abandoned with `DELETE`; every request but
//! `OPTIONS` carries `Tus-Resumable: 1.0.0`. The relay accepts exactly two
//! metadata keys, [`ENVELOPE_KEY`] and [`RECIPIENTS_KEY`]: an upload may
//! not tell the relay anything else, such as a file name.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::ids::{EnvelopeId, IdError, MailboxId};

/// The protocol version, in `Tus-Resumable` and `Tus-Version`.
pub const VERSION: &str = "1.0.0";
/// The extensions the relay offers, in `Tus-Extension`.
pub const EXTENSIONS: &str = "creation,termination";
/// The content type every `PATCH` body must declare.
pub const PATCH_CONTENT_TYPE: &str = "application/offset+octet-stream";
/// The metadata key naming the envelope.
pub const ENVELOPE_KEY: &str = "envelope";
/// The metadata key listing the recipients' mailboxes, space-separated.
pub const RECIPIENTS_KEY: &str = "recipients";
/// The most recipients one envelope may be delivered to.
pub const MAX_RECIPIENTS: usize = 16;
/// The longest `Upload-Metadata` header accepted, in bytes.
pub const MAX_METADATA_BYTES: usize = 4096;

/// What is wrong with a tus header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TusError {
    #[error("the request must carry `Tus-Resumable: {VERSION}`")]
    Version,
    #[error("`{0}` must be a whole number of bytes, written in digits only")]
    Number(&'static str),
    #[error("`Upload-Metadata` is longer than {MAX_METADATA_BYTES} bytes")]
    MetadataTooLong,
    #[error("`Upload-Metadata` must be comma-separated `key base64-value` pairs")]
    MetadataShape,
    #[error(
        "`Upload-Metadata` may only carry `{ENVELOPE_KEY}` and `{RECIPIENTS_KEY}`; `{0}` is not allowed"
    )]
    MetadataKey(String),
    #[error("`Upload-Metadata` gives `{0}` twice")]
    MetadataRepeated(String),
    #[error("`Upload-Metadata` lacks `{0}`")]
    MetadataMissing(&'static str),
    #[error("the value of `{0}` in `Upload-Metadata` is not base64 of UTF-8 text")]
    MetadataValue(&'static str),
    #[error("an envelope goes to 1 to {MAX_RECIPIENTS} different mailboxes")]
    Recipients,
    #[error("{0}")]
    Id(#[from] IdError),
}

/// Checks the `Tus-Resumable` header.
pub fn check_version(header: Option<&str>) -> Result<(), TusError> {
    match header {
        Some(VERSION) => Ok(()),
        _ => Err(TusError::Version),
    }
}

/// Parses `Upload-Length` or `Upload-Offset`: ASCII digits only, no sign,
/// no spaces, no more than fits in 63 bits.
pub fn parse_number(name: &'static str, header: &str) -> Result<u64, TusError> {
    let digits_only =
        !header.is_empty() && header.len() <= 19 && header.bytes().all(|b| b.is_ascii_digit());
    if !digits_only {
        return Err(TusError::Number(name));
    }
    header
        .parse::<u64>()
        .ok()
        .filter(|n| i64::try_from(*n).is_ok())
        .ok_or(TusError::Number(name))
}

/// What an upload says about itself: which envelope, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadMetadata {
    pub envelope: EnvelopeId,
    /// Each recipient once, in the order given.
    pub recipients: Vec<MailboxId>,
}

impl UploadMetadata {
    /// Parses an `Upload-Metadata` header.
    pub fn parse(header: &str) -> Result<Self, TusError> {
        if header.len() > MAX_METADATA_BYTES {
            return Err(TusError::MetadataTooLong);
        }
        let mut envelope = None;
        let mut recipients = None;
        for pair in header.split(',') {
            let pair = pair.trim_matches(' ');
            let mut words = pair.split(' ');
            let (Some(key), Some(value), None) = (words.next(), words.next(), words.next()) else {
                return Err(TusError::MetadataShape);
            };
            let slot = match key {
                ENVELOPE_KEY => &mut envelope,
                RECIPIENTS_KEY => &mut recipients,
                "" => return Err(TusError::MetadataShape),
                other => return Err(TusError::MetadataKey(printable(other))),
            };
            let name = if key == ENVELOPE_KEY {
                ENVELOPE_KEY
            } else {
                RECIPIENTS_KEY
            };
            if slot.is_some() {
                return Err(TusError::MetadataRepeated(name.to_owned()));
            }
            let text = STANDARD
                .decode(value)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or(TusError::MetadataValue(name))?;
            *slot = Some(text);
        }
        let envelope = envelope
            .ok_or(TusError::MetadataMissing(ENVELOPE_KEY))?
            .parse()?;
        let listed = recipients.ok_or(TusError::MetadataMissing(RECIPIENTS_KEY))?;
        let mut recipients: Vec<MailboxId> = Vec::new();
        for word in listed.split(' ') {
            let mailbox: MailboxId = word.parse()?;
            if recipients.contains(&mailbox) {
                return Err(TusError::Recipients);
            }
            recipients.push(mailbox);
        }
        if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
            return Err(TusError::Recipients);
        }
        Ok(Self {
            envelope,
            recipients,
        })
    }

    /// The `Upload-Metadata` header for this upload.
    pub fn to_header(&self) -> String {
        let recipients: Vec<&str> = self.recipients.iter().map(MailboxId::as_str).collect();
        format!(
            "{ENVELOPE_KEY} {},{RECIPIENTS_KEY} {}",
            STANDARD.encode(self.envelope.to_string()),
            STANDARD.encode(recipients.join(" "))
        )
    }
}

/// A key from a request, safe to put in a message: at most 32 printable
/// ASCII characters.
fn printable(key: &str) -> String {
    key.chars()
        .take(32)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}
