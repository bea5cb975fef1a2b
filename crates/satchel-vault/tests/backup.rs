//! Backups and restores, against real SQLCipher files on disk.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use satchel_vault::scan::ScanPolicy;
use satchel_vault::{
    AttachmentRules, DATABASE_FILE, Error, FreshAuth, KEYRING_FILE, NewAccount, Passphrase,
    Presence, Role, Scanning, Vault, restore, unix_now,
};

const PASSPHRASE: &str = "violet tractor quietly umbrella 42";
const MAGIC: &[u8] = b"SATCHEL-BACKUP-1\n";
/// An answer that must never appear in a backup in any readable form.
const CANARY_ANSWER: &str = "Canary Esperanza Villalobos-Quintero";
/// An attachment's file name, likewise.
const CANARY_FILE_NAME: &str = "canary-eviction-notice-Villalobos.txt";
const ATTACHMENT_BYTES: &[u8] = b"Notice to quit served on the tenant, canary-body-7731\n";

const RULES: AttachmentRules<'static> = AttachmentRules {
    allowed_types: &["text/plain", "application/pdf"],
    max_bytes: 1024 * 1024,
};

fn passphrase(text: &str) -> Passphrase {
    Passphrase::new(text.to_owned())
}

fn fresh(vault: &mut Vault) -> FreshAuth {
    vault
        .reauthenticate(&passphrase(PASSPHRASE), unix_now())
        .expect("reauthenticate")
}

/// A temporary folder holding a vault in `vault/` with two drafts, one of
/// them with an attachment.
struct Fixture {
    root: tempfile::TempDir,
    vault: Vault,
    drafts: Vec<String>,
    attachment: String,
}

impl Fixture {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        let (mut vault, _code) = Vault::create(
            &root.path().join("vault"),
            &NewAccount {
                name: "Maria",
                member_id: "m-maria",
                roles: BTreeSet::from([Role::Intake]),
                passphrase: &passphrase(PASSPHRASE),
            },
            unix_now(),
        )
        .expect("create");
        let first = vault.create_draft("eviction-defense", "3").expect("draft");
        vault
            .save_answer(&first, "tenant_name", &json!(CANARY_ANSWER))
            .expect("answer");
        vault
            .save_answer(&first, "household", &json!([{"age": 7}, {"age": 41}]))
            .expect("answer");
        vault.set_progress(&first, 40).expect("progress");
        let attachment = vault
            .add_attachment(
                &first,
                "notice",
                CANARY_FILE_NAME,
                &mut &ATTACHMENT_BYTES[..],
                &RULES,
                Scanning {
                    scanner: None,
                    policy: ScanPolicy::Off,
                },
            )
            .expect("attachment")
            .id;
        let second = vault.create_draft("benefits-appeal", "1").expect("draft");
        vault
            .save_answer(&second, "claim_number", &json!("A-1234"))
            .expect("answer");
        Self {
            root,
            vault,
            drafts: vec![first, second],
            attachment,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// Writes a backup to `name` in the root folder and returns its bytes.
    fn backup(&mut self, name: &str) -> Vec<u8> {
        let destination = self.path(name);
        let confirmation = fresh(&mut self.vault);
        let info = self
            .vault
            .backup(confirmation, &destination)
            .expect("backup");
        assert_eq!(info.path, destination);
        let bytes = fs::read(&destination).expect("read backup");
        assert_eq!(info.bytes, bytes.len() as u64);
        bytes
    }

    /// The names in the root folder.
    fn listing(&self) -> BTreeSet<String> {
        fs::read_dir(self.root.path())
            .expect("list")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }
}

/// Splits a backup into its keyring and database parts, checking the
/// layout and the checksum.
fn parts(bytes: &[u8]) -> (&[u8], &[u8]) {
    assert!(bytes.starts_with(MAGIC));
    let mut at = MAGIC.len();
    let keyring_len =
        u32::from_be_bytes(bytes[at..at + 4].try_into().expect("four bytes")) as usize;
    at += 4;
    let keyring = &bytes[at..at + keyring_len];
    at += keyring_len;
    let database_len =
        u64::from_be_bytes(bytes[at..at + 8].try_into().expect("eight bytes")) as usize;
    at += 8;
    let database = &bytes[at..at + database_len];
    at += database_len;
    assert_eq!(bytes.len(), at + 32, "the checksum ends the file");
    let digest: [u8; 32] = Sha256::digest(&bytes[..at]).into();
    assert_eq!(&bytes[at..], &digest[..]);
    (keyring, database)
}

/// Where the database part starts in a backup.
fn database_offset(bytes: &[u8]) -> usize {
    let keyring_len = u32::from_be_bytes(
        bytes[MAGIC.len()..MAGIC.len() + 4]
            .try_into()
            .expect("four bytes"),
    ) as usize;
    MAGIC.len() + 4 + keyring_len + 8
}

/// Replaces the checksum at the end with the right one for the rest.
fn fix_checksum(bytes: &mut [u8]) {
    let body = bytes.len() - 32;
    let digest: [u8; 32] = Sha256::digest(&bytes[..body]).into();
    bytes[body..].copy_from_slice(&digest);
}

/// The base64 text `bytes` turn into at each of the three alignments, minus
/// the characters that depend on neighbouring bytes.
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    (0..3)
        .map(|shift| {
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(bytes);
            let text = BASE64.encode(&shifted);
            let start = shift.div_ceil(3) * 4;
            let end = shifted.len() / 3 * 4;
            text[start..end].to_owned()
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn message(result: Result<Vault, Error>) -> String {
    result.expect_err("the restore is refused").to_string()
}

fn restore_into(backup: &Path, dir: &Path) -> Result<Vault, Error> {
    restore(backup, dir, "Maria", &passphrase(PASSPHRASE), unix_now())
}

/// Checks that a refused restore left nothing behind: no vault, no
/// staging folder, nothing new in the root folder.
fn assert_nothing_left(fixture: &Fixture, before: &BTreeSet<String>, dir: &Path) {
    assert_eq!(Vault::presence(dir), Presence::Absent);
    assert!(!dir.exists(), "the target folder was left behind");
    assert_eq!(&fixture.listing(), before);
}

#[test]
fn a_backup_restores_to_an_identical_vault() {
    let mut fixture = Fixture::new();
    let bytes = fixture.backup("vault.backup");
    let original_drafts = fixture.vault.drafts().expect("drafts");
    let originals: Vec<_> = fixture
        .drafts
        .iter()
        .map(|id| fixture.vault.draft(id).expect("draft"))
        .collect();
    let original_attachments = fixture
        .vault
        .attachments(&fixture.drafts[0])
        .expect("attachments");
    assert!(!bytes.is_empty());

    let before = fixture.listing();
    let dir = fixture.path("restored");
    let mut restored = restore_into(&fixture.path("vault.backup"), &dir).expect("restore");
    assert_eq!(restored.account(), fixture.vault.account());
    assert_eq!(restored.drafts().expect("drafts"), original_drafts);
    for original in &originals {
        assert_eq!(
            &restored.draft(&original.summary.id).expect("draft"),
            original
        );
    }
    assert_eq!(
        restored
            .attachments(&fixture.drafts[0])
            .expect("attachments"),
        original_attachments
    );
    let mut read = Vec::new();
    let info = restored
        .read_attachment(&fixture.attachment, &mut read)
        .expect("read attachment");
    assert_eq!(read, ATTACHMENT_BYTES);
    assert_eq!(info.file_name, CANARY_FILE_NAME);

    let report = restored.verify_audit().expect("the audit log verifies");
    assert!(report.entries > 0);
    let confirmation = restored
        .reauthenticate(&passphrase(PASSPHRASE), unix_now())
        .expect("reauthenticate");
    let log =
        String::from_utf8(restored.export_audit(confirmation, 0).expect("export")).expect("utf-8");
    let actions: Vec<String> = log
        .lines()
        .map(|line| {
            let entry: Value = serde_json::from_str(line).expect("json");
            entry["action"].as_str().expect("action").to_owned()
        })
        .collect();
    assert!(actions.iter().any(|a| a == "backup.restore"), "{actions:?}");
    // The copy is taken before its own creation is audited, so the entry
    // is in the original's log.
    let confirmation = fresh(&mut fixture.vault);
    let log = String::from_utf8(fixture.vault.export_audit(confirmation, 0).expect("export"))
        .expect("utf-8");
    assert!(log.contains(r#""action":"backup.create""#), "{log}");
    drop(restored);

    // Only the vault's own files are in the target; no staging folder is
    // left beside it.
    let mut after = before.clone();
    after.insert("restored".to_owned());
    assert_eq!(fixture.listing(), after);
    let files: BTreeSet<String> = fs::read_dir(&dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files.contains(DATABASE_FILE) && files.contains(KEYRING_FILE),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .all(|f| f == KEYRING_FILE || f.starts_with(DATABASE_FILE)),
        "{files:?}"
    );

    // The restored vault opens again on its own.
    let mut reopened =
        Vault::sign_in(&dir, "Maria", &passphrase(PASSPHRASE), None, unix_now()).expect("sign in");
    assert_eq!(reopened.drafts().expect("drafts"), original_drafts);
}

#[test]
fn a_backup_holds_no_plaintext() {
    let mut fixture = Fixture::new();
    let bytes = fixture.backup("vault.backup");
    let (keyring, database) = parts(&bytes);

    serde_json::from_slice::<Value>(keyring).expect("the keyring part is the keyring's JSON");
    assert_ne!(
        &database[..16],
        b"SQLite format 3\0",
        "a plain SQLite header"
    );
    assert!(database.len() >= 4096, "at least one page");

    for canary in [CANARY_ANSWER, CANARY_FILE_NAME, "canary-body-7731"] {
        let utf16: Vec<u8> = canary.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut forms = vec![canary.as_bytes().to_vec(), utf16];
        forms.extend(
            base64_forms(canary.as_bytes())
                .into_iter()
                .map(String::into_bytes),
        );
        for form in forms {
            assert!(
                !contains(&bytes, &form),
                "{canary:?} is in the backup as {:?}",
                String::from_utf8_lossy(&form)
            );
        }
    }
    // Nor the attachment's bytes, nor the vault's key material in the clear:
    // the keyring part holds keys only wrapped.
    assert!(!contains(&bytes, ATTACHMENT_BYTES));
    assert!(!contains(database, b"CREATE TABLE"));
}

#[test]
fn a_damaged_backup_is_refused_and_leaves_nothing() {
    let mut fixture = Fixture::new();
    let bytes = fixture.backup("vault.backup");
    let before = fixture.listing();
    let dir = fixture.path("restored");
    let middle = database_offset(&bytes) + (bytes.len() - database_offset(&bytes)) / 2;

    // One flipped byte in the database part: the checksum catches it.
    let mut flipped = bytes.clone();
    flipped[middle] ^= 0x01;
    let damaged = fixture.path("flipped.backup");
    fs::write(&damaged, &flipped).expect("write");
    let mut before_flipped = before.clone();
    before_flipped.insert("flipped.backup".to_owned());
    let text = message(restore_into(&damaged, &dir));
    assert!(text.contains("damaged"), "{text}");
    assert!(text.contains("checksum"), "{text}");
    assert_nothing_left(&fixture, &before_flipped, &dir);

    // The same flip with the checksum made to match: SQLCipher's own page
    // authentication refuses it.
    fix_checksum(&mut flipped);
    fs::write(&damaged, &flipped).expect("write");
    let text = message(restore_into(&damaged, &dir));
    assert!(text.contains("damaged"), "{text}");
    assert_nothing_left(&fixture, &before_flipped, &dir);

    // A flip in the keyring part.
    let mut flipped = bytes.clone();
    flipped[MAGIC.len() + 4 + 10] ^= 0x20;
    fs::write(&damaged, &flipped).expect("write");
    let text = message(restore_into(&damaged, &dir));
    assert!(text.contains("damaged"), "{text}");
    assert_nothing_left(&fixture, &before_flipped, &dir);
}

#[test]
fn a_truncated_backup_is_refused() {
    let mut fixture = Fixture::new();
    let bytes = fixture.backup("vault.backup");
    let dir = fixture.path("restored");
    let cut = fixture.path("cut.backup");
    let database = database_offset(&bytes);
    for len in [
        5,
        MAGIC.len() - 1,
        MAGIC.len(),
        MAGIC.len() + 2,
        MAGIC.len() + 40,
        database - 3,
        database + 100,
        bytes.len() - 40,
        bytes.len() - 1,
    ] {
        fs::write(&cut, &bytes[..len]).expect("write");
        let before = fixture.listing();
        let text = message(restore_into(&cut, &dir));
        assert!(text.contains("incomplete"), "cut to {len} bytes: {text}");
        assert_nothing_left(&fixture, &before, &dir);
    }

    fs::write(&cut, b"").expect("write");
    let text = message(restore_into(&cut, &dir));
    assert!(text.contains("is empty"), "{text}");

    // Extra bytes after the checksum are refused as well.
    let mut longer = bytes.clone();
    longer.push(0);
    fs::write(&cut, &longer).expect("write");
    let text = message(restore_into(&cut, &dir));
    assert!(text.contains("damaged"), "{text}");
}

#[test]
fn a_file_that_is_not_a_backup_is_refused() {
    let mut fixture = Fixture::new();
    fixture.backup("vault.backup");
    let dir = fixture.path("restored");
    let other = fixture.path("other.file");
    let keyring = fs::read(fixture.path("vault").join(KEYRING_FILE)).expect("keyring");
    let database = fs::read(fixture.path("vault").join(DATABASE_FILE)).expect("database");
    for bytes in [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 not a backup".to_vec(),
        keyring,
        database,
        b"SATCHEL-BACKUP-one\n".to_vec(),
    ] {
        fs::write(&other, &bytes).expect("write");
        let before = fixture.listing();
        let text = message(restore_into(&other, &dir));
        assert!(text.contains("is not a Satchel backup"), "{text}");
        assert_nothing_left(&fixture, &before, &dir);
    }

    let missing = message(restore_into(&fixture.path("missing.backup"), &dir));
    assert!(missing.contains("missing.backup"), "{missing}");
}

#[test]
fn a_backup_from_a_newer_format_is_refused() {
    let mut fixture = Fixture::new();
    let mut bytes = fixture.backup("vault.backup");
    bytes[MAGIC.len() - 2] = b'2';
    fix_checksum(&mut bytes);
    let newer = fixture.path("newer.backup");
    fs::write(&newer, &bytes).expect("write");
    let before = fixture.listing();
    let dir = fixture.path("restored");
    let text = message(restore_into(&newer, &dir));
    assert!(text.contains("newer version of Satchel"), "{text}");
    assert_nothing_left(&fixture, &before, &dir);
}

#[test]
fn a_wrong_passphrase_or_account_is_refused() {
    let mut fixture = Fixture::new();
    fixture.backup("vault.backup");
    let backup = fixture.path("vault.backup");
    let before = fixture.listing();
    let dir = fixture.path("restored");

    let result = restore(
        &backup,
        &dir,
        "Maria",
        &passphrase("violet tractor quietly umbrella 43"),
        unix_now(),
    );
    assert!(matches!(result, Err(Error::WrongPassphrase)), "{result:?}");
    assert_nothing_left(&fixture, &before, &dir);

    let result = restore(&backup, &dir, "Nobody", &passphrase(PASSPHRASE), unix_now());
    assert!(
        matches!(result, Err(Error::UnknownAccount(_))),
        "{result:?}"
    );
    assert_nothing_left(&fixture, &before, &dir);
}

#[test]
fn restoring_over_a_vault_is_refused() {
    let mut fixture = Fixture::new();
    fixture.backup("vault.backup");
    let existing = fixture.path("vault");
    let keyring = fs::read(existing.join(KEYRING_FILE)).expect("keyring");
    let result = restore_into(&fixture.path("vault.backup"), &existing);
    assert!(matches!(result, Err(Error::AlreadyExists(_))), "{result:?}");
    assert_eq!(
        fs::read(existing.join(KEYRING_FILE)).expect("keyring"),
        keyring
    );
    fixture.vault.drafts().expect("the vault still works");
}

#[test]
fn a_restore_into_an_existing_empty_folder_keeps_the_folder() {
    let mut fixture = Fixture::new();
    fixture.backup("vault.backup");
    let dir = fixture.path("empty");
    fs::create_dir(&dir).expect("folder");
    let result = restore(
        &fixture.path("vault.backup"),
        &dir,
        "Maria",
        &passphrase("not the passphrase at all"),
        unix_now(),
    );
    assert!(matches!(result, Err(Error::WrongPassphrase)), "{result:?}");
    assert!(dir.is_dir());
    assert_eq!(fs::read_dir(&dir).expect("list").count(), 0);

    restore_into(&fixture.path("vault.backup"), &dir).expect("restore");
    assert_eq!(Vault::presence(&dir), Presence::Present);
}

#[test]
fn a_backup_never_replaces_a_file() {
    let mut fixture = Fixture::new();
    let destination = fixture.path("taken.backup");
    fs::write(&destination, b"someone else's file").expect("write");
    let before = fixture.listing();
    let confirmation = fresh(&mut fixture.vault);
    let result = fixture.vault.backup(confirmation, &destination);
    let text = result.expect_err("refused").to_string();
    assert!(text.contains("already exists"), "{text}");
    assert_eq!(
        fs::read(&destination).expect("read"),
        b"someone else's file"
    );
    assert_eq!(fixture.listing(), before, "no temporary files are left");

    let confirmation = fresh(&mut fixture.vault);
    let result = fixture.vault.backup(
        confirmation,
        &fixture.path("no such folder").join("x.backup"),
    );
    assert!(matches!(result, Err(Error::Invalid(_))), "{result:?}");
}
