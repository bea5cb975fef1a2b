//! Sealing and opening through the `satchel` binary, with keys kept in real
//! vaults, a directory signed by a root the test holds, and the stock `age`
//! tool as the break-glass path.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::{ACCOUNT, PASSPHRASE};
use satchel_seal::SigningSecret;
use satchel_seal::directory::{Device, Directory, FORMAT, Member, Policies, RecipientKey, Role};

/// Runs `satchel`, answering a passphrase prompt on standard input.
fn satchel(args: &[&str]) -> Output {
    common::satchel(args, &format!("{PASSPHRASE}\n"))
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "satchel failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Makes a vault with one account holding `role`, and one key in it;
/// returns (key id, public key text).
fn vault_with_key(dir: &Path, role: &str, kind: &str) -> (String, String) {
    ok(satchel(&[
        "vault",
        "create",
        "--data-dir",
        path(dir),
        "--account",
        ACCOUNT,
        "--member-id",
        &format!("m-{role}"),
        "--role",
        role,
        "--passphrase-stdin",
    ]));
    let out = ok(satchel(&[
        "keys",
        "new",
        "--kind",
        kind,
        "--data-dir",
        path(dir),
        "--account",
        ACCOUNT,
        "--passphrase-stdin",
    ]));
    let mut fields = out.split_whitespace();
    let id = fields.next().expect("id").to_owned();
    let public = fields.next().expect("public key").to_owned();
    (id, public)
}

struct World {
    _temp: tempfile::TempDir,
    root: std::path::PathBuf,
    worker: std::path::PathBuf,
    attorney: std::path::PathBuf,
    directory: std::path::PathBuf,
    root_key: String,
    device_key_id: String,
    attorney_key_id: String,
}

fn world() -> World {
    let temp = tempfile::tempdir().expect("tempdir");
    let root = temp.path().to_owned();
    let worker = root.join("worker");
    let attorney = root.join("attorney");
    let (device_key_id, device_public) = vault_with_key(&worker, "intake", "signing");
    let (attorney_key_id, attorney_public) = vault_with_key(&attorney, "attorney", "recipient");

    // The admin's side: a directory naming both, signed by the root.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let org_root = SigningSecret::generate().expect("root");
    let person = |id: &str, role, devices, keys| Member {
        id: String::from(id),
        display_name: String::from(id),
        roles: BTreeSet::from([role]),
        signing_key: SigningSecret::generate().expect("key").public(),
        devices,
        recipient_keys: keys,
    };
    let directory = Directory {
        format: FORMAT.to_owned(),
        org_id: "eastside".to_owned(),
        version: 3,
        issued_at: now - 60,
        expires_at: now + 86_400,
        members: vec![
            person(
                "m-worker",
                Role::Intake,
                vec![Device {
                    id: "d-laptop".to_owned(),
                    signing_key: device_public.parse().expect("device key"),
                    label: "Laptop".to_owned(),
                }],
                vec![],
            ),
            person(
                "m-attorney",
                Role::Attorney,
                vec![],
                vec![RecipientKey::new(
                    attorney_public.parse().expect("recipient"),
                    now - 60,
                    now + 86_400,
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
            expiry_grace_seconds: 0,
            retention_days_received: 30,
            retention_days_drafts: 30,
        },
    };
    let signed = directory.sign_as_root(&org_root).expect("sign");
    let directory_path = root.join("directory.json");
    fs::write(&directory_path, signed.to_json().expect("json")).expect("write directory");

    World {
        _temp: temp,
        root,
        worker,
        attorney,
        directory: directory_path,
        root_key: org_root.public().to_string(),
        device_key_id,
        attorney_key_id,
    }
}

impl World {
    fn seal(&self, out: &Path, attach: &Path) -> Output {
        let answers = self.root.join("answers.json");
        fs::write(
            &answers,
            br#"{"tenant_name":"Maria Example","rent_owed":1250}"#,
        )
        .expect("w");
        satchel(&[
            "seal",
            "--answers",
            path(&answers),
            "--attach",
            path(attach),
            "--to",
            "m-attorney",
            "--sender",
            "m-worker",
            "--device",
            "d-laptop",
            "--device-key",
            &self.device_key_id,
            "--interview",
            "eviction",
            "--directory",
            path(&self.directory),
            "--root",
            &self.root_key,
            "--out",
            path(out),
            "--data-dir",
            path(&self.worker),
            "--account",
            ACCOUNT,
            "--passphrase-stdin",
        ])
    }

    fn open(&self, envelope: &Path, out_dir: &Path) -> Output {
        satchel(&[
            "open",
            path(envelope),
            "--out-dir",
            path(out_dir),
            "--directory",
            path(&self.directory),
            "--root",
            &self.root_key,
            "--data-dir",
            path(&self.attorney),
            "--account",
            ACCOUNT,
            "--passphrase-stdin",
        ])
    }
}

#[test]
fn a_submission_sealed_on_one_vault_opens_from_another() {
    let w = world();
    ok(satchel(&[
        "directory",
        "verify",
        "--directory",
        path(&w.directory),
        "--root",
        &w.root_key,
    ]));

    let letter = w.root.join("notice of eviction.pdf");
    fs::write(&letter, b"%PDF-1.7 the notice").expect("attachment");
    let envelope = w.root.join("submission.age");
    ok(w.seal(&envelope, &letter));
    assert!(
        w.seal(&envelope, &letter).status.code() != Some(0),
        "an existing --out is kept"
    );

    let out_dir = w.root.join("opened");
    ok(w.open(&envelope, &out_dir));
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out_dir.join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["answers"]["tenant_name"], "Maria Example");
    assert_eq!(manifest["attachments"][0]["media_type"], "application/pdf");
    let attachment = out_dir.join("001-notice_of_eviction.pdf");
    assert_eq!(
        fs::read(attachment).expect("attachment"),
        b"%PDF-1.7 the notice"
    );
}

#[test]
fn a_tampered_envelope_leaves_nothing_behind() {
    let w = world();
    let letter = w.root.join("letter.pdf");
    fs::write(&letter, vec![b'x'; 100_000]).expect("attachment");
    let envelope = w.root.join("submission.age");
    ok(w.seal(&envelope, &letter));

    let mut bytes = fs::read(&envelope).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    fs::write(&envelope, bytes).expect("write");

    let out_dir = w.root.join("opened");
    let output = w.open(&envelope, &out_dir);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("failed verification"), "{err}");
    assert!(!out_dir.exists(), "a refused envelope created its folder");
    let leftovers: Vec<_> = fs::read_dir(&w.root)
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".satchel-"))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}

#[test]
fn the_exported_identity_opens_the_outer_layer_with_stock_age() {
    let w = world();
    let letter = w.root.join("letter.txt");
    fs::write(&letter, b"plain words").expect("attachment");
    let envelope = w.root.join("submission.age");
    ok(w.seal(&envelope, &letter));

    let identity = w.root.join("identity.txt");
    ok(satchel(&[
        "keys",
        "export-identity",
        &w.attorney_key_id,
        "--out",
        path(&identity),
        "--data-dir",
        path(&w.attorney),
        "--account",
        ACCOUNT,
        "--passphrase-stdin",
    ]));
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(&identity)
        .expect("identity")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the identity file is readable by others");

    let age = Command::new("age")
        .args(["-d", "-i", path(&identity), path(&envelope)])
        .output()
        .expect("Debian's age package must be installed (scripts/test.sh installs it)");
    assert!(
        age.status.success(),
        "age: {}",
        String::from_utf8_lossy(&age.stderr)
    );
    assert!(age.stdout.starts_with(b"satchel-envelope-v1\n"));
    assert!(age.stdout.windows(11).any(|w| w == b"plain words"));
}

#[test]
fn a_directory_under_another_root_is_refused_before_anything_is_sealed() {
    let w = world();
    let other_root = SigningSecret::generate().expect("key").public().to_string();
    let output = satchel(&[
        "directory",
        "verify",
        "--directory",
        path(&w.directory),
        "--root",
        &other_root,
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("was refused"));
}

#[test]
fn safety_codes_match_for_the_same_keys() {
    let key = SigningSecret::generate().expect("key").public().to_string();
    let first = ok(satchel(&["safety-code", "--key", &key]));
    let second = ok(satchel(&["safety-code", "--key", &key]));
    assert_eq!(first, second);
    assert_eq!(first.trim().len(), 24);
    assert!(!satchel(&["safety-code", "--key", "junk"]).status.success());
}
