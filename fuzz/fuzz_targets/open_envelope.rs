//! Opening envelopes.
//!
//! A fixed organisation (a sending device, an attorney's identity, a
//! colleague's key), built from fixed seeds, opens:
//!
//! 1. every input as it is, as a whole envelope file: it must fail or
//!    succeed, never panic;
//! 2. then, chosen by the first byte, one deeper shape built from the rest:
//!    - the rest as the inner layer, sealed in a real age layer, which
//!      reaches the magic, the manifest length and the manifest parser;
//!    - a manifest from the input, signed by the fixed device, followed by
//!      the input's attachment and padding bytes: this gets past the
//!      signature to the recipient, attachment and padding checks;
//!    - a seal-then-open round trip with answers and attachments from the
//!      input: whatever seals must open, unchanged.
//!
//! Whenever opening succeeds, the sink checks at commit that the bytes it
//! was handed match the sizes and hashes of the manifest it is shown.

#![no_main]

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use satchel_seal::age::{self, Identity};
use satchel_seal::directory::{Device, Directory, FORMAT, Member, Policies, RecipientKey, Role};
use satchel_seal::envelope::{
    self, AttachmentMeta, Classification, InterviewRef, MANIFEST_FORMAT, Manifest, Opened, Sender,
    Sink,
};
use satchel_seal::keys::{Purpose, SigningSecret};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_796_083_200;
const DAY: i64 = 24 * 60 * 60;
/// The inner layer's first bytes (docs/FORMATS.md, "Envelope").
const MAGIC: &[u8; 20] = b"satchel-envelope-v1\n";

struct Org {
    device: SigningSecret,
    identity: Identity,
    attorney_key: RecipientKey,
    colleague_key: RecipientKey,
    directory: Directory,
}

static ORG: LazyLock<Org> = LazyLock::new(|| {
    let device = SigningSecret::from_bytes(&[0x01; 32]);
    let identity = Identity::from_bytes([0x02; 32]);
    let colleague = Identity::from_bytes([0x03; 32]);
    let attorney_key = RecipientKey::new(identity.recipient(), NOW - DAY, NOW + 365 * DAY);
    let colleague_key = RecipientKey::new(colleague.recipient(), NOW - DAY, NOW + 365 * DAY);
    let member = |id: &str, role: Role, seed: u8, devices, keys| Member {
        id: id.to_owned(),
        display_name: id.to_owned(),
        roles: BTreeSet::from([role]),
        signing_key: SigningSecret::from_bytes(&[seed; 32]).public(),
        devices,
        recipient_keys: keys,
    };
    let directory = Directory {
        format: FORMAT.to_owned(),
        org_id: "fuzz-org".to_owned(),
        version: 1,
        issued_at: NOW - DAY,
        expires_at: NOW + 30 * DAY,
        members: vec![
            member(
                "m-worker",
                Role::Intake,
                0x04,
                vec![Device {
                    id: "d-worker".to_owned(),
                    signing_key: device.public(),
                    label: "Fuzz laptop".to_owned(),
                }],
                vec![],
            ),
            member(
                "m-attorney",
                Role::Attorney,
                0x05,
                vec![],
                vec![attorney_key.clone()],
            ),
            member(
                "m-colleague",
                Role::Attorney,
                0x06,
                vec![],
                vec![colleague_key.clone()],
            ),
        ],
        teams: vec![],
        escrow: None,
        auditor: None,
        policies: Policies {
            escrow_required: false,
            idle_lock_minutes: 15,
            totp_roles: BTreeSet::new(),
            expiry_grace_seconds: 7 * DAY,
            retention_days_received: 365,
            retention_days_drafts: 30,
        },
    };
    Org {
        device,
        identity,
        attorney_key,
        colleague_key,
        directory,
    }
});

fuzz_target!(|data: &[u8]| {
    let _ = open(data);
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let both_recipients = selector & 0x80 != 0;
    match selector % 3 {
        0 => {
            let _ = open(&age_file(rest, both_recipients));
        }
        1 => signed_manifest(rest, both_recipients),
        _ => round_trip(rest, both_recipients),
    }
});

/// Opens `file` with the attorney's identity into a checking sink.
fn open(file: &[u8]) -> satchel_seal::Result<(Opened, Vec<Vec<u8>>)> {
    envelope::open(
        file,
        std::slice::from_ref(&ORG.identity),
        &ORG.directory,
        CheckingSink::default(),
    )
}

/// `payload` sealed in an age file to the attorney (and the colleague).
fn age_file(payload: &[u8], both_recipients: bool) -> Vec<u8> {
    let mut recipients = vec![ORG.attorney_key.public];
    if both_recipients {
        recipients.push(ORG.colleague_key.public);
    }
    let mut writer = age::encrypt(&recipients, Vec::new()).expect("encrypting to fixed keys");
    writer.write_all(payload).expect("encrypting into memory");
    writer.finish().expect("finishing into memory")
}

/// Input: a big-endian u16 manifest length, the manifest, then whatever
/// follows it (attachment bytes and padding). The manifest is signed by the
/// fixed device exactly as given.
fn signed_manifest(data: &[u8], both_recipients: bool) {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let len = usize::from(u16::from_be_bytes(*len)).min(rest.len());
    let (manifest, tail) = rest.split_at(len);
    let mut inner = Vec::with_capacity(MAGIC.len() + 4 + manifest.len() + 64 + tail.len());
    inner.extend_from_slice(MAGIC);
    inner.extend_from_slice(&(manifest.len() as u32).to_be_bytes());
    inner.extend_from_slice(manifest);
    inner.extend_from_slice(&ORG.device.sign(Purpose::Manifest, manifest).to_bytes());
    inner.extend_from_slice(tail);
    let _ = open(&age_file(&inner, both_recipients));
}

/// Input: a byte giving the attachment count (0 to 3), a big-endian u16
/// answers length, the answers as JSON, then the attachments' bytes, split
/// evenly. Whatever seals must open to the same manifest and bytes.
fn round_trip(data: &[u8], both_recipients: bool) {
    let Some((&[count, len_hi, len_lo], rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let len = usize::from(u16::from_be_bytes([len_hi, len_lo])).min(rest.len());
    let (answers, bytes) = rest.split_at(len);
    let Ok(answers) = serde_json::from_slice::<serde_json::Value>(answers) else {
        return;
    };
    let answers = if answers.is_object() {
        answers
    } else {
        serde_json::json!({ "answer": answers })
    };
    let count = usize::from(count % 4);
    let parts: Vec<&[u8]> = match count {
        0 => vec![],
        n => {
            let size = bytes.len().div_ceil(n).max(1);
            let mut parts: Vec<&[u8]> = bytes.chunks(size).collect();
            parts.resize(n, &[]);
            parts
        }
    };

    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_owned(),
        submission_id: "fuzz-0001".to_owned(),
        interview: InterviewRef {
            id: "eviction".to_owned(),
            version: "3".to_owned(),
        },
        sender: Sender {
            member_id: "m-worker".to_owned(),
            device_id: "d-worker".to_owned(),
        },
        recipients: vec![],
        created_at: NOW,
        classification: Classification::Sensitive,
        answers,
        attachments: parts
            .iter()
            .enumerate()
            .map(|(index, part)| AttachmentMeta {
                name: format!("part-{index}.bin"),
                media_type: "application/octet-stream".to_owned(),
                size: part.len() as u64,
                sha256: hex(&Sha256::digest(part)),
            })
            .collect(),
    };
    let mut recipients = vec![ORG.attorney_key.clone()];
    if both_recipients {
        recipients.push(ORG.colleague_key.clone());
    }
    let mut streams: Vec<&[u8]> = parts.clone();
    let mut readers: Vec<&mut (dyn io::Read + Send)> = streams
        .iter_mut()
        .map(|s| s as &mut (dyn io::Read + Send))
        .collect();
    let Ok((sealed, file)) =
        envelope::seal(manifest, &mut readers, &ORG.device, &recipients, Vec::new())
    else {
        // Answers that cannot be signed (fractions, huge numbers) are
        // refused at sealing; that is not what this target looks for.
        return;
    };

    let (opened, received) = match open(&file) {
        Ok(result) => result,
        Err(e) => panic!("an envelope that sealed failed to open: {e}"),
    };
    assert!(
        opened.manifest == sealed.manifest,
        "the opened manifest differs from the sealed one"
    );
    assert_eq!(opened.envelope_id, sealed.envelope_id);
    assert_eq!(file.len() as u64, sealed.envelope_len);
    for (index, part) in parts.iter().enumerate() {
        let got = received.get(index).map_or(&[][..], Vec::as_slice);
        assert!(got == *part, "attachment {index} changed in a round trip");
    }
}

/// Keeps what it is handed and, at commit, checks it against the manifest
/// it is shown. Inputs are small, so holding them is fine here.
#[derive(Default)]
struct CheckingSink {
    attachments: Vec<Vec<u8>>,
    last_index: Option<usize>,
}

impl Sink for CheckingSink {
    type Committed = Vec<Vec<u8>>;

    fn write(&mut self, index: usize, bytes: &[u8]) -> io::Result<()> {
        assert!(
            self.last_index.is_none_or(|last| last <= index),
            "attachment pieces arrived out of order"
        );
        self.last_index = Some(index);
        if self.attachments.len() <= index {
            self.attachments.resize(index + 1, Vec::new());
        }
        self.attachments[index].extend_from_slice(bytes);
        Ok(())
    }

    fn commit(self, opened: &Opened) -> io::Result<Vec<Vec<u8>>> {
        let listed = &opened.manifest.attachments;
        assert!(
            self.attachments.len() <= listed.len(),
            "the sink got more attachments than the manifest lists"
        );
        for (index, meta) in listed.iter().enumerate() {
            let got = self.attachments.get(index).map_or(&[][..], Vec::as_slice);
            assert_eq!(
                got.len() as u64,
                meta.size,
                "attachment {index} has the wrong size"
            );
            assert_eq!(
                hex(&Sha256::digest(got)),
                meta.sha256,
                "attachment {index} has the wrong hash"
            );
        }
        assert!(
            opened.manifest.recipients.contains(&opened.opened_with),
            "opened with a key the manifest does not list"
        );
        Ok(self.attachments)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
