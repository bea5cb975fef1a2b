//! Deleting client records for good, and keeping them no longer than the
//! organisation allows.
//!
//! # Crypto-shredding
//!
//! Every record's content is sealed under its own content key, and the
//! record's row holds that key only wrapped under the owning account's key
//! (see `crypto.rs`). Deleting a record therefore starts by overwriting the
//! wrapped key with zero bytes: from then on every sealed copy of the
//! record's content, wherever it lingers, is unreadable. Then the record's
//! rows go: a draft with its answers, its attachments and their chunks (and,
//! when staff delete it by hand, any outbox entry made from it); a received
//! submission with its attachments. A tombstone takes each deleted record's
//! place, and each tombstone gets an audit entry. All of that is one
//! transaction: either the record is gone and accounted for, or nothing
//! changed.
//!
//! Tombstones and audit entries name ids, kinds and times only. A tombstone
//! also says why the record went: the reason staff gave (checked to be 1 to
//! [`MAX_REASON_CHARS`] characters with no control characters), or a fixed
//! text naming the retention policy. Staff must not write client details in
//! a reason; the audit entry never carries it.
//!
//! After the transaction commits, the write-ahead log is checkpointed and
//! truncated, so the old page images leave it too. The database runs with
//! `secure_delete` on, so freed pages are zeroed in the main file.
//!
//! # Retention
//!
//! A [`RetentionPolicy`] says how many days each kind of record may be kept:
//! drafts (by their last change), outbox entries not yet receipted (by when
//! they were queued), received submissions (by when they arrived) and,
//! optionally, attachments on their own (by when they were stored), plus
//! the audit log. [`Vault::run_retention`] applies the stored policy to the
//! records of every account on the laptop, as a system action: the audit
//! entries it writes have no actor. It runs whenever the vault is opened
//! (see [`run_on_open`]) and can be run at any other time.
//!
//! The audit log is pruned more carefully: only from its start, only through
//! a signed checkpoint, and only through the newest checkpoint before the
//! first entry still inside the policy, so no entry younger than the policy
//! is ever removed. It is pruned only when the whole log verifies; a log
//! that does not is kept intact for investigation. Every run ends with a
//! signed checkpoint, so the next run has a recent point to prune to.

use rusqlite::{Connection, OptionalExtension};
use satchel_seal::directory::Policies;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::vault::{
    FreshAuth, Outcome, Vault, device_key, device_public_keys, record, unix_now_ms,
};

/// The longest reason for a deletion, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// The longest retention period accepted, in days (about a hundred years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// The setting the retention policy is stored under, as JSON.
const POLICY_SETTING: &str = "retention.policy";

/// Seconds in a day.
const SECONDS_PER_DAY: i64 = 86_400;

/// What remains of a deleted record: never any of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    /// The deleted record's id, such as `draft-3f9a0c21d4e5b687`.
    pub id: String,
    /// What it was: `draft`, `inbox`, `outbox` or `attachment`.
    pub kind: String,
    /// When it was deleted (UTC, RFC 3339 with milliseconds).
    pub deleted_at: String,
    /// Why: the reason staff gave, or the retention policy that expired it.
    pub reason: String,
}

/// How long each kind of record may be kept, in days; `None` keeps it
/// until someone deletes it.
///
/// Stored as JSON. A field missing from stored JSON takes its default, so a
/// policy saved by an older build still reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetentionPolicy {
    /// Drafts, counted from their last change.
    pub drafts_days: Option<u32>,
    /// Outbox entries whose delivery has not been receipted, counted from
    /// when they were queued.
    pub unreceipted_days: Option<u32>,
    /// Received submissions (the inbox), counted from their arrival.
    pub received_days: Option<u32>,
    /// Attachments on their own, counted from when they were stored. With
    /// `None` an attachment stays as long as its record; with a number,
    /// older attachments are removed from their records.
    pub attachments_days: Option<u32>,
    /// Audit entries, counted from when they were written.
    pub audit_days: Option<u32>,
}

impl Default for RetentionPolicy {
    /// Drafts 30 days, unreceipted outbox entries 90, received submissions
    /// 365, attachments as long as their record, audit entries 2,555 (seven
    /// years).
    fn default() -> Self {
        Self {
            drafts_days: Some(30),
            unreceipted_days: Some(90),
            received_days: Some(365),
            attachments_days: None,
            audit_days: Some(2_555),
        }
    }
}

impl RetentionPolicy {
    /// The policy the organisation's directory sets: its periods for drafts
    /// and received submissions, and the local defaults for the rest. A
    /// period of 0 days in the directory is read as "no limit" rather than
    /// "delete at once".
    pub fn from_directory(policies: &Policies) -> Self {
        let days = |value: u32| (value > 0).then_some(value.min(MAX_RETENTION_DAYS));
        Self {
            drafts_days: days(policies.retention_days_drafts),
            received_days: days(policies.retention_days_received),
            ..Self::default()
        }
    }

    /// Refuses periods outside 1 to [`MAX_RETENTION_DAYS`] days.
    fn check(&self) -> Result<()> {
        for (what, days) in [
            ("drafts", self.drafts_days),
            ("unsent submissions", self.unreceipted_days),
            ("received submissions", self.received_days),
            ("attachments", self.attachments_days),
            ("the audit log", self.audit_days),
        ] {
            if let Some(days) = days
                && !(1..=MAX_RETENTION_DAYS).contains(&days)
            {
                return Err(Error::Invalid(format!(
                    "the retention period for {what} must be 1 to {MAX_RETENTION_DAYS} days, \
                     or no limit"
                )));
            }
        }
        Ok(())
    }
}

/// What one retention run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Drafts deleted.
    pub drafts: usize,
    /// Outbox entries deleted.
    pub outbox: usize,
    /// Received submissions deleted.
    pub inbox: usize,
    /// Attachments deleted, whether with their record or on their own.
    pub attachments: usize,
    /// Audit entries pruned.
    pub audit_entries: u64,
}

impl Vault {
    /// Deletes one of the signed-in account's records and everything about
    /// it, for good: a draft with its answers, its attachments and any
    /// outbox entry made from it, or a received submission with its
    /// attachments. Each deleted record leaves a tombstone with `reason`.
    ///
    /// Needs the passphrase typed again. `reason` must be 1 to
    /// [`MAX_REASON_CHARS`] characters without control characters, and
    /// must not hold client details. Another account's record is reported
    /// as [`Error::RecordNotFound`], as if it did not exist.
    pub fn delete_record(&mut self, fresh: FreshAuth, record_id: &str, reason: &str) -> Result<()> {
        self.require_fresh(fresh)?;
        let reason = check_reason(reason)?;
        let owner = self.account().id.clone();
        let actor = self.actor();
        let conn = self.connection()?;
        let tx = conn.unchecked_transaction()?;
        let removal = Removal {
            actor: Some(&actor),
            action: "record.delete",
            reason,
        };
        let mut removed = RetentionReport::default();
        if owns(&tx, "drafts", record_id, &owner)? {
            shred_draft(&tx, record_id, true, &removal, &mut removed)?;
        } else if owns(&tx, "inbox", record_id, &owner)? {
            shred_inbox(&tx, record_id, &removal, &mut removed)?;
        } else {
            return Err(Error::RecordNotFound {
                kind: "record",
                id: record_id.to_owned(),
            });
        }
        tx.commit()?;
        truncate_wal(conn);
        tracing::info!(
            record.id = record_id,
            attachments = removed.attachments,
            outbox = removed.outbox,
            "record deleted"
        );
        Ok(())
    }

    /// Every tombstone, oldest first. Any account may list them: they hold
    /// no content.
    pub fn tombstones(&mut self) -> Result<Vec<Tombstone>> {
        let conn = self.connection()?;
        let mut statement = conn.prepare(
            "SELECT id, kind, deleted_at, reason FROM tombstones ORDER BY deleted_at, id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(Tombstone {
                id: row.get(0)?,
                kind: row.get(1)?,
                deleted_at: row.get(2)?,
                reason: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Stores the retention policy the next runs apply. Needs the
    /// passphrase typed again; each period must be 1 to
    /// [`MAX_RETENTION_DAYS`] days, or `None` for no limit.
    pub fn set_retention_policy(
        &mut self,
        fresh: FreshAuth,
        policy: &RetentionPolicy,
    ) -> Result<()> {
        self.require_fresh(fresh)?;
        policy.check()?;
        let json = serde_json::to_string(policy).map_err(|e| {
            Error::Invalid(format!("the retention policy could not be stored: {e}"))
        })?;
        let actor = self.actor();
        let conn = self.connection()?;
        let tx = conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            (POLICY_SETTING, &json),
        )?;
        record(&tx, Some(&actor), "retention.set_policy", None, Outcome::Ok)?;
        tx.commit()?;
        tracing::info!(?policy, "retention policy changed");
        Ok(())
    }

    /// The stored retention policy, or the [default](RetentionPolicy::default)
    /// when none has been set.
    pub fn retention_policy(&mut self) -> Result<RetentionPolicy> {
        stored_policy(self.connection()?)
    }

    /// Applies the stored retention policy to the records of every account
    /// on this laptop, as of `now` (Unix seconds), and prunes the audit log.
    ///
    /// Every expired record is shredded and tombstoned as
    /// [`delete_record`](Self::delete_record) does, with a reason naming the
    /// policy; the run is audited as the system's own action
    /// (`retention.run`, then `record.expire` per record). Outbox entries
    /// made from an expired draft stay: they follow their own period.
    pub fn run_retention(&mut self, now: i64) -> Result<RetentionReport> {
        let policy = self.retention_policy()?;
        let conn = self.connection()?;
        let tx = conn.unchecked_transaction()?;
        record(&tx, None, "retention.run", None, Outcome::Ok)?;
        let mut report = RetentionReport::default();

        if let Some(days) = policy.drafts_days {
            let reason = policy_reason(days, "drafts");
            let removal = Removal::expiry(&reason);
            for id in older_than(
                &tx,
                "SELECT id FROM drafts WHERE updated_at < ?1",
                now,
                days,
            )? {
                shred_draft(&tx, &id, false, &removal, &mut report)?;
            }
        }
        if let Some(days) = policy.unreceipted_days {
            let reason = policy_reason(days, "submissions not yet confirmed as received");
            let removal = Removal::expiry(&reason);
            let sql = "SELECT id FROM outbox WHERE state != 'receipted' AND created_at < ?1";
            for id in older_than(&tx, sql, now, days)? {
                delete_outbox(&tx, &id, &removal, &mut report)?;
            }
        }
        if let Some(days) = policy.received_days {
            let reason = policy_reason(days, "received submissions");
            let removal = Removal::expiry(&reason);
            for id in older_than(
                &tx,
                "SELECT id FROM inbox WHERE received_at < ?1",
                now,
                days,
            )? {
                shred_inbox(&tx, &id, &removal, &mut report)?;
            }
        }
        if let Some(days) = policy.attachments_days {
            let reason = policy_reason(days, "attachments");
            let removal = Removal::expiry(&reason);
            let sql = "SELECT id FROM attachments WHERE created_at < ?1";
            for id in older_than(&tx, sql, now, days)? {
                shred_attachment(&tx, &id, &removal, &mut report)?;
            }
        }
        if let Some(days) = policy.audit_days {
            report.audit_entries = prune_audit(&tx, cutoff(now, days))?;
        }
        audit::checkpoint(&tx, &device_key(&tx)?, unix_now_ms())?;
        tx.commit()?;
        truncate_wal(conn);
        tracing::info!(?report, "retention run finished");
        Ok(report)
    }
}

/// Runs retention when a vault has just been opened, as of `now` (Unix
/// seconds), and returns what it removed.
///
/// A failure here should be logged rather than stop the person signing in:
/// the next open tries again.
pub(crate) fn run_on_open(vault: &mut Vault, now: i64) -> Result<RetentionReport> {
    vault.run_retention(now)
}

/// Who removes records, under which audit action, and why.
struct Removal<'a> {
    actor: Option<&'a Actor>,
    action: &'static str,
    reason: &'a str,
}

impl<'a> Removal<'a> {
    /// Removal by the retention policy: a system action.
    fn expiry(reason: &'a str) -> Self {
        Self {
            actor: None,
            action: "record.expire",
            reason,
        }
    }
}

/// The kinds of record a tombstone can stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Draft,
    Outbox,
    Inbox,
    Attachment,
    /// A received envelope, by its envelope id: what keeps the same
    /// envelope, delivered again, from being stored again.
    Envelope,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Outbox => "outbox",
            Self::Inbox => "inbox",
            Self::Attachment => "attachment",
            Self::Envelope => "envelope",
        }
    }
}

/// Deletes a draft with its answers and attachments and, when
/// `with_outbox` is set, the outbox entries made from it.
fn shred_draft(
    conn: &Connection,
    id: &str,
    with_outbox: bool,
    removal: &Removal<'_>,
    removed: &mut RetentionReport,
) -> Result<()> {
    let attachments = ids(conn, "SELECT id FROM attachments WHERE draft_id = ?1", id)?;
    conn.execute(
        "UPDATE attachments SET content_key = zeroblob(length(content_key)) WHERE draft_id = ?1",
        [id],
    )?;
    conn.execute(
        "UPDATE drafts SET content_key = zeroblob(length(content_key)) WHERE id = ?1",
        [id],
    )?;
    if with_outbox {
        for outbox_id in ids(conn, "SELECT id FROM outbox WHERE draft_id = ?1", id)? {
            delete_outbox(conn, &outbox_id, removal, removed)?;
        }
    }
    conn.execute(
        "DELETE FROM attachment_chunks
         WHERE attachment_id IN (SELECT id FROM attachments WHERE draft_id = ?1)",
        [id],
    )?;
    conn.execute("DELETE FROM attachments WHERE draft_id = ?1", [id])?;
    conn.execute("DELETE FROM answers WHERE draft_id = ?1", [id])?;
    conn.execute("DELETE FROM drafts WHERE id = ?1", [id])?;
    for attachment in &attachments {
        tombstone(conn, attachment, Kind::Attachment, removal)?;
    }
    removed.attachments += attachments.len();
    tombstone(conn, id, Kind::Draft, removal)?;
    removed.drafts += 1;
    Ok(())
}

/// Deletes a received submission with its attachments.
fn shred_inbox(
    conn: &Connection,
    id: &str,
    removal: &Removal<'_>,
    removed: &mut RetentionReport,
) -> Result<()> {
    let attachments = ids(conn, "SELECT id FROM attachments WHERE inbox_id = ?1", id)?;
    let envelope_id: String =
        conn.query_row("SELECT envelope_id FROM inbox WHERE id = ?1", [id], |row| {
            row.get(0)
        })?;
    conn.execute(
        "UPDATE attachments SET content_key = zeroblob(length(content_key)) WHERE inbox_id = ?1",
        [id],
    )?;
    conn.execute(
        "UPDATE inbox SET content_key = zeroblob(length(content_key)) WHERE id = ?1",
        [id],
    )?;
    conn.execute(
        "DELETE FROM attachment_chunks
         WHERE attachment_id IN (SELECT id FROM attachments WHERE inbox_id = ?1)",
        [id],
    )?;
    conn.execute("DELETE FROM attachments WHERE inbox_id = ?1", [id])?;
    conn.execute("DELETE FROM inbox WHERE id = ?1", [id])?;
    for attachment in &attachments {
        tombstone(conn, attachment, Kind::Attachment, removal)?;
    }
    removed.attachments += attachments.len();
    tombstone(conn, id, Kind::Inbox, removal)?;
    tombstone(
        conn,
        &envelope_tombstone(&envelope_id),
        Kind::Envelope,
        removal,
    )?;
    removed.inbox += 1;
    Ok(())
}

/// Removes one attachment from its record.
fn shred_attachment(
    conn: &Connection,
    id: &str,
    removal: &Removal<'_>,
    removed: &mut RetentionReport,
) -> Result<()> {
    conn.execute(
        "UPDATE attachments SET content_key = zeroblob(length(content_key)) WHERE id = ?1",
        [id],
    )?;
    conn.execute(
        "DELETE FROM attachment_chunks WHERE attachment_id = ?1",
        [id],
    )?;
    conn.execute("DELETE FROM attachments WHERE id = ?1", [id])?;
    tombstone(conn, id, Kind::Attachment, removal)?;
    removed.attachments += 1;
    Ok(())
}

/// Deletes an outbox entry with its envelope's bytes. The envelope is
/// sealed to its recipients and has no content key here to shred.
fn delete_outbox(
    conn: &Connection,
    id: &str,
    removal: &Removal<'_>,
    removed: &mut RetentionReport,
) -> Result<()> {
    conn.execute("DELETE FROM outbox_chunks WHERE outbox_id = ?1", [id])?;
    conn.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
    tombstone(conn, id, Kind::Outbox, removal)?;
    removed.outbox += 1;
    Ok(())
}

/// The tombstone id that marks a received envelope as deleted.
pub(crate) fn envelope_tombstone(envelope_id: &str) -> String {
    format!("envelope-{envelope_id}")
}

/// Records a deleted record's tombstone and its audit entry.
fn tombstone(conn: &Connection, id: &str, kind: Kind, removal: &Removal<'_>) -> Result<()> {
    conn.execute(
        "INSERT INTO tombstones (id, kind, deleted_at, reason)
         VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?3)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind,
             deleted_at = excluded.deleted_at, reason = excluded.reason",
        (id, kind.as_str(), removal.reason),
    )?;
    record(conn, removal.actor, removal.action, Some(id), Outcome::Ok)
}

/// Whether `owner` owns the record `id` in `table`.
fn owns(conn: &Connection, table: &str, id: &str, owner: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            &format!("SELECT 1 FROM {table} WHERE id = ?1 AND owner = ?2"),
            (id, owner),
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The ids a one-parameter query returns.
fn ids(conn: &Connection, sql: &str, parameter: &str) -> Result<Vec<String>> {
    let mut statement = conn.prepare(sql)?;
    let rows = statement.query_map([parameter], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The ids `sql` returns for a cutoff `days` before `now`. The query
/// compares a stored time with `?1`, the cutoff as stored times are
/// written.
fn older_than(conn: &Connection, sql: &str, now: i64, days: u32) -> Result<Vec<String>> {
    let cutoff = cutoff_text(conn, cutoff(now, days))?;
    let Some(cutoff) = cutoff else {
        return Ok(Vec::new());
    };
    ids(conn, sql, &cutoff)
}

/// The time `days` before `now`, in Unix seconds.
fn cutoff(now: i64, days: u32) -> i64 {
    now.saturating_sub(i64::from(days).saturating_mul(SECONDS_PER_DAY))
}

/// Unix seconds as stored times are written (UTC, RFC 3339 with
/// milliseconds), or `None` when SQLite cannot represent the time.
fn cutoff_text(conn: &Connection, unix_seconds: i64) -> Result<Option<String>> {
    Ok(conn.query_row(
        "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?1, 'unixepoch')",
        [unix_seconds],
        |row| row.get(0),
    )?)
}

/// Prunes the audit log through the newest checkpoint that lies before
/// every entry written at or after `cutoff` (Unix seconds), if the log
/// verifies. Returns how many entries were removed.
fn prune_audit(conn: &Connection, cutoff: i64) -> Result<u64> {
    let Some(cutoff) = cutoff_text(conn, cutoff)? else {
        return Ok(0);
    };
    let first_kept: Option<i64> = conn.query_row(
        "SELECT min(seq) FROM audit_log WHERE at >= ?1",
        [&cutoff],
        |row| row.get(0),
    )?;
    let target: Option<i64> = conn.query_row(
        "SELECT max(seq) FROM audit_checkpoints WHERE seq < coalesce(?1, 9223372036854775807)",
        [first_kept],
        |row| row.get(0),
    )?;
    let pruned_through: i64 = conn.query_row(
        "SELECT pruned_through FROM audit_state WHERE id = 1",
        [],
        |row| row.get(0),
    )?;
    let Some(target) = target.filter(|&target| target > pruned_through) else {
        return Ok(0);
    };
    if let Err(error) = audit::verify(conn, &device_public_keys(conn)?) {
        tracing::warn!(%error, "the audit log does not verify, so it was not pruned");
        return Ok(0);
    }
    let target = u64::try_from(target).map_err(|_| Error::Damaged)?;
    audit::prune_through(conn, target)
}

/// Checkpoints the write-ahead log and truncates it, so page images of
/// deleted records leave it. A reader holding an old snapshot can stop the
/// truncation; the next checkpoint finishes it.
fn truncate_wal(conn: &Connection) {
    let result = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        row.get::<_, i64>(0)
    });
    match result {
        Ok(0) => {}
        Ok(_) => tracing::warn!("another reader kept the write-ahead log from being emptied"),
        Err(error) => tracing::warn!(%error, "could not empty the write-ahead log"),
    }
}

/// The stored retention policy, or the default.
fn stored_policy(conn: &Connection) -> Result<RetentionPolicy> {
    let json: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [POLICY_SETTING],
            |row| row.get(0),
        )
        .optional()?;
    let Some(json) = json else {
        return Ok(RetentionPolicy::default());
    };
    let policy: RetentionPolicy = serde_json::from_str(&json).map_err(|_| {
        Error::Invalid(
            "the stored retention policy cannot be read; ask an administrator to set it again"
                .to_owned(),
        )
    })?;
    policy.check()?;
    Ok(policy)
}

/// The reason written on tombstones of records a policy expired.
fn policy_reason(days: u32, what: &str) -> String {
    format!("kept longer than the {days}-day policy for {what}")
}

/// Checks a reason for a deletion and returns it trimmed.
fn check_reason(reason: &str) -> Result<&str> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(Error::Invalid(format!(
            "give a reason for deleting this record, at most {MAX_REASON_CHARS} characters"
        )));
    }
    if reason.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "the reason cannot contain line breaks or control characters".to_owned(),
        ));
    }
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use satchel_seal::directory::Role;

    use super::*;
    use crate::account::NewAccount;
    use crate::secret::Passphrase;

    const PASSPHRASE: &str = "violet tractor quietly umbrella 42";
    const DAY: i64 = SECONDS_PER_DAY;

    fn vault(dir: &std::path::Path) -> Vault {
        let passphrase = Passphrase::new(PASSPHRASE.to_owned());
        let (vault, _code) = Vault::create(
            dir,
            &NewAccount {
                name: "Maria",
                member_id: "m-maria",
                roles: BTreeSet::from([Role::Attorney]),
                passphrase: &passphrase,
            },
            crate::unix_now(),
        )
        .expect("create");
        vault
    }

    fn fresh(vault: &mut Vault) -> FreshAuth {
        vault
            .reauthenticate(&Passphrase::new(PASSPHRASE.to_owned()), crate::unix_now())
            .expect("reauthenticate")
    }

    /// Stored time text for `unix_seconds`.
    fn at(conn: &Connection, unix_seconds: i64) -> String {
        cutoff_text(conn, unix_seconds)
            .expect("time")
            .expect("in range")
    }

    fn insert_inbox(vault: &mut Vault, id: &str, received: i64) {
        let owner = vault.account().id.clone();
        let conn = vault.connection().expect("open");
        let received_at = at(conn, received);
        conn.execute(
            "INSERT INTO inbox (id, owner, submission_id, envelope_id, content_key, manifest,
                                sender_member, sender_device, received_at)
             VALUES (?1, ?2, ?1 || '-sub', ?1 || '-env', randomblob(72), randomblob(200),
                     'm-intake', 'dev-1', ?3)",
            (id, &owner, &received_at),
        )
        .expect("insert inbox entry");
        let attachment = format!("{id}-file");
        conn.execute(
            "INSERT INTO attachments (id, owner, inbox_id, field, content_key, meta, size,
                                      chunks, state, created_at)
             VALUES (?1, ?2, ?3, 'lease', randomblob(72), randomblob(90), 10, 1, 'complete', ?4)",
            (&attachment, &owner, id, &received_at),
        )
        .expect("insert attachment");
        conn.execute(
            "INSERT INTO attachment_chunks (attachment_id, seq, data)
             VALUES (?1, 0, randomblob(50))",
            [&attachment],
        )
        .expect("insert chunk");
    }

    fn insert_outbox(vault: &mut Vault, id: &str, draft: Option<&str>, state: &str, created: i64) {
        let owner = vault.account().id.clone();
        let conn = vault.connection().expect("open");
        let created_at = at(conn, created);
        conn.execute(
            "INSERT INTO outbox (id, owner, draft_id, submission_id, envelope_id, envelope_len,
                                 recipients, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?1 || '-sub', ?1 || '-env', 50, '[]', ?4, ?5, ?5)",
            (id, &owner, draft, state, &created_at),
        )
        .expect("insert outbox entry");
        conn.execute(
            "INSERT INTO outbox_chunks (outbox_id, seq, data) VALUES (?1, 0, randomblob(50))",
            [id],
        )
        .expect("insert chunk");
    }

    fn count(vault: &mut Vault, sql: &str) -> i64 {
        vault
            .connection()
            .expect("open")
            .query_row(sql, [], |row| row.get(0))
            .expect("count")
    }

    fn tombstone_ids(vault: &mut Vault) -> BTreeSet<(String, String)> {
        vault
            .tombstones()
            .expect("tombstones")
            .into_iter()
            .map(|t| (t.id, t.kind))
            .collect()
    }

    fn pair(id: &str, kind: &str) -> (String, String) {
        (id.to_owned(), kind.to_owned())
    }

    #[test]
    fn deleting_an_inbox_entry_removes_its_attachments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut vault = vault(dir.path());
        let now = crate::unix_now();
        insert_inbox(&mut vault, "inbox-1", now);
        insert_inbox(&mut vault, "inbox-2", now);

        let fresh = fresh(&mut vault);
        vault
            .delete_record(fresh, "inbox-1", "client withdrew consent")
            .expect("delete");
        assert_eq!(
            count(
                &mut vault,
                "SELECT count(*) FROM inbox WHERE id = 'inbox-1'"
            ),
            0
        );
        assert_eq!(
            count(
                &mut vault,
                "SELECT count(*) FROM attachments WHERE inbox_id IS NULL AND draft_id IS NULL"
            ),
            0
        );
        assert_eq!(
            count(&mut vault, "SELECT count(*) FROM attachment_chunks"),
            1
        );
        assert_eq!(count(&mut vault, "SELECT count(*) FROM inbox"), 1);
        assert_eq!(
            tombstone_ids(&mut vault),
            BTreeSet::from([
                pair("inbox-1", "inbox"),
                pair("inbox-1-file", "attachment"),
                pair("envelope-inbox-1-env", "envelope"),
            ])
        );
        vault.verify_audit().expect("audit verifies");
    }

    #[test]
    fn deleting_a_draft_takes_its_outbox_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut vault = vault(dir.path());
        let draft = vault.create_draft("eviction", "1").expect("draft");
        insert_outbox(
            &mut vault,
            "out-1",
            Some(&draft),
            "queued",
            crate::unix_now(),
        );
        let fresh = fresh(&mut vault);
        vault
            .delete_record(fresh, &draft, "entered by mistake")
            .expect("delete");
        assert_eq!(count(&mut vault, "SELECT count(*) FROM outbox"), 0);
        assert_eq!(count(&mut vault, "SELECT count(*) FROM outbox_chunks"), 0);
        assert_eq!(
            tombstone_ids(&mut vault),
            BTreeSet::from([pair(&draft, "draft"), pair("out-1", "outbox")])
        );
    }

    #[test]
    fn retention_expires_old_inbox_and_unreceipted_outbox_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut vault = vault(dir.path());
        let now = crate::unix_now();
        insert_inbox(&mut vault, "inbox-old", now - 400 * DAY);
        insert_inbox(&mut vault, "inbox-new", now - 300 * DAY);
        insert_outbox(&mut vault, "out-old", None, "uploaded", now - 91 * DAY);
        insert_outbox(&mut vault, "out-sent", None, "receipted", now - 400 * DAY);
        insert_outbox(&mut vault, "out-new", None, "queued", now - 89 * DAY);

        let report = vault.run_retention(now).expect("retention");
        assert_eq!(
            report,
            RetentionReport {
                drafts: 0,
                outbox: 1,
                inbox: 1,
                attachments: 1,
                audit_entries: 0,
            }
        );
        let tombstones = vault.tombstones().expect("tombstones");
        let reasons: BTreeSet<(String, String)> =
            tombstones.into_iter().map(|t| (t.id, t.reason)).collect();
        assert_eq!(
            reasons,
            BTreeSet::from([
                pair(
                    "inbox-old",
                    "kept longer than the 365-day policy for received submissions"
                ),
                pair(
                    "inbox-old-file",
                    "kept longer than the 365-day policy for received submissions"
                ),
                pair(
                    "envelope-inbox-old-env",
                    "kept longer than the 365-day policy for received submissions"
                ),
                pair(
                    "out-old",
                    "kept longer than the 90-day policy for submissions not yet confirmed as received"
                ),
            ])
        );
        assert_eq!(count(&mut vault, "SELECT count(*) FROM inbox"), 1);
        assert_eq!(count(&mut vault, "SELECT count(*) FROM outbox"), 2);
        assert_eq!(
            count(
                &mut vault,
                "SELECT count(*) FROM audit_log WHERE action = 'record.expire' AND account_id IS NULL"
            ),
            // The inbox entry, its attachment, its envelope, the outbox entry.
            4
        );
        vault.verify_audit().expect("audit verifies");
    }

    #[test]
    fn an_attachment_policy_removes_old_attachments_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut vault = vault(dir.path());
        let now = crate::unix_now();
        insert_inbox(&mut vault, "inbox-1", now - 20 * DAY);
        let fresh = fresh(&mut vault);
        vault
            .set_retention_policy(
                fresh,
                &RetentionPolicy {
                    attachments_days: Some(10),
                    ..RetentionPolicy::default()
                },
            )
            .expect("policy");
        let report = vault.run_retention(now).expect("retention");
        assert_eq!(report.attachments, 1);
        assert_eq!(report.inbox, 0);
        assert_eq!(count(&mut vault, "SELECT count(*) FROM inbox"), 1);
        assert_eq!(count(&mut vault, "SELECT count(*) FROM attachments"), 0);
        assert_eq!(
            tombstone_ids(&mut vault),
            BTreeSet::from([pair("inbox-1-file", "attachment")])
        );
    }

    #[test]
    fn reasons_are_checked() {
        assert_eq!(check_reason("  duplicate  ").expect("ok"), "duplicate");
        check_reason(&"x".repeat(MAX_REASON_CHARS)).expect("the longest reason");
        for bad in [
            "",
            "   ",
            "line\nbreak",
            "tab\tbed",
            &"x".repeat(MAX_REASON_CHARS + 1),
        ] {
            assert!(
                matches!(check_reason(bad), Err(Error::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn policies_are_checked_and_read_from_the_directory() {
        RetentionPolicy::default()
            .check()
            .expect("the default is valid");
        let zero = RetentionPolicy {
            drafts_days: Some(0),
            ..RetentionPolicy::default()
        };
        assert!(matches!(zero.check(), Err(Error::Invalid(_))));

        let policies = Policies {
            escrow_required: false,
            idle_lock_minutes: 15,
            totp_roles: BTreeSet::new(),
            expiry_grace_seconds: 0,
            retention_days_received: 180,
            retention_days_drafts: 0,
        };
        assert_eq!(
            RetentionPolicy::from_directory(&policies),
            RetentionPolicy {
                drafts_days: None,
                received_days: Some(180),
                ..RetentionPolicy::default()
            }
        );
    }

    #[test]
    fn missing_policy_fields_take_their_defaults() {
        let policy: RetentionPolicy =
            serde_json::from_str(r#"{"drafts_days": 7, "audit_days": null}"#).expect("json");
        assert_eq!(
            policy,
            RetentionPolicy {
                drafts_days: Some(7),
                audit_days: None,
                ..RetentionPolicy::default()
            }
        );
    }
}
