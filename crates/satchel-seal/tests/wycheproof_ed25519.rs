//! Ed25519 against Wycheproof's `ed25519_test.json`, case by case, with the
//! verification Satchel uses for signed documents: ed25519-dalek's
//! `VerifyingKey::verify_strict`.
//!
//! What strict verification covers, by Wycheproof category (all of them
//! rated invalid in this file):
//!
//! - `TruncatedSignature`, `SignatureWithGarbage`, `CompressedSignature`: a
//!   signature that is not exactly 64 bytes is refused when it is parsed,
//!   before any verification.
//! - `SignatureMalleability`: an encoded S that is not below the group order
//!   L (S + L, S + 2L, ..., or with high bits set) is refused before any
//!   arithmetic, as RFC 8032 section 5.1.7 requires. (ed25519-dalek does so
//!   unless its `legacy_compatibility` feature is on; Satchel leaves it off.)
//! - `InvalidEncoding`: R is compared as bytes with the canonical encoding
//!   of the recomputed point, so any altered bit of R, including the sign of
//!   x, fails; an R that does not decode, or decodes to a point of small
//!   order (such as the identity), is refused outright.
//! - `InvalidSignature`, `InvalidKtv`: edge values of R and S (zero, the
//!   order, S just above the bound) are refused by the same checks, or fail
//!   the equation.
//!
//! Plain `verify` refuses every invalid case of this file too. What strict
//! verification adds is the refusal of public keys and of R values of small
//! order, which these vectors do not exercise; the second test below does,
//! with a forgery that plain verification accepts for any message.
//!
//! Satchel's policy for acceptable cases: this file rates none acceptable,
//! and no policy is stated, so an acceptable case in a future revision of the
//! vectors fails until someone decides one. (Where an Ed25519 case is
//! acceptable, it is because verifiers legitimately differ on it; Satchel's
//! answer is whatever `verify_strict` gives, and the table below must say
//! which that is.)

mod wycheproof;

use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;
use wycheproof::{Case, Hex, Policy, Tally, Verdict};

/// Satchel's policy for each flag that marks an acceptable case: none stated.
const ACCEPTABLE: &[(&str, Policy)] = &[];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    public_key: PublicKey,
    tests: Vec<Case<Signed>>,
}

/// The group's key; the file also gives it as DER, PEM and JWK.
#[derive(Debug, Deserialize)]
struct PublicKey {
    curve: String,
    pk: Hex,
}

#[derive(Debug, Deserialize)]
struct Signed {
    msg: Hex,
    sig: Hex,
}

/// Verifies as Satchel does; `Ok` when the signature is accepted.
fn satchel_verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), String> {
    let public_key: [u8; 32] = public_key
        .try_into()
        .map_err(|_| format!("public key is {} bytes, not 32", public_key.len()))?;
    let key = VerifyingKey::from_bytes(&public_key).map_err(|e| format!("public key: {e}"))?;
    let signature = Signature::from_slice(signature).map_err(|e| format!("signature: {e}"))?;
    key.verify_strict(message, &signature)
        .map_err(|e| format!("verification: {e}"))
}

#[test]
fn every_ed25519_case_agrees_with_wycheproof() {
    let file = wycheproof::load::<Group>("ed25519_test.json");
    assert_eq!(file.algorithm, "EDDSA");

    let mut tally = Tally::new("ed25519");
    for group in &file.test_groups {
        assert_eq!(group.public_key.curve, "edwards25519");
        for case in &group.tests {
            let verdict = match satchel_verify(&group.public_key.pk, &case.io.msg, &case.io.sig) {
                Ok(()) => Verdict::Exact,
                Err(why) => Verdict::Refused(why),
            };
            tally.record(
                case,
                wycheproof::policy_for(&case.flags, ACCEPTABLE),
                verdict,
            );
        }
    }
    tally.finish(file.number_of_tests);
}

/// Strict verification refuses a public key of small order. With the
/// identity as the key, R = B and S = 1 satisfy the verification equation
/// for every message, so plain verification accepts this "signature" of
/// anything; strict verification must not.
#[test]
fn small_order_public_keys_are_refused_by_strict_verification() {
    use ed25519_dalek::Verifier;

    let identity = {
        let mut bytes = [0; 32];
        bytes[0] = 1;
        bytes
    };
    let basepoint = {
        let mut bytes = [0x66; 32];
        bytes[0] = 0x58;
        bytes
    };
    let mut forged = [0; 64];
    forged[..32].copy_from_slice(&basepoint);
    forged[32] = 1;

    let key = VerifyingKey::from_bytes(&identity).expect("the identity decodes");
    let signature = Signature::from_bytes(&forged);
    for message in [&b""[..], b"any message at all"] {
        assert!(
            key.verify(message, &signature).is_ok(),
            "plain verification accepts"
        );
        assert!(key.verify_strict(message, &signature).is_err());
        assert!(satchel_verify(&identity, message, &forged).is_err());
    }
}
