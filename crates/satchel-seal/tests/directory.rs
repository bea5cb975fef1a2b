//! Directory signing and verification: forgeries, rollbacks, expiry and
//! delegation.

mod common;

use common::{DAY, NOW, org};
use satchel_seal::Error;
use satchel_seal::directory::{Delegation, Held, SignedDirectory};
use satchel_seal::keys::SigningSecret;

#[test]
fn a_root_signed_directory_verifies_and_survives_a_json_round_trip() {
    let org = org();
    let published = org.signed().to_json().expect("json");
    let parsed = SignedDirectory::from_json(&published).expect("parse");
    let directory = parsed
        .verify(&org.root.public(), Some(Held { version: 7 }), NOW)
        .expect("ok");
    assert_eq!(directory, org.directory);
}

#[test]
fn a_directory_signed_by_another_root_is_refused() {
    let org = org();
    let other_root = SigningSecret::generate().expect("key");
    let forged = org.directory.sign_as_root(&other_root).expect("sign");
    assert!(matches!(
        forged.verify(&org.root.public(), None, NOW),
        Err(Error::Unauthentic)
    ));
}

#[test]
fn any_edit_to_the_signed_body_is_refused() {
    let org = org();
    let mut signed = org.signed();
    // Swap an attorney's recipient key for an attacker's.
    let attacker = satchel_seal::age::Identity::generate()
        .expect("identity")
        .recipient();
    signed.body["members"][1]["recipient_keys"][1]["public"] =
        serde_json::Value::String(attacker.to_string());
    assert!(matches!(
        signed.verify(&org.root.public(), None, NOW),
        Err(Error::Unauthentic)
    ));

    let mut signed = org.signed();
    signed.body["version"] = serde_json::json!(8);
    assert!(matches!(
        signed.verify(&org.root.public(), None, NOW),
        Err(Error::Unauthentic)
    ));
}

#[test]
fn a_rolled_back_directory_is_refused() {
    let org = org();
    let signed = org.signed();
    assert!(matches!(
        signed.verify(&org.root.public(), Some(Held { version: 8 }), NOW),
        Err(Error::Rollback {
            held: 8,
            offered: 7
        })
    ));
    signed
        .verify(&org.root.public(), Some(Held { version: 7 }), NOW)
        .expect("same version");
}

#[test]
fn expiry_honours_the_grace_period_and_no_more() {
    let org = org();
    let signed = org.signed();
    let expires = org.directory.expires_at;
    signed
        .verify(&org.root.public(), None, expires + 7 * DAY)
        .expect("within grace");
    assert!(matches!(
        signed.verify(&org.root.public(), None, expires + 7 * DAY + 1),
        Err(Error::Expired(_))
    ));
}

#[test]
fn a_delegated_admin_may_sign_until_the_delegation_lapses() {
    let org = org();
    let admin = SigningSecret::generate().expect("key");
    let delegation =
        Delegation::issue(&org.root, &org.directory.org_id, admin.public(), NOW + DAY).expect("d");
    let signed = org
        .directory
        .sign_as_admin(&admin, delegation.clone())
        .expect("sign");
    signed
        .verify(&org.root.public(), None, NOW)
        .expect("delegated");
    assert!(matches!(
        signed.verify(&org.root.public(), None, NOW + 2 * DAY),
        Err(Error::Expired(_))
    ));

    // A delegation from another root proves nothing.
    let other_root = SigningSecret::generate().expect("key");
    let foreign = Delegation::issue(
        &other_root,
        &org.directory.org_id,
        admin.public(),
        NOW + DAY,
    )
    .expect("d");
    let signed = org.directory.sign_as_admin(&admin, foreign).expect("sign");
    assert!(matches!(
        signed.verify(&org.root.public(), None, NOW),
        Err(Error::Unauthentic)
    ));

    // Nor does one for another organisation.
    let elsewhere =
        Delegation::issue(&org.root, "another-org", admin.public(), NOW + DAY).expect("d");
    let signed = org
        .directory
        .sign_as_admin(&admin, elsewhere)
        .expect("sign");
    assert!(matches!(
        signed.verify(&org.root.public(), None, NOW),
        Err(Error::Unauthentic)
    ));
}

#[test]
fn an_admin_signature_without_a_delegation_is_refused() {
    let org = org();
    let admin = SigningSecret::generate().expect("key");
    let mut signed = org.directory.sign_as_root(&admin).expect("sign");
    signed.delegation = None;
    assert!(matches!(
        signed.verify(&org.root.public(), None, NOW),
        Err(Error::Unauthentic)
    ));
}

#[test]
fn inconsistent_directories_cannot_be_signed() {
    let org = org();
    let mut duplicate = org.directory.clone();
    duplicate.members[1].id = "m-worker".to_owned();
    assert!(matches!(
        duplicate.sign_as_root(&org.root),
        Err(Error::Invalid(_))
    ));

    let mut orphan_team = org.directory.clone();
    orphan_team.teams[0].members.push("m-nobody".to_owned());
    assert!(matches!(
        orphan_team.sign_as_root(&org.root),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn malformed_and_oversized_documents_get_clear_errors() {
    for junk in [&b""[..], b"{}", b"[]", b"{\"body\":1}", b"\xff\xfe"] {
        assert!(matches!(
            SignedDirectory::from_json(junk),
            Err(Error::Invalid(_))
        ));
    }
    let huge = vec![b' '; 5 * 1024 * 1024];
    assert!(matches!(
        SignedDirectory::from_json(&huge),
        Err(Error::Invalid(_))
    ));

    let org = org();
    let mut extra = serde_json::to_value(org.signed()).expect("json");
    extra["unexpected"] = serde_json::json!(true);
    let bytes = serde_json::to_vec(&extra).expect("bytes");
    assert!(matches!(
        SignedDirectory::from_json(&bytes),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn recipients_need_a_valid_key() {
    let org = org();
    let later = NOW + 400 * DAY;
    assert!(matches!(
        org.directory.recipients_for("m-attorney", later),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        org.directory.recipients_for("m-nobody", NOW),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        org.directory.recipients_for("m-worker", NOW),
        Err(Error::Invalid(_))
    ));
}
