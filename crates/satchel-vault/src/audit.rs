//! The audit log: append-only, hash-chained, with checkpoints signed by the
//! device key.
//!
//! Every entry says who did what to which record and how it ended: the
//! acting account and member (both absent for the system's own actions,
//! such as retention runs), an action name such as `draft.finalize`, the id
//! of the object acted on, if any, and the outcome (`ok`, `refused` or
//! `failed`), stamped with the UTC time to the millisecond. The log never
//! holds content: no answers, no names, no file names, nothing a person
//! typed. Only ids and action names go in, and `append` refuses anything
//! that does not look like one.
//!
//! # The chain
//!
//! Entries are numbered from 1 without gaps. Each one commits to the one
//! before it:
//!
//! ```text
//! hash = SHA-256( "satchel-audit-v1" 0x00 || prev_hash || canonical JSON )
//! ```
//!
//! where `prev_hash` is the previous entry's hash (32 zero bytes before
//! entry 1) and the canonical JSON (RFC 8785, as
//! [`satchel_seal::canonical::to_canonical_json`] writes it) is the object
//! `{account_id, action, at, member_id, object_id, outcome, seq}`, with
//! `null` for an absent id. Editing, removing or reordering an entry breaks
//! the chain at that point, and `verify` says where.
//!
//! # Checkpoints
//!
//! Someone holding the database key can drop the table's triggers and
//! rewrite the chain from the edit onwards. To pin history down, the device
//! periodically signs the chain's head with its Ed25519 key
//! (`checkpoint`): the signature covers
//!
//! ```text
//! "satchel-audit-checkpoint-v1" 0x00 || seq (u64, big-endian) || hash (32 bytes)
//! ```
//!
//! under the `audit-checkpoint` signature purpose. A rewritten stretch no
//! longer matches the checkpoint after it, and a log cut short no longer
//! reaches its last checkpoint. Entries after the newest checkpoint are
//! held only by the chain, so checkpoint often (`needs_checkpoint`). The
//! device key lives in the same vault, so a checkpoint proves most once it
//! has left the device: entries exported to the auditor
//! (`export_json_lines`) fix everything up to the last entry exported.
//!
//! # Pruning
//!
//! Old entries can be removed only from the start of the log and only up to
//! a checkpoint (`prune_through`). The pruning point and the hash of the
//! entry there (the anchor) are recorded first; the first entry kept then
//! chains from the anchor, and the checkpoint at the pruning point stays so
//! the anchor itself remains signed.
//!
//! # Where the rules live
//!
//! The schema (`migrations/vault/0005_audit.sql`) refuses any UPDATE or
//! DELETE other than pruning, and any insert that does not extend the
//! chain. Those triggers guard against mistakes; `verify` is what catches
//! deliberate tampering. Every function here takes a connection the caller
//! holds a transaction on, so that an action and its audit entry are
//! committed together or not at all.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row};
use satchel_seal::canonical::to_canonical_json;
use satchel_seal::keys::{Purpose, Signature};
use satchel_seal::{PublicKey, SigningSecret};
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The longest action name, in characters.
pub const MAX_ACTION_CHARS: usize = 64;

/// The longest account, member or object id, in characters.
pub const MAX_ID_CHARS: usize = 128;

/// The latest time an entry can carry, 9999-12-31T23:59:59.999Z, in
/// milliseconds since the Unix epoch. Times before the epoch are refused
/// too.
pub const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;

/// The domain tag at the start of every entry hash.
const ENTRY_HASH_TAG: &[u8] = b"satchel-audit-v1\0";

/// The domain tag at the start of every checkpoint's signed message.
const CHECKPOINT_TAG: &[u8] = b"satchel-audit-checkpoint-v1\0";

/// The `prev_hash` of entry 1, and the anchor before any pruning.
const GENESIS: [u8; 32] = [0; 32];

/// Milliseconds in a day.
const MS_PER_DAY: i64 = 86_400_000;

/// The stored columns of an entry, in the order [`read_entry`] reads them.
const ENTRY_COLUMNS: &str =
    "seq, at, account_id, member_id, action, object_id, outcome, prev_hash, hash";

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The action was carried out.
    Ok,
    /// The action was not allowed, so nothing was done.
    Refused,
    /// The action was allowed but did not complete.
    Failed,
}

impl Outcome {
    /// The stored and hashed name of the outcome.
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }

    /// The outcome a stored name stands for.
    fn parse(text: &str) -> Option<Self> {
        match text {
            "ok" => Some(Self::Ok),
            "refused" => Some(Self::Refused),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Who acted: the signed-in account and the organisation member it
/// belongs to. System actions have no actor.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The local account's id.
    pub account_id: String,
    /// The member id the account belongs to in the organisation directory.
    pub member_id: String,
}

/// One entry of the audit log as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The entry's number, counting from 1 without gaps.
    pub seq: u64,
    /// When the action happened: RFC 3339 UTC with milliseconds, such as
    /// `2026-12-03T20:01:34.123Z`.
    pub at: String,
    /// The acting account, absent for system actions.
    pub account_id: Option<String>,
    /// The acting member, absent for system actions.
    pub member_id: Option<String>,
    /// What was done, such as `draft.finalize`.
    pub action: String,
    /// The id of the record acted on, if any.
    pub object_id: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// The entry's chain hash, written as lowercase hex when serialized.
    #[serde(serialize_with = "serialize_hex")]
    pub hash: [u8; 32],
}

/// What `verify` found in a log that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// How many entries the log holds now.
    pub entries: u64,
    /// How many signed checkpoints were checked, the one at the pruning
    /// point included.
    pub checkpoints: u64,
    /// The number of the first entry kept: one past the pruning point.
    pub first_seq: u64,
    /// The number of the last entry. When the log holds no entries this is
    /// `first_seq - 1`.
    pub last_seq: u64,
    /// The hash of the last entry: the pruning anchor when the log holds no
    /// entries, and 32 zero bytes when it never held any.
    pub head: [u8; 32],
}

/// Appends an entry saying that `actor` (or the system, for `None`) did
/// `action` to `object_id` at `at_ms` (milliseconds since the Unix epoch),
/// with `outcome`, and returns it.
///
/// Call it on the same transaction as the action itself, so that both are
/// committed or neither is.
///
/// # Errors
///
/// [`Error::Invalid`] when the action is not 1 to 64 characters of `a-z`,
/// `0-9`, `.`, `_` and `-`, when an id is empty, longer than 128 characters
/// or holds a control character, or when the time lies before 1970 or after
/// 9999. [`Error::AuditBroken`] when the stored head of the log is
/// malformed, and [`Error::Database`] when the insert fails.
pub(crate) fn append(
    conn: &Connection,
    actor: Option<&Actor>,
    action: &str,
    object_id: Option<&str>,
    outcome: Outcome,
    at_ms: i64,
) -> Result<Entry> {
    check_action(action)?;
    if let Some(actor) = actor {
        check_id("account id", &actor.account_id)?;
        check_id("member id", &actor.member_id)?;
    }
    if let Some(object_id) = object_id {
        check_id("object id", object_id)?;
    }
    let at = format_timestamp(at_ms)?;

    let (head_seq, prev_hash) = match log_head(conn)? {
        Some(head) => head,
        None => {
            let state = load_state(conn)?;
            (state.pruned_through, state.anchor)
        }
    };
    let seq = head_seq
        .checked_add(1)
        .ok_or_else(|| Error::AuditBroken("the log has no room for another entry".to_owned()))?;

    let mut entry = Entry {
        seq,
        at,
        account_id: actor.map(|actor| actor.account_id.clone()),
        member_id: actor.map(|actor| actor.member_id.clone()),
        action: action.to_owned(),
        object_id: object_id.map(str::to_owned),
        outcome,
        hash: GENESIS,
    };
    entry.hash = entry_hash(&prev_hash, &entry)?;

    conn.execute(
        "INSERT INTO audit_log (seq, at, account_id, member_id, action, object_id, outcome,
                                prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        (
            sql_int(entry.seq)?,
            &entry.at,
            &entry.account_id,
            &entry.member_id,
            &entry.action,
            &entry.object_id,
            entry.outcome.as_str(),
            &prev_hash[..],
            &entry.hash[..],
        ),
    )?;
    Ok(entry)
}

/// Signs the head of the log with the device key, stamped `at_ms`, and
/// returns the number of the entry signed.
///
/// Before signing, the entries since the previous checkpoint (or since the
/// pruning point) are checked to link up, so a damaged stretch is never
/// signed over. Returns `None`, signing nothing, when the log holds no
/// entries or its head already has a checkpoint.
///
/// # Errors
///
/// [`Error::AuditBroken`] when the entries since the previous checkpoint do
/// not link up, [`Error::Invalid`] when the time is out of range, and
/// [`Error::Database`] when the insert fails.
pub(crate) fn checkpoint(
    conn: &Connection,
    device: &SigningSecret,
    at_ms: i64,
) -> Result<Option<u64>> {
    let at = format_timestamp(at_ms)?;
    let Some((head_seq, _)) = log_head(conn)? else {
        return Ok(None);
    };
    let start = last_signed_point(conn)?;
    if start.seq > head_seq {
        return Err(truncated(head_seq, start.seq));
    }
    if start.seq == head_seq {
        return Ok(None);
    }

    let walked = walk(conn, &start, sql_int(start.seq + 1)?, i64::MAX, |_| Ok(()))?;
    let message = checkpoint_message(walked.last_seq, &walked.head);
    let signature = device.sign(Purpose::AuditCheckpoint, &message);
    conn.execute(
        "INSERT INTO audit_checkpoints (seq, hash, at, device_key, signature)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        (
            sql_int(walked.last_seq)?,
            &walked.head[..],
            &at,
            device.public().to_string(),
            &signature.to_bytes()[..],
        ),
    )?;
    Ok(Some(walked.last_seq))
}

/// Whether at least `every` entries follow the newest checkpoint (or the
/// pruning point), so that it is time for [`checkpoint`]. An `every` of 0
/// counts as 1.
///
/// # Errors
///
/// [`Error::AuditBroken`] when the stored state is malformed, and
/// [`Error::Database`] when the query fails.
pub(crate) fn needs_checkpoint(conn: &Connection, every: u64) -> Result<bool> {
    let state = load_state(conn)?;
    let head = log_head(conn)?.map_or(state.pruned_through, |(seq, _)| seq);
    let newest: Option<i64> =
        conn.query_row("SELECT max(seq) FROM audit_checkpoints", [], |row| {
            row.get(0)
        })?;
    let signed = newest
        .and_then(|seq| u64::try_from(seq).ok())
        .unwrap_or(0)
        .max(state.pruned_through);
    Ok(head.saturating_sub(signed) >= every.max(1))
}

/// Checks the whole log and returns what it holds, or the first problem
/// found as [`Error::AuditBroken`].
///
/// It checks that the entries are numbered without gaps from one past the
/// pruning point; that each names the previous entry's hash (the pruning
/// anchor for the first) and matches its own; that each checkpoint carries
/// the hash of the entry it names and is signed by one of `device_keys`
/// (several, since the device key may have been rotated), with the key it
/// names; that no checkpoint lies beyond the last entry; and, once the log
/// has been pruned, that the anchor is the hash signed at the pruning point.
///
/// # Errors
///
/// [`Error::AuditBroken`] naming the first problem, such as "entry 17 does
/// not match its hash (edited?)", and [`Error::Database`] when a query
/// fails.
pub(crate) fn verify(conn: &Connection, device_keys: &[PublicKey]) -> Result<Report> {
    let state = load_state(conn)?;
    let checkpoints = load_checkpoints(conn)?;
    let mut pending = checkpoints.iter().peekable();

    let mut anchor_signed = false;
    while let Some(checkpoint) = pending.next_if(|c| c.seq <= state.pruned_through) {
        check_signature(checkpoint, device_keys)?;
        if checkpoint.seq == state.pruned_through {
            if checkpoint.hash != state.anchor {
                return Err(broken(format!(
                    "the pruning anchor does not match the checkpoint at entry {}",
                    checkpoint.seq
                )));
            }
            anchor_signed = true;
        }
    }
    if state.pruned_through == 0 && state.anchor != GENESIS {
        return Err(broken(
            "the log holds a pruning anchor although nothing was pruned".to_owned(),
        ));
    }
    if state.pruned_through > 0 && !anchor_signed {
        return Err(broken(format!(
            "the log was pruned through entry {} but no checkpoint there signs the anchor",
            state.pruned_through
        )));
    }

    let walked = walk(
        conn,
        &Start::after_pruning(&state),
        i64::MIN,
        i64::MAX,
        |stored| {
            let seq = stored.entry.seq;
            while let Some(checkpoint) = pending.next_if(|c| c.seq <= seq) {
                if checkpoint.seq < seq {
                    return Err(broken(format!(
                        "checkpoint at entry {} names an entry that is missing",
                        checkpoint.seq
                    )));
                }
                if checkpoint.hash != stored.entry.hash {
                    return Err(broken(format!(
                        "entry {seq} does not match its signed checkpoint \
                         (entries up to it rewritten?)"
                    )));
                }
                check_signature(checkpoint, device_keys)?;
            }
            Ok(())
        },
    )?;
    if let Some(beyond) = pending.next() {
        return Err(truncated(walked.last_seq, beyond.seq));
    }

    Ok(Report {
        entries: walked.entries,
        checkpoints: u64::try_from(checkpoints.len()).unwrap_or(u64::MAX),
        first_seq: state.pruned_through.saturating_add(1),
        last_seq: walked.last_seq,
        head: walked.head,
    })
}

/// Up to `limit` entries numbered above `after_seq`, oldest first.
///
/// # Errors
///
/// [`Error::AuditBroken`] when a stored entry is malformed, and
/// [`Error::Database`] when the query fails.
pub(crate) fn entries_after(conn: &Connection, after_seq: u64, limit: usize) -> Result<Vec<Entry>> {
    let Ok(after) = i64::try_from(after_seq) else {
        return Ok(Vec::new());
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut statement = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let mut rows = statement.query((after, limit))?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
        entries.push(read_entry(row)?.entry);
    }
    Ok(entries)
}

/// The entries numbered above `after_seq` as UTF-8 text, one canonical JSON
/// object per line, each line ending in `\n`, for the caller to seal to the
/// auditor's key.
///
/// Each object has exactly the members `seq`, `at`, `account_id`,
/// `member_id`, `action`, `object_id`, `outcome`, `prev_hash` and `hash`,
/// the two hashes in lowercase hex, so the auditor can recompute every hash
/// and, from the first line's `prev_hash`, join this export to the last
/// one. The entries are written as stored; run [`verify`] first to export
/// only a log that checks out.
///
/// # Errors
///
/// [`Error::AuditBroken`] when a stored entry is malformed, and
/// [`Error::Database`] when the query fails.
pub(crate) fn export_json_lines(conn: &Connection, after_seq: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(after) = i64::try_from(after_seq) else {
        return Ok(out);
    };
    let mut statement = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq"
    ))?;
    let mut rows = statement.query([after])?;
    while let Some(row) = rows.next()? {
        let stored = read_entry(row)?;
        let entry = &stored.entry;
        let line = ExportLine {
            seq: entry.seq,
            at: &entry.at,
            account_id: entry.account_id.as_deref(),
            member_id: entry.member_id.as_deref(),
            action: &entry.action,
            object_id: entry.object_id.as_deref(),
            outcome: entry.outcome,
            prev_hash: hex(&stored.prev_hash),
            hash: hex(&entry.hash),
        };
        out.extend_from_slice(
            &to_canonical_json(&line).map_err(|e| {
                Error::Invalid(format!("entry {} cannot be exported: {e}", entry.seq))
            })?,
        );
        out.push(b'\n');
    }
    Ok(out)
}

/// Removes every entry up to and including `seq`, which must have a
/// checkpoint, and returns how many were removed.
///
/// The pruning point and its anchor (the hash of entry `seq`) are recorded
/// before anything is deleted; checkpoints below `seq` go with their
/// entries, the one at `seq` stays. Before anything changes, the entries to
/// be removed are checked to link up to that checkpoint; its signature is
/// not checked here, so run [`verify`] first. Pruning to `seq` at or below
/// the current pruning point removes nothing.
///
/// # Errors
///
/// [`Error::Invalid`] when entry `seq` has no checkpoint,
/// [`Error::AuditBroken`] when the entries up to it do not link up, and
/// [`Error::Database`] when a statement fails.
pub(crate) fn prune_through(conn: &Connection, seq: u64) -> Result<u64> {
    let state = load_state(conn)?;
    if seq <= state.pruned_through {
        return Ok(0);
    }
    let target = sql_int(seq)?;
    let signed: Option<Vec<u8>> = conn
        .query_row(
            "SELECT hash FROM audit_checkpoints WHERE seq = ?1",
            [target],
            |row| row.get(0),
        )
        .optional()?;
    let Some(signed) = signed else {
        return Err(Error::Invalid(format!(
            "the audit log can only be pruned to an entry with a signed checkpoint, and entry \
             {seq} has none; prune to an earlier checkpoint or make one first"
        )));
    };

    let walked = walk(
        conn,
        &Start::after_pruning(&state),
        i64::MIN,
        target,
        |_| Ok(()),
    )?;
    if walked.last_seq < seq {
        return Err(broken(missing(walked.last_seq.saturating_add(1), seq)));
    }
    if signed[..] != walked.head[..] {
        return Err(broken(format!(
            "entry {seq} does not match its signed checkpoint (entries up to it rewritten?)"
        )));
    }

    let removed = in_savepoint(conn, || {
        conn.execute(
            "UPDATE audit_state SET pruned_through = ?1, anchor_hash = ?2 WHERE id = 1",
            (target, &walked.head[..]),
        )?;
        let removed = conn.execute("DELETE FROM audit_log WHERE seq <= ?1", [target])?;
        conn.execute("DELETE FROM audit_checkpoints WHERE seq < ?1", [target])?;
        Ok(removed)
    })?;
    let removed = u64::try_from(removed).unwrap_or(u64::MAX);
    tracing::info!(
        audit.pruned_through = seq,
        audit.removed = removed,
        "pruned the audit log"
    );
    Ok(removed)
}

/// The fields an entry's hash covers, in the shape that is canonicalized.
#[derive(Serialize)]
struct HashedFields<'a> {
    seq: u64,
    at: &'a str,
    account_id: Option<&'a str>,
    member_id: Option<&'a str>,
    action: &'a str,
    object_id: Option<&'a str>,
    outcome: Outcome,
}

/// One line of an export: the hashed fields and both hashes in hex.
#[derive(Serialize)]
struct ExportLine<'a> {
    seq: u64,
    at: &'a str,
    account_id: Option<&'a str>,
    member_id: Option<&'a str>,
    action: &'a str,
    object_id: Option<&'a str>,
    outcome: Outcome,
    prev_hash: String,
    hash: String,
}

/// An entry as read back, with the hash it claims to follow.
struct Stored {
    entry: Entry,
    prev_hash: [u8; 32],
}

/// A checkpoint as read back.
struct StoredCheckpoint {
    seq: u64,
    hash: [u8; 32],
    device_key: String,
    signature: [u8; 64],
}

/// The single row of `audit_state`.
struct State {
    pruned_through: u64,
    anchor: [u8; 32],
}

/// What the first entry of a walk follows, for the wording of a break.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The start of the chain: nothing was ever pruned.
    Genesis,
    /// The pruning anchor.
    Anchor,
    /// A checkpointed entry still in the log.
    Checkpoint,
}

/// Where a walk along the chain starts: just after entry `seq`, whose hash
/// is `hash`.
struct Start {
    seq: u64,
    hash: [u8; 32],
    origin: Origin,
}

impl Start {
    /// Just after the pruning point: the start of what the log still holds.
    fn after_pruning(state: &State) -> Self {
        if state.pruned_through == 0 {
            Self {
                seq: 0,
                hash: GENESIS,
                origin: Origin::Genesis,
            }
        } else {
            Self {
                seq: state.pruned_through,
                hash: state.anchor,
                origin: Origin::Anchor,
            }
        }
    }
}

/// The outcome of a walk that found the chain intact.
struct Walked {
    /// How many entries were walked.
    entries: u64,
    /// The last entry walked, or the start's when there were none.
    last_seq: u64,
    /// The last entry's hash, or the start's when there were none.
    head: [u8; 32],
}

/// Walks the stored entries numbered `lowest..=highest` in order, checking
/// that they continue the chain from `start` without gaps and that each
/// matches its hash, and hands each one to `each`.
fn walk(
    conn: &Connection,
    start: &Start,
    lowest: i64,
    highest: i64,
    mut each: impl FnMut(&Stored) -> Result<()>,
) -> Result<Walked> {
    let mut statement = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq"
    ))?;
    let mut rows = statement.query((lowest, highest))?;
    let mut expected = start.seq.saturating_add(1);
    let mut prev = start.hash;
    let mut entries = 0u64;
    while let Some(row) = rows.next()? {
        let stored = read_entry(row)?;
        let seq = stored.entry.seq;
        if seq < expected {
            return Err(broken(format!(
                "entry {seq} lies at or before the pruning point (entry {}) but is still there",
                start.seq
            )));
        }
        if seq > expected {
            return Err(broken(missing(expected, seq - 1)));
        }
        if stored.prev_hash != prev {
            return Err(broken(match start.origin {
                Origin::Genesis if seq == 1 => {
                    "entry 1 does not start the chain (edited?)".to_owned()
                }
                Origin::Anchor if seq == start.seq + 1 => {
                    "the first entry does not follow the pruning anchor".to_owned()
                }
                _ => format!(
                    "entry {seq} does not follow entry {} (reordered or removed)",
                    seq - 1
                ),
            }));
        }
        if entry_hash(&stored.prev_hash, &stored.entry)? != stored.entry.hash {
            return Err(broken(format!(
                "entry {seq} does not match its hash (edited?)"
            )));
        }
        each(&stored)?;
        prev = stored.entry.hash;
        expected += 1;
        entries += 1;
    }
    Ok(Walked {
        entries,
        last_seq: expected - 1,
        head: prev,
    })
}

/// The chain hash of `entry` following `prev_hash`.
fn entry_hash(prev_hash: &[u8; 32], entry: &Entry) -> Result<[u8; 32]> {
    let fields = HashedFields {
        seq: entry.seq,
        at: &entry.at,
        account_id: entry.account_id.as_deref(),
        member_id: entry.member_id.as_deref(),
        action: &entry.action,
        object_id: entry.object_id.as_deref(),
        outcome: entry.outcome,
    };
    let canonical = to_canonical_json(&fields)
        .map_err(|e| Error::Invalid(format!("entry {} cannot be hashed: {e}", entry.seq)))?;
    let mut hasher = Sha256::new();
    hasher.update(ENTRY_HASH_TAG);
    hasher.update(prev_hash);
    hasher.update(&canonical);
    Ok(hasher.finalize().into())
}

/// The message a checkpoint's signature covers.
fn checkpoint_message(seq: u64, hash: &[u8; 32]) -> Vec<u8> {
    let mut message = Vec::with_capacity(CHECKPOINT_TAG.len() + 8 + 32);
    message.extend_from_slice(CHECKPOINT_TAG);
    message.extend_from_slice(&seq.to_be_bytes());
    message.extend_from_slice(hash);
    message
}

/// Checks that `checkpoint` names one of `device_keys` and is signed by it.
fn check_signature(checkpoint: &StoredCheckpoint, device_keys: &[PublicKey]) -> Result<()> {
    let seq = checkpoint.seq;
    let key: PublicKey = checkpoint.device_key.parse().map_err(|_| {
        broken(format!(
            "checkpoint at entry {seq} names a malformed device key"
        ))
    })?;
    if !device_keys.contains(&key) {
        return Err(broken(format!(
            "checkpoint at entry {seq} was signed by a key that is not one of this device's keys"
        )));
    }
    let message = checkpoint_message(seq, &checkpoint.hash);
    key.verify(
        Purpose::AuditCheckpoint,
        &message,
        &Signature::from_bytes(checkpoint.signature),
    )
    .map_err(|_| broken(format!("checkpoint at entry {seq} has a bad signature")))
}

/// The newest entry's number and hash, or `None` when the log holds none.
fn log_head(conn: &Connection) -> Result<Option<(u64, [u8; 32])>> {
    let mut statement =
        conn.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?;
    let mut rows = statement.query([])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let seq = match row.get_ref(0)? {
        ValueRef::Integer(seq) => u64::try_from(seq).ok().filter(|&seq| seq > 0),
        _ => None,
    }
    .ok_or_else(|| broken("the last entry has an invalid sequence number".to_owned()))?;
    let hash = fixed_blob(row.get_ref(1)?)
        .ok_or_else(|| broken(format!("entry {seq} has a malformed hash")))?;
    Ok(Some((seq, hash)))
}

/// The newest checkpoint at or above the pruning point, as a place to walk
/// from; just after the pruning point when there is none.
fn last_signed_point(conn: &Connection) -> Result<Start> {
    let state = load_state(conn)?;
    let newest = load_checkpoints(conn)?.pop();
    Ok(match newest {
        Some(checkpoint) if checkpoint.seq > state.pruned_through => Start {
            seq: checkpoint.seq,
            hash: checkpoint.hash,
            origin: Origin::Checkpoint,
        },
        _ => Start::after_pruning(&state),
    })
}

/// The pruning point and anchor.
fn load_state(conn: &Connection) -> Result<State> {
    let row: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT pruned_through, anchor_hash FROM audit_state WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((pruned_through, anchor)) = row else {
        return Err(broken("the log's state row is missing".to_owned()));
    };
    let pruned_through = u64::try_from(pruned_through)
        .map_err(|_| broken("the log's pruning point is negative".to_owned()))?;
    let anchor = anchor
        .try_into()
        .map_err(|_| broken("the log's pruning anchor is malformed".to_owned()))?;
    Ok(State {
        pruned_through,
        anchor,
    })
}

/// Every checkpoint, oldest first.
fn load_checkpoints(conn: &Connection) -> Result<Vec<StoredCheckpoint>> {
    let mut statement = conn
        .prepare("SELECT seq, hash, device_key, signature FROM audit_checkpoints ORDER BY seq")?;
    let mut rows = statement.query([])?;
    let mut checkpoints = Vec::new();
    while let Some(row) = rows.next()? {
        let seq = match row.get_ref(0)? {
            ValueRef::Integer(seq) => u64::try_from(seq).ok().filter(|&seq| seq > 0),
            _ => None,
        }
        .ok_or_else(|| broken("a checkpoint has an invalid sequence number".to_owned()))?;
        let malformed = || broken(format!("checkpoint at entry {seq} is malformed"));
        let hash = fixed_blob(row.get_ref(1)?).ok_or_else(malformed)?;
        let device_key = utf8(row.get_ref(2)?).ok_or_else(malformed)?.to_owned();
        let signature = fixed_blob(row.get_ref(3)?).ok_or_else(malformed)?;
        checkpoints.push(StoredCheckpoint {
            seq,
            hash,
            device_key,
            signature,
        });
    }
    Ok(checkpoints)
}

/// Reads one row of [`ENTRY_COLUMNS`], accepting nothing but the stored
/// types: a damaged value is [`Error::AuditBroken`], never a panic or a
/// conversion error.
fn read_entry(row: &Row<'_>) -> Result<Stored> {
    let seq = match row.get_ref(0)? {
        ValueRef::Integer(seq) => u64::try_from(seq)
            .ok()
            .filter(|&seq| seq > 0)
            .ok_or_else(|| broken(format!("an entry has the invalid sequence number {seq}")))?,
        _ => {
            return Err(broken(
                "an entry has a malformed sequence number".to_owned(),
            ));
        }
    };
    let malformed = |column: &str| broken(format!("entry {seq} has a malformed {column}"));
    let text = |index: usize, column: &str| -> Result<String> {
        utf8(row.get_ref(index)?)
            .map(str::to_owned)
            .ok_or_else(|| malformed(column))
    };
    let optional_text = |index: usize, column: &str| -> Result<Option<String>> {
        match row.get_ref(index)? {
            ValueRef::Null => Ok(None),
            value => utf8(value)
                .map(|text| Some(text.to_owned()))
                .ok_or_else(|| malformed(column)),
        }
    };

    let at = text(1, "time")?;
    let account_id = optional_text(2, "account id")?;
    let member_id = optional_text(3, "member id")?;
    let action = text(4, "action")?;
    let object_id = optional_text(5, "object id")?;
    let outcome = Outcome::parse(&text(6, "outcome")?).ok_or_else(|| malformed("outcome"))?;
    let prev_hash = fixed_blob(row.get_ref(7)?).ok_or_else(|| malformed("previous hash"))?;
    let hash = fixed_blob(row.get_ref(8)?).ok_or_else(|| malformed("hash"))?;
    Ok(Stored {
        entry: Entry {
            seq,
            at,
            account_id,
            member_id,
            action,
            object_id,
            outcome,
            hash,
        },
        prev_hash,
    })
}

/// A stored text value, if it is valid UTF-8 text.
fn utf8(value: ValueRef<'_>) -> Option<&str> {
    match value {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok(),
        _ => None,
    }
}

/// A stored blob of exactly `N` bytes.
fn fixed_blob<const N: usize>(value: ValueRef<'_>) -> Option<[u8; N]> {
    match value {
        ValueRef::Blob(bytes) => bytes.try_into().ok(),
        _ => None,
    }
}

/// Runs `f` inside a savepoint, so its statements all take effect or none
/// does, whether or not the caller holds a transaction.
fn in_savepoint<T>(conn: &Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    conn.execute_batch("SAVEPOINT audit_prune")?;
    match f() {
        Ok(value) => {
            conn.execute_batch("RELEASE audit_prune")?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) =
                conn.execute_batch("ROLLBACK TO audit_prune; RELEASE audit_prune")
            {
                tracing::warn!(%rollback, "could not roll back an unfinished audit pruning");
            }
            Err(error)
        }
    }
}

/// Refuses an action name that is not 1 to 64 characters of `a-z`, `0-9`,
/// `.`, `_` and `-`.
fn check_action(action: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if action.is_empty() || action.len() > MAX_ACTION_CHARS || !action.chars().all(allowed) {
        return Err(Error::Invalid(format!(
            "an audit action must be 1 to {MAX_ACTION_CHARS} characters of a-z, 0-9, '.', '_' \
             and '-', such as \"draft.finalize\""
        )));
    }
    Ok(())
}

/// Refuses an id that is empty, longer than [`MAX_ID_CHARS`] characters or
/// holds a control character. The id itself is not repeated in the message.
fn check_id(what: &str, id: &str) -> Result<()> {
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "an audit {what} must be 1 to {MAX_ID_CHARS} characters with no control characters"
        )));
    }
    Ok(())
}

/// `unix_ms` as RFC 3339 UTC with exactly three fraction digits, such as
/// `2026-12-03T20:01:34.123Z`.
///
/// Times before 1970 or after 9999 are refused rather than clamped: a clock
/// that far off would make every entry's time a lie, and the four-digit year
/// of RFC 3339 ends at 9999.
fn format_timestamp(unix_ms: i64) -> Result<String> {
    if !(0..=MAX_TIMESTAMP_MS).contains(&unix_ms) {
        return Err(Error::Invalid(format!(
            "the time {unix_ms} ms since 1970 is outside 1970 to 9999 and cannot be audited; \
             check the system clock"
        )));
    }
    let (year, month, day) = civil_from_days(unix_ms.div_euclid(MS_PER_DAY));
    let of_day = unix_ms.rem_euclid(MS_PER_DAY);
    let hour = of_day / 3_600_000;
    let minute = of_day / 60_000 % 60;
    let second = of_day / 1_000 % 60;
    let milli = of_day % 1_000;
    Ok(format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z"
    ))
}

/// The proleptic Gregorian date (year, month 1 to 12, day 1 to 31) of the
/// day `days` after 1970-01-01.
///
/// The calendar repeats every 400 years (146,097 days). Counting from
/// 0000-03-01 puts the leap day at the end of each year, so the day of the
/// year fixes the month with one linear formula (153 days per five months
/// from March).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // 0000-03-01 is 719,468 days before 1970-01-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // 0..=146_096
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // 0..=399
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // 0..=365
    let month_from_march = (5 * day_of_year + 2) / 153; // 0..=11
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A sequence number as SQLite stores it.
fn sql_int(seq: u64) -> Result<i64> {
    i64::try_from(seq)
        .map_err(|_| Error::Invalid(format!("audit entry number {seq} is out of range")))
}

/// The error for a log that failed a check.
fn broken(description: String) -> Error {
    Error::AuditBroken(description)
}

/// The description of a gap from `first` to `last`, inclusive.
fn missing(first: u64, last: u64) -> String {
    if first == last {
        format!("entry {first} is missing")
    } else {
        format!("entries {first} to {last} are missing")
    }
}

/// The error for a checkpoint beyond the end of the log.
fn truncated(last_seq: u64, checkpoint_seq: u64) -> Error {
    if last_seq == 0 {
        broken(format!(
            "the log is empty but a checkpoint covers entry {checkpoint_seq} (entries removed)"
        ))
    } else {
        broken(format!(
            "the log ends at entry {last_seq} but a checkpoint covers entry {checkpoint_seq} \
             (entries removed from the end)"
        ))
    }
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Serializes a hash as lowercase hex.
fn serialize_hex<S: Serializer>(bytes: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex(bytes))
}

#[cfg(test)]
mod tests;
