//! Drafts, attachments, the outbox and the inbox, against real SQLCipher
//! files, a real clamd, and envelopes sealed by the sealing crate.

#[path = "support/clamd.rs"]
mod clamd;

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::path::Path;

use satchel_seal::age::Identity;
use satchel_seal::directory::{Device, Directory, FORMAT, Member, Policies, RecipientKey};
use satchel_seal::envelope::{
    AttachmentMeta, Classification, InterviewRef, MANIFEST_FORMAT, Manifest, Sender,
};
use satchel_seal::keys::SigningSecret;
use satchel_vault::scan::{Clamd, ScanPolicy};
use satchel_vault::{
    AttachmentRules, DraftState, Error, KeyKind, KeyRecord, NewAccount, NewEnvelope, OutboxState,
    Passphrase, Role, Scanning, Vault,
};
use serde_json::json;
use sha2::{Digest, Sha256};

const PASSPHRASE: &str = "violet tractor quietly umbrella 42";
const OTHER_PASSPHRASE: &str = "copper lantern drifting meadow 77";
/// 2026-12-01T00:00:00Z.
const NOW: i64 = 1_796_083_200;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";
const PDF_ONLY: AttachmentRules<'static> = AttachmentRules {
    allowed_types: &["application/pdf", "image/*"],
    max_bytes: 1024 * 1024,
};
const NO_SCAN: Scanning<'static> = Scanning {
    scanner: None,
    policy: ScanPolicy::Off,
};

fn passphrase(text: &str) -> Passphrase {
    Passphrase::new(text.to_owned())
}

fn new_vault(dir: &Path, roles: &[Role]) -> Vault {
    let (vault, _) = Vault::create(
        dir,
        &NewAccount {
            name: "maria",
            member_id: "m-worker",
            roles: roles.iter().copied().collect(),
            passphrase: &passphrase(PASSPHRASE),
        },
        NOW,
    )
    .expect("create");
    vault
}

fn sign_in(dir: &Path, name: &str, text: &str) -> Vault {
    Vault::sign_in(dir, name, &passphrase(text), None, NOW).expect("sign in")
}

#[test]
fn answers_are_saved_one_by_one_and_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = new_vault(dir.path(), &[Role::Intake]);
    let draft = vault.create_draft("eviction-intake", "3").expect("draft");
    vault
        .save_answer(&draft, "tenant_name", &json!("Maria Example"))
        .expect("save");
    vault
        .save_answer(&draft, "household[0].age", &json!(34))
        .expect("save");
    vault
        .save_answer(
            &draft,
            "rent_owed",
            &json!({"amount": 1200, "currency": "USD"}),
        )
        .expect("save");
    vault
        .save_answer(&draft, "tenant_name", &json!("María Example"))
        .expect("overwrite");
    vault
        .clear_answer(&draft, "household[0].age")
        .expect("clear");
    vault.set_progress(&draft, 40).expect("progress");
    drop(vault);

    let mut vault = sign_in(dir.path(), "maria", PASSPHRASE);
    let loaded = vault.draft(&draft).expect("load");
    assert_eq!(loaded.answers.len(), 2);
    assert_eq!(loaded.answers["tenant_name"], json!("María Example"));
    assert_eq!(loaded.answers["rent_owed"]["amount"], json!(1200));
    // Debug output names the answered fields but never shows an answer.
    let printed = format!("{loaded:?}");
    assert!(printed.contains("tenant_name"), "{printed}");
    assert!(
        !printed.contains("Example"),
        "an answer in Debug output: {printed}"
    );
    assert_eq!(loaded.summary.progress, 40);
    assert_eq!(loaded.summary.interview_id, "eviction-intake");
    let list = vault.drafts().expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, draft);

    // Bad input is refused with a reason and changes nothing.
    assert!(matches!(
        vault.save_answer(&draft, "bad field", &json!(1)),
        Err(Error::Invalid(_))
    ));
    let huge = json!("x".repeat(satchel_vault::MAX_ANSWER_BYTES));
    assert!(matches!(
        vault.save_answer(&draft, "notes", &huge),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        vault.save_answer("draft-0000000000000000", "x", &json!(1)),
        Err(Error::RecordNotFound { .. })
    ));
    assert_eq!(vault.draft(&draft).expect("load").answers.len(), 2);
}

#[test]
fn finalizing_needs_the_passphrase_again_and_freezes_the_draft() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = new_vault(dir.path(), &[Role::Intake]);
    let draft = vault.create_draft("eviction-intake", "3").expect("draft");
    vault
        .save_answer(&draft, "tenant_name", &json!("Maria"))
        .expect("save");
    assert!(matches!(
        vault.reauthenticate(&passphrase("not my passphrase at all"), NOW),
        Err(Error::WrongPassphrase)
    ));
    let fresh = vault
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("reauthenticate");
    vault.finalize_draft(fresh, &draft).expect("finalize");
    assert_eq!(
        vault.draft(&draft).expect("load").summary.state,
        DraftState::Finalized
    );
    assert!(matches!(
        vault.save_answer(&draft, "tenant_name", &json!("changed")),
        Err(Error::NotAllowed(_))
    ));
    assert_eq!(
        vault.draft(&draft).expect("load").answers["tenant_name"],
        json!("Maria")
    );
}

#[test]
fn a_second_account_cannot_see_or_touch_the_first_accounts_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut maria = new_vault(dir.path(), &[Role::Intake, Role::Admin]);
    let draft = maria.create_draft("eviction-intake", "3").expect("draft");
    maria
        .save_answer(&draft, "tenant_name", &json!("Maria"))
        .expect("save");
    let file = maria
        .add_attachment(
            &draft,
            "lease",
            "lease.pdf",
            &mut &PDF[..],
            &PDF_ONLY,
            NO_SCAN,
        )
        .expect("attach");
    let fresh = maria
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("reauthenticate");
    maria
        .add_account(
            fresh,
            &NewAccount {
                name: "jorge",
                member_id: "m-jorge",
                roles: BTreeSet::from([Role::Intake]),
                passphrase: &passphrase(OTHER_PASSPHRASE),
            },
            NOW,
        )
        .expect("second account");
    drop(maria);

    let mut jorge = sign_in(dir.path(), "jorge", OTHER_PASSPHRASE);
    assert!(jorge.drafts().expect("list").is_empty());
    for refused in [
        jorge.draft(&draft).map(|_| ()),
        jorge.save_answer(&draft, "tenant_name", &json!("Jorge")),
        jorge.attachments(&draft).map(|_| ()),
        jorge.read_attachment(&file.id, &mut io::sink()).map(|_| ()),
        jorge.remove_attachment(&file.id),
    ] {
        assert!(
            matches!(refused, Err(Error::RecordNotFound { .. })),
            "{refused:?}"
        );
    }
    drop(jorge);

    let mut maria = sign_in(dir.path(), "maria", PASSPHRASE);
    assert_eq!(
        maria.draft(&draft).expect("still there").answers["tenant_name"],
        json!("Maria")
    );
}

#[test]
fn attachments_stream_in_and_out_typed_by_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = new_vault(dir.path(), &[Role::Intake]);
    let draft = vault.create_draft("eviction-intake", "3").expect("draft");

    // A PDF named like a text file is still a PDF; one of several chunks.
    let mut big = PDF.to_vec();
    big.extend((0..300_000u32).map(|i| (i * 7 % 251) as u8));
    let info = vault
        .add_attachment(
            &draft,
            "lease",
            "/home/maria/Downloads/lease.txt",
            &mut &big[..],
            &PDF_ONLY,
            NO_SCAN,
        )
        .expect("attach");
    assert_eq!(info.media_type, "application/pdf");
    assert_eq!(info.file_name, "lease.txt");
    assert_eq!(info.size, big.len() as u64);
    assert_eq!(info.sha256, hex(&Sha256::digest(&big)));
    assert!(!info.scanned);
    assert!(
        !format!("{info:?}").contains("lease.txt"),
        "a file name in Debug output"
    );

    let mut out = Vec::new();
    vault
        .read_attachment(&info.id, &mut out)
        .expect("read back");
    assert!(out == big, "the bytes read back differ");
    assert_eq!(vault.attachments(&draft).expect("list"), vec![info.clone()]);

    // Refusals: wrong type, too large, empty, unreadable input. None
    // leaves anything behind.
    let refusals = [
        vault.add_attachment(
            &draft,
            "lease",
            "notes.txt",
            &mut &b"just text"[..],
            &PDF_ONLY,
            NO_SCAN,
        ),
        vault.add_attachment(
            &draft,
            "lease",
            "big.pdf",
            &mut &big[..],
            &AttachmentRules {
                allowed_types: &["application/pdf"],
                max_bytes: 100_000,
            },
            NO_SCAN,
        ),
        vault.add_attachment(
            &draft,
            "lease",
            "empty.pdf",
            &mut &b""[..],
            &PDF_ONLY,
            NO_SCAN,
        ),
        vault.add_attachment(
            &draft,
            "lease",
            "cut.pdf",
            &mut BreaksAfter(200_000),
            &PDF_ONLY,
            NO_SCAN,
        ),
    ];
    for refused in &refusals[..3] {
        assert!(
            matches!(refused, Err(Error::AttachmentRefused(_))),
            "{refused:?}"
        );
    }
    assert!(
        matches!(refusals[3], Err(Error::Io { .. })),
        "{:?}",
        refusals[3]
    );
    assert_eq!(vault.attachments(&draft).expect("list"), vec![info.clone()]);

    vault.remove_attachment(&info.id).expect("remove");
    assert!(vault.attachments(&draft).expect("list").is_empty());
    assert!(matches!(
        vault.read_attachment(&info.id, &mut io::sink()),
        Err(Error::RecordNotFound { .. })
    ));
}

#[test]
fn the_virus_scanner_decides_under_the_policy_and_a_refusal_keeps_the_draft() {
    let mut fixture = clamd::ClamdFixture::start();
    let scanner = Clamd::new(fixture.socket());
    let required = Scanning {
        scanner: Some(&scanner),
        policy: ScanPolicy::Required,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = new_vault(dir.path(), &[Role::Intake]);
    let draft = vault.create_draft("eviction-intake", "3").expect("draft");
    vault
        .save_answer(&draft, "tenant_name", &json!("Maria"))
        .expect("save");
    let any = AttachmentRules {
        allowed_types: &["text/plain", "application/pdf"],
        max_bytes: 1024 * 1024,
    };

    let clean = vault
        .add_attachment(&draft, "lease", "lease.pdf", &mut &PDF[..], &any, required)
        .expect("a clean file is accepted");
    assert!(clean.scanned);

    let infected = vault.add_attachment(
        &draft,
        "lease",
        "eicar.txt",
        &mut &clamd::eicar()[..],
        &any,
        required,
    );
    let Err(Error::Infected { signature }) = &infected else {
        panic!("EICAR was accepted: {infected:?}");
    };
    assert!(signature.contains("eicar"), "{signature}");

    fixture.stop();
    let down = vault.add_attachment(&draft, "lease", "lease2.pdf", &mut &PDF[..], &any, required);
    let Err(error @ Error::ScannerUnavailable(_)) = &down else {
        panic!("a file was accepted with the scanner down: {down:?}");
    };
    assert!(error.to_string().contains("virus scanner is not running"));
    let optional = Scanning {
        scanner: Some(&scanner),
        policy: ScanPolicy::Optional,
    };
    let unscanned = vault
        .add_attachment(&draft, "lease", "lease3.pdf", &mut &PDF[..], &any, optional)
        .expect("optional scanning lets it through");
    assert!(!unscanned.scanned);

    // The draft kept its answer and exactly the two accepted files.
    let loaded = vault.draft(&draft).expect("load");
    assert_eq!(loaded.answers["tenant_name"], json!("Maria"));
    let names: Vec<String> = vault
        .attachments(&draft)
        .expect("list")
        .into_iter()
        .map(|a| a.file_name)
        .collect();
    assert_eq!(names, ["lease.pdf", "lease3.pdf"]);
}

#[test]
fn the_outbox_keeps_an_envelope_and_its_progress() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = new_vault(dir.path(), &[Role::Intake]);
    let draft = vault.create_draft("eviction-intake", "3").expect("draft");
    let envelope: Vec<u8> = (0..700_000u32).map(|i| (i % 256) as u8).collect();
    let id = [7u8; 32];
    let recipients = vec!["x25519:0123456789abcdef".to_owned()];
    let new = NewEnvelope {
        draft_id: Some(&draft),
        submission_id: "sub-1",
        envelope_id: &id,
        recipients: &recipients,
    };
    assert!(matches!(
        vault.queue_envelope(&new, &mut &envelope[..]),
        Err(Error::NotAllowed(_))
    ));
    let fresh = vault
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("reauthenticate");
    vault.finalize_draft(fresh, &draft).expect("finalize");
    let entry = vault
        .queue_envelope(&new, &mut &envelope[..])
        .expect("queue");
    assert_eq!(entry.state, OutboxState::Queued);
    assert_eq!(entry.envelope_len, envelope.len() as u64);
    assert!(matches!(
        vault.queue_envelope(&new, &mut &envelope[..]),
        Err(Error::Invalid(_))
    ));

    for offset in [0u64, 1, 262_143, 262_144, 500_000, 700_000] {
        let mut out = Vec::new();
        vault
            .read_envelope(&entry.id, offset, &mut out)
            .expect("read");
        assert!(out == envelope[offset as usize..], "from offset {offset}");
    }
    vault
        .set_upload_progress(&entry.id, 300_000, Some("https://relay.example/up/1"))
        .expect("progress");
    assert!(vault.set_upload_progress(&entry.id, 100, None).is_err());
    drop(vault);

    let mut vault = sign_in(dir.path(), "maria", PASSPHRASE);
    let resumed = vault.outbox_entry(&entry.id).expect("entry");
    assert_eq!(resumed.state, OutboxState::Uploading);
    assert_eq!(resumed.upload_offset, 300_000);
    vault.mark_uploaded(&entry.id).expect("uploaded");
    vault
        .mark_receipted(&entry.id, br#"{"receipt":{}}"#)
        .expect("receipted");
    let done = vault.outbox().expect("list");
    assert_eq!(done[0].state, OutboxState::Receipted);
    assert_eq!(done[0].upload_offset, envelope.len() as u64);
}

#[test]
fn received_submissions_are_verified_stored_once_and_readable() {
    let org = Organisation::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = new_vault(dir.path(), &[Role::Attorney]);
    let fresh = vault
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("confirm");
    vault
        .store_key(
            fresh,
            &KeyRecord {
                id: "x25519:attorney".to_owned(),
                kind: KeyKind::Recipient,
                label: "Attorney".to_owned(),
                public: org.attorney.recipient().to_string(),
            },
            &*org.attorney.to_bytes(),
        )
        .expect("store the attorney's key");

    let scan = PDF.repeat(3000);
    let envelope = org.seal(&[("scan.pdf", &scan), ("empty.txt", b"")]);
    let (summary, fresh) = vault
        .receive_envelope(&envelope[..], &org.directory)
        .expect("receive");
    assert!(fresh);
    let (again, fresh) = vault
        .receive_envelope(&envelope[..], &org.directory)
        .expect("receive again");
    assert!(!fresh, "the same envelope is stored once");
    assert_eq!(again.id, summary.id);
    assert_eq!(vault.inbox().expect("list").len(), 1);

    let entry = vault.inbox_entry(&summary.id).expect("open");
    assert_eq!(
        entry.manifest.answers["tenant_name"],
        json!("Maria Example")
    );
    assert_eq!(entry.summary.sender_member, "m-worker");
    assert_eq!(entry.attachments.len(), 2);
    let mut out = Vec::new();
    vault
        .read_attachment(&entry.attachments[0].id, &mut out)
        .expect("read");
    assert!(out == scan);
    assert_eq!(entry.attachments[0].file_name, "scan.pdf");
    assert_eq!(entry.attachments[1].size, 0);

    // A flipped byte, or an envelope for someone else: refused, nothing kept.
    let mut tampered = org.seal(&[("scan.pdf", &scan)]);
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    assert!(matches!(
        vault.receive_envelope(&tampered[..], &org.directory),
        Err(Error::NotAllowed(_))
    ));
    let stranger = Identity::generate().expect("identity");
    let elsewhere = org.seal_to(&stranger, &[]);
    let refused = vault.receive_envelope(&elsewhere[..], &org.directory);
    let Err(Error::NotAllowed(message)) = &refused else {
        panic!("accepted: {refused:?}");
    };
    assert!(message.contains("not addressed"), "{message}");
    assert_eq!(vault.inbox().expect("list").len(), 1);

    // Deleted, then delivered again: it stays deleted.
    let fresh = vault
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("reauthenticate");
    vault
        .delete_record(fresh, &summary.id, "opened in error")
        .expect("delete");
    assert!(matches!(
        vault.receive_envelope(&envelope[..], &org.directory),
        Err(Error::NotAllowed(_))
    ));
    assert!(vault.inbox().expect("list").is_empty());
    vault.verify_audit().expect("the audit log verifies");
}

/// An input that fails after `0` bytes, like a pulled USB stick.
struct BreaksAfter(usize);

impl Read for BreaksAfter {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.0 == 0 {
            return Err(io::Error::other("the device was removed"));
        }
        let n = buffer.len().min(self.0);
        for (i, byte) in buffer[..n].iter_mut().enumerate() {
            *byte = if i < PDF.len() { PDF[i] } else { 0x20 };
        }
        self.0 -= n;
        Ok(n)
    }
}

/// The smallest organisation that can send this vault a submission: an
/// intake worker's laptop and an attorney's recipient key.
struct Organisation {
    device: SigningSecret,
    attorney: Identity,
    directory: Directory,
}

impl Organisation {
    fn new() -> Self {
        let device = SigningSecret::generate().expect("device key");
        let attorney = Identity::generate().expect("attorney key");
        let member = |id: &str, role: Role, devices: Vec<Device>, keys: Vec<RecipientKey>| Member {
            id: id.to_owned(),
            display_name: id.to_owned(),
            roles: BTreeSet::from([role]),
            signing_key: SigningSecret::generate().expect("key").public(),
            devices,
            recipient_keys: keys,
        };
        let directory = Directory {
            format: FORMAT.to_owned(),
            org_id: "org-test".to_owned(),
            version: 1,
            issued_at: NOW - 86_400,
            expires_at: NOW + 30 * 86_400,
            members: vec![
                member(
                    "m-worker",
                    Role::Intake,
                    vec![Device {
                        id: "d-laptop".to_owned(),
                        signing_key: device.public(),
                        label: "Laptop".to_owned(),
                    }],
                    vec![],
                ),
                member(
                    "m-attorney",
                    Role::Attorney,
                    vec![],
                    vec![RecipientKey::new(
                        attorney.recipient(),
                        NOW - 86_400,
                        NOW + 365 * 86_400,
                    )],
                ),
            ],
            teams: vec![],
            escrow: None,
            auditor: None,
            policies: Policies {
                escrow_required: false,
                idle_lock_minutes: 15,
                totp_roles: BTreeSet::new(),
                expiry_grace_seconds: 7 * 86_400,
                retention_days_received: 365,
                retention_days_drafts: 30,
            },
        };
        Self {
            device,
            attorney,
            directory,
        }
    }

    fn seal(&self, attachments: &[(&str, &[u8])]) -> Vec<u8> {
        self.seal_to(
            &Identity::from_bytes(*self.attorney.to_bytes()),
            attachments,
        )
    }

    fn seal_to(&self, to: &Identity, attachments: &[(&str, &[u8])]) -> Vec<u8> {
        let manifest = Manifest {
            format: MANIFEST_FORMAT.to_owned(),
            submission_id: format!("sub-{}", hex(&Sha256::digest(format!("{attachments:?}")))),
            interview: InterviewRef {
                id: "eviction-intake".to_owned(),
                version: "3".to_owned(),
            },
            sender: Sender {
                member_id: "m-worker".to_owned(),
                device_id: "d-laptop".to_owned(),
            },
            recipients: vec![],
            created_at: NOW,
            classification: Classification::Sensitive,
            answers: json!({"tenant_name": "Maria Example"}),
            attachments: attachments
                .iter()
                .map(|(name, bytes)| AttachmentMeta {
                    name: (*name).to_owned(),
                    media_type: "application/pdf".to_owned(),
                    size: bytes.len() as u64,
                    sha256: hex(&Sha256::digest(bytes)),
                })
                .collect(),
        };
        let key = RecipientKey::new(to.recipient(), NOW - 86_400, NOW + 86_400);
        let mut streams: Vec<&[u8]> = attachments.iter().map(|(_, bytes)| *bytes).collect();
        let mut readers: Vec<&mut (dyn Read + Send)> = streams
            .iter_mut()
            .map(|s| s as &mut (dyn Read + Send))
            .collect();
        let (_, bytes) =
            satchel_seal::envelope::seal(manifest, &mut readers, &self.device, &[key], Vec::new())
                .expect("seal");
        bytes
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
