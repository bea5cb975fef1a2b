//! The small authenticated-encryption helpers every layer uses.
//!
//! One construction throughout: XChaCha20-Poly1305 with a random 24-byte
//! nonce stored in front of the ciphertext, and associated data naming what
//! the bytes are and which record they belong to, so a sealed value copied
//! into another row or another account's record fails to open.
//!
//! - The keyring wraps the database key and each account's *account key*
//!   under a key derived from the passphrase (or the recovery code).
//! - Each record (a draft, an attachment, a received submission) has its own
//!   random *content key*, wrapped under the owning account's key. A second
//!   account on the same laptop holds a different account key and cannot
//!   unwrap it even with the database open; deleting the wrapped content key
//!   destroys the record's content at once, wherever copies of its
//!   ciphertext may linger.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};

/// The nonce stored in front of every sealed value.
const NONCE_LEN: usize = 24;
/// The Poly1305 tag after every ciphertext.
const TAG_LEN: usize = 16;
/// How many bytes sealing adds.
pub(crate) const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// A 256-bit symmetric key; wiped on drop, never printed.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Key([u8; 32]);

impl Key {
    /// A fresh random key.
    pub(crate) fn generate() -> Result<Self> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| Error::Random)?;
        Ok(Self(bytes))
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads a key from exactly 32 bytes.
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        let bytes: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(bytes))
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Encrypts `plaintext`, bound to `aad`.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| Error::Random)?;
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| Error::Invalid("a value is too large to store".to_owned()))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Decrypts what [`seal`](Self::seal) made with the same key and `aad`.
    /// `None` means the key or the associated data is not the one it was
    /// sealed with, or the bytes were changed.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < OVERHEAD {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    /// Wraps `key` under this one, bound to `aad`.
    pub(crate) fn wrap(&self, aad: &[u8], key: &Key) -> Result<Vec<u8>> {
        self.seal(aad, &key.0)
    }

    /// Unwraps a key made by [`wrap`](Self::wrap).
    pub(crate) fn unwrap_key(&self, aad: &[u8], wrapped: &[u8]) -> Option<Key> {
        let plain = self.open(aad, wrapped)?;
        Key::from_slice(&plain)
    }
}

/// Associated data: a label and the parts that identify one value, joined
/// with NUL bytes (no part may contain one).
pub(crate) fn aad(label: &str, parts: &[&str]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(label.len() + parts.iter().map(|p| p.len() + 1).sum::<usize>());
    out.extend_from_slice(label.as_bytes());
    for part in parts {
        out.push(0);
        out.extend_from_slice(part.as_bytes());
    }
    out
}

/// A random id: a prefix, a dash and 16 lowercase hex digits (64 bits).
pub(crate) fn random_id(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|_| Error::Random)?;
    let mut id = String::with_capacity(prefix.len() + 17);
    id.push_str(prefix);
    id.push('-');
    for byte in bytes {
        id.push_str(&format!("{byte:02x}"));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_label() {
        let key = Key::generate().expect("key");
        let other = Key::generate().expect("key");
        let label = aad("answer", &["draft-1", "tenant_name"]);
        let sealed = key.seal(&label, b"Maria").expect("seal");
        assert_eq!(sealed.len(), 5 + OVERHEAD);
        assert_eq!(
            key.open(&label, &sealed).expect("opens").as_slice(),
            b"Maria"
        );
        assert!(other.open(&label, &sealed).is_none(), "another key");
        let moved = aad("answer", &["draft-2", "tenant_name"]);
        assert!(key.open(&moved, &sealed).is_none(), "another record");
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(key.open(&label, &flipped).is_none(), "changed bytes");
        assert!(key.open(&label, &sealed[..10]).is_none(), "cut short");
    }

    #[test]
    fn wrapped_keys_round_trip() {
        let account = Key::generate().expect("key");
        let content = Key::generate().expect("key");
        let label = aad("content-key", &["draft-1"]);
        let wrapped = account.wrap(&label, &content).expect("wrap");
        let unwrapped = account.unwrap_key(&label, &wrapped).expect("unwrap");
        assert_eq!(unwrapped.as_bytes(), content.as_bytes());
    }

    #[test]
    fn aad_parts_cannot_run_together() {
        assert_ne!(aad("a", &["bc", "d"]), aad("a", &["b", "cd"]));
    }

    #[test]
    fn random_ids_have_the_documented_shape() {
        let id = random_id("draft").expect("id");
        assert_eq!(id.len(), "draft-".len() + 16);
        assert!(id["draft-".len()..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(id, random_id("draft").expect("id"));
    }
}
