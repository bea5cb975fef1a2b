//! Drafts: interviews in progress, saved answer by answer.
//!
//! Every answer is its own row, sealed under the draft's content key, and
//! saving one is one small transaction: when [`Vault::save_answer`]
//! returns, the answer is on disk (WAL with `synchronous=FULL`) and
//! survives a crash or a pulled plug. Only the owning account can read or
//! change a draft; to any other account it does not exist.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

use crate::crypto::{self, Key, random_id};
use crate::error::{Error, Result};
use crate::vault::{FreshAuth, Outcome, Vault, record};

/// The largest answer accepted, as JSON text.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// The longest field id accepted.
const MAX_FIELD_CHARS: usize = 128;
/// The longest interview id or version accepted.
const MAX_INTERVIEW_CHARS: usize = 128;

/// Where a draft stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftState {
    /// Still being filled in.
    Open,
    /// Finalized: no more changes; waiting to be sealed and sent.
    Finalized,
}

impl DraftState {
    /// Reads the state as the database stores it.
    pub(crate) fn parse_stored(text: &str) -> Result<Self> {
        Self::parse(text)
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "open" => Ok(Self::Open),
            "finalized" => Ok(Self::Finalized),
            other => Err(Error::Invalid(format!(
                "the vault holds a draft in an unknown state {other:?}"
            ))),
        }
    }
}

/// A draft as listed: no answers, nothing about the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftSummary {
    /// The draft's id, such as `draft-3f9a0c21d4e5b687`.
    pub id: String,
    /// The interview it runs.
    pub interview_id: String,
    /// The interview's version.
    pub interview_version: String,
    /// How far along it is, in percent.
    pub progress: u8,
    /// Open or finalized.
    pub state: DraftState,
    /// When it was started (UTC, RFC 3339 with milliseconds).
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

/// A draft with its answers, for the account that owns it.
#[derive(Clone, PartialEq)]
pub struct Draft {
    /// What the list shows.
    pub summary: DraftSummary,
    /// Every saved answer, by field id.
    pub answers: BTreeMap<String, Value>,
}

/// Names the answered fields, never their answers: Debug output ends up in
/// logs and panic messages.
impl std::fmt::Debug for Draft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Draft")
            .field("summary", &self.summary)
            .field("answered", &self.answers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Starts a draft of interview `interview_id` at `interview_version`
    /// and returns its id.
    pub fn create_draft(&mut self, interview_id: &str, interview_version: &str) -> Result<String> {
        check_label("interview id", interview_id, MAX_INTERVIEW_CHARS)?;
        check_label("interview version", interview_version, MAX_INTERVIEW_CHARS)?;
        let owner = self.account().id.clone();
        let actor = self.actor();
        let id = random_id("draft")?;
        let (conn, account_key) = self.session()?;
        let content_key = Key::generate()?;
        let wrapped = account_key.wrap(&content_key_aad("draft", &id, &owner), &content_key)?;
        let tx = conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO drafts (id, owner, interview_id, interview_version, content_key,
                                 created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                     strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            (&id, &owner, interview_id, interview_version, wrapped),
        )?;
        record(&tx, Some(&actor), "draft.create", Some(&id), Outcome::Ok)?;
        tx.commit()?;
        Ok(id)
    }

    /// Saves one answer. When this returns `Ok`, the answer is committed to
    /// disk. Finalized drafts refuse changes.
    pub fn save_answer(&mut self, draft_id: &str, field: &str, value: &Value) -> Result<()> {
        check_field(field)?;
        let json = serde_json::to_vec(value)
            .map_err(|e| Error::Invalid(format!("the answer could not be stored: {e}")))?;
        if json.len() > MAX_ANSWER_BYTES {
            return Err(Error::Invalid(format!(
                "the answer to {field} is too long to store (at most {} KiB)",
                MAX_ANSWER_BYTES / 1024
            )));
        }
        let owner = self.account().id.clone();
        let (conn, account_key) = self.session()?;
        let tx = Connection::unchecked_transaction(conn)?;
        let key = open_draft_key(&tx, account_key, draft_id, &owner, true)?;
        let sealed = key.seal(&answer_aad(draft_id, field), &json)?;
        tx.execute(
            "INSERT INTO answers (draft_id, field, value, updated_at)
             VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (draft_id, field) DO UPDATE
                 SET value = excluded.value, updated_at = excluded.updated_at",
            (draft_id, field, sealed),
        )?;
        touch(&tx, draft_id)?;
        tx.commit()?;
        Ok(())
    }

    /// Removes one answer, as when a person clears a field.
    pub fn clear_answer(&mut self, draft_id: &str, field: &str) -> Result<()> {
        check_field(field)?;
        let owner = self.account().id.clone();
        let (conn, account_key) = self.session()?;
        let tx = conn.unchecked_transaction()?;
        open_draft_key(&tx, account_key, draft_id, &owner, true)?;
        tx.execute(
            "DELETE FROM answers WHERE draft_id = ?1 AND field = ?2",
            (draft_id, field),
        )?;
        touch(&tx, draft_id)?;
        tx.commit()?;
        Ok(())
    }

    /// Records how far along a draft is, in percent (at most 100).
    pub fn set_progress(&mut self, draft_id: &str, percent: u8) -> Result<()> {
        let percent = percent.min(100);
        let owner = self.account().id.clone();
        let (conn, account_key) = self.session()?;
        let tx = conn.unchecked_transaction()?;
        open_draft_key(&tx, account_key, draft_id, &owner, true)?;
        tx.execute(
            "UPDATE drafts SET progress = ?2,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            (draft_id, percent),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The signed-in account's drafts, most recently changed first.
    pub fn drafts(&mut self) -> Result<Vec<DraftSummary>> {
        let owner = self.account().id.clone();
        let conn = self.connection()?;
        let mut statement = conn.prepare(
            "SELECT id, interview_id, interview_version, progress, state, created_at, updated_at
             FROM drafts WHERE owner = ?1 ORDER BY updated_at DESC, id",
        )?;
        let rows = statement.query_map([&owner], summary_from_row)?;
        let mut drafts = Vec::new();
        for row in rows {
            drafts.push(row??);
        }
        Ok(drafts)
    }

    /// One draft with all its answers.
    pub fn draft(&mut self, draft_id: &str) -> Result<Draft> {
        let owner = self.account().id.clone();
        let (conn, account_key) = self.session()?;
        let key = open_draft_key(conn, account_key, draft_id, &owner, false)?;
        let summary = conn
            .query_row(
                "SELECT id, interview_id, interview_version, progress, state, created_at,
                        updated_at
                 FROM drafts WHERE id = ?1",
                [draft_id],
                summary_from_row,
            )
            .optional()?
            .ok_or_else(|| not_found(draft_id))??;
        let mut statement = conn.prepare("SELECT field, value FROM answers WHERE draft_id = ?1")?;
        let rows = statement.query_map([draft_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut answers = BTreeMap::new();
        for row in rows {
            let (field, sealed) = row?;
            let json = key
                .open(&answer_aad(draft_id, &field), &sealed)
                .ok_or(Error::Damaged)?;
            let value = serde_json::from_slice(&json).map_err(|_| Error::Damaged)?;
            answers.insert(field, value);
        }
        Ok(Draft { summary, answers })
    }

    /// Finalizes a draft: its answers can no longer change. Needs the
    /// passphrase typed again.
    pub fn finalize_draft(&mut self, fresh: FreshAuth, draft_id: &str) -> Result<()> {
        self.require_fresh(fresh)?;
        let owner = self.account().id.clone();
        let actor = self.actor();
        let (conn, account_key) = self.session()?;
        let tx = conn.unchecked_transaction()?;
        open_draft_key(&tx, account_key, draft_id, &owner, true)?;
        tx.execute(
            "UPDATE drafts SET state = 'finalized', progress = 100,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            [draft_id],
        )?;
        record(
            &tx,
            Some(&actor),
            "draft.finalize",
            Some(draft_id),
            Outcome::Ok,
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Unwraps the content key of `draft_id` for `owner`, checking that the
/// draft exists, belongs to them and, if `for_change`, is still open.
pub(crate) fn open_draft_key(
    conn: &Connection,
    account_key: &Key,
    draft_id: &str,
    owner: &str,
    for_change: bool,
) -> Result<Key> {
    let row: Option<(Vec<u8>, String)> = conn
        .query_row(
            "SELECT content_key, state FROM drafts WHERE id = ?1 AND owner = ?2",
            (draft_id, owner),
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let (wrapped, state) = row.ok_or_else(|| not_found(draft_id))?;
    if for_change && DraftState::parse(&state)? == DraftState::Finalized {
        return Err(Error::NotAllowed(
            "this draft is finalized and can no longer be changed".to_owned(),
        ));
    }
    account_key
        .unwrap_key(&content_key_aad("draft", draft_id, owner), &wrapped)
        .ok_or(Error::Damaged)
}

/// Associated data of a record's wrapped content key.
pub(crate) fn content_key_aad(kind: &str, record_id: &str, owner: &str) -> Vec<u8> {
    crypto::aad("content-key", &[kind, record_id, owner])
}

fn answer_aad(draft_id: &str, field: &str) -> Vec<u8> {
    crypto::aad("answer", &[draft_id, field])
}

fn touch(conn: &Connection, draft_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE drafts SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
        [draft_id],
    )?;
    Ok(())
}

fn summary_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<DraftSummary>> {
    let state: String = row.get(4)?;
    let progress: i64 = row.get(3)?;
    Ok(DraftState::parse(&state).map(|state| DraftSummary {
        id: row.get(0).unwrap_or_default(),
        interview_id: row.get(1).unwrap_or_default(),
        interview_version: row.get(2).unwrap_or_default(),
        progress: u8::try_from(progress.clamp(0, 100)).unwrap_or(0),
        state,
        created_at: row.get(5).unwrap_or_default(),
        updated_at: row.get(6).unwrap_or_default(),
    }))
}

fn not_found(id: &str) -> Error {
    Error::RecordNotFound {
        kind: "draft",
        id: id.to_owned(),
    }
}

/// Checks a field id: 1 to 128 characters of letters, digits and
/// `_ . - [ ]` (repeated groups number their instances, as in
/// `household[2].name`).
pub(crate) fn check_field(field: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']');
    if field.is_empty() || field.len() > MAX_FIELD_CHARS || !field.chars().all(allowed) {
        return Err(Error::Invalid(format!(
            "{field:?} is not a field id: use 1 to {MAX_FIELD_CHARS} letters, digits and _ . - [ ]"
        )));
    }
    Ok(())
}

fn check_label(what: &str, text: &str, max: usize) -> Result<()> {
    if text.is_empty() || text.len() > max || text.chars().any(|c| c.is_control() || c == '\0') {
        return Err(Error::Invalid(format!(
            "the {what} must be 1 to {max} characters without control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::{NewAccount, Passphrase, Role};

    /// The owner filter in every query keeps other accounts' drafts out of
    /// sight; underneath it, their content keys do not even unwrap.
    #[test]
    fn another_accounts_key_cannot_unwrap_a_draft_even_past_the_owner_check() {
        let dir = tempfile::tempdir().expect("tempdir");
        let maria_pass = Passphrase::new("violet tractor quietly umbrella 42".to_owned());
        let (mut maria, _) = Vault::create(
            dir.path(),
            &NewAccount {
                name: "maria",
                member_id: "m-maria",
                roles: BTreeSet::from([Role::Intake]),
                passphrase: &maria_pass,
            },
            0,
        )
        .expect("create");
        let draft = maria.create_draft("intake", "1").expect("draft");
        maria
            .save_answer(&draft, "secret", &Value::from("Maria's answer"))
            .expect("save");
        let maria_id = maria.account().id.clone();
        let fresh = maria.reauthenticate(&maria_pass, 0).expect("fresh");
        let jorge_pass = Passphrase::new("copper lantern drifting meadow 77".to_owned());
        maria
            .add_account(
                fresh,
                &NewAccount {
                    name: "jorge",
                    member_id: "m-jorge",
                    roles: BTreeSet::from([Role::Intake]),
                    passphrase: &jorge_pass,
                },
                0,
            )
            .expect("second account");
        drop(maria);

        let mut jorge = Vault::sign_in(dir.path(), "jorge", &jorge_pass, None, 0).expect("sign in");
        let (conn, jorge_key) = jorge.session().expect("open");
        // Jorge holds the open database, and asks as if he were Maria.
        assert!(matches!(
            open_draft_key(conn, jorge_key, &draft, &maria_id, false),
            Err(Error::Damaged)
        ));
    }

    #[test]
    fn field_ids_are_checked() {
        for good in ["tenant_name", "household[2].name", "a-b.c"] {
            check_field(good).expect(good);
        }
        for bad in [
            "",
            "with space",
            "semi;colon",
            "new\nline",
            &"x".repeat(129),
        ] {
            assert!(check_field(bad).is_err(), "{bad:?}");
        }
    }
}
