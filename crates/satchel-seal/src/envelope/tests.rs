//! Re-addressing: a recipient who knows the file key rewrites the age
//! header's stanzas and recomputes its MAC. The age layer cannot notice;
//! the signed recipient list must.

use std::collections::BTreeSet;
use std::io;

use super::{AttachmentMeta, Classification, InterviewRef, Manifest, Opened, Sender, Sink};
use crate::Error;
use crate::age::{self, Identity};
use crate::directory::{Device, Directory, FORMAT, Member, Policies, RecipientKey, Role};
use crate::keys::SigningSecret;

const NOW: i64 = 1_796_083_200;

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

struct Fixture {
    device: SigningSecret,
    attorney: Identity,
    escrow: Identity,
    directory: Directory,
}

fn fixture() -> Fixture {
    let device = SigningSecret::generate().expect("key");
    let attorney = Identity::generate().expect("identity");
    let escrow = Identity::generate().expect("identity");
    let member = |id: &str, role, devices, keys| Member {
        id: String::from(id),
        display_name: String::from(id),
        roles: BTreeSet::from([role]),
        signing_key: SigningSecret::generate().expect("key").public(),
        devices,
        recipient_keys: keys,
    };
    let directory = Directory {
        format: FORMAT.to_owned(),
        org_id: "org".to_owned(),
        version: 1,
        issued_at: NOW - 10,
        expires_at: NOW + 1000,
        members: vec![
            member(
                "worker",
                Role::Intake,
                vec![Device {
                    id: "laptop".into(),
                    signing_key: device.public(),
                    label: "L".into(),
                }],
                vec![],
            ),
            member(
                "attorney",
                Role::Attorney,
                vec![],
                vec![RecipientKey::new(
                    attorney.recipient(),
                    NOW - 10,
                    NOW + 1000,
                )],
            ),
        ],
        teams: vec![],
        escrow: Some(RecipientKey::new(escrow.recipient(), NOW - 10, NOW + 1000)),
        auditor: None,
        policies: Policies {
            escrow_required: true,
            idle_lock_minutes: 15,
            totp_roles: BTreeSet::new(),
            expiry_grace_seconds: 0,
            retention_days_received: 1,
            retention_days_drafts: 1,
        },
    };
    Fixture {
        device,
        attorney,
        escrow,
        directory,
    }
}

fn manifest() -> Manifest {
    Manifest {
        format: super::MANIFEST_FORMAT.to_owned(),
        submission_id: "s".to_owned(),
        interview: InterviewRef {
            id: "i".to_owned(),
            version: "1".to_owned(),
        },
        sender: Sender {
            member_id: "worker".to_owned(),
            device_id: "laptop".to_owned(),
        },
        recipients: vec![],
        created_at: NOW,
        classification: Classification::Personal,
        answers: serde_json::json!({ "q": "a" }),
        attachments: Vec::<AttachmentMeta>::new(),
    }
}

fn sealed(f: &Fixture) -> Vec<u8> {
    let recipients = f
        .directory
        .recipients_for("attorney", NOW)
        .expect("recipients");
    super::seal(manifest(), &mut [], &f.device, &recipients, Vec::new())
        .expect("seal")
        .1
}

fn open(f: &Fixture, file: &[u8], identity: &Identity) -> Result<(), Error> {
    let identities = [Identity::from_bytes(*identity.to_bytes())];
    super::open(file, &identities, &f.directory, Discard).map(|_| ())
}

#[test]
fn the_untouched_envelope_opens_for_both_recipients() {
    let f = fixture();
    let file = sealed(&f);
    open(&f, &file, &f.attorney).expect("attorney");
    open(&f, &file, &f.escrow).expect("escrow");
}

#[test]
fn a_stanza_added_by_a_recipient_is_caught() {
    let f = fixture();
    let outsider = Identity::generate().expect("identity");
    // The escrow holder keeps both stanzas and adds one for an outsider.
    let file = age::readdress(&sealed(&f), &f.escrow, 2, &[outsider.recipient()]).expect("rewrite");
    assert!(matches!(
        open(&f, &file, &f.attorney),
        Err(Error::Unauthentic)
    ));
    assert!(matches!(
        open(&f, &file, &outsider),
        Err(Error::Unauthentic)
    ));
}

#[test]
fn a_stanza_removed_by_a_recipient_is_caught() {
    let f = fixture();
    // Keep only the first stanza (the attorney's): the escrow copy is gone.
    let file = age::readdress(&sealed(&f), &f.attorney, 1, &[]).expect("rewrite");
    assert!(matches!(
        open(&f, &file, &f.attorney),
        Err(Error::Unauthentic)
    ));
}

#[test]
fn a_stanza_swapped_for_another_recipient_is_caught() {
    let f = fixture();
    let outsider = Identity::generate().expect("identity");
    let file = age::readdress(&sealed(&f), &f.attorney, 1, &[outsider.recipient()]).expect("rw");
    // Same count as signed, but the outsider's key is not in the manifest.
    assert!(matches!(
        open(&f, &file, &outsider),
        Err(Error::Unauthentic)
    ));
}

#[test]
fn debug_output_withholds_answers_and_file_names() {
    let mut manifest = manifest();
    manifest.answers = serde_json::json!({ "tenant_name": "CANARY-NAME-4411" });
    manifest.attachments.push(AttachmentMeta {
        name: "CANARY-FILE-4411.pdf".to_owned(),
        media_type: "application/pdf".to_owned(),
        size: 3,
        sha256: "00".repeat(32),
    });
    let printed = format!("{manifest:?}");
    assert!(printed.contains("worker"), "{printed}");
    assert!(
        !printed.contains("CANARY"),
        "client content in Debug output: {printed}"
    );
}
