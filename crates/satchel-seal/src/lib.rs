//! Sealing: keys, the signed organisation directory, and age-compatible
//! signed envelopes.
//!
//! This crate does no I/O of its own beyond the `Read` and `Write` streams it
//! is handed, so it can be tested exhaustively and fuzzed. Sealing and
//! opening a large attachment use one short-lived second thread, scoped to
//! the call.
//!
//! - [`keys`]: Ed25519 signing keys, signatures framed by purpose, key ids
//!   and the safety codes people compare;
//! - [`canonical`]: the RFC 8785 form every signed document is signed in;
//! - [`directory`]: the signed organisation directory, and who to seal to;
//! - [`enrollment`]: the admin's enrollment bundle and a device's key
//!   request;
//! - [`age`]: the outer layer, the age v1 file format with X25519
//!   recipients, so a stock `age` tool holding an attorney's identity can
//!   always open a Satchel envelope;
//! - [`envelope`]: the signed submission inside that layer, sealed and
//!   opened in streams;
//! - [`receipt`]: the attorney's signed delivery receipt.
//!
//! The formats are specified in `docs/FORMATS.md`.

#![forbid(unsafe_code)]

pub mod age;
pub mod canonical;
pub mod directory;
pub mod enrollment;
pub mod envelope;
mod error;
pub mod keys;
pub mod receipt;

pub use error::{Error, Result};
pub use keys::{PublicKey, SigningSecret};
