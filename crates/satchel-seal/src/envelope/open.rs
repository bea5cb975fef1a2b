//! Opening an envelope: verify everything, then let the caller commit.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

use super::ahead::Pieces;
use super::manifest::Manifest;
use super::padding::padme;
use super::{MAGIC, MAX_MANIFEST_BYTES, hex};
use crate::age::{self, Identity};
use crate::canonical;
use crate::directory::{Directory, recipient_id};
use crate::error::{Error, Result};
use crate::keys::{KeyId, Purpose, Signature};

/// Where opened attachment bytes go while the envelope is still being
/// checked.
///
/// Bytes arrive before the final checks (the last chunk tag, the hashes,
/// the padding) have run, so a sink must keep them out of sight, for
/// example in an open transaction or a staging file, until [`commit`]
/// is called. If opening fails, the sink is dropped without `commit`, and
/// must then discard everything it was given.
///
/// [`commit`]: Sink::commit
pub trait Sink {
    /// What committing yields, such as the id of a stored submission.
    type Committed;

    /// Receives the next piece of attachment `index` (counting from zero, in
    /// manifest order). An empty attachment gets no call; the manifest
    /// handed to [`commit`](Sink::commit) lists every attachment.
    fn write(&mut self, index: usize, bytes: &[u8]) -> io::Result<()>;

    /// Called once, after every check passed, with the verified envelope.
    fn commit(self, opened: &Opened) -> io::Result<Self::Committed>;
}

/// A verified envelope's description.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The signed manifest, answers included.
    pub manifest: Manifest,
    /// The envelope's id, for the receipt (see [the envelope module](crate::envelope#the-envelope-id)).
    pub envelope_id: [u8; 32],
    /// The id of the key that opened it.
    pub opened_with: KeyId,
}

/// Opens the envelope read from `input` with any of `identities`, checking
/// the sender against `directory`, and streams its attachments into `sink`.
///
/// Checks, all before `sink.commit` is called: the age header and its MAC;
/// that the inner layer is a Satchel envelope; that the manifest is
/// canonical and signed by the sender's device as the directory lists it;
/// that the key which opened it is among the signed recipients and that the
/// header has exactly as many recipients as were signed (so nobody added or
/// removed one); every STREAM chunk; each attachment's size and SHA-256;
/// that the padding is zero and of exactly the Padmé length; and that
/// nothing follows. Any failure after the header is the one detail-free
/// [`Error::Unauthentic`].
///
/// For large attachments `input` is decrypted on a second thread, which is
/// why it must be `Send`; the sink is only ever called on this thread.
pub fn open<R: Read + Send, S: Sink>(
    input: R,
    identities: &[Identity],
    directory: &Directory,
    mut sink: S,
) -> Result<(Opened, S::Committed)> {
    let mut reader = age::decrypt(identities, input)?;
    let opened_with = recipient_id(&identities[reader.matched_identity()].recipient());
    let stanza_count = reader.stanza_count();

    // The inner layer's fixed start.
    let mut magic = [0u8; MAGIC.len()];
    read_exact(&mut reader, &mut magic)?;
    if &magic != MAGIC {
        return Err(Error::NotAnEnvelope);
    }
    let mut len = [0u8; 4];
    read_exact(&mut reader, &mut len)?;
    let manifest_len = u32::from_be_bytes(len);
    if manifest_len > MAX_MANIFEST_BYTES {
        return Err(Error::Unauthentic);
    }
    let mut manifest_bytes = vec![0u8; manifest_len as usize];
    read_exact(&mut reader, &mut manifest_bytes)?;
    let mut signature = [0u8; 64];
    read_exact(&mut reader, &mut signature)?;
    let envelope_id = reader
        .preamble()
        .chain_update(magic)
        .chain_update(len)
        .chain_update(&manifest_bytes)
        .chain_update(signature)
        .finalize()
        .into();

    // The manifest must be canonical, signed by the device the directory
    // lists for its sender, and name the key that opened it.
    let value: serde_json::Value =
        serde_json::from_slice(&manifest_bytes).map_err(|_| Error::Unauthentic)?;
    if canonical::canonicalize(&value).ok().as_deref() != Some(&manifest_bytes[..]) {
        return Err(Error::Unauthentic);
    }
    let manifest: Manifest = serde_json::from_value(value).map_err(|_| Error::Unauthentic)?;
    let (member, device) = directory
        .device(&manifest.sender.device_id)
        .ok_or(Error::Unauthentic)?;
    if member.id != manifest.sender.member_id {
        return Err(Error::Unauthentic);
    }
    device.signing_key.verify(
        Purpose::Manifest,
        &manifest_bytes,
        &Signature::from_bytes(signature),
    )?;
    manifest.check().map_err(|_| Error::Unauthentic)?;
    if !manifest.recipients.contains(&opened_with) || manifest.recipients.len() != stanza_count {
        return Err(Error::Unauthentic);
    }

    // The rest of the payload: attachments, each checked against its signed
    // size and hash, then the padding: zeros, exactly up to the Padmé
    // length, then the end. For large attachments the age layer decrypts
    // on a second thread while this one hashes.
    let attachments_len = manifest.attachments_len().map_err(|_| Error::Unauthentic)?;
    let content_len = (MAGIC.len() + 4 + manifest_bytes.len() + 64) as u64 + attachments_len;
    let padding = padme(content_len) - content_len;
    std::thread::scope(|scope| -> Result<()> {
        let mut body = Pieces::for_len(scope, reader, attachments_len, false)?;
        for (index, meta) in manifest.attachments.iter().enumerate() {
            let mut hash = Sha256::new();
            let mut remaining = meta.size;
            while remaining > 0 {
                let bytes = next(&mut body, remaining)?;
                if bytes.is_empty() {
                    return Err(Error::Unauthentic);
                }
                hash.update(bytes);
                sink.write(index, bytes)?;
                remaining -= bytes.len() as u64;
            }
            if hex(&hash.finalize()) != meta.sha256 {
                return Err(Error::Unauthentic);
            }
        }

        let mut remaining = padding;
        loop {
            let bytes = next(&mut body, u64::MAX)?;
            if bytes.is_empty() {
                break;
            }
            if bytes.len() as u64 > remaining || bytes.iter().any(|b| *b != 0) {
                return Err(Error::Unauthentic);
            }
            remaining -= bytes.len() as u64;
        }
        if remaining != 0 {
            return Err(Error::Unauthentic);
        }
        body.finish()?;
        Ok(())
    })?;

    let opened = Opened {
        manifest,
        envelope_id,
        opened_with,
    };
    let committed = sink.commit(&opened)?;
    Ok((opened, committed))
}

/// Reads exactly `buffer.len()` bytes; running out early means the envelope
/// was cut short.
fn read_exact(reader: &mut impl Read, buffer: &mut [u8]) -> Result<()> {
    let mut filled = 0;
    while filled < buffer.len() {
        match read_some(reader, &mut buffer[filled..])? {
            0 => return Err(Error::Unauthentic),
            read => filled += read,
        }
    }
    Ok(())
}

/// The next decrypted bytes, at most `max`, with the age layer's errors
/// turned back into the crate's.
fn next<'a, R: Read + Send>(body: &'a mut Pieces<'_, R>, max: u64) -> Result<&'a [u8]> {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    body.next(max).map_err(from_age)
}

fn from_age(e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::InvalidData {
        Error::Unauthentic
    } else {
        e.into()
    }
}

/// One read, turning the age layer's errors back into the crate's.
fn read_some(reader: &mut impl Read, buffer: &mut [u8]) -> Result<usize> {
    loop {
        match reader.read(buffer) {
            Ok(read) => return Ok(read),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(from_age(e)),
        }
    }
}
