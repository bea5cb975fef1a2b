//! Deleting records and retention, against real SQLCipher files on disk.
//!
//! Outbox entries and received submissions are covered by the unit tests
//! in `src/retention.rs`, which insert them directly; here everything goes
//! through the public API.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::{Value, json};

use satchel_vault::scan::ScanPolicy;
use satchel_vault::{
    AttachmentRules, DATABASE_FILE, Error, FreshAuth, NewAccount, Passphrase, RetentionPolicy,
    RetentionReport, Role, Scanning, Vault, unix_now,
};

const PASSPHRASE: &str = "violet tractor quietly umbrella 42";
const SECOND_PASSPHRASE: &str = "orchard lantern briskly canyon 77";
const DAY: i64 = 86_400;

const RULES: AttachmentRules<'static> = AttachmentRules {
    allowed_types: &["text/plain", "application/pdf"],
    max_bytes: 1024 * 1024,
};

fn passphrase(text: &str) -> Passphrase {
    Passphrase::new(text.to_owned())
}

fn scanning() -> Scanning<'static> {
    Scanning {
        scanner: None,
        policy: ScanPolicy::Off,
    }
}

fn create(dir: &Path) -> Vault {
    let (vault, _code) = Vault::create(
        dir,
        &NewAccount {
            name: "Maria",
            member_id: "m-maria",
            roles: BTreeSet::from([Role::Intake]),
            passphrase: &passphrase(PASSPHRASE),
        },
        unix_now(),
    )
    .expect("create");
    vault
}

fn fresh(vault: &mut Vault, text: &str) -> FreshAuth {
    vault
        .reauthenticate(&passphrase(text), unix_now())
        .expect("reauthenticate")
}

/// Adds a second account and signs it in on its own handle.
fn second_account(vault: &mut Vault, dir: &Path) -> Vault {
    let confirmation = fresh(vault, PASSPHRASE);
    vault
        .add_account(
            confirmation,
            &NewAccount {
                name: "Jordan",
                member_id: "m-jordan",
                roles: BTreeSet::from([Role::Intake]),
                passphrase: &passphrase(SECOND_PASSPHRASE),
            },
            unix_now(),
        )
        .expect("add account");
    Vault::sign_in(
        dir,
        "Jordan",
        &passphrase(SECOND_PASSPHRASE),
        None,
        unix_now(),
    )
    .expect("second account signs in")
}

/// A draft with two answers and an attachment; returns the draft's and the
/// attachment's ids.
fn draft_with_content(vault: &mut Vault, client: &str) -> (String, String) {
    let draft = vault.create_draft("eviction-defense", "3").expect("draft");
    vault
        .save_answer(&draft, "tenant_name", &json!(client))
        .expect("answer");
    vault
        .save_answer(&draft, "monthly_rent", &json!(1250))
        .expect("answer");
    let attachment = vault
        .add_attachment(
            &draft,
            "lease",
            "lease.txt",
            &mut format!("Lease between the landlord and {client}\n").as_bytes(),
            &RULES,
            scanning(),
        )
        .expect("attachment");
    (draft, attachment.id)
}

fn tombstones(vault: &mut Vault) -> BTreeSet<(String, String, String)> {
    vault
        .tombstones()
        .expect("tombstones")
        .into_iter()
        .map(|t| (t.id, t.kind, t.reason))
        .collect()
}

fn tombstone(id: &str, kind: &str, reason: &str) -> (String, String, String) {
    (id.to_owned(), kind.to_owned(), reason.to_owned())
}

fn is_not_found<T>(result: &Result<T, Error>) -> bool {
    matches!(result, Err(Error::RecordNotFound { .. }))
}

/// The audit log as JSON objects, read through an export.
fn audit_entries(vault: &mut Vault) -> Vec<Value> {
    let confirmation = fresh(vault, PASSPHRASE);
    let lines = vault.export_audit(confirmation, 0).expect("export");
    String::from_utf8(lines)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .collect()
}

#[test]
fn deleting_a_draft_removes_it_with_its_answers_and_attachments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = create(dir.path());
    let (draft, attachment) = draft_with_content(&mut vault, "Esperanza Villalobos");
    let (kept, kept_attachment) = draft_with_content(&mut vault, "Tomas Okafor");
    let kept_before = vault.draft(&kept).expect("kept draft");

    let confirmation = fresh(&mut vault, PASSPHRASE);
    vault
        .delete_record(confirmation, &draft, "  client asked for deletion  ")
        .expect("delete");

    assert!(is_not_found(&vault.draft(&draft)), "the draft is gone");
    assert!(
        is_not_found(&vault.attachments(&draft)),
        "its attachments are gone"
    );
    assert!(
        is_not_found(&vault.read_attachment(&attachment, &mut Vec::new())),
        "the attachment cannot be read"
    );
    let listed: Vec<String> = vault
        .drafts()
        .expect("drafts")
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, std::slice::from_ref(&kept));

    assert_eq!(
        tombstones(&mut vault),
        BTreeSet::from([
            tombstone(&draft, "draft", "client asked for deletion"),
            tombstone(&attachment, "attachment", "client asked for deletion"),
        ])
    );
    for stone in vault.tombstones().expect("tombstones") {
        assert!(
            stone.deleted_at.ends_with('Z') && stone.deleted_at.len() == 24,
            "{}",
            stone.deleted_at
        );
    }

    // The other draft is untouched.
    assert_eq!(vault.draft(&kept).expect("kept draft"), kept_before);
    let mut bytes = Vec::new();
    vault
        .read_attachment(&kept_attachment, &mut bytes)
        .expect("kept attachment");
    assert_eq!(bytes, b"Lease between the landlord and Tomas Okafor\n");

    // The write-ahead log was emptied after the deletion.
    let wal = dir.path().join(format!("{DATABASE_FILE}-wal"));
    if let Ok(metadata) = fs::metadata(&wal) {
        assert_eq!(metadata.len(), 0, "the write-ahead log still holds pages");
    }

    vault.verify_audit().expect("the audit log verifies");
    let entries = audit_entries(&mut vault);
    let deletions: BTreeSet<&str> = entries
        .iter()
        .filter(|e| e["action"] == "record.delete")
        .map(|e| {
            assert_eq!(e["account_id"], json!(vault.account().id));
            e["object_id"].as_str().expect("an object id")
        })
        .collect();
    assert_eq!(
        deletions,
        BTreeSet::from([draft.as_str(), attachment.as_str()])
    );
}

#[test]
fn another_account_cannot_delete_a_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = create(dir.path());
    let (draft, _) = draft_with_content(&mut vault, "Esperanza Villalobos");
    let mut second = second_account(&mut vault, dir.path());

    let confirmation = fresh(&mut second, SECOND_PASSPHRASE);
    let result = second.delete_record(confirmation, &draft, "not mine");
    assert!(is_not_found(&result), "{result:?}");
    let confirmation = fresh(&mut second, SECOND_PASSPHRASE);
    let result = second.delete_record(confirmation, "draft-0000000000000000", "no such draft");
    assert!(is_not_found(&result), "{result:?}");

    vault.draft(&draft).expect("the draft is still there");
    assert!(tombstones(&mut vault).is_empty());
}

#[test]
fn deleting_needs_the_signed_in_persons_own_confirmation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = create(dir.path());
    let (draft, _) = draft_with_content(&mut vault, "Esperanza Villalobos");
    let mut second = second_account(&mut vault, dir.path());

    // A confirmation typed by another account does not count.
    let theirs = fresh(&mut second, SECOND_PASSPHRASE);
    let result = vault.delete_record(theirs, &draft, "client asked for deletion");
    assert!(matches!(result, Err(Error::ReauthRequired)), "{result:?}");
    vault.draft(&draft).expect("the draft is still there");
    assert!(tombstones(&mut vault).is_empty());
}

#[test]
fn a_reason_is_required_and_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = create(dir.path());
    let (draft, _) = draft_with_content(&mut vault, "Esperanza Villalobos");
    for reason in ["", "   ", "first line\nsecond line", &"x".repeat(201)] {
        let confirmation = fresh(&mut vault, PASSPHRASE);
        let result = vault.delete_record(confirmation, &draft, reason);
        assert!(
            matches!(result, Err(Error::Invalid(_))),
            "{reason:?}: {result:?}"
        );
    }
    vault.draft(&draft).expect("the draft is still there");
    assert!(tombstones(&mut vault).is_empty());
}

#[test]
fn the_retention_policy_is_stored_and_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = create(dir.path());
    assert_eq!(
        vault.retention_policy().expect("policy"),
        RetentionPolicy::default()
    );
    assert_eq!(
        RetentionPolicy::default(),
        RetentionPolicy {
            drafts_days: Some(30),
            unreceipted_days: Some(90),
            received_days: Some(365),
            attachments_days: None,
            audit_days: Some(2555),
        }
    );

    let policy = RetentionPolicy {
        drafts_days: Some(14),
        unreceipted_days: None,
        received_days: Some(730),
        attachments_days: Some(60),
        audit_days: Some(3650),
    };
    let confirmation = fresh(&mut vault, PASSPHRASE);
    vault
        .set_retention_policy(confirmation, &policy)
        .expect("set policy");
    assert_eq!(vault.retention_policy().expect("policy"), policy);

    let confirmation = fresh(&mut vault, PASSPHRASE);
    let zero = RetentionPolicy {
        drafts_days: Some(0),
        ..RetentionPolicy::default()
    };
    let result = vault.set_retention_policy(confirmation, &zero);
    assert!(matches!(result, Err(Error::Invalid(_))), "{result:?}");

    drop(vault);
    let mut vault = Vault::sign_in(
        dir.path(),
        "Maria",
        &passphrase(PASSPHRASE),
        None,
        unix_now(),
    )
    .expect("sign in");
    assert_eq!(vault.retention_policy().expect("policy"), policy);
    let entries = audit_entries(&mut vault);
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["action"] == "retention.set_policy")
            .count(),
        1
    );
}

#[test]
fn retention_deletes_drafts_older_than_the_policy_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = create(dir.path());
    let confirmation = fresh(&mut vault, PASSPHRASE);
    vault
        .set_retention_policy(
            confirmation,
            &RetentionPolicy {
                drafts_days: Some(30),
                ..RetentionPolicy::default()
            },
        )
        .expect("set policy");
    let now = unix_now();
    let (draft, attachment) = draft_with_content(&mut vault, "Esperanza Villalobos");

    let report = vault.run_retention(now + 29 * DAY).expect("retention");
    assert_eq!(report, RetentionReport::default());
    vault.draft(&draft).expect("kept within the policy");

    let report = vault.run_retention(now + 31 * DAY).expect("retention");
    assert_eq!(
        report,
        RetentionReport {
            drafts: 1,
            attachments: 1,
            ..RetentionReport::default()
        }
    );
    assert!(is_not_found(&vault.draft(&draft)));
    let reason = "kept longer than the 30-day policy for drafts";
    assert_eq!(
        tombstones(&mut vault),
        BTreeSet::from([
            tombstone(&draft, "draft", reason),
            tombstone(&attachment, "attachment", reason),
        ])
    );

    vault.verify_audit().expect("the audit log verifies");
    let entries = audit_entries(&mut vault);
    let runs = entries
        .iter()
        .filter(|e| e["action"] == "retention.run")
        .inspect(|e| assert_eq!(e["account_id"], Value::Null))
        .count();
    assert_eq!(runs, 2);
    let expired: BTreeSet<&str> = entries
        .iter()
        .filter(|e| e["action"] == "record.expire")
        .map(|e| {
            assert_eq!(e["account_id"], Value::Null);
            assert_eq!(e["member_id"], Value::Null);
            e["object_id"].as_str().expect("an object id")
        })
        .collect();
    assert_eq!(
        expired,
        BTreeSet::from([draft.as_str(), attachment.as_str()])
    );
}

#[test]
fn retention_covers_every_account_on_the_laptop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = create(dir.path());
    let mut second = second_account(&mut vault, dir.path());
    let now = unix_now();
    let (theirs, _) = draft_with_content(&mut second, "Tomas Okafor");
    let (mine, _) = draft_with_content(&mut vault, "Esperanza Villalobos");

    let report = vault.run_retention(now + 31 * DAY).expect("retention");
    assert_eq!(report.drafts, 2);
    assert!(is_not_found(&second.draft(&theirs)));
    assert!(is_not_found(&vault.draft(&mine)));
    assert_eq!(second.tombstones().expect("tombstones").len(), 4);
}

#[test]
fn retention_prunes_the_audit_log_only_through_old_checkpoints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut vault = create(dir.path());
    let confirmation = fresh(&mut vault, PASSPHRASE);
    vault
        .set_retention_policy(
            confirmation,
            &RetentionPolicy {
                audit_days: Some(1),
                ..RetentionPolicy::default()
            },
        )
        .expect("set policy");
    draft_with_content(&mut vault, "Esperanza Villalobos");
    let now = unix_now();

    // Everything is younger than a day: nothing goes, but the run signs a
    // checkpoint.
    let report = vault.run_retention(now).expect("retention");
    assert_eq!(report.audit_entries, 0);
    let before = vault.verify_audit().expect("the audit log verifies");
    assert_eq!(before.first_seq, 1);

    // Two days on, everything up to that checkpoint may go.
    let report = vault.run_retention(now + 2 * DAY).expect("retention");
    assert_eq!(report.audit_entries, before.last_seq);
    let after = vault.verify_audit().expect("the audit log still verifies");
    assert_eq!(after.first_seq, before.last_seq + 1);
    assert!(after.entries >= 1, "this run's own entry stays");

    // Within the period, nothing more goes.
    let report = vault.run_retention(now).expect("retention");
    assert_eq!(report.audit_entries, 0);
    vault.verify_audit().expect("the audit log still verifies");
}
