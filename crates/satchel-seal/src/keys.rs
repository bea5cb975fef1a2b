//! Signing keys, their public halves, signatures, key ids and safety codes.
//!
//! Every Ed25519 key in Satchel (the organisation root, an admin, a member,
//! a device) is a [`SigningSecret`] with a [`PublicKey`]. Signatures are
//! always made over a domain-separated message (see [`Purpose`]), so a
//! signature made for one kind of document can never be replayed as another.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result, random};

/// What a signature is for. The purpose's tag is signed along with the
/// message, so the same bytes signed for two purposes give two unrelated
/// signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// An organisation directory, signed by the root or a delegated admin.
    Directory,
    /// The root's delegation of directory signing to an admin key.
    Delegation,
    /// An enrollment bundle, signed by the root.
    EnrollmentBundle,
    /// A device's key request, signed by the new device and member keys.
    KeyRequest,
    /// A submission manifest, signed by the sending device.
    Manifest,
    /// A delivery receipt, signed by the receiving device.
    Receipt,
    /// A checkpoint of a vault's audit chain, signed by the device.
    AuditCheckpoint,
}

impl Purpose {
    fn tag(self) -> &'static [u8] {
        match self {
            Self::Directory => b"directory",
            Self::Delegation => b"delegation",
            Self::EnrollmentBundle => b"enrollment-bundle",
            Self::KeyRequest => b"key-request",
            Self::Manifest => b"manifest",
            Self::Receipt => b"receipt",
            Self::AuditCheckpoint => b"audit-checkpoint",
        }
    }

    /// `"satchel-signature-v1" 0x00 tag 0x00 message`: the bytes actually
    /// signed.
    fn frame(self, message: &[u8]) -> Vec<u8> {
        let mut framed = Vec::with_capacity(32 + message.len());
        framed.extend_from_slice(b"satchel-signature-v1\0");
        framed.extend_from_slice(self.tag());
        framed.push(0);
        framed.extend_from_slice(message);
        framed
    }
}

/// An Ed25519 private key. It has no `Debug`, `Display`, `Clone` or
/// `Serialize`, and the underlying key is wiped when dropped.
///
/// So this does not compile:
///
/// ```compile_fail
/// let key = satchel_seal::SigningSecret::generate().expect("key");
/// let printed = format!("{key:?}");
/// ```
///
/// while its public half prints:
///
/// ```
/// let key = satchel_seal::SigningSecret::generate().expect("key");
/// let printed = format!("{:?}", key.public());
/// ```
pub struct SigningSecret(SigningKey);

impl SigningSecret {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        random(&mut *seed)?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// The key from its 32-byte seed.
    pub fn from_bytes(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, for storing in the vault.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message` for `purpose`.
    pub fn sign(&self, purpose: Purpose, message: &[u8]) -> Signature {
        Signature(self.0.sign(&purpose.frame(message)).to_bytes())
    }
}

/// An Ed25519 public key. In documents it is written as unpadded standard
/// base64 of its 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Parses 32 bytes, refusing points that are not valid keys.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        VerifyingKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| Error::Invalid("that is not a valid Ed25519 public key".to_owned()))
    }

    /// The 32 bytes of the key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Checks `signature` over `message` for `purpose`. Strict verification
    /// (RFC 8032 section 5.1.7 with canonical encodings and no weak keys);
    /// any failure is [`Error::Unauthentic`].
    pub fn verify(&self, purpose: Purpose, message: &[u8], signature: &Signature) -> Result<()> {
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0
            .verify_strict(&purpose.frame(message), &signature)
            .map_err(|_| Error::Unauthentic)
    }

    /// A short id for this key: `ed25519:` and the first 8 bytes of its
    /// SHA-256, in hex.
    pub fn id(&self) -> KeyId {
        KeyId::derive("ed25519", &self.to_bytes())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", BASE64.encode(self.to_bytes()))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE64.encode(self.to_bytes()))
    }
}

impl std::str::FromStr for PublicKey {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Self::from_bytes(&decode_fixed(text, "an Ed25519 public key")?)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signature, written as unpadded standard base64 of 64 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", BASE64.encode(self.0))
    }
}

impl Signature {
    /// The signature's 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0
    }

    /// A signature from its 64 bytes. Whether it verifies is checked later.
    pub fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(self.0))
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        decode_fixed(&text, "a signature")
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

/// A short, stable name for a key: its kind and the first 8 bytes of the
/// SHA-256 of its public bytes, such as `x25519:1f0c6a0e9b2d4c11`. Ids name
/// keys in documents and manifests; they are not secret and prove nothing
/// on their own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    pub(crate) fn derive(kind: &str, public: &[u8]) -> Self {
        let digest = Sha256::digest(public);
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self(format!("{kind}:{hex}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The digits two people read to each other to be sure they hold the same
/// keys: 20 digits in five groups of four, such as `0412 9983 1270 5521
/// 0038`.
///
/// It is derived from SHA-256 over a label and each public key, each
/// prefixed by its length, so both sides compute it the same way from the
/// same keys in the same order. Each group is a 32-bit slice of the digest
/// reduced modulo 10,000, about 66 bits in all.
pub fn safety_code(keys: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"satchel-safety-code-v1");
    for key in keys {
        hash.update((key.len() as u64).to_be_bytes());
        hash.update(key);
    }
    let digest = hash.finalize();
    digest
        .chunks_exact(4)
        .take(5)
        .map(|group| {
            let value = u32::from_be_bytes([group[0], group[1], group[2], group[3]]);
            format!("{:04}", value % 10_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn decode_fixed<const N: usize>(text: &str, what: &str) -> Result<[u8; N]> {
    let bytes = BASE64
        .decode(text)
        .map_err(|_| Error::Invalid(format!("{what} must be unpadded base64")))?;
    bytes
        .try_into()
        .map_err(|_| Error::Invalid(format!("{what} has the wrong length")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_their_purpose_and_message() {
        let key = SigningSecret::generate().expect("key");
        let public = key.public();
        let signature = key.sign(Purpose::Manifest, b"hello");

        assert!(
            public
                .verify(Purpose::Manifest, b"hello", &signature)
                .is_ok()
        );
        assert!(matches!(
            public.verify(Purpose::Receipt, b"hello", &signature),
            Err(Error::Unauthentic)
        ));
        assert!(matches!(
            public.verify(Purpose::Manifest, b"hellO", &signature),
            Err(Error::Unauthentic)
        ));
        let other = SigningSecret::generate().expect("key").public();
        assert!(
            other
                .verify(Purpose::Manifest, b"hello", &signature)
                .is_err()
        );
    }

    #[test]
    fn keys_round_trip_through_their_text_forms() {
        let key = SigningSecret::generate().expect("key");
        let public = key.public();
        let text = public.to_string();
        assert_eq!(text.parse::<PublicKey>().expect("parse"), public);
        assert_eq!(SigningSecret::from_bytes(&key.to_bytes()).public(), public);

        let json = serde_json::to_string(&key.sign(Purpose::Directory, b"x")).expect("json");
        let back: Signature = serde_json::from_str(&json).expect("parse");
        assert!(public.verify(Purpose::Directory, b"x", &back).is_ok());
    }

    #[test]
    fn malformed_key_text_is_refused_with_a_message() {
        for junk in ["", "not base64!", "AAAA", &BASE64.encode([0u8; 33])] {
            assert!(
                matches!(junk.parse::<PublicKey>(), Err(Error::Invalid(_))),
                "{junk:?}"
            );
        }
    }

    #[test]
    fn safety_codes_are_stable_and_order_sensitive() {
        let code = safety_code(&[b"device", b"member"]);
        assert_eq!(code.len(), 24);
        assert_eq!(code.split(' ').count(), 5);
        assert!(code.chars().all(|c| c.is_ascii_digit() || c == ' '));
        assert_eq!(code, safety_code(&[b"device", b"member"]));
        assert_ne!(code, safety_code(&[b"member", b"device"]));
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        assert_ne!(safety_code(&[b"ab", b"c"]), safety_code(&[b"a", b"bc"]));
    }

    #[test]
    fn debug_output_never_holds_the_secret_seed() {
        // `SigningSecret` has no Debug at all; what can be printed is the
        // public key, which must not reveal the seed.
        let key = SigningSecret::from_bytes(&[7u8; 32]);
        let printed = format!("{:?} {}", key.public(), key.public());
        let seed_b64 = BASE64.encode([7u8; 32]);
        assert!(!printed.contains(&seed_b64));
        assert!(!printed.contains("0707070707"));
    }
}
