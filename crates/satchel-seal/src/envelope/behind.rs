//! Hashing attachments on a second thread, behind the caller.
//!
//! Opening does two heavy things to every attachment byte: decrypting it
//! and hashing it, and hashing is the lighter of the two. The calling
//! thread decrypts into a piece, hands the piece to its sink, and passes it
//! to [`Hashing`], whose thread hashes it and gives the buffer back. The
//! caller does the slower half and never waits for data; it waits only if
//! the hashing thread falls a whole pool of pieces behind. (Sealing is the
//! mirror image: see [`super::ahead`].)
//!
//! Memory stays at [`POOL`] buffers of [`PIECE`] bytes however large the
//! attachments.

use std::io;
use std::ops::Range;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::thread::{self, Scope, ScopedJoinHandle};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::PIECE;
use crate::error::{Error, Result};

/// How many buffers may be in flight.
const POOL: usize = 8;

/// A buffer of plaintext; wiped when dropped.
pub(super) type Piece = Zeroizing<Vec<u8>>;

/// Parts of a piece, each belonging to one attachment, by index.
pub(super) type Parts = Vec<(usize, Range<usize>)>;

/// Hashes the attachments of one envelope, on this thread or on a second.
pub(super) struct Hashing<'scope> {
    work: Work<'scope>,
    unallocated: usize,
}

enum Work<'scope> {
    /// Hashes on the calling thread, reusing one buffer.
    Here {
        hashes: Vec<Sha256>,
        spare: Option<Piece>,
    },
    /// A second thread hashes and returns the buffers.
    Behind {
        to_hasher: SyncSender<(Piece, Parts)>,
        returned: Receiver<Piece>,
        thread: ScopedJoinHandle<'scope, Vec<[u8; 32]>>,
    },
}

impl<'scope> Hashing<'scope> {
    /// Hashes `attachments` attachments; on a second thread in `scope` if
    /// `behind` is set.
    pub(super) fn start(
        scope: &'scope Scope<'scope, '_>,
        attachments: usize,
        behind: bool,
    ) -> Result<Self> {
        let work = if behind {
            let (to_hasher, jobs) = mpsc::sync_channel(POOL);
            let (give_back, returned) = mpsc::channel();
            let thread = thread::Builder::new()
                .name("satchel-hash-behind".to_owned())
                .spawn_scoped(scope, move || hash_behind(attachments, &jobs, &give_back))
                .map_err(|e| {
                    Error::Io(io::Error::other(format!("could not start a thread: {e}")))
                })?;
            Work::Behind {
                to_hasher,
                returned,
                thread,
            }
        } else {
            Work::Here {
                hashes: vec![Sha256::new(); attachments],
                spare: None,
            }
        };
        Ok(Self {
            work,
            unallocated: POOL,
        })
    }

    /// A buffer to fill: one given back, a new one while fewer than
    /// [`POOL`] exist, or else the next one the hashing thread gives back.
    pub(super) fn buffer(&mut self) -> Result<Piece> {
        match &mut self.work {
            Work::Here { spare, .. } => Ok(spare.take().unwrap_or_else(new_piece)),
            Work::Behind { returned, .. } => match returned.try_recv() {
                Ok(piece) => Ok(piece),
                Err(TryRecvError::Empty) if self.unallocated > 0 => {
                    self.unallocated -= 1;
                    Ok(new_piece())
                }
                Err(_) => returned.recv().map_err(|_| stopped()),
            },
        }
    }

    /// Hashes each part of `piece` into its attachment's hash.
    pub(super) fn hash(&mut self, piece: Piece, parts: Parts) -> Result<()> {
        match &mut self.work {
            Work::Here { hashes, spare } => {
                update(hashes, &piece, &parts);
                *spare = Some(piece);
                Ok(())
            }
            Work::Behind { to_hasher, .. } => to_hasher.send((piece, parts)).map_err(|_| stopped()),
        }
    }

    /// The SHA-256 of each attachment, in order.
    pub(super) fn finish(self) -> Result<Vec<[u8; 32]>> {
        match self.work {
            Work::Here { hashes, .. } => {
                Ok(hashes.into_iter().map(|h| h.finalize().into()).collect())
            }
            Work::Behind {
                to_hasher, thread, ..
            } => {
                // Hanging up tells the thread there is nothing more.
                drop(to_hasher);
                thread.join().map_err(|_| stopped())
            }
        }
    }
}

/// The second thread: hashes what arrives until the caller hangs up.
fn hash_behind(
    attachments: usize,
    jobs: &Receiver<(Piece, Parts)>,
    give_back: &mpsc::Sender<Piece>,
) -> Vec<[u8; 32]> {
    let mut hashes = vec![Sha256::new(); attachments];
    for (piece, parts) in jobs {
        update(&mut hashes, &piece, &parts);
        // The caller may have stopped early; then the buffer is dropped.
        let _ = give_back.send(piece);
    }
    hashes.into_iter().map(|h| h.finalize().into()).collect()
}

fn update(hashes: &mut [Sha256], piece: &[u8], parts: &Parts) {
    for (index, range) in parts {
        if let (Some(hash), Some(bytes)) = (hashes.get_mut(*index), piece.get(range.clone())) {
            hash.update(bytes);
        }
    }
}

fn new_piece() -> Piece {
    Zeroizing::new(vec![0u8; PIECE])
}

fn stopped() -> Error {
    Error::Io(io::Error::other(
        "the thread hashing attachments stopped unexpectedly",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `data` split into attachments of `sizes` through `Hashing`,
    /// in pieces that cut across attachment boundaries.
    fn hashes_of(data: &[u8], sizes: &[usize], behind: bool) -> Vec<[u8; 32]> {
        thread::scope(|scope| {
            let mut hashing = Hashing::start(scope, sizes.len(), behind).expect("start");
            let mut bounds = Vec::new();
            let mut at = 0;
            for (index, size) in sizes.iter().enumerate() {
                bounds.push((index, at..at + size));
                at += size;
            }
            let step = PIECE / 3 + 7;
            let mut start = 0;
            while start < data.len() {
                let end = (start + step).min(data.len());
                let mut piece = hashing.buffer().expect("buffer");
                piece[..end - start].copy_from_slice(&data[start..end]);
                let parts = bounds
                    .iter()
                    .filter_map(|(index, range)| {
                        let from = range.start.max(start);
                        let to = range.end.min(end);
                        (from < to).then(|| (*index, from - start..to - start))
                    })
                    .collect();
                hashing.hash(piece, parts).expect("hash");
                start = end;
            }
            hashing.finish().expect("finish")
        })
    }

    #[test]
    fn both_ways_give_each_attachments_plain_sha256() {
        let sizes = [0, 1, PIECE, 3 * PIECE + 5, 0, 77];
        let total: usize = sizes.iter().sum();
        let data: Vec<u8> = (0..total).map(|i| (i * 31 % 251) as u8).collect();
        let mut expected = Vec::new();
        let mut at = 0;
        for size in sizes {
            expected.push(<[u8; 32]>::from(Sha256::digest(&data[at..at + size])));
            at += size;
        }
        for behind in [false, true] {
            assert_eq!(
                hashes_of(&data, &sizes, behind),
                expected,
                "behind {behind}"
            );
        }
    }

    #[test]
    fn at_most_the_pool_of_buffers_is_used() {
        thread::scope(|scope| {
            let mut hashing = Hashing::start(scope, 1, true).expect("start");
            let mut distinct = std::collections::HashSet::new();
            for _ in 0..64 {
                let piece = hashing.buffer().expect("buffer");
                distinct.insert(piece.as_ptr() as usize);
                hashing.hash(piece, vec![(0, 0..PIECE)]).expect("hash");
            }
            hashing.finish().expect("finish");
            assert!(distinct.len() <= POOL, "{} buffers", distinct.len());
        });
    }
}
