//! Opening an envelope: verify everything, then let the caller commit.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

use super::manifest::Manifest;
use super::padding::padme;
use super::{MAGIC, MAX_MANIFEST_BYTES, PIECE, hex};
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
    /// SHA-256 of the envelope file, for the receipt.
    pub envelope_sha256: [u8; 32],
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
pub fn open<R: Read, S: Sink>(
    input: R,
    identities: &[Identity],
    directory: &Directory,
    mut sink: S,
) -> Result<(Opened, S::Committed)> {
    let mut reader = age::decrypt(identities, HashingReader::new(input))?;
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

    // Attachments, each checked against the signed size and hash.
    let mut buffer = vec![0u8; PIECE];
    for (index, meta) in manifest.attachments.iter().enumerate() {
        let mut hash = Sha256::new();
        let mut remaining = meta.size;
        while remaining > 0 {
            let piece = remaining.min(PIECE as u64) as usize;
            read_exact(&mut reader, &mut buffer[..piece])?;
            hash.update(&buffer[..piece]);
            sink.write(index, &buffer[..piece])?;
            remaining -= piece as u64;
        }
        if hex(&hash.finalize()) != meta.sha256 {
            return Err(Error::Unauthentic);
        }
    }

    // Padding: zeros, exactly up to the Padmé length, then the end.
    let content_len = (MAGIC.len() + 4 + manifest_bytes.len() + 64) as u64
        + manifest.attachments_len().map_err(|_| Error::Unauthentic)?;
    let mut padding = padme(content_len) - content_len;
    loop {
        let want = (padding.min(PIECE as u64) as usize).max(1);
        let read = read_some(&mut reader, &mut buffer[..want])?;
        if read == 0 {
            break;
        }
        if read as u64 > padding || buffer[..read].iter().any(|b| *b != 0) {
            return Err(Error::Unauthentic);
        }
        padding -= read as u64;
    }
    if padding != 0 {
        return Err(Error::Unauthentic);
    }

    let envelope_sha256 = reader.into_inner().finish();
    let opened = Opened {
        manifest,
        envelope_sha256,
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

/// One read, turning the age layer's errors back into the crate's.
fn read_some(reader: &mut impl Read, buffer: &mut [u8]) -> Result<usize> {
    loop {
        match reader.read(buffer) {
            Ok(read) => return Ok(read),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => return Err(Error::Unauthentic),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Hashes every byte read through it.
struct HashingReader<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hash: Sha256::new(),
        }
    }

    fn finish(self) -> [u8; 32] {
        self.hash.finalize().into()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.hash.update(&buffer[..read]);
        Ok(read)
    }
}
