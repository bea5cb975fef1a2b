//! A small organisation for the sealing tests: a root, an intake worker with
//! a laptop, two attorneys (one with a rotated key), a team and an escrow
//! key.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::collections::BTreeSet;

use satchel_seal::age::Identity;
use satchel_seal::directory::{
    Device, Directory, FORMAT, Member, Policies, RecipientKey, Role, SignedDirectory, Team,
};
use satchel_seal::envelope::{AttachmentMeta, Classification, InterviewRef, Manifest, Sender};
use satchel_seal::keys::SigningSecret;
use sha2::{Digest, Sha256};

/// 2026-12-01T00:00:00Z.
pub const NOW: i64 = 1_796_083_200;
pub const DAY: i64 = 24 * 60 * 60;

pub struct Org {
    pub root: SigningSecret,
    pub worker_device: SigningSecret,
    pub attorney_device: SigningSecret,
    pub attorney_identity: Identity,
    pub attorney_old_identity: Identity,
    pub colleague_identity: Identity,
    pub escrow_identity: Identity,
    pub directory: Directory,
}

fn member(
    id: &str,
    name: &str,
    role: Role,
    devices: Vec<Device>,
    keys: Vec<RecipientKey>,
) -> Member {
    Member {
        id: id.to_owned(),
        display_name: name.to_owned(),
        roles: BTreeSet::from([role]),
        signing_key: SigningSecret::generate().expect("key").public(),
        devices,
        recipient_keys: keys,
    }
}

pub fn org() -> Org {
    let root = SigningSecret::generate().expect("root");
    let worker_device = SigningSecret::generate().expect("device");
    let attorney_device = SigningSecret::generate().expect("device");
    let attorney_identity = Identity::generate().expect("identity");
    let attorney_old_identity = Identity::generate().expect("identity");
    let colleague_identity = Identity::generate().expect("identity");
    let escrow_identity = Identity::generate().expect("identity");

    let worker = member(
        "m-worker",
        "Field Worker",
        Role::Intake,
        vec![Device {
            id: "d-worker-laptop".to_owned(),
            signing_key: worker_device.public(),
            label: "Eastside laptop".to_owned(),
        }],
        vec![],
    );
    let attorney = member(
        "m-attorney",
        "Attorney One",
        Role::Attorney,
        vec![Device {
            id: "d-attorney-desk".to_owned(),
            signing_key: attorney_device.public(),
            label: "Office workstation".to_owned(),
        }],
        vec![
            // The old key overlaps the new one by a week, as in a rotation.
            RecipientKey::new(
                attorney_old_identity.recipient(),
                NOW - 400 * DAY,
                NOW + 7 * DAY,
            ),
            RecipientKey::new(attorney_identity.recipient(), NOW - DAY, NOW + 365 * DAY),
        ],
    );
    let colleague = member(
        "m-colleague",
        "Attorney Two",
        Role::Attorney,
        vec![],
        vec![RecipientKey::new(
            colleague_identity.recipient(),
            NOW - DAY,
            NOW + 365 * DAY,
        )],
    );

    let directory = Directory {
        format: FORMAT.to_owned(),
        org_id: "eastside-legal-aid".to_owned(),
        version: 7,
        issued_at: NOW - DAY,
        expires_at: NOW + 30 * DAY,
        members: vec![worker, attorney, colleague],
        teams: vec![Team {
            id: "t-housing".to_owned(),
            name: "Housing team".to_owned(),
            members: vec!["m-attorney".to_owned(), "m-colleague".to_owned()],
        }],
        escrow: Some(RecipientKey::new(
            escrow_identity.recipient(),
            NOW - DAY,
            NOW + 365 * DAY,
        )),
        auditor: None,
        policies: Policies {
            escrow_required: true,
            idle_lock_minutes: 15,
            totp_roles: BTreeSet::from([Role::Attorney, Role::Admin]),
            expiry_grace_seconds: 7 * DAY,
            retention_days_received: 365,
            retention_days_drafts: 30,
        },
    };

    Org {
        root,
        worker_device,
        attorney_device,
        attorney_identity,
        attorney_old_identity,
        colleague_identity,
        escrow_identity,
        directory,
    }
}

impl Org {
    pub fn signed(&self) -> SignedDirectory {
        self.directory
            .sign_as_root(&self.root)
            .expect("sign directory")
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A manifest from the worker's laptop with the given attachments.
pub fn manifest(attachments: &[(&str, &[u8])]) -> Manifest {
    Manifest {
        format: satchel_seal::envelope::MANIFEST_FORMAT.to_owned(),
        submission_id: "sub-0001".to_owned(),
        interview: InterviewRef {
            id: "eviction".to_owned(),
            version: "3".to_owned(),
        },
        sender: Sender {
            member_id: "m-worker".to_owned(),
            device_id: "d-worker-laptop".to_owned(),
        },
        recipients: vec![],
        created_at: NOW,
        classification: Classification::Privileged,
        answers: serde_json::json!({
            "tenant_name": "Maria Example",
            "notice_date": "2026-11-20",
            "household": [{ "name": "Ana", "age": 9 }]
        }),
        attachments: attachments
            .iter()
            .map(|(name, bytes)| AttachmentMeta {
                name: (*name).to_owned(),
                media_type: "application/pdf".to_owned(),
                size: bytes.len() as u64,
                sha256: sha256_hex(bytes),
            })
            .collect(),
    }
}
