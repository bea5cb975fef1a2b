//! Enrollment bundles, key requests and delivery receipts.

mod common;

use std::io;

use common::{DAY, NOW, manifest, org};
use satchel_seal::Error;
use satchel_seal::age::Identity;
use satchel_seal::enrollment::{
    BUNDLE_FORMAT, Bundle, KeyRequest, REQUEST_FORMAT, SignedBundle, SignedKeyRequest,
};
use satchel_seal::envelope::{Opened, Sink, open, seal};
use satchel_seal::keys::SigningSecret;
use satchel_seal::receipt::{Receipt, SignedReceipt};

fn bundle(root: &SigningSecret) -> Bundle {
    Bundle {
        format: BUNDLE_FORMAT.to_owned(),
        org_id: "eastside-legal-aid".to_owned(),
        root_key: root.public(),
        relay_url: "https://127.0.0.1:8443".to_owned(),
        relay_tls_pin: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg".to_owned(),
        member_id: "m-new".to_owned(),
        token: Bundle::new_token().expect("token"),
        expires_at: NOW + DAY,
    }
}

#[test]
fn a_bundle_verifies_until_it_expires_and_not_after_an_edit() {
    let root = SigningSecret::generate().expect("root");
    let signed = bundle(&root).sign(&root).expect("sign");
    let json = serde_json::to_vec(&signed).expect("json");
    let parsed = SignedBundle::from_json(&json).expect("parse");
    assert_eq!(parsed.verify(NOW).expect("valid").member_id, "m-new");
    assert!(matches!(
        parsed.verify(NOW + 2 * DAY),
        Err(Error::Expired(_))
    ));

    let mut edited = parsed.clone();
    edited.bundle.relay_url = "https://attacker.example".to_owned();
    assert!(matches!(edited.verify(NOW), Err(Error::Unauthentic)));

    let other = SigningSecret::generate().expect("root");
    assert!(matches!(bundle(&root).sign(&other), Err(Error::Invalid(_))));
}

#[test]
fn a_key_request_needs_both_signatures_and_its_safety_code_is_shared() {
    let device = SigningSecret::generate().expect("device");
    let member = SigningSecret::generate().expect("member");
    let recipient = Identity::generate().expect("identity").recipient();
    let request = KeyRequest {
        format: REQUEST_FORMAT.to_owned(),
        org_id: "eastside-legal-aid".to_owned(),
        member_id: "m-new".to_owned(),
        token: "token".to_owned(),
        device_id: "d-new".to_owned(),
        device_label: "New laptop".to_owned(),
        device_key: device.public(),
        member_key: member.public(),
        recipient: recipient.to_string(),
        created_at: NOW,
    };
    let signed = request.clone().sign(&device, &member).expect("sign");
    let json = serde_json::to_vec(&signed).expect("json");
    let received = SignedKeyRequest::from_json(&json).expect("parse");
    let verified = received.verify().expect("verifies");
    // The admin's copy and the person's copy give the same code.
    assert_eq!(
        verified.safety_code().expect("code"),
        request.safety_code().expect("code")
    );

    // A request whose keys were swapped in transit fails, and its code
    // would differ from the one the person reads out.
    let mut swapped = received.clone();
    swapped.request.recipient = Identity::generate().expect("id").recipient().to_string();
    assert!(matches!(swapped.verify(), Err(Error::Unauthentic)));
    assert_ne!(
        swapped.request.safety_code().expect("code"),
        request.safety_code().expect("code")
    );

    let mut one_signature = received;
    one_signature.member_signature = one_signature.device_signature.clone();
    assert!(matches!(one_signature.verify(), Err(Error::Unauthentic)));
}

struct Discard;

impl Sink for Discard {
    type Committed = ();
    fn write(&mut self, _: usize, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn commit(self, _: &Opened) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn receipts_verify_only_for_their_own_envelope_and_signer() {
    let org = org();
    let recipients = org
        .directory
        .recipients_for("m-attorney", NOW)
        .expect("recipients");
    let (sealed, envelope) = seal(
        manifest(&[]),
        &mut [],
        &org.worker_device,
        &recipients,
        Vec::new(),
    )
    .expect("seal");
    let identities = [Identity::from_bytes(*org.attorney_identity.to_bytes())];
    let (opened, ()) = open(&envelope[..], &identities, &org.directory, Discard).expect("open");
    assert_eq!(opened.envelope_id, sealed.envelope_id);

    let receipt = Receipt::for_opened(&opened, "m-attorney", "d-attorney-desk", NOW + 60)
        .sign(&org.attorney_device)
        .expect("sign");
    // It travels sealed to the sender; only the sender's key opens it.
    let sender = Identity::generate().expect("identity");
    let sealed_receipt = receipt.seal_to(&sender.recipient()).expect("seal receipt");
    let stranger = Identity::generate().expect("identity");
    assert!(matches!(
        SignedReceipt::open_sealed(&sealed_receipt, &[stranger]),
        Err(Error::NoMatchingKey)
    ));
    let received = SignedReceipt::open_sealed(&sealed_receipt, &[sender]).expect("open receipt");
    received
        .verify(&org.directory, "sub-0001", &sealed.envelope_id)
        .expect("the sender accepts it");

    // A receipt for a different envelope, even one carrying the same
    // submission, or for another submission, is refused.
    let (resealed, _) = seal(
        manifest(&[]),
        &mut [],
        &org.worker_device,
        &recipients,
        Vec::new(),
    )
    .expect("seal again");
    assert_ne!(resealed.envelope_id, sealed.envelope_id);
    assert!(matches!(
        received.verify(&org.directory, "sub-0001", &resealed.envelope_id),
        Err(Error::Unauthentic)
    ));
    assert!(matches!(
        received.verify(&org.directory, "sub-0002", &sealed.envelope_id),
        Err(Error::Unauthentic)
    ));
    // Signed by a device that is not the attorney's.
    let forged = Receipt::for_opened(&opened, "m-attorney", "d-attorney-desk", NOW)
        .sign(&org.worker_device)
        .expect("sign");
    assert!(matches!(
        forged.verify(&org.directory, "sub-0001", &sealed.envelope_id),
        Err(Error::Unauthentic)
    ));
    // Claimed by the intake worker's device: not an attorney.
    let worker = Receipt::for_opened(&opened, "m-worker", "d-worker-laptop", NOW)
        .sign(&org.worker_device)
        .expect("sign");
    assert!(matches!(
        worker.verify(&org.directory, "sub-0001", &sealed.envelope_id),
        Err(Error::Unauthentic)
    ));
}
