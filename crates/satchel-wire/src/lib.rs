//! What the relay and its clients say to each other.
//!
//! The relay carries sealed envelopes between devices and can read none of
//! them; what it does see is here: the ids that name envelopes and
//! mailboxes, the tus 1.0 headers of a resumable upload, and the codes it
//! refuses a request with. Both the relay and the sync client parse and
//! write these with this crate, so the two cannot drift apart, and every
//! parser refuses what it cannot take with an error that says why. No I/O.
//!
//! - [`ids`]: envelope ids and mailbox ids, checked so that none can name
//!   a path or smuggle a control character;
//! - [`tus`]: the tus 1.0 headers (`Tus-Resumable`, `Upload-Length`,
//!   `Upload-Offset`, `Upload-Metadata`) and the metadata an upload may
//!   carry: only an envelope id and its recipients' mailboxes;
//! - [`refusal`]: the machine-readable codes of the relay's 4xx answers.

#![forbid(unsafe_code)]

pub mod ids;
pub mod refusal;
pub mod tus;
