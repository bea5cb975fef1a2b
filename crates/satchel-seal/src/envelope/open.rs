//! Opening an envelope: verify everything, then let the caller commit.

use std::io::{self, Read};

use sha2::Digest;

use super::ahead::{AHEAD_FROM, fill};
use super::behind::{Hashing, Parts};
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
/// For large attachments a second thread hashes what this one has
/// decrypted; the sink is only ever called on this thread.
pub fn open<R: Read, S: Sink>(
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
    // length, then the end. This thread decrypts and feeds the sink; for
    // large attachments a second thread hashes behind it.
    let attachments_len = manifest.attachments_len().map_err(|_| Error::Unauthentic)?;
    let content_len = (MAGIC.len() + 4 + manifest_bytes.len() + 64) as u64 + attachments_len;
    let padding = padme(content_len) - content_len;
    let sizes: Vec<u64> = manifest.attachments.iter().map(|a| a.size).collect();
    let digests = std::thread::scope(|scope| -> Result<Vec<[u8; 32]>> {
        let mut hashing = Hashing::start(scope, sizes.len(), attachments_len >= AHEAD_FROM)?;
        let mut body = Body::new(&sizes, padding);
        loop {
            let mut piece = hashing.buffer()?;
            let (filled, error) = fill(&mut reader, &mut piece);
            if let Some(error) = error {
                return Err(from_age(error));
            }
            if filled == 0 {
                break;
            }
            let parts = body.split(&piece[..filled])?;
            for (index, range) in &parts {
                sink.write(*index, &piece[range.clone()])?;
            }
            hashing.hash(piece, parts)?;
        }
        body.finish()?;
        hashing.finish()
    })?;
    for (meta, digest) in manifest.attachments.iter().zip(&digests) {
        if hex(digest) != meta.sha256 {
            return Err(Error::Unauthentic);
        }
    }

    let opened = Opened {
        manifest,
        envelope_id,
        opened_with,
    };
    let committed = sink.commit(&opened)?;
    Ok((opened, committed))
}

/// Where the decrypted payload after the signature is: which attachment,
/// how much of it is left, and how much padding may follow.
struct Body<'a> {
    sizes: &'a [u64],
    index: usize,
    left: u64,
    padding_left: u64,
}

impl<'a> Body<'a> {
    fn new(sizes: &'a [u64], padding: u64) -> Self {
        let mut body = Self {
            sizes,
            index: 0,
            left: sizes.first().copied().unwrap_or(0),
            padding_left: padding,
        };
        body.skip_finished();
        body
    }

    /// Moves past attachments with nothing left to read (empty ones too).
    fn skip_finished(&mut self) {
        while self.index < self.sizes.len() && self.left == 0 {
            self.index += 1;
            self.left = self.sizes.get(self.index).copied().unwrap_or(0);
        }
    }

    /// Splits the next decrypted bytes into parts of attachments, by
    /// index; what follows the last attachment must be zero padding,
    /// within its length.
    fn split(&mut self, bytes: &[u8]) -> Result<Parts> {
        let mut parts = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            if self.index < self.sizes.len() {
                let take = (bytes.len() - at).min(usize::try_from(self.left).unwrap_or(usize::MAX));
                parts.push((self.index, at..at + take));
                at += take;
                self.left -= take as u64;
                self.skip_finished();
            } else {
                let rest = &bytes[at..];
                if rest.len() as u64 > self.padding_left || rest.iter().any(|b| *b != 0) {
                    return Err(Error::Unauthentic);
                }
                self.padding_left -= rest.len() as u64;
                at = bytes.len();
            }
        }
        Ok(parts)
    }

    /// At the end of the payload: every attachment and all the padding
    /// must have been there.
    fn finish(&self) -> Result<()> {
        if self.index < self.sizes.len() || self.padding_left != 0 {
            return Err(Error::Unauthentic);
        }
        Ok(())
    }
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
