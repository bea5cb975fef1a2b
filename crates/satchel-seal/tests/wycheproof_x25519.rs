//! X25519 against Wycheproof's `x25519_test.json`, case by case, with the
//! primitive Satchel's age recipients use: x25519-dalek's
//! `StaticSecret::diffie_hellman`, followed by the all-zero check that age
//! requires.
//!
//! Satchel's policy for the cases Wycheproof rates acceptable:
//!
//! - `ZeroSharedSecret`, `LowOrderPublic`, `SmallPublicKey`: refused. A
//!   low-order public key yields the all-zero shared secret whatever the
//!   private key, so the exchange contributes nothing secret. age refuses
//!   that secret, as RFC 7748 section 6.1 allows, and so does Satchel, through
//!   `SharedSecret::was_contributory()`. The policy is stated on the flags,
//!   but the check is on the output: Satchel never inspects the point.
//! - `Twist`, `NonCanonicalPublic`, `SpecialPublicKey`,
//!   `EdgeCaseMultiplication`, `EdgeCaseShared`, `Ktv`: accepted, with
//!   exactly the expected shared secret. RFC 7748 defines X25519 on points
//!   of the twist and on non-canonical encodings (section 5 masks the top bit
//!   and reduces modulo p), and recommends accepting them (section 7); what
//!   matters is that the result is exactly right, since a wrong one leaks key
//!   bits.
//!
//! A public key that is not 32 bytes is refused before any arithmetic.

mod wycheproof;

use serde::Deserialize;
use wycheproof::{Case, Hex, Policy, Tally, Verdict};
use x25519_dalek::{PublicKey, StaticSecret};

/// Satchel's policy for each flag that marks an acceptable case.
const ACCEPTABLE: &[(&str, Policy)] = &[
    ("ZeroSharedSecret", Policy::Refuse),
    ("LowOrderPublic", Policy::Refuse),
    ("SmallPublicKey", Policy::Refuse),
    ("Twist", Policy::Accept),
    ("NonCanonicalPublic", Policy::Accept),
    ("SpecialPublicKey", Policy::Accept),
    ("EdgeCaseMultiplication", Policy::Accept),
    ("EdgeCaseShared", Policy::Accept),
    ("Ktv", Policy::Accept),
];

#[derive(Debug, Deserialize)]
struct Group {
    curve: String,
    tests: Vec<Case<Exchange>>,
}

#[derive(Debug, Deserialize)]
struct Exchange {
    public: Hex,
    private: Hex,
    shared: Hex,
}

/// The exchange as Satchel performs it: X25519, then the refusal of an
/// all-zero (non-contributory) shared secret.
fn satchel_x25519(private: &[u8], public: &[u8]) -> Result<[u8; 32], String> {
    let private: [u8; 32] = private
        .try_into()
        .map_err(|_| format!("private key is {} bytes, not 32", private.len()))?;
    let public: [u8; 32] = public
        .try_into()
        .map_err(|_| format!("public key is {} bytes, not 32", public.len()))?;

    let shared = StaticSecret::from(private).diffie_hellman(&PublicKey::from(public));
    if !shared.was_contributory() {
        return Err("all-zero shared secret".to_owned());
    }
    Ok(shared.to_bytes())
}

#[test]
fn every_x25519_case_agrees_with_wycheproof() {
    let file = wycheproof::load::<Group>("x25519_test.json");
    assert_eq!(file.algorithm, "XDH");

    let mut tally = Tally::new("x25519");
    let mut disagreements = Vec::new();
    for group in &file.test_groups {
        assert_eq!(group.curve, "curve25519");
        for case in &group.tests {
            let io = &case.io;
            let verdict = match satchel_x25519(&io.private, &io.public) {
                Ok(shared) if shared[..] == io.shared[..] => Verdict::Exact,
                Ok(shared) => Verdict::Differs(format!("shared secret {}", hex::encode(shared))),
                Err(why) => Verdict::Refused(why),
            };
            let policy = wycheproof::policy_for(&case.flags, ACCEPTABLE);
            tally.record(case, policy, verdict);

            // The policy is stated on flags, but Satchel checks the output:
            // the two must pick out the same cases, those whose expected
            // secret is all zeros.
            if (policy == Some(Policy::Refuse)) != (io.shared[..] == [0; 32]) {
                disagreements.push(case.tc_id);
            }
        }
    }
    tally.finish(file.number_of_tests);
    assert!(
        disagreements.is_empty(),
        "the policy by flag and the all-zero secret disagree on tcIds {disagreements:?}"
    );
}

/// The policy itself: a low-order public point gives a non-contributory
/// shared secret, which Satchel refuses.
#[test]
fn low_order_public_points_are_not_contributory() {
    let private = StaticSecret::from([0x42; 32]);

    // The all-zero point has order 1 (it is the identity's u-coordinate).
    let shared = private.diffie_hellman(&PublicKey::from([0; 32]));
    assert!(!shared.was_contributory());
    assert_eq!(shared.to_bytes(), [0; 32]);
    assert!(satchel_x25519(&[0x42; 32], &[0; 32]).is_err());

    // Every point the vectors flag as low-order, with its case's private key.
    let file = wycheproof::load::<Group>("x25519_test.json");
    let mut low_order = 0;
    for case in file.test_groups.iter().flat_map(|g| &g.tests) {
        if !case.flags.iter().any(|f| f == "LowOrderPublic") {
            continue;
        }
        let private: [u8; 32] = case.io.private[..].try_into().expect("32-byte private key");
        let public: [u8; 32] = case.io.public[..].try_into().expect("32-byte public key");
        let shared = StaticSecret::from(private).diffie_hellman(&PublicKey::from(public));
        assert!(!shared.was_contributory(), "tcId {}", case.tc_id);
        low_order += 1;
    }
    assert!(low_order > 0, "the file flags no low-order point");

    // And an ordinary exchange is contributory.
    let peer = PublicKey::from(&StaticSecret::from([0x07; 32]));
    assert!(private.diffie_hellman(&peer).was_contributory());
}

#[test]
fn public_keys_of_the_wrong_length_are_refused() {
    for len in [0, 31, 33, 64] {
        assert!(
            satchel_x25519(&[0x42; 32], &vec![9; len]).is_err(),
            "{len} bytes"
        );
    }
}
