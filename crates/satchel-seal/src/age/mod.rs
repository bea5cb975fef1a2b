//! The outer layer: the age v1 file format with X25519 recipients.
//!
//! Every Satchel envelope is a standard age file (`age-encryption.org/v1`,
//! specified at c2sp.org/age), so the stock `age` tool holding an attorney's
//! identity can always open one. This module implements the parts Satchel
//! uses and nothing else:
//!
//! - [`Recipient`] and [`Identity`]: X25519 keys and their `age1...` and
//!   `AGE-SECRET-KEY-1...` text forms (`keys.rs`);
//! - the header: version line, one X25519 stanza per recipient wrapping a
//!   fresh 16-byte file key, and the header MAC (`header.rs`, `x25519.rs`);
//! - the payload: ChaCha20-Poly1305 STREAM in 64 KiB chunks (`stream.rs`).
//!
//! Passphrase (scrypt) and post-quantum (mlkem768x25519) recipients and the
//! ASCII armor are valid age, but Satchel never accepts them: opening such a
//! file fails with [`Error::Unsupported`].
//!
//! Opening checks, in order: the header's syntax ([`Error::NotAnEnvelope`]
//! if it is not a well-formed age v1 header), then unwraps the file key with
//! the caller's identities ([`Error::NoMatchingKey`] if none can), then the
//! header MAC ([`Error::Unauthentic`]). Only then does [`decrypt`] return, and
//! the [`Decryptor`] releases plaintext one verified chunk at a time. Both
//! directions stream with memory for about one chunk.

mod header;
mod keys;
mod stream;
mod x25519;

use std::io::{Read, Write};

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use keys::{Identity, Recipient};
pub use stream::{Decryptor, Encryptor};

use crate::error::{Error, Result, random};
use header::{Header, MAX_STANZAS, Stanza};
use stream::{PAYLOAD_NONCE_LEN, Source};

/// The file key is 16 bytes of CSPRNG output ("File key").
const FILE_KEY_LEN: usize = 16;

/// The symmetric key every stanza wraps; wiped on drop.
type FileKey = Zeroizing<[u8; FILE_KEY_LEN]>;

/// Stanza types that are valid age but that Satchel refuses to open with.
const SCRYPT_TYPE: &str = "scrypt";
const HYBRID_TYPE: &str = "mlkem768x25519";

/// Writes the age header for `recipients` (at least one) to `output` at
/// once, then returns a writer that encrypts everything written to it.
///
/// Call [`Encryptor::finish`] when done; without it the file is truncated
/// and no reader accepts it.
pub fn encrypt<W: Write>(recipients: &[Recipient], mut output: W) -> Result<Encryptor<W>> {
    if recipients.is_empty() {
        return Err(Error::Invalid(
            "an envelope needs at least one recipient to seal it to".to_owned(),
        ));
    }
    if recipients.len() > MAX_STANZAS {
        return Err(Error::Invalid(format!(
            "an envelope can be sealed to at most {MAX_STANZAS} recipients"
        )));
    }

    // "File key": fresh for every file, never reused.
    let mut file_key: FileKey = Zeroizing::new([0u8; FILE_KEY_LEN]);
    random(file_key.as_mut())?;
    let stanzas = recipients
        .iter()
        .map(|recipient| x25519::wrap(&file_key, recipient))
        .collect::<Result<Vec<Stanza>>>()?;

    // "Payload": the header, then a fresh 16-byte nonce, then the chunks.
    let mut nonce = [0u8; PAYLOAD_NONCE_LEN];
    random(&mut nonce)?;
    let mut start = header::write(&stanzas, &file_key);
    start.extend_from_slice(&nonce);
    output.write_all(&start)?;

    Ok(
        Encryptor::new(output, stream::payload_cipher(&file_key, &nonce))
            .with_preamble(Sha256::new_with_prefix(&start)),
    )
}

/// Reads and checks the header of the age file in `input` and returns a
/// reader of its plaintext.
///
/// Before returning, the header's syntax is checked, the file key is
/// unwrapped with one of `identities`, and the header MAC is verified. The
/// returned [`Decryptor`] then yields plaintext chunk by chunk, each only
/// after its tag verified; read it to the end before trusting the payload.
pub fn decrypt<R: Read>(identities: &[Identity], mut input: R) -> Result<Decryptor<R>> {
    let (header, rest) = Header::read(&mut input)?;
    let (file_key, matched_identity) = unwrap_file_key(&header.stanzas, identities)?;
    header.verify_mac(&file_key)?;

    // The payload starts with its 16-byte nonce; a file cut off before it
    // ends is damaged.
    let mut source = Source::new(rest, input);
    let mut nonce = [0u8; PAYLOAD_NONCE_LEN];
    source.read_exact(&mut nonce).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Error::Unauthentic,
        _ => Error::Io(e),
    })?;

    let mut preamble = Sha256::new_with_prefix(header.bytes());
    preamble.update(nonce);
    Ok(
        Decryptor::new(source, stream::payload_cipher(&file_key, &nonce))
            .with_recipients(matched_identity, header.stanzas.len())
            .with_preamble(preamble),
    )
}

/// Finds the file key in `stanzas` with one of `identities`, and says which
/// identity it was.
fn unwrap_file_key(stanzas: &[Stanza], identities: &[Identity]) -> Result<(FileKey, usize)> {
    // An scrypt stanza must be alone in its header ("scrypt recipient
    // stanza"), so a file that has one is a passphrase file: refused whole.
    if stanzas.iter().any(|s| s.kind() == SCRYPT_TYPE) {
        return Err(Error::Unsupported(
            "passphrase-encrypted (scrypt) age files",
        ));
    }

    // Every X25519 stanza must be well formed, whoever it is for.
    let ours: Vec<&Stanza> = stanzas
        .iter()
        .filter(|s| s.kind() == x25519::STANZA_TYPE)
        .collect();
    for stanza in &ours {
        x25519::check(stanza)?;
    }

    // Other stanza types are ignored ("Identity implementations MUST ignore
    // unrecognized stanzas"); a stanza whose tag does not verify is simply
    // not for that identity.
    for (index, identity) in identities.iter().enumerate() {
        for stanza in &ours {
            if let Some(file_key) = x25519::unwrap(stanza, identity)? {
                return Ok((file_key, index));
            }
        }
    }

    if stanzas.iter().any(|s| s.kind() == HYBRID_TYPE) {
        return Err(Error::Unsupported(
            "post-quantum (mlkem768x25519) age recipients",
        ));
    }
    Err(Error::NoMatchingKey)
}

/// HKDF-SHA-256 with a 32-byte output, as every key in age is derived
/// ("Conventions used in this document").
fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, okm.as_mut())
        .expect("32 bytes is a valid HKDF-SHA-256 output length");
    okm
}

/// Rewrites the recipients of `file` the way a malicious recipient could:
/// it knows the file key, so it keeps the first `keep` stanzas, adds
/// stanzas for `add` and recomputes the header MAC. Tests use it to show
/// that envelope opening catches re-addressing the age layer cannot.
#[cfg(test)]
pub(crate) fn readdress(
    file: &[u8],
    identity: &Identity,
    keep: usize,
    add: &[Recipient],
) -> Result<Vec<u8>> {
    let mut input = file;
    let (header, pending) = Header::read(&mut input)?;
    let (file_key, _) = unwrap_file_key(&header.stanzas, std::slice::from_ref(identity))?;
    let mut stanzas: Vec<Stanza> = header.stanzas.into_iter().take(keep).collect();
    for recipient in add {
        stanzas.push(x25519::wrap(&file_key, recipient)?);
    }
    let mut rewritten = header::write(&stanzas, &file_key);
    rewritten.extend_from_slice(&pending);
    rewritten.extend_from_slice(input);
    Ok(rewritten)
}

#[cfg(test)]
mod tests;
