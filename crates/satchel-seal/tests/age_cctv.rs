//! The C2SP CCTV age test vectors, every one of them.
//!
//! Each vector file is a short textual header (`expect:`, `payload:`,
//! `identity:`, ...), a blank line, and an age file (zlib-compressed when the
//! header says `compressed: zlib`, inflated with flate2). Vectors for features Satchel refuses
//! (passphrases, ASCII armor, post-quantum identities) must fail to open and
//! never yield plaintext; every other vector must have exactly the outcome
//! the vector expects, including the hash of whatever plaintext was released
//! before a payload failure.

use std::io::Read;
use std::path::{Path, PathBuf};

use satchel_seal::Error;
use satchel_seal::age::{self, Identity};
use sha2::{Digest, Sha256};

/// Success vectors that must really open, so the test cannot pass by
/// refusing everything.
const MUST_OPEN: [&str; 8] = [
    "x25519",
    "x25519_multiple_recipients",
    "x25519_grease",
    "stanza_valid_characters",
    "stream_empty_payload",
    "stream_two_chunks",
    "stream_last_chunk_full",
    "stream_257_chunks",
];

fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/age-cctv")
}

#[test]
fn every_cctv_vector_has_the_expected_outcome() {
    let dir = vector_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list the CCTV vectors in {}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != "SOURCE")
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no CCTV vectors in {}", dir.display());

    let mut passed = Vec::new();
    let mut refused = Vec::new();
    let mut failures = Vec::new();
    for name in &names {
        let bytes = std::fs::read(dir.join(name)).expect("vector readable");
        match run_vector(&bytes) {
            Ok(Outcome::Passed) => passed.push(name.clone()),
            Ok(Outcome::Refused) => refused.push(name.clone()),
            Err(reason) => failures.push(format!("{name}: {reason}")),
        }
    }

    println!(
        "age-cctv: {} passed, {} failed, {} refused as unsupported",
        passed.len(),
        failures.len(),
        refused.len()
    );
    assert!(
        failures.is_empty(),
        "CCTV vectors with the wrong outcome:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        passed.len() + refused.len(),
        names.len(),
        "every vector file was run"
    );
    for name in MUST_OPEN {
        assert!(
            passed.iter().any(|p| p == name),
            "{name} should have opened"
        );
    }
}

enum Outcome {
    /// The outcome matched the vector's expectation.
    Passed,
    /// The vector needs a feature Satchel refuses, and it was refused.
    Refused,
}

/// The parsed textual header of a vector.
#[derive(Default)]
struct Vector {
    expect: String,
    payload: Option<String>,
    identities: Vec<String>,
    unsupported: bool,
    compressed: bool,
}

fn run_vector(bytes: &[u8]) -> Result<Outcome, String> {
    let split = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or("no blank line")?;
    let vector = parse_vector(&bytes[..split])?;
    let body = &bytes[split + 2..];
    let file = if vector.compressed {
        let mut inflated = Vec::new();
        flate2::read::ZlibDecoder::new(body)
            .read_to_end(&mut inflated)
            .map_err(|e| format!("bad zlib body: {e}"))?;
        inflated
    } else {
        body.to_vec()
    };

    // Keys Satchel cannot hold are left out; they only appear in vectors for
    // refused features.
    let identities: Vec<Identity> = vector
        .identities
        .iter()
        .filter_map(|text| Identity::parse(text).ok())
        .collect();
    if identities.len() != vector.identities.len() && !vector.unsupported {
        return Err("an X25519 identity did not parse".to_owned());
    }

    if vector.unsupported {
        // Refused features must fail before any plaintext is released.
        return match age::decrypt(&identities, &file[..]) {
            Err(_) => Ok(Outcome::Refused),
            Ok(_) => Err("a file using an unsupported feature was opened".to_owned()),
        };
    }

    // Payloads are read twice where that is cheap: in 4 KiB reads, which go
    // through the decryptor's own chunk buffer, and in 1 MiB reads, which it
    // decrypts straight into; both must release exactly the same plaintext.
    let read_sizes: &[usize] = if file.len() > 1 << 20 {
        &[1 << 20]
    } else {
        &[4096, 1 << 20]
    };
    for &read_size in read_sizes {
        let outcome = check_outcome(&vector, &identities, &file, read_size)
            .map_err(|reason| format!("{reason} (reading {read_size} bytes at a time)"))?;
        if !matches!(outcome, Outcome::Passed) {
            return Ok(outcome);
        }
    }
    Ok(Outcome::Passed)
}

fn check_outcome(
    vector: &Vector,
    identities: &[Identity],
    file: &[u8],
    read_size: usize,
) -> Result<Outcome, String> {
    let check_payload = |plaintext: &[u8]| match &vector.payload {
        Some(expected) if *expected != hex::encode(Sha256::digest(plaintext)) => Err(format!(
            "released {} bytes of plaintext with the wrong hash",
            plaintext.len()
        )),
        _ => Ok(Outcome::Passed),
    };
    match (vector.expect.as_str(), age::decrypt(identities, file)) {
        ("success", Ok(reader)) => match read_all(reader, read_size) {
            (plaintext, None) => check_payload(&plaintext),
            (_, Some(e)) => Err(format!("payload failed: {e}")),
        },
        ("payload failure", Ok(reader)) => match read_all(reader, read_size) {
            (_, None) => Err("the payload decrypted to the end".to_owned()),
            (released, Some(e)) if is_unauthentic(&e) => check_payload(&released),
            (_, Some(e)) => Err(format!("payload failed with the wrong error: {e:?}")),
        },
        ("header failure", Err(Error::NoMatchingKey)) => {
            Err("expected a header failure, got no matching key".to_owned())
        }
        ("header failure", Err(_)) => Ok(Outcome::Passed),
        ("HMAC failure", Err(Error::Unauthentic)) => Ok(Outcome::Passed),
        ("no match", Err(Error::NoMatchingKey)) => Ok(Outcome::Passed),
        (expect, Ok(_)) => Err(format!("expected {expect}, but the header opened")),
        (expect, Err(e)) => Err(format!("expected {expect}, got {e:?}")),
    }
}

/// Reads `reader` to the end in reads of `read_size` bytes. Returns all the
/// plaintext released and the error that stopped it, if any.
fn read_all(mut reader: impl Read, read_size: usize) -> (Vec<u8>, Option<std::io::Error>) {
    let mut released = Vec::new();
    let mut piece = vec![0u8; read_size];
    loop {
        match reader.read(&mut piece) {
            Ok(0) => return (released, None),
            Ok(n) => released.extend_from_slice(&piece[..n]),
            Err(e) => return (released, Some(e)),
        }
    }
}

fn parse_vector(text: &[u8]) -> Result<Vector, String> {
    let text = std::str::from_utf8(text).map_err(|_| "header is not UTF-8")?;
    let mut vector = Vector::default();
    for line in text.lines() {
        let (key, value) = line
            .split_once(": ")
            .ok_or_else(|| format!("bad line {line:?}"))?;
        match key {
            "expect" => vector.expect = value.to_owned(),
            "payload" => vector.payload = Some(value.to_owned()),
            "identity" => {
                if value.starts_with("AGE-SECRET-KEY-PQ-") {
                    vector.unsupported = true;
                }
                vector.identities.push(value.to_owned());
            }
            "passphrase" => vector.unsupported = true,
            "armored" => vector.unsupported |= value == "yes",
            "compressed" if value == "zlib" => vector.compressed = true,
            "file key" | "comment" => {}
            _ => return Err(format!("unknown vector header {line:?}")),
        }
    }
    if vector.expect.is_empty() {
        return Err("no expect line".to_owned());
    }
    Ok(vector)
}

/// Whether a read error carries the crate's detail-free authenticity error.
fn is_unauthentic(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::InvalidData
        && matches!(
            e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()),
            Some(Error::Unauthentic)
        )
}
