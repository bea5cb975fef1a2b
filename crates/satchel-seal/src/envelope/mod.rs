//! Envelopes: a signed submission sealed to its recipients.
//!
//! The outer layer is an age v1 file (see [`crate::age`]). Its payload, the
//! *inner* layer, is:
//!
//! ```text
//! "satchel-envelope-v1\n"          20 bytes
//! manifest length                   u32, big-endian
//! manifest                          RFC 8785 canonical JSON
//! signature                         64 bytes, Ed25519 by the sending device
//! attachment bytes                  each in full, in manifest order
//! zero bytes                        up to the Padmé length of all the above
//! ```
//!
//! Sealing and opening both stream: attachment bytes pass through in
//! 1 MiB pieces and are never held whole in memory. For a large
//! attachment the cipher and the SHA-256 pass run on two threads, the
//! cipher on the caller's (see `ahead.rs` for sealing, `behind.rs` for
//! opening). Opening checks everything before anything counts:
//! attachment bytes go to a caller's [`Sink`], which is told to commit only
//! after the last check has passed.
//!
//! # The envelope id
//!
//! Receipts, and anything else that must name one envelope file, use its
//! id: SHA-256 over the age header exactly as in the file, the 16-byte
//! payload nonce after it, and the inner layer's start (magic, manifest
//! length, manifest, signature). Both sides compute it without hashing the
//! attachments again. It names the whole file all the same: the header and
//! nonce fix the payload key, the signed manifest fixes every attachment's
//! SHA-256 and the padding's length, and the payload cipher is
//! deterministic under its key, so two envelopes that open with the same id
//! are the same bytes.

mod ahead;
mod behind;
mod manifest;
mod open;
mod padding;
mod seal;
#[cfg(test)]
mod tests;

pub use manifest::{
    AttachmentMeta, Classification, FORMAT as MANIFEST_FORMAT, InterviewRef, MAX_ATTACHMENTS,
    Manifest, Sender,
};
pub use open::{Opened, Sink, open};
pub use seal::{Sealed, seal};

/// The first bytes of every inner layer.
const MAGIC: &[u8; 20] = b"satchel-envelope-v1\n";
/// The largest manifest accepted, in bytes.
const MAX_MANIFEST_BYTES: u32 = 16 * 1024 * 1024;
/// The size of the pieces attachments are streamed in. Large enough that
/// handing a piece between the two threads costs little against the work
/// on it; small enough that the pool of pieces stays a few MiB.
const PIECE: usize = 1024 * 1024;

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
