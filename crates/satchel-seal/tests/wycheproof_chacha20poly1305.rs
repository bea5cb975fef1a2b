//! ChaCha20-Poly1305 and XChaCha20-Poly1305 against Wycheproof's
//! `chacha20_poly1305_test.json` and `xchacha20_poly1305_test.json`, case by
//! case, with the `chacha20poly1305` crate that Satchel's sealing uses.
//!
//! A valid case must encrypt to exactly `ct || tag` and decrypt back to
//! `msg`. An invalid case must fail to decrypt, or be refused before that:
//! the crate's key and nonce types have fixed sizes (32-byte key; 12-byte
//! nonce, or 24 for XChaCha20), so a case with another size cannot even be
//! expressed, which is how the `InvalidNonceSize` cases are refused.
//!
//! Satchel's policy for acceptable cases: these files rate none acceptable,
//! and no policy is stated, so an acceptable case in a future revision of the
//! vectors fails until someone decides one.

mod wycheproof;

use chacha20poly1305::aead::generic_array::GenericArray;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, XChaCha20Poly1305};
use serde::Deserialize;
use wycheproof::{Case, Hex, Policy, Tally, Verdict};

/// Satchel's policy for each flag that marks an acceptable case: none stated.
const ACCEPTABLE: &[(&str, Policy)] = &[];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    key_size: usize,
    iv_size: usize,
    tag_size: usize,
    tests: Vec<Case<Sealing>>,
}

#[derive(Debug, Deserialize)]
struct Sealing {
    key: Hex,
    iv: Hex,
    aad: Hex,
    msg: Hex,
    ct: Hex,
    tag: Hex,
}

/// Runs one case through the AEAD `A` both ways and says what happened.
fn run_case<A: Aead + KeyInit>(io: &Sealing) -> Verdict {
    // The fixed-size types refuse any other key or nonce length.
    let Ok(cipher) = A::new_from_slice(&io.key) else {
        return Verdict::Refused(format!("{}-byte key", io.key.len()));
    };
    let Some(nonce) =
        GenericArray::<u8, <A as AeadCore>::NonceSize>::from_exact_iter(io.iv.iter().copied())
    else {
        return Verdict::Refused(format!("{}-byte nonce", io.iv.len()));
    };

    // Decryption decides acceptance: a wrong tag must be refused.
    let sealed = [&io.ct[..], &io.tag[..]].concat();
    let opened = match cipher.decrypt(
        &nonce,
        Payload {
            msg: &sealed,
            aad: &io.aad,
        },
    ) {
        Ok(opened) => opened,
        Err(_) => return Verdict::Refused("authentication failed".to_owned()),
    };
    if opened[..] != io.msg[..] {
        return Verdict::Differs(format!("decrypted to {}", hex::encode(&opened)));
    }

    // Encryption must reproduce the exact ciphertext and tag.
    match cipher.encrypt(
        &nonce,
        Payload {
            msg: &io.msg,
            aad: &io.aad,
        },
    ) {
        Ok(ours) if ours == sealed => Verdict::Exact,
        Ok(ours) => Verdict::Differs(format!("encrypted to {}", hex::encode(&ours))),
        Err(_) => Verdict::Refused("encryption failed".to_owned()),
    }
}

/// Runs every case of `file_name` through `A` and checks the tally.
fn run_file<A: Aead + KeyInit>(file_name: &str, algorithm: &str, name: &'static str) {
    let file = wycheproof::load::<Group>(file_name);
    assert_eq!(file.algorithm, algorithm);

    let mut tally = Tally::new(name);
    for group in &file.test_groups {
        assert_eq!(
            (group.key_size, group.tag_size),
            (256, 128),
            "group parameters"
        );
        for case in &group.tests {
            assert_eq!(
                case.io.iv.len() * 8,
                group.iv_size,
                "tcId {} iv size",
                case.tc_id
            );
            let verdict = run_case::<A>(&case.io);
            tally.record(
                case,
                wycheproof::policy_for(&case.flags, ACCEPTABLE),
                verdict,
            );
        }
    }
    tally.finish(file.number_of_tests);
}

#[test]
fn every_chacha20_poly1305_case_agrees_with_wycheproof() {
    run_file::<ChaCha20Poly1305>(
        "chacha20_poly1305_test.json",
        "CHACHA20-POLY1305",
        "chacha20-poly1305",
    );
}

#[test]
fn every_xchacha20_poly1305_case_agrees_with_wycheproof() {
    run_file::<XChaCha20Poly1305>(
        "xchacha20_poly1305_test.json",
        "XCHACHA20-POLY1305",
        "xchacha20-poly1305",
    );
}
