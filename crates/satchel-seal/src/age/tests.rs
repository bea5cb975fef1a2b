//! Round trips and tampering tests for the whole age layer.

use std::io::{self, Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use proptest::prelude::*;

use super::*;

/// Plaintext of `len` bytes that differs from chunk to chunk.
fn plaintext(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i >> 16) as u8)
        .collect()
}

fn seal(recipients: &[Recipient], data: &[u8]) -> Vec<u8> {
    let mut encryptor = encrypt(recipients, Vec::new()).expect("header written");
    encryptor.write_all(data).expect("buffered");
    encryptor.finish().expect("finished")
}

/// Opens `file` and reads it to the end, returning the plaintext or the
/// crate error behind the failure.
fn open(identities: &[Identity], file: &[u8]) -> Result<Vec<u8>> {
    let mut decryptor = decrypt(identities, file)?;
    let mut out = Vec::new();
    decryptor.read_to_end(&mut out).map_err(crate_error)?;
    Ok(out)
}

/// The crate error inside an error from `Decryptor::read`.
fn crate_error(e: io::Error) -> Error {
    assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(Error::Unauthentic) => Error::Unauthentic,
        other => panic!("unexpected inner error {other:?}"),
    }
}

/// The length of the header plus payload nonce in a sealed file.
fn preamble_len(file: &[u8]) -> usize {
    let mut unread = file;
    let (_, rest) = Header::read(&mut unread).expect("header");
    file.len() - unread.len() - rest.len() + PAYLOAD_NONCE_LEN
}

const SEALED: usize = stream::CHUNK_LEN + 16;

#[test]
fn round_trips_at_chunk_boundaries() {
    let identity = Identity::generate().expect("identity");
    for len in [0, 1, 65535, 65536, 65537, 131072] {
        let data = plaintext(len);
        let file = seal(&[identity.recipient()], &data);
        let chunks = len.div_ceil(stream::CHUNK_LEN).max(1);
        assert_eq!(file.len(), preamble_len(&file) + len + chunks * 16, "{len}");
        assert_eq!(
            open(std::slice::from_ref(&identity), &file).expect("opens"),
            data,
            "{len}"
        );
    }
}

#[test]
fn small_writes_and_small_reads_round_trip() {
    let identity = Identity::generate().expect("identity");
    let data = plaintext(2 * stream::CHUNK_LEN + 3);
    let mut encryptor = encrypt(&[identity.recipient()], Vec::new()).expect("header");
    for piece in data.chunks(1000) {
        encryptor.write_all(piece).expect("buffered");
    }
    encryptor.flush().expect("flush");
    let file = encryptor.finish().expect("finished");

    // The file handed over a few bytes at a time, read a few bytes at a time.
    let mut decryptor = decrypt(&[identity], Trickle(&file)).expect("header");
    let mut out = Vec::new();
    let mut piece = [0u8; 777];
    loop {
        let n = decryptor.read(&mut piece).expect("reads");
        if n == 0 {
            break;
        }
        out.extend_from_slice(&piece[..n]);
    }
    assert_eq!(out, data);
    assert_eq!(decryptor.read(&mut piece).expect("still at the end"), 0);
}

#[test]
fn reads_resume_after_errors_from_the_source() {
    let identity = Identity::generate().expect("identity");
    let data = plaintext(3 * stream::CHUNK_LEN + 5);
    let file = seal(&[identity.recipient()], &data);
    // Large reads (opened straight in the caller's buffer) and small ones,
    // with the source failing at many different points inside chunks.
    for seed in 1..=12u64 {
        for read_size in [stream::CHUNK_LEN + 100, 1000] {
            let source = Hiccup {
                delivered: 0,
                data: &file,
                state: seed,
            };
            let mut decryptor = decrypt(std::slice::from_ref(&identity), source).expect("header");
            let mut out = Vec::new();
            let mut piece = vec![0u8; read_size];
            loop {
                match decryptor.read(&mut piece) {
                    Ok(0) => break,
                    Ok(n) => out.extend_from_slice(&piece[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("{e}"),
                }
            }
            assert_eq!(out, data, "seed {seed}, reads of {read_size}");
        }
    }
}

#[test]
fn every_recipient_can_open() {
    let identities: Vec<Identity> = (0..3)
        .map(|_| Identity::generate().expect("identity"))
        .collect();
    let recipients: Vec<Recipient> = identities.iter().map(Identity::recipient).collect();
    let data = plaintext(70_000);
    let file = seal(&recipients, &data);
    for identity in identities {
        let stranger = Identity::generate().expect("identity");
        assert_eq!(open(&[stranger, identity], &file).expect("opens"), data);
    }
}

#[test]
fn no_recipients_is_invalid() {
    assert!(matches!(encrypt(&[], Vec::new()), Err(Error::Invalid(_))));
}

#[test]
fn wrong_identity_is_no_matching_key() {
    let file = seal(&[Identity::generate().expect("id").recipient()], b"hello");
    let stranger = Identity::generate().expect("identity");
    assert!(matches!(
        open(&[stranger], &file),
        Err(Error::NoMatchingKey)
    ));
    assert!(matches!(open(&[], &file), Err(Error::NoMatchingKey)));
}

#[test]
fn no_bit_flip_in_the_header_is_accepted() {
    let identity = Identity::generate().expect("identity");
    let file = seal(&[identity.recipient()], b"attorney eyes only");
    let header_len = preamble_len(&file) - PAYLOAD_NONCE_LEN;
    for bit in 0..header_len * 8 {
        let mut damaged = file.clone();
        damaged[bit / 8] ^= 1 << (bit % 8);
        match open(std::slice::from_ref(&identity), &damaged) {
            Err(Error::NotAnEnvelope | Error::Unauthentic | Error::NoMatchingKey) => {}
            other => panic!("bit {bit}: {:?}", other.map(|_| "opened")),
        }
    }
}

#[test]
fn a_changed_stanza_for_someone_else_or_mac_is_unauthentic() {
    let identity = Identity::generate().expect("identity");
    let other = Identity::generate().expect("identity");
    let file = seal(&[identity.recipient(), other.recipient()], b"payload");
    let header_len = preamble_len(&file) - PAYLOAD_NONCE_LEN;
    let text = std::str::from_utf8(&file[..header_len]).expect("ascii header");
    let payload = &file[header_len..];
    let lines: Vec<&str> = text.lines().collect();

    // Re-encode a decoded line with one bit flipped, keeping it canonical.
    let flip = |line: &str| {
        let mut bytes = BASE64.decode(line).expect("base64");
        bytes[0] ^= 1;
        BASE64.encode(bytes)
    };
    let rebuild = |lines: &[String]| {
        let mut out = lines.join("\n").into_bytes();
        out.push(b'\n');
        out.extend_from_slice(payload);
        out
    };

    // The second stanza's body (line 4) is not for `identity`: its MAC
    // catches the change.
    let mut changed: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    changed[4] = flip(lines[4]);
    assert!(matches!(
        open(std::slice::from_ref(&identity), &rebuild(&changed)),
        Err(Error::Unauthentic)
    ));

    let mut changed: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    let mac = lines[5].strip_prefix("--- ").expect("mac line");
    changed[5] = format!("--- {}", flip(mac));
    assert!(matches!(
        open(&[identity], &rebuild(&changed)),
        Err(Error::Unauthentic)
    ));
}

#[test]
fn a_flipped_bit_in_any_chunk_is_unauthentic() {
    let identity = Identity::generate().expect("identity");
    let data = plaintext(3 * stream::CHUNK_LEN + 10);
    let file = seal(&[identity.recipient()], &data);
    let start = preamble_len(&file);
    let positions = [
        start - 1,          // the payload nonce
        start,              // first chunk
        start + SEALED - 1, // first chunk's tag
        start + SEALED + 5, // a middle chunk
        file.len() - 17,    // last chunk's data
        file.len() - 1,     // last chunk's tag
    ];
    for position in positions {
        let mut damaged = file.clone();
        damaged[position] ^= 0x10;
        let result = open(std::slice::from_ref(&identity), &damaged);
        assert!(matches!(result, Err(Error::Unauthentic)), "byte {position}");
    }
}

#[test]
fn truncation_and_trailing_data_are_unauthentic() {
    let identity = Identity::generate().expect("identity");
    let data = plaintext(2 * stream::CHUNK_LEN + 100);
    let file = seal(&[identity.recipient()], &data);
    let start = preamble_len(&file);

    // Cut at each chunk boundary, inside a chunk, and just before the end.
    for end in [
        start,
        start + SEALED,
        start + 2 * SEALED,
        start + 50,
        file.len() - 1,
    ] {
        let result = open(std::slice::from_ref(&identity), &file[..end]);
        assert!(matches!(result, Err(Error::Unauthentic)), "cut at {end}");
    }

    // Cut inside the payload nonce: the header opens but the file is damaged.
    assert!(matches!(
        decrypt(std::slice::from_ref(&identity), &file[..start - 3]),
        Err(Error::Unauthentic)
    ));

    for extra in [&b"x"[..], &[0u8; 16], &[0u8; 17], &[7u8; SEALED]] {
        let mut longer = file.clone();
        longer.extend_from_slice(extra);
        let result = open(std::slice::from_ref(&identity), &longer);
        assert!(
            matches!(result, Err(Error::Unauthentic)),
            "{} extra bytes",
            extra.len()
        );
    }
}

#[test]
fn a_full_final_chunk_cannot_be_extended() {
    // A 64 KiB payload is one full final chunk. Bytes after it are refused,
    // after the verified chunk itself was released (as the age test vectors
    // expect).
    let identity = Identity::generate().expect("identity");
    let data = plaintext(stream::CHUNK_LEN);
    let mut file = seal(&[identity.recipient()], &data);
    file.extend_from_slice(&[0u8; 16]);
    let mut decryptor = decrypt(&[identity], &file[..]).expect("header");
    let mut out = Vec::new();
    let error = decryptor.read_to_end(&mut out).expect_err("trailing data");
    assert!(matches!(crate_error(error), Error::Unauthentic));
    assert_eq!(out, data);
}

#[test]
fn encryptor_debug_shows_no_secrets() {
    let identity = Identity::generate().expect("identity");
    let mut encryptor = encrypt(&[identity.recipient()], Vec::new()).expect("header");
    encryptor.write_all(b"secret words").expect("buffered");
    let shown = format!("{encryptor:?}");
    assert!(shown.starts_with("Encryptor"), "{shown}");
    assert!(!shown.contains("secret"), "{shown}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn random_sizes_round_trip(len in 0usize..300 * 1024, write_size in 1usize..100_000) {
        let identity = Identity::generate().expect("identity");
        let data = plaintext(len);
        let mut encryptor = encrypt(&[identity.recipient()], Vec::new()).expect("header");
        for piece in data.chunks(write_size) {
            encryptor.write_all(piece).expect("buffered");
        }
        let file = encryptor.finish().expect("finished");
        prop_assert_eq!(open(&[identity], &file).expect("opens"), data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let identity = Identity::generate().expect("identity");
        let _ = open(&[identity], &bytes);
    }

    #[test]
    fn arbitrary_headers_never_panic(
        lines in proptest::collection::vec("(-> |--- |)[ -~]{0,70}", 0..8),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let identity = Identity::generate().expect("identity");
        let mut bytes = b"age-encryption.org/v1\n".to_vec();
        for line in lines {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(&tail);
        let _ = open(&[identity], &bytes);
    }

    #[test]
    fn damaged_files_never_open(position in 0usize..400, xor in 1u8..=255, cut in 0usize..40) {
        let identity = Identity::generate().expect("identity");
        let file = seal(&[identity.recipient()], b"a short intake answer");
        let mut damaged = file.clone();
        let position = position % damaged.len();
        damaged[position] ^= xor;
        damaged.truncate(damaged.len() - cut.min(damaged.len()));
        prop_assert!(open(&[identity], &damaged).is_err());
    }
}

/// A reader that hands out pieces of pseudo-random size, some only a few
/// bytes, and once past the header fails about one call in three with a
/// retryable error (`decrypt` itself does not retry).
struct Hiccup<'a> {
    data: &'a [u8],
    state: u64,
    delivered: usize,
}

impl Read for Hiccup<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // xorshift64: deterministic, different for every seed.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        if self.state.is_multiple_of(3) && self.delivered > 1024 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let size = if self.state.is_multiple_of(5) {
            1 + self.state % 20
        } else {
            self.state % 70_000
        };
        let n = out.len().min(self.data.len()).min(size as usize + 1);
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.delivered += n;
        Ok(n)
    }
}

/// A reader that hands out at most a few bytes per call.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = out.len().min(self.0.len()).min(13);
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}
