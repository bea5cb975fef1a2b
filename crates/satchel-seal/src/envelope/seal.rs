//! Sealing a submission into an envelope.

use std::io::{self, Read, Write};

use sha2::Digest;

use super::ahead::Pieces;
use super::manifest::Manifest;
use super::padding::padme;
use super::{MAGIC, MAX_MANIFEST_BYTES, hex};
use crate::age;
use crate::canonical;
use crate::directory::RecipientKey;
use crate::error::{Error, Result};
use crate::keys::{Purpose, SigningSecret};

/// What sealing produced, besides the bytes written.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The manifest as signed, with its recipient list filled in.
    pub manifest: Manifest,
    /// The envelope's id, which names this very file: receipts carry it
    /// (see [the envelope module](crate::envelope#the-envelope-id)).
    pub envelope_id: [u8; 32],
    /// The envelope's length in bytes.
    pub envelope_len: u64,
}

/// Seals `manifest` and the attachment streams to `recipients`, signing
/// with the sending device's key, and writes the envelope to `output`.
///
/// `attachments` must yield exactly the bytes the manifest describes, in
/// order: each stream is hashed as it passes and checked against its size
/// and SHA-256. A large attachment is read and hashed on a second thread
/// while this one encrypts, which is why the streams must be `Send`. On any
/// error the output is incomplete and must be thrown
/// away: without its final chunk no reader will accept it.
pub fn seal<W: Write>(
    mut manifest: Manifest,
    attachments: &mut [&mut (dyn Read + Send)],
    device: &SigningSecret,
    recipients: &[RecipientKey],
    output: W,
) -> Result<(Sealed, W)> {
    // The recipient list is part of what is signed.
    if recipients.is_empty() {
        return Err(Error::Invalid(
            "a submission needs at least one recipient".to_owned(),
        ));
    }
    manifest.recipients = recipients.iter().map(|k| k.id.clone()).collect();
    manifest.check()?;
    if attachments.len() != manifest.attachments.len() {
        return Err(Error::Invalid(format!(
            "the manifest lists {} attachments but {} were given",
            manifest.attachments.len(),
            attachments.len()
        )));
    }

    let manifest_bytes = canonical::to_canonical_json(&manifest)?;
    let manifest_len = u32::try_from(manifest_bytes.len())
        .ok()
        .filter(|len| *len <= MAX_MANIFEST_BYTES)
        .ok_or_else(|| Error::Invalid("the answers are too large for one submission".to_owned()))?;
    let signature = device.sign(Purpose::Manifest, &manifest_bytes);

    // The padded length is known before the first byte is written.
    let content_len = (MAGIC.len() + 4 + manifest_bytes.len() + 64) as u64;
    let content_len = content_len
        .checked_add(manifest.attachments_len()?)
        .ok_or_else(|| Error::Invalid("the submission is impossibly large".to_owned()))?;
    let padding = padme(content_len) - content_len;

    let keys: Vec<age::Recipient> = recipients.iter().map(|k| k.public).collect();
    let mut writer = age::encrypt(&keys, CountingWriter::new(output))?;
    let mut head = Vec::with_capacity(MAGIC.len() + 4 + manifest_bytes.len() + 64);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&manifest_len.to_be_bytes());
    head.extend_from_slice(&manifest_bytes);
    head.extend_from_slice(&signature.to_bytes());
    writer.write_all(&head)?;
    let envelope_id = writer.preamble().chain_update(&head).finalize().into();

    std::thread::scope(|scope| -> Result<()> {
        for (index, (meta, stream)) in manifest
            .attachments
            .iter()
            .zip(attachments.iter_mut())
            .enumerate()
        {
            let (size, digest) = copy_attachment(scope, &mut **stream, &mut writer, meta.size)?;
            if size != meta.size || hex(&digest) != meta.sha256 {
                return Err(Error::Invalid(format!(
                    "attachment {} ({}) changed while it was being sealed; seal it again",
                    index + 1,
                    meta.name
                )));
            }
        }
        Ok(())
    })?;
    write_zeros(&mut writer, padding)?;

    let counting = writer.finish()?;
    Ok((
        Sealed {
            manifest,
            envelope_id,
            envelope_len: counting.len,
        },
        counting.inner,
    ))
}

/// Copies at most `limit + 1` bytes of `input` to `output`, so a stream
/// longer than declared is caught without reading it all, but never writes
/// more than `limit`. Returns the count and hash of what was read; a large
/// attachment is read and hashed on a second thread in `scope`.
fn copy_attachment<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    input: &'scope mut (dyn Read + Send),
    output: &mut impl Write,
    limit: u64,
) -> Result<(u64, [u8; 32])> {
    let mut pieces = Pieces::for_len(scope, input.take(limit.saturating_add(1)), limit)?;
    let mut total = 0u64;
    loop {
        let bytes = pieces.next(usize::MAX)?;
        if bytes.is_empty() {
            break;
        }
        total += bytes.len() as u64;
        if total > limit {
            // Longer than declared: stop before writing the excess.
            return Ok((total, [0; 32]));
        }
        output.write_all(bytes)?;
    }
    Ok((total, pieces.finish()?))
}

fn write_zeros(output: &mut impl Write, mut count: u64) -> Result<()> {
    let zeros = [0u8; 4096];
    while count > 0 {
        let piece = count.min(zeros.len() as u64) as usize;
        output.write_all(&zeros[..piece])?;
        count -= piece as u64;
    }
    Ok(())
}

/// Passes bytes through while counting them.
struct CountingWriter<W> {
    inner: W,
    len: u64,
}

impl<W> CountingWriter<W> {
    fn new(inner: W) -> Self {
        Self { inner, len: 0 }
    }
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(bytes)?;
        self.len += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
