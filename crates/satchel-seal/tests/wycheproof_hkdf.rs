//! HKDF-SHA256 against Wycheproof's `hkdf_sha256_test.json`, case by case,
//! with the `hkdf` crate Satchel's sealing uses (`Hkdf<Sha256>`).
//!
//! A valid case must produce exactly `okm`. An invalid case (an output
//! longer than 255 hash lengths, which RFC 5869 section 2.3 forbids) must be
//! refused. An empty salt in the vectors is a zero-length salt, passed as
//! such; RFC 5869 makes it equivalent to a salt of 32 zero bytes.
//!
//! Satchel's policy for acceptable cases: this file rates none acceptable,
//! and no policy is stated, so an acceptable case in a future revision of the
//! vectors fails until someone decides one.

mod wycheproof;

use hkdf::Hkdf;
use serde::Deserialize;
use sha2::Sha256;
use wycheproof::{Case, Hex, Policy, Tally, Verdict};

/// Satchel's policy for each flag that marks an acceptable case: none stated.
const ACCEPTABLE: &[(&str, Policy)] = &[];

#[derive(Debug, Deserialize)]
struct Group {
    tests: Vec<Case<Derivation>>,
}

#[derive(Debug, Deserialize)]
struct Derivation {
    ikm: Hex,
    salt: Hex,
    info: Hex,
    size: usize,
    okm: Hex,
}

/// Derives `size` bytes as Satchel does; `Err` when the length is refused.
fn satchel_hkdf(ikm: &[u8], salt: &[u8], info: &[u8], size: usize) -> Result<Vec<u8>, String> {
    let mut okm = vec![0; size];
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut okm)
        .map_err(|e| format!("{size}-byte output: {e}"))?;
    Ok(okm)
}

#[test]
fn every_hkdf_sha256_case_agrees_with_wycheproof() {
    let file = wycheproof::load::<Group>("hkdf_sha256_test.json");
    assert_eq!(file.algorithm, "HKDF-SHA-256");

    let mut tally = Tally::new("hkdf-sha256");
    for case in file.test_groups.iter().flat_map(|g| &g.tests) {
        let io = &case.io;
        let verdict = match satchel_hkdf(&io.ikm, &io.salt, &io.info, io.size) {
            Ok(okm) if okm[..] == io.okm[..] => Verdict::Exact,
            Ok(okm) => Verdict::Differs(format!("okm {}", hex::encode(okm))),
            Err(why) => Verdict::Refused(why),
        };
        tally.record(
            case,
            wycheproof::policy_for(&case.flags, ACCEPTABLE),
            verdict,
        );
    }
    tally.finish(file.number_of_tests);
}

#[test]
fn an_empty_salt_is_the_same_as_a_hash_length_of_zeros() {
    let empty = satchel_hkdf(b"input key material", &[], b"info", 42).expect("derive");
    let zeros = satchel_hkdf(b"input key material", &[0; 32], b"info", 42).expect("derive");
    let absent = {
        let mut okm = [0; 42];
        Hkdf::<Sha256>::new(None, b"input key material")
            .expand(b"info", &mut okm)
            .expect("derive");
        okm
    };
    assert_eq!(empty, zeros);
    assert_eq!(empty, absent);
}

#[test]
fn the_longest_output_is_255_hash_lengths() {
    assert!(satchel_hkdf(b"ikm", b"salt", b"", 255 * 32).is_ok());
    assert!(satchel_hkdf(b"ikm", b"salt", b"", 255 * 32 + 1).is_err());
}
