//! The payload: ChaCha20-Poly1305 in the STREAM construction, 64 KiB chunks
//! (age spec, "Payload").
//!
//! Each chunk is sealed under the payload key with a 12-byte nonce: an
//! 11-byte big-endian chunk counter, then 0x01 for the final chunk and 0x00
//! for every other. The final chunk may be short but is empty only when the
//! whole payload is. Both directions hold one chunk at a time and work on it
//! in place.

use std::fmt;
use std::io::{self, Read, Write};

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{FileKey, hkdf_sha256};
use crate::error::Error;

/// Plaintext bytes per chunk ("The payload is split in chunks of 64 KiB").
pub(crate) const CHUNK_LEN: usize = 64 * 1024;
/// The Poly1305 tag after each chunk.
const TAG_LEN: usize = 16;
/// A full chunk as stored.
const SEALED_CHUNK_LEN: usize = CHUNK_LEN + TAG_LEN;
/// The random nonce at the start of the payload, input to the payload key.
pub(crate) const PAYLOAD_NONCE_LEN: usize = 16;

/// The chunk cipher ("payload key = HKDF-SHA-256(ikm = file key,
/// salt = nonce, info = "payload")"). The cipher wipes its key on drop.
pub(crate) fn payload_cipher(
    file_key: &FileKey,
    nonce: &[u8; PAYLOAD_NONCE_LEN],
) -> ChaCha20Poly1305 {
    let key = hkdf_sha256(nonce, file_key.as_ref(), b"payload");
    ChaCha20Poly1305::new(Key::from_slice(key.as_ref()))
}

/// The AEAD nonce for chunk `index`: 11 bytes of big-endian counter, then
/// the final-chunk flag. The counter is kept in 64 bits, which no real
/// stream can exhaust; the top three counter bytes stay zero.
fn chunk_nonce(index: u64, last: bool) -> Nonce {
    let mut nonce = Nonce::default();
    nonce[3..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = u8::from(last);
    nonce
}

/// The error every authenticity failure of the payload becomes.
fn unauthentic() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Error::Unauthentic)
}

/// Encrypts everything written to it into the age payload after a header.
///
/// Plaintext is buffered until a whole chunk is known not to be the last;
/// [`Encryptor::finish`] seals the final chunk. Dropping an `Encryptor`
/// without finishing leaves a truncated file that every reader rejects.
pub struct Encryptor<W> {
    output: W,
    cipher: ChaCha20Poly1305,
    index: u64,
    /// One sealed chunk's worth of room; the plaintext (wiped on drop) is
    /// encrypted in place and the tag appended after it.
    buf: Zeroizing<Vec<u8>>,
    /// Plaintext bytes waiting in `buf`.
    len: usize,
    /// Set when writing a sealed chunk failed part way: the output is then
    /// incomplete and nothing more may be written to it.
    broken: bool,
    /// SHA-256 over the header and payload nonce written before the chunks.
    preamble: Sha256,
}

impl<W: Write> Encryptor<W> {
    /// Starts a payload under `cipher`. The caller has already written the
    /// header and the payload nonce to `output`.
    pub(crate) fn new(output: W, cipher: ChaCha20Poly1305) -> Self {
        Self {
            output,
            cipher,
            index: 0,
            buf: Zeroizing::new(vec![0u8; SEALED_CHUNK_LEN]),
            len: 0,
            broken: false,
            preamble: Sha256::default(),
        }
    }

    /// Records the hash of what was written before the payload.
    pub(crate) fn with_preamble(mut self, preamble: Sha256) -> Self {
        self.preamble = preamble;
        self
    }

    /// SHA-256, still open for more input, over the file's header and
    /// payload nonce: the bytes that fix the payload key for every
    /// recipient.
    pub(crate) fn preamble(&self) -> Sha256 {
        self.preamble.clone()
    }

    /// Seals and writes the final chunk (empty only if nothing was written,
    /// as the spec allows), flushes, and returns the output.
    pub fn finish(mut self) -> crate::Result<W> {
        self.seal_chunk(true)?;
        self.output.flush()?;
        Ok(self.output)
    }

    /// Seals the buffered plaintext as chunk `index` and writes it out.
    fn seal_chunk(&mut self, last: bool) -> io::Result<()> {
        if self.broken {
            return Err(io::Error::other(Error::Invalid(
                "an earlier write failed, so the sealed file is incomplete".to_owned(),
            )));
        }
        let nonce = chunk_nonce(self.index, last);
        let (plaintext, tag_slot) = self.buf.split_at_mut(self.len);
        let tag = self
            .cipher
            .encrypt_in_place_detached(&nonce, b"", plaintext)
            .map_err(|_| io::Error::other(Error::Invalid("chunk too long".to_owned())))?;
        tag_slot[..TAG_LEN].copy_from_slice(&tag);

        self.broken = true;
        self.output.write_all(&self.buf[..self.len + TAG_LEN])?;
        self.broken = false;

        self.len = 0;
        self.index = self
            .index
            .checked_add(1)
            .ok_or_else(|| io::Error::other(Error::Invalid("payload too long".to_owned())))?;
        Ok(())
    }
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        // A full buffer is sealed only once more data arrives: until then it
        // might be the final chunk, which needs a different nonce.
        if self.len == CHUNK_LEN {
            self.seal_chunk(false)?;
        }
        let n = data.len().min(CHUNK_LEN - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&data[..n]);
        self.len += n;
        Ok(n)
    }

    /// Flushes the output. Buffered plaintext stays buffered: sealing a
    /// partial chunk early would change the file format.
    fn flush(&mut self) -> io::Result<()> {
        self.output.flush()
    }
}

impl<W> fmt::Debug for Encryptor<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryptor")
            .field("chunks_written", &self.index)
            .field("buffered", &self.len)
            .finish_non_exhaustive()
    }
}

/// Decrypts an age payload, releasing each chunk's plaintext only after its
/// tag verified.
///
/// Reading to the end (`Ok(0)`) is what proves the payload complete: a
/// missing final chunk, an empty final chunk after others, a short or
/// damaged chunk, or data after the final chunk is an error of kind
/// `InvalidData` carrying [`Error::Unauthentic`]. Plaintext already released
/// before such an error was authentic as far as it went, but the payload as
/// a whole must then be discarded. Errors from the underlying reader are
/// passed through unchanged, and reading may be retried after them.
pub struct Decryptor<R> {
    source: Source<R>,
    cipher: ChaCha20Poly1305,
    index: u64,
    /// One sealed chunk, decrypted in place; wiped on drop.
    buf: Zeroizing<Vec<u8>>,
    /// Sealed bytes of the next chunk read so far.
    filled: usize,
    /// The decrypted plaintext not yet handed out: `buf[start..end]`.
    start: usize,
    end: usize,
    state: ReadState,
    /// Which of the caller's identities opened the header.
    matched_identity: usize,
    /// How many recipient stanzas the header holds, of any type.
    stanza_count: usize,
    /// SHA-256 over the header and payload nonce read before the chunks.
    preamble: Sha256,
}

/// Where the decryptor is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadState {
    /// Reading chunks.
    Chunks,
    /// The final chunk verified; the input must end right after it.
    AfterFinal,
    /// The payload is complete and authentic.
    Done,
    /// Authentication failed; every later read fails the same way.
    Failed,
}

impl<R: Read> Decryptor<R> {
    /// Starts reading the payload's chunks from `source`, which is
    /// positioned just after the payload nonce.
    pub(crate) fn new(source: Source<R>, cipher: ChaCha20Poly1305) -> Self {
        Self {
            source,
            cipher,
            index: 0,
            buf: Zeroizing::new(vec![0u8; SEALED_CHUNK_LEN]),
            filled: 0,
            start: 0,
            end: 0,
            state: ReadState::Chunks,
            matched_identity: 0,
            stanza_count: 0,
            preamble: Sha256::default(),
        }
    }

    /// Reads the next sealed chunk into `buf` and opens it there, leaving
    /// its plaintext in `buf[start..end]`.
    fn next_chunk(&mut self) -> io::Result<()> {
        // Read a whole sealed chunk, or up to the end of the input.
        let mut at_eof = false;
        while self.filled < SEALED_CHUNK_LEN {
            match self.source.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    at_eof = true;
                    break;
                }
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let sealed_len = std::mem::take(&mut self.filled);
        // Too short for a tag, or nothing at all: "Streaming decryption MUST
        // signal an error if the end of file is reached without successfully
        // decrypting a final chunk".
        let Some(plaintext_len) = sealed_len.checked_sub(TAG_LEN) else {
            return self.advance(None);
        };

        let (ciphertext, tag) = self.buf[..sealed_len].split_at_mut(plaintext_len);
        let last = open_chunk(
            &self.cipher,
            self.index,
            ciphertext,
            Tag::from_slice(tag),
            at_eof,
        );
        self.advance(last)?;
        self.start = 0;
        self.end = plaintext_len;
        Ok(())
    }

    /// Like [`Self::next_chunk`], but reads and opens the chunk straight in
    /// `out` (at least a chunk long), saving a copy for large reads. Only
    /// the tag may land in `buf`. Returns the plaintext length.
    fn next_chunk_into(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let data = &mut out[..CHUNK_LEN];
        let mut got = 0;
        let mut at_eof = false;
        while got < SEALED_CHUNK_LEN {
            let into = match got.checked_sub(CHUNK_LEN) {
                None => &mut data[got..],
                Some(in_tag) => &mut self.buf[in_tag..TAG_LEN],
            };
            match self.source.read(into) {
                Ok(0) => {
                    at_eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Keep what was read, in order, so a retry resumes.
                    let head = got.min(CHUNK_LEN);
                    self.buf.copy_within(..got - head, CHUNK_LEN);
                    self.buf[..head].copy_from_slice(&data[..head]);
                    self.filled = got;
                    return Err(e);
                }
            }
        }
        let Some(plaintext_len) = got.checked_sub(TAG_LEN) else {
            return self.advance(None).map(|()| 0);
        };

        // The tag is the last 16 bytes read, which may straddle the two.
        let mut tag = Tag::default();
        for (offset, byte) in tag.iter_mut().enumerate() {
            let at = plaintext_len + offset;
            *byte = if at < CHUNK_LEN {
                data[at]
            } else {
                self.buf[at - CHUNK_LEN]
            };
        }
        let ciphertext = &mut data[..plaintext_len];
        let last = open_chunk(&self.cipher, self.index, ciphertext, &tag, at_eof);
        self.advance(last)?;
        Ok(plaintext_len)
    }

    /// Records the outcome of opening a chunk: `Some(last)` if it verified.
    fn advance(&mut self, opened: Option<bool>) -> io::Result<()> {
        let next = self.index.checked_add(1);
        match (opened, next) {
            (Some(last), Some(next)) => {
                self.index = next;
                if last {
                    self.state = ReadState::AfterFinal;
                }
                Ok(())
            }
            _ => {
                self.state = ReadState::Failed;
                Err(unauthentic())
            }
        }
    }

    /// After the final chunk, checks that the input ends there.
    fn check_end(&mut self) -> io::Result<()> {
        let mut probe = [0u8; 1];
        loop {
            match self.source.read(&mut probe) {
                Ok(0) => {
                    self.state = ReadState::Done;
                    return Ok(());
                }
                Ok(_) => {
                    self.state = ReadState::Failed;
                    return Err(unauthentic());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R> Decryptor<R> {
    /// Records what the header said about its recipients.
    pub(crate) fn with_recipients(mut self, matched_identity: usize, stanza_count: usize) -> Self {
        self.matched_identity = matched_identity;
        self.stanza_count = stanza_count;
        self
    }

    /// Records the hash of what was read before the payload.
    pub(crate) fn with_preamble(mut self, preamble: Sha256) -> Self {
        self.preamble = preamble;
        self
    }

    /// SHA-256, still open for more input, over the file's header and
    /// payload nonce, as [`Encryptor`] computed it when the file was made.
    pub(crate) fn preamble(&self) -> Sha256 {
        self.preamble.clone()
    }

    /// The index, in the slice given to [`decrypt`](super::decrypt), of the
    /// identity that opened the file.
    pub fn matched_identity(&self) -> usize {
        self.matched_identity
    }

    /// How many recipient stanzas the header holds, of any type. Envelope
    /// opening compares it with the signed recipient list, so a stanza added
    /// or removed by someone who knows the file key is caught.
    pub fn stanza_count(&self) -> usize {
        self.stanza_count
    }

    /// The underlying reader. Its position is wherever decryption stopped
    /// (just past the payload after a complete read), except that bytes the
    /// header parser read ahead and the payload never used are lost.
    pub fn into_inner(self) -> R {
        self.source.inner
    }

    /// Copies released plaintext into `out`.
    fn release(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.end - self.start);
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        n
    }
}

impl<R: Read> Read for Decryptor<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.start < self.end || out.is_empty() {
                return Ok(self.release(out));
            }
            match self.state {
                ReadState::Chunks if self.filled == 0 && out.len() >= CHUNK_LEN => {
                    // An empty final chunk yields nothing: go on to the end check.
                    let n = self.next_chunk_into(out)?;
                    if n > 0 {
                        return Ok(n);
                    }
                }
                ReadState::Chunks => self.next_chunk()?,
                ReadState::AfterFinal => self.check_end()?,
                ReadState::Done => return Ok(0),
                ReadState::Failed => return Err(unauthentic()),
            }
        }
    }
}

impl<R> fmt::Debug for Decryptor<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decryptor")
            .field("chunks_read", &self.index)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Opens one sealed chunk in place as chunk `index`: `ciphertext` is the
/// chunk without its tag. Returns whether it was the final chunk, or `None`
/// if it does not verify.
fn open_chunk(
    cipher: &ChaCha20Poly1305,
    index: u64,
    ciphertext: &mut [u8],
    tag: &Tag,
    at_eof: bool,
) -> Option<bool> {
    // The final chunk "MUST NOT be empty unless the whole payload is empty".
    if ciphertext.is_empty() && index != 0 {
        return None;
    }

    // A short read is the end of the input, so this must be the final
    // chunk. A full one is usually not, but a payload whose length is a
    // multiple of 64 KiB ends with a full final chunk: try that second. The
    // tag is checked before anything is decrypted, so a failed attempt
    // leaves `ciphertext` untouched.
    let attempts: &[bool] = if at_eof && ciphertext.len() < CHUNK_LEN {
        &[true]
    } else {
        &[false, true]
    };
    attempts.iter().copied().find(|&last| {
        let nonce = chunk_nonce(index, last);
        cipher
            .decrypt_in_place_detached(&nonce, b"", ciphertext, tag)
            .is_ok()
    })
}

/// The payload's input: bytes already read past the header, then the rest
/// of the caller's reader.
pub(crate) struct Source<R> {
    pending: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R> Source<R> {
    pub(crate) fn new(pending: Vec<u8>, inner: R) -> Self {
        Self {
            pending,
            pos: 0,
            inner,
        }
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.pending.len() {
            let n = out.len().min(self.pending.len() - self.pos);
            out[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
            self.pos += n;
            if self.pos == self.pending.len() {
                self.pending = Vec::new();
                self.pos = 0;
            }
            return Ok(n);
        }
        self.inner.read(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seals chunks with explicit final flags, as a sender could, to build
    /// payloads this module's own writer never produces.
    fn sealed(chunks: &[(&[u8], bool)]) -> Vec<u8> {
        let cipher = test_cipher();
        let mut out = Vec::new();
        for (index, (plaintext, last)) in chunks.iter().enumerate() {
            let mut chunk = plaintext.to_vec();
            let nonce = chunk_nonce(index as u64, *last);
            let tag = cipher
                .encrypt_in_place_detached(&nonce, b"", &mut chunk)
                .expect("seals");
            out.extend_from_slice(&chunk);
            out.extend_from_slice(&tag);
        }
        out
    }

    fn test_cipher() -> ChaCha20Poly1305 {
        payload_cipher(&Zeroizing::new([9u8; 16]), &[3u8; PAYLOAD_NONCE_LEN])
    }

    /// Reads the payload with reads of `size`, returning what was released
    /// and whether it ended cleanly.
    fn read_payload(payload: &[u8], size: usize) -> (Vec<u8>, bool) {
        let mut decryptor = Decryptor::new(Source::new(Vec::new(), payload), test_cipher());
        let mut released = Vec::new();
        let mut piece = vec![0u8; size];
        loop {
            match decryptor.read(&mut piece) {
                Ok(0) => return (released, true),
                Ok(n) => released.extend_from_slice(&piece[..n]),
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
                    return (released, false);
                }
            }
        }
    }

    #[test]
    fn chunk_framing_is_enforced() {
        let full = vec![5u8; CHUNK_LEN];
        let cases: [(&str, Vec<u8>, bool, usize); 7] = [
            ("empty payload", sealed(&[(b"", true)]), true, 0),
            ("no chunks at all", Vec::new(), false, 0),
            (
                "full then short final",
                sealed(&[(&full, false), (b"abc", true)]),
                true,
                65539,
            ),
            (
                "full final chunk",
                sealed(&[(&full, true)]),
                true,
                CHUNK_LEN,
            ),
            (
                "empty final after full",
                sealed(&[(&full, false), (b"", true)]),
                false,
                CHUNK_LEN,
            ),
            (
                "missing final chunk",
                sealed(&[(&full, false)]),
                false,
                CHUNK_LEN,
            ),
            (
                "two final chunks",
                sealed(&[(&full, true), (b"x", true)]),
                false,
                CHUNK_LEN,
            ),
        ];
        for (name, payload, complete, released_len) in cases {
            for size in [100, CHUNK_LEN, 2 * CHUNK_LEN] {
                let (released, ended) = read_payload(&payload, size);
                assert_eq!(ended, complete, "{name}, reads of {size}");
                assert_eq!(released.len(), released_len, "{name}, reads of {size}");
            }
        }
    }

    #[test]
    fn a_short_chunk_before_the_end_is_refused() {
        // A short chunk that is not marked final, followed by more data,
        // cannot be split apart again: the reader sees one garbled chunk.
        let payload = sealed(&[(b"short", false), (b"final", true)]);
        assert_eq!(read_payload(&payload, 1000), (Vec::new(), false));
    }
}
