//! The X25519 recipient stanza: wrapping the file key to a recipient and
//! unwrapping it with an identity (age spec, "X25519 recipient stanza").
//!
//! ```text
//! -> X25519 <base64 ephemeral share>
//! <base64 body: the file key sealed with ChaCha20-Poly1305>
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};
use x25519_dalek::{PublicKey, SharedSecret, StaticSecret};
use zeroize::Zeroizing;

use super::header::Stanza;
use super::keys::{Identity, Recipient};
use super::{FILE_KEY_LEN, FileKey, hkdf_sha256};
use crate::error::{Error, Result};

/// The stanza type, the first argument, compared case-sensitively.
pub(crate) const STANZA_TYPE: &str = "X25519";
/// The HKDF info string for the wrap key.
const WRAP_INFO: &[u8] = b"age-encryption.org/v1/X25519";
/// A wrapped file key: 16 bytes of key and a 16-byte Poly1305 tag.
const BODY_LEN: usize = FILE_KEY_LEN + 16;

/// Wraps `file_key` to `recipient` in a new stanza, with a fresh ephemeral
/// key ("A new ephemeral secret MUST be generated for each stanza and each
/// file").
pub(crate) fn wrap(file_key: &FileKey, recipient: &Recipient) -> Result<Stanza> {
    let mut ephemeral_bytes = Zeroizing::new([0u8; 32]);
    crate::error::random(ephemeral_bytes.as_mut())?;
    let ephemeral = StaticSecret::from(*ephemeral_bytes);
    let share = PublicKey::from(&ephemeral);

    let recipient_key = recipient.public_key();
    let shared = ephemeral.diffie_hellman(&recipient_key);
    // A low-order recipient key would make the shared secret all zeros, and
    // the file key readable by anyone; age refuses such keys.
    if !shared.was_contributory() {
        return Err(Error::Invalid(
            "this recipient key is not a usable X25519 public key".to_owned(),
        ));
    }

    let cipher = wrap_cipher(&shared, share.as_bytes(), recipient_key.as_bytes());
    let mut sealed = Zeroizing::new(**file_key);
    // The wrap key is used once, so the nonce is fixed at 12 zero bytes.
    let tag = cipher
        .encrypt_in_place_detached(&Nonce::default(), b"", sealed.as_mut())
        .expect("a 16-byte message is within ChaCha20-Poly1305's length limit");

    let mut body = Vec::with_capacity(BODY_LEN);
    body.extend_from_slice(sealed.as_ref());
    body.extend_from_slice(&tag);
    Ok(Stanza {
        args: vec![STANZA_TYPE.to_owned(), BASE64.encode(share.as_bytes())],
        body,
    })
}

/// Checks the form of an X25519 stanza and returns its ephemeral share.
///
/// The spec requires identities to "reject any stanza that has more or less
/// than two arguments, or where the second argument is not a canonical
/// base64 encoding of a 32-byte value", and to check that the body is
/// exactly 32 bytes before decrypting it (against partitioning oracles).
/// Such a stanza makes the whole header invalid: [`Error::NotAnEnvelope`].
pub(crate) fn check(stanza: &Stanza) -> Result<[u8; 32]> {
    let [_, share] = stanza.args.as_slice() else {
        return Err(Error::NotAnEnvelope);
    };
    let mut bytes = [0u8; 32];
    match BASE64.decode_slice(share, &mut bytes) {
        Ok(32) if share.len() == 43 && stanza.body.len() == BODY_LEN => Ok(bytes),
        _ => Err(Error::NotAnEnvelope),
    }
}

/// Tries to unwrap the file key from an X25519 stanza (already passed
/// through [`check`]) with `identity`.
///
/// `Ok(None)` means the stanza is not for this identity (its tag does not
/// verify). An all-zero shared secret means the share was chosen to be a
/// low-order point, which age must abort on ("If the shared secret is all
/// 0x00 bytes, the identity implementation MUST abort"):
/// [`Error::Unauthentic`].
pub(crate) fn unwrap(stanza: &Stanza, identity: &Identity) -> Result<Option<FileKey>> {
    let share = check(stanza)?;
    let shared = identity.secret().diffie_hellman(&PublicKey::from(share));
    if !shared.was_contributory() {
        return Err(Error::Unauthentic);
    }

    let cipher = wrap_cipher(&shared, &share, identity.public().as_bytes());
    let (sealed, tag) = stanza.body.split_at(FILE_KEY_LEN);
    let mut file_key: FileKey = Zeroizing::new([0u8; FILE_KEY_LEN]);
    file_key.copy_from_slice(sealed);
    match cipher.decrypt_in_place_detached(
        &Nonce::default(),
        b"",
        file_key.as_mut(),
        Tag::from_slice(tag),
    ) {
        Ok(()) => Ok(Some(file_key)),
        Err(_) => Ok(None),
    }
}

/// The stanza's AEAD ("salt = ephemeral share || recipient",
/// "wrap key = HKDF-SHA-256(ikm = shared secret, salt, info)").
fn wrap_cipher(shared: &SharedSecret, share: &[u8; 32], recipient: &[u8; 32]) -> ChaCha20Poly1305 {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(share);
    salt[32..].copy_from_slice(recipient);
    let key = hkdf_sha256(&salt, shared.as_bytes(), WRAP_INFO);
    ChaCha20Poly1305::new(Key::from_slice(key.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_key() -> FileKey {
        Zeroizing::new(*b"YELLOW SUBMARINE")
    }

    #[test]
    fn wrapped_keys_unwrap_only_for_their_identity() {
        let identity = Identity::generate().expect("identity");
        let other = Identity::generate().expect("identity");
        let stanza = wrap(&file_key(), &identity.recipient()).expect("wraps");
        assert_eq!(stanza.args[0], STANZA_TYPE);
        assert_eq!(stanza.body.len(), BODY_LEN);

        let key = unwrap(&stanza, &identity)
            .expect("well formed")
            .expect("for this identity");
        assert_eq!(*key, *file_key());
        assert!(unwrap(&stanza, &other).expect("well formed").is_none());
    }

    #[test]
    fn malformed_stanzas_are_rejected() {
        let identity = Identity::generate().expect("identity");
        let good = wrap(&file_key(), &identity.recipient()).expect("wraps");

        let mut extra = good.clone();
        extra.args.push("1234".to_owned());
        let mut short_body = good.clone();
        short_body.body.pop();
        let mut long_body = good.clone();
        long_body.body.push(0);
        let mut short_share = good.clone();
        short_share.args[1] = BASE64.encode([1u8; 31]);
        for stanza in [extra, short_body, long_body, short_share] {
            assert!(matches!(
                unwrap(&stanza, &identity),
                Err(Error::NotAnEnvelope)
            ));
        }
    }

    #[test]
    fn low_order_points_are_refused_both_ways() {
        let identity = Identity::generate().expect("identity");
        let mut stanza = wrap(&file_key(), &identity.recipient()).expect("wraps");
        // The identity point (zero) and a point of order 8.
        for point in [[0u8; 32], low_order_point()] {
            stanza.args[1] = BASE64.encode(point);
            assert!(matches!(
                unwrap(&stanza, &identity),
                Err(Error::Unauthentic)
            ));
            let recipient = Recipient::from_bytes(point);
            assert!(matches!(
                wrap(&file_key(), &recipient),
                Err(Error::Invalid(_))
            ));
        }
    }

    /// A point of order 8 on Curve25519 (from the curve's published list of
    /// low-order points).
    fn low_order_point() -> [u8; 32] {
        let bytes = hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
            .expect("hex");
        bytes.try_into().expect("32 bytes")
    }
}
