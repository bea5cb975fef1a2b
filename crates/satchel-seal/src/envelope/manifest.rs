//! The manifest: what a submission holds, who sent it and to whom. It is
//! signed by the sending device and travels inside the envelope.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::KeyId;

/// The `format` tag of a manifest.
pub const FORMAT: &str = "satchel-manifest-v1";
/// The most attachments one submission may carry.
pub const MAX_ATTACHMENTS: usize = 1000;

/// How sensitive a submission (or a field of it) is. Ordered from least to
/// most sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Nothing about the client.
    Public,
    /// Identifies the client.
    Personal,
    /// Health, immigration status, finances and the like.
    Sensitive,
    /// Attorney-client privileged.
    Privileged,
}

/// Which interview, at which version, produced the answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterviewRef {
    /// The interview definition's id.
    pub id: String,
    /// Its version.
    pub version: String,
}

/// Who sent the submission: a member, from one of their devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    /// The member's id in the directory.
    pub member_id: String,
    /// The device that signed the manifest.
    pub device_id: String,
}

/// One attached document. Its bytes follow the manifest in the envelope, in
/// the order the manifest lists them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentMeta {
    /// The file name as the worker attached it.
    pub name: String,
    /// The media type detected from its content.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, in lowercase hex.
    pub sha256: String,
}

/// The signed description of a submission.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Unique per submission; receipts refer to it.
    pub submission_id: String,
    /// The interview that produced it.
    pub interview: InterviewRef,
    /// Who sent it.
    pub sender: Sender,
    /// Ids of every key the envelope is sealed to. Filled in by sealing, and
    /// covered by the signature, so the envelope cannot be re-addressed.
    pub recipients: Vec<KeyId>,
    /// When it was sealed (Unix seconds, UTC).
    pub created_at: i64,
    /// The most sensitive classification of anything it holds.
    pub classification: Classification,
    /// The answers, as the interview engine produced them.
    pub answers: serde_json::Value,
    /// The attachments, in the order their bytes follow.
    pub attachments: Vec<AttachmentMeta>,
}

// Debug output ends up in logs and panic messages: it shows who sent what
// to whom, never the answers or a file's name.

impl fmt::Debug for AttachmentMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentMeta")
            .field("name", &"<withheld>")
            .field("media_type", &self.media_type)
            .field("size", &self.size)
            .field("sha256", &self.sha256)
            .finish()
    }
}

impl fmt::Debug for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manifest")
            .field("format", &self.format)
            .field("submission_id", &self.submission_id)
            .field("interview", &self.interview)
            .field("sender", &self.sender)
            .field("recipients", &self.recipients)
            .field("created_at", &self.created_at)
            .field("classification", &self.classification)
            .field("answers", &"<withheld>")
            .field("attachments", &self.attachments)
            .finish()
    }
}

impl Manifest {
    /// Checks what sealing and opening both rely on.
    pub(crate) fn check(&self) -> Result<()> {
        let bad = |why: &str| Err(Error::Invalid(format!("the manifest is not usable: {why}")));
        if self.format != FORMAT {
            return bad("unknown format");
        }
        if self.submission_id.is_empty() {
            return bad("it has no submission id");
        }
        if !self.answers.is_object() {
            return bad("the answers must be a JSON object");
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return bad("it has more than 1000 attachments");
        }
        for attachment in &self.attachments {
            if attachment.sha256.len() != 64
                || !attachment
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return bad("an attachment's SHA-256 is not 64 lowercase hex digits");
            }
        }
        Ok(())
    }

    /// The total size of the attachments, refusing an overflow.
    pub(crate) fn attachments_len(&self) -> Result<u64> {
        self.attachments.iter().try_fold(0u64, |sum, a| {
            sum.checked_add(a.size)
                .ok_or_else(|| Error::Invalid("the attachments are impossibly large".to_owned()))
        })
    }
}
