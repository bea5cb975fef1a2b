//! Reading a stream in pieces, optionally on a second thread ahead of the
//! caller.
//!
//! Sealing does two heavy things to every attachment byte: the
//! ChaCha20-Poly1305 pass and a SHA-256 pass, which on the laptops Satchel
//! runs on cost about the same. For a large attachment a second thread
//! reads and hashes the attachment while the calling thread encrypts what
//! has already been read. (Opening is the mirror image: see
//! [`super::behind`].)
//!
//! [`Pieces`] is a stream read in owned buffers, either on the calling
//! thread or by a second thread that stays a few pieces ahead. Buffers go
//! back to the reading side once used, so memory stays at [`POOL`] buffers
//! of [`PIECE`] bytes however large the stream.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::thread::{self, Scope, ScopedJoinHandle};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::PIECE;
use crate::error::{Error, Result};

/// How many buffers a second thread may fill ahead.
const POOL: usize = 8;
/// Streams at least this long are worth a second thread.
pub(super) const AHEAD_FROM: u64 = 4 * PIECE as u64;

/// A buffer of plaintext; wiped when dropped.
type Piece = Zeroizing<Vec<u8>>;

/// A stream read piece by piece and hashed as it is read.
pub(super) struct Pieces<'scope, R> {
    reading: Reading<'scope, R>,
    /// The piece being handed out, and the part of it not yet handed out.
    current: Option<Piece>,
    start: usize,
    end: usize,
}

enum Reading<'scope, R> {
    /// Reads on the calling thread into one reused buffer.
    Here { input: R, hash: Sha256 },
    /// A second thread reads and sends the pieces over.
    Ahead {
        pieces: Receiver<io::Result<(Piece, usize)>>,
        give_back: Sender<Piece>,
        thread: ScopedJoinHandle<'scope, [u8; 32]>,
    },
}

impl<'scope, R: Read + Send + 'scope> Pieces<'scope, R> {
    /// Reads and hashes `input` on the calling thread.
    pub(super) fn here(input: R) -> Self {
        Self::with(Reading::Here {
            input,
            hash: Sha256::new(),
        })
    }

    /// Reads and hashes `input` on a new thread in `scope`.
    pub(super) fn ahead(scope: &'scope Scope<'scope, '_>, input: R) -> Result<Self> {
        let (to_caller, pieces) = mpsc::sync_channel(POOL);
        let (give_back, returned) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("satchel-read-ahead".to_owned())
            .spawn_scoped(scope, move || {
                read_ahead(input, Sha256::new(), &to_caller, returned)
            })
            .map_err(|e| Error::Io(io::Error::other(format!("could not start a thread: {e}"))))?;
        Ok(Self::with(Reading::Ahead {
            pieces,
            give_back,
            thread,
        }))
    }

    /// Chooses [`here`](Self::here) or [`ahead`](Self::ahead) for a stream
    /// of about `len` bytes.
    pub(super) fn for_len(scope: &'scope Scope<'scope, '_>, input: R, len: u64) -> Result<Self> {
        if len >= AHEAD_FROM {
            Self::ahead(scope, input)
        } else {
            Ok(Self::here(input))
        }
    }

    fn with(reading: Reading<'scope, R>) -> Self {
        Self {
            reading,
            current: None,
            start: 0,
            end: 0,
        }
    }
}

impl<R: Read> Pieces<'_, R> {
    /// The next bytes of the stream, at most `max` of them; empty only at
    /// its end. Errors are the input's own.
    pub(super) fn next(&mut self, max: usize) -> io::Result<&[u8]> {
        if self.start == self.end && !self.refill()? {
            return Ok(&[]);
        }
        let Some(piece) = &self.current else {
            return Ok(&[]);
        };
        let from = self.start;
        self.start += (self.end - from).min(max);
        Ok(&piece[from..self.start])
    }

    /// Fetches the next piece; false at the end of the stream.
    fn refill(&mut self) -> io::Result<bool> {
        match &mut self.reading {
            Reading::Here { input, hash } => {
                let piece = self.current.get_or_insert_with(new_piece);
                let read = read_some(input, piece)?;
                hash.update(&piece[..read]);
                (self.start, self.end) = (0, read);
                Ok(read > 0)
            }
            Reading::Ahead {
                pieces, give_back, ..
            } => {
                if let Some(used) = self.current.take() {
                    // The reader may have finished; then it is dropped here.
                    let _ = give_back.send(used);
                }
                match pieces.recv() {
                    Ok(Ok((piece, read))) => {
                        self.current = Some(piece);
                        (self.start, self.end) = (0, read);
                        Ok(true)
                    }
                    Ok(Err(e)) => Err(e),
                    // The reader stops sending only at the end of the input.
                    Err(_) => Ok(false),
                }
            }
        }
    }

    /// The SHA-256 of every byte read from the input. Call it once
    /// [`next`](Self::next) has returned the end.
    pub(super) fn finish(self) -> Result<[u8; 32]> {
        match self.reading {
            Reading::Here { hash, .. } => Ok(hash.finalize().into()),
            Reading::Ahead { thread, .. } => thread.join().map_err(|_| {
                Error::Io(io::Error::other(
                    "the thread reading an attachment stopped unexpectedly",
                ))
            }),
        }
    }
}

/// The second thread of [`Pieces::ahead`]: reads `input` to its end or its
/// first error, sending each piece to the caller, and hashes what it read.
/// Stops early once the caller hangs up.
fn read_ahead(
    mut input: impl Read,
    mut hash: Sha256,
    to_caller: &SyncSender<io::Result<(Piece, usize)>>,
    returned: Receiver<Piece>,
) -> [u8; 32] {
    let mut unallocated = POOL;
    loop {
        // A buffer back from the caller, a new one while fewer than POOL
        // exist, or else wait for one.
        let piece = match returned.try_recv() {
            Ok(piece) => Some(piece),
            Err(TryRecvError::Empty) if unallocated > 0 => {
                unallocated -= 1;
                Some(new_piece())
            }
            Err(TryRecvError::Empty) => returned.recv().ok(),
            Err(TryRecvError::Disconnected) => None,
        };
        let Some(mut piece) = piece else {
            break;
        };
        // Fill the whole piece, so the caller gets few, large pieces even
        // from inputs that hand out a little at a time.
        let (filled, error) = fill(&mut input, &mut piece);
        if filled > 0 {
            hash.update(&piece[..filled]);
            if to_caller.send(Ok((piece, filled))).is_err() {
                break;
            }
        }
        if let Some(error) = error {
            let _ = to_caller.send(Err(error));
            break;
        }
        if filled < PIECE {
            // The end of the input.
            break;
        }
    }
    hash.finalize().into()
}

fn new_piece() -> Piece {
    Zeroizing::new(vec![0u8; PIECE])
}

/// Reads until `buffer` is full, the input ends or it fails. Returns how
/// much was read, and the error if it failed.
pub(super) fn fill(input: &mut impl Read, buffer: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buffer.len() {
        match read_some(input, &mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

/// One read, retried when interrupted.
fn read_some(input: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buffer) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `data` through `Pieces` in uneven steps, returning what came
    /// out and the hash.
    fn read_through(data: &[u8], ahead: bool) -> (Vec<u8>, [u8; 32]) {
        thread::scope(|scope| {
            let mut pieces = if ahead {
                Pieces::ahead(scope, data).expect("thread")
            } else {
                Pieces::here(data)
            };
            let mut out = Vec::new();
            let mut turn = 0usize;
            loop {
                // Whole pieces, short steps and single bytes, in turn.
                let max = [usize::MAX, PIECE / 3 + 1, 1][turn % 3];
                let bytes = pieces.next(max).expect("read");
                if bytes.is_empty() {
                    break;
                }
                assert!(bytes.len() <= max);
                out.extend_from_slice(bytes);
                turn += 1;
            }
            let hash = pieces.finish().expect("finish");
            (out, hash)
        })
    }

    #[test]
    fn both_ways_give_every_byte_and_the_plain_sha256() {
        for size in [0, 1, PIECE - 1, PIECE, PIECE + 1, 3_000_017] {
            let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
            let expected: [u8; 32] = Sha256::digest(&data).into();
            for ahead in [false, true] {
                let (out, hash) = read_through(&data, ahead);
                assert!(out == data, "size {size}, ahead {ahead}: bytes differ");
                assert_eq!(hash, expected, "size {size}, ahead {ahead}");
            }
        }
    }

    /// Gives `good` bytes, then fails.
    struct Failing(u64);

    impl Read for Failing {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("the disk went away"));
            }
            let n = (buffer.len() as u64).min(self.0) as usize;
            buffer[..n].fill(3);
            self.0 -= n as u64;
            Ok(n)
        }
    }

    #[test]
    fn an_input_error_arrives_after_the_bytes_before_it() {
        for ahead in [false, true] {
            thread::scope(|scope| {
                let input = Failing(3 * PIECE as u64 + 5);
                let mut pieces = if ahead {
                    Pieces::ahead(scope, input).expect("thread")
                } else {
                    Pieces::here(input)
                };
                let mut good = 0;
                let error = loop {
                    match pieces.next(usize::MAX) {
                        Ok(bytes) => good += bytes.len(),
                        Err(e) => break e,
                    }
                };
                assert_eq!(good, 3 * PIECE + 5, "ahead {ahead}");
                assert_eq!(error.to_string(), "the disk went away");
            });
        }
    }

    #[test]
    fn a_caller_that_stops_early_releases_the_reader() {
        // An endless input: the scope can only end if the reader notices
        // that the caller has gone.
        thread::scope(|scope| {
            let mut pieces = Pieces::ahead(scope, io::repeat(1)).expect("thread");
            for _ in 0..10 {
                assert_eq!(pieces.next(usize::MAX).expect("read").len(), PIECE);
            }
            drop(pieces);
        });
    }

    #[test]
    fn reading_ahead_uses_at_most_the_pool() {
        thread::scope(|scope| {
            let mut pieces =
                Pieces::ahead(scope, io::repeat(1).take(64 * PIECE as u64)).expect("thread");
            let mut distinct = std::collections::HashSet::new();
            loop {
                let bytes = pieces.next(usize::MAX).expect("read");
                if bytes.is_empty() {
                    break;
                }
                distinct.insert(bytes.as_ptr() as usize);
            }
            // The same buffers circulate, so no more than POOL distinct
            // addresses should appear.
            assert!(distinct.len() <= POOL, "{} buffers", distinct.len());
        });
    }
}
