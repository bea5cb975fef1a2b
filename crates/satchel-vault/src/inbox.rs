//! The inbox: submissions received, verified, opened and kept for the
//! attorney.
//!
//! Receiving is one step: the envelope is opened with the device's
//! recipient keys, the sender checked against the organisation directory,
//! and every attachment streamed straight into the vault, sealed chunk by
//! chunk under a new content key wrapped to the receiving account. All of
//! it happens in one transaction that commits only after the envelope's
//! last check passed (the sealing crate's `Sink`), so a damaged or forged
//! envelope leaves nothing behind, and a crash leaves the submission either
//! stored whole or not at all. Receiving the same envelope twice stores it
//! once.

use std::io::{self, Read};

use rusqlite::{Connection, OptionalExtension, Transaction};
use satchel_seal::age::Identity;
use satchel_seal::directory::Directory;
use satchel_seal::envelope::{self, Manifest, Opened, Sink};

use crate::attachments::{AttachmentInfo, CHUNK_BYTES, chunk_aad, seal_meta};
use crate::audit;
use crate::crypto::{self, Key, random_id};
use crate::drafts::content_key_aad;
use crate::error::{Error, Result};
use crate::vault::{Outcome, Vault, record};

/// Where a received submission stands with the attorney.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxState {
    /// Not looked at yet.
    New,
    /// Marked reviewed.
    Reviewed,
}

/// A received submission as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxSummary {
    /// The entry's id, such as `in-3f9a0c21d4e5b687`.
    pub id: String,
    /// The submission's id, as the sender made it.
    pub submission_id: String,
    /// The envelope's id (lowercase hex), which the receipt names.
    pub envelope_id: String,
    /// The sending member.
    pub sender_member: String,
    /// The sending device.
    pub sender_device: String,
    /// New or reviewed.
    pub state: InboxState,
    /// When this device stored it.
    pub received_at: String,
}

/// A received submission with its verified manifest and attachments.
#[derive(Debug, Clone)]
pub struct InboxEntry {
    /// What the list shows.
    pub summary: InboxSummary,
    /// The signed manifest: answers, interview, sender, classification.
    pub manifest: Manifest,
    /// The attachments, in manifest order; read them with
    /// [`Vault::read_attachment`].
    pub attachments: Vec<AttachmentInfo>,
}

impl Vault {
    /// Opens the envelope read from `input` with the device's recipient
    /// keys, checks it against `directory`, and stores it for the
    /// signed-in account. Returns the stored entry, and whether it was new
    /// (an envelope received before is not stored again).
    ///
    /// Authenticity failures are [`Error::NotAllowed`] with one plain
    /// sentence; nothing of such an envelope is kept.
    pub fn receive_envelope(
        &mut self,
        input: impl Read + Send,
        directory: &Directory,
    ) -> Result<(InboxSummary, bool)> {
        let owner = self.account().id.clone();
        let actor = self.actor();
        let (conn, account_key) = self.session()?;
        let identities = recipient_identities(conn)?;
        if identities.is_empty() {
            return Err(Error::NotAllowed(
                "this laptop holds no key that submissions are sealed to".to_owned(),
            ));
        }
        let id = random_id("in")?;
        let content_key = Key::generate()?;
        let tx = conn.unchecked_transaction()?;
        // Chunks arrive before the attachment rows they belong to, which
        // are written at commit; check the references then.
        tx.pragma_update(None, "defer_foreign_keys", "ON")?;
        let sink = VaultSink {
            tx,
            actor: actor.clone(),
            id: id.clone(),
            owner: owner.clone(),
            account_key,
            content_key,
            current: None,
            attachment_ids: Vec::new(),
        };
        let (opened, ()) = match envelope::open(input, &identities, directory, sink) {
            Ok(done) => done,
            Err(error) => {
                record(conn, Some(&actor), "inbox.receive", None, Outcome::Refused)?;
                return Err(refusal(error));
            }
        };
        let envelope_id = hex(&opened.envelope_id);
        let stored: Option<String> = conn
            .query_row(
                "SELECT id FROM inbox WHERE envelope_id = ?1",
                [&envelope_id],
                |row| row.get(0),
            )
            .optional()?;
        let Some(stored) = stored else {
            return Err(Error::NotAllowed(
                "this submission was deleted from this laptop before and is not stored again"
                    .to_owned(),
            ));
        };
        let fresh = stored == id;
        Ok((load_summary(conn, &stored, &owner)?, fresh))
    }

    /// The signed-in account's received submissions, newest first.
    pub fn inbox(&mut self) -> Result<Vec<InboxSummary>> {
        let owner = self.account().id.clone();
        let conn = self.connection()?;
        let mut statement =
            conn.prepare("SELECT id FROM inbox WHERE owner = ?1 ORDER BY received_at DESC, id")?;
        let ids = statement
            .query_map([&owner], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.iter()
            .map(|id| load_summary(conn, id, &owner))
            .collect()
    }

    /// One received submission with its manifest and attachments.
    pub fn inbox_entry(&mut self, inbox_id: &str) -> Result<InboxEntry> {
        let owner = self.account().id.clone();
        let actor = self.actor();
        let (conn, account_key) = self.session()?;
        let summary = load_summary(conn, inbox_id, &owner)?;
        let (wrapped, sealed): (Vec<u8>, Vec<u8>) = conn.query_row(
            "SELECT content_key, manifest FROM inbox WHERE id = ?1",
            [inbox_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let key = account_key
            .unwrap_key(&content_key_aad("inbox", inbox_id, &owner), &wrapped)
            .ok_or(Error::Damaged)?;
        let json = key
            .open(&manifest_aad(inbox_id), &sealed)
            .ok_or(Error::Damaged)?;
        let manifest: Manifest = serde_json::from_slice(&json).map_err(|_| Error::Damaged)?;
        let mut statement = conn.prepare(
            "SELECT id FROM attachments WHERE inbox_id = ?1 AND owner = ?2 ORDER BY field",
        )?;
        let ids = statement
            .query_map((inbox_id, &owner), |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let attachments = ids
            .iter()
            .map(|id| crate::attachments::describe(conn, account_key, id, &owner))
            .collect::<Result<Vec<_>>>()?;
        record(
            conn,
            Some(&actor),
            "inbox.open",
            Some(inbox_id),
            Outcome::Ok,
        )?;
        Ok(InboxEntry {
            summary,
            manifest,
            attachments,
        })
    }

    /// Marks a received submission as reviewed.
    pub fn mark_reviewed(&mut self, inbox_id: &str) -> Result<()> {
        let owner = self.account().id.clone();
        let conn = self.connection()?;
        let changed = conn.execute(
            "UPDATE inbox SET state = 'reviewed' WHERE id = ?1 AND owner = ?2",
            (inbox_id, &owner),
        )?;
        if changed == 0 {
            return Err(not_found(inbox_id));
        }
        Ok(())
    }
}

/// Streams opened attachments into the vault inside one transaction, and
/// stores the entry itself at commit.
struct VaultSink<'a> {
    tx: Transaction<'a>,
    actor: audit::Actor,
    id: String,
    owner: String,
    account_key: &'a Key,
    content_key: Key,
    /// The attachment being received: its index, id, next chunk number and
    /// the bytes not yet making a whole chunk.
    current: Option<(usize, String, u32, Vec<u8>)>,
    /// Every attachment's id, by manifest index.
    attachment_ids: Vec<(usize, String, u32)>,
}

impl VaultSink<'_> {
    fn store_chunk(&self, attachment_id: &str, seq: u32, bytes: &[u8]) -> io::Result<()> {
        let sealed = self
            .content_key
            .seal(&chunk_aad(attachment_id, seq), bytes)
            .map_err(io::Error::other)?;
        self.tx
            .execute(
                "INSERT INTO attachment_chunks (attachment_id, seq, data) VALUES (?1, ?2, ?3)",
                (attachment_id, seq, sealed),
            )
            .map_err(io::Error::other)?;
        Ok(())
    }

    /// Stores what is left of the current attachment.
    fn finish_current(&mut self) -> io::Result<()> {
        if let Some((index, id, seq, rest)) = self.current.take() {
            let mut chunks = seq;
            if !rest.is_empty() {
                self.store_chunk(&id, seq, &rest)?;
                chunks += 1;
            }
            self.attachment_ids.push((index, id, chunks));
        }
        Ok(())
    }
}

impl Sink for VaultSink<'_> {
    type Committed = ();

    fn write(&mut self, index: usize, bytes: &[u8]) -> io::Result<()> {
        if self.current.as_ref().map(|c| c.0) != Some(index) {
            self.finish_current()?;
            let id = random_id("file").map_err(io::Error::other)?;
            self.current = Some((index, id, 0, Vec::with_capacity(CHUNK_BYTES)));
        }
        let mut bytes = bytes;
        while !bytes.is_empty() {
            let Some((_, _, _, pending)) = self.current.as_mut() else {
                return Ok(());
            };
            let take = (CHUNK_BYTES - pending.len()).min(bytes.len());
            pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if pending.len() == CHUNK_BYTES {
                let full = std::mem::take(pending);
                let (id, seq) = match self.current.as_ref() {
                    Some((_, id, seq, _)) => (id.clone(), *seq),
                    None => return Ok(()),
                };
                self.store_chunk(&id, seq, &full)?;
                if let Some((_, _, seq, _)) = self.current.as_mut() {
                    *seq += 1;
                }
            }
        }
        Ok(())
    }

    fn commit(mut self, opened: &Opened) -> io::Result<()> {
        self.finish_current()?;
        let store = || -> Result<bool> {
            let envelope_id = hex(&opened.envelope_id);
            let known: Option<String> = self
                .tx
                .query_row(
                    "SELECT id FROM inbox WHERE envelope_id = ?1",
                    [&envelope_id],
                    |row| row.get(0),
                )
                .optional()?;
            let deleted: Option<String> = self
                .tx
                .query_row(
                    "SELECT id FROM tombstones WHERE id = ?1",
                    [crate::retention::envelope_tombstone(&envelope_id)],
                    |row| row.get(0),
                )
                .optional()?;
            if known.is_some() || deleted.is_some() {
                // Received before: keep the first copy, or keep it deleted.
                return Ok(false);
            }
            let manifest = &opened.manifest;
            let wrapped = self.account_key.wrap(
                &content_key_aad("inbox", &self.id, &self.owner),
                &self.content_key,
            )?;
            let manifest_json = serde_json::to_vec(manifest)
                .map_err(|e| Error::Invalid(format!("could not keep the manifest: {e}")))?;
            let sealed = self
                .content_key
                .seal(&manifest_aad(&self.id), &manifest_json)?;
            self.tx.execute(
                "INSERT INTO inbox (id, owner, submission_id, envelope_id, content_key, manifest,
                                    sender_member, sender_device, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                (
                    &self.id,
                    &self.owner,
                    &manifest.submission_id,
                    &envelope_id,
                    wrapped,
                    sealed,
                    &manifest.sender.member_id,
                    &manifest.sender.device_id,
                ),
            )?;
            // Attachments with no bytes got no write; give them rows too.
            for (index, meta) in manifest.attachments.iter().enumerate() {
                let (id, chunks) = match self.attachment_ids.iter().find(|(i, _, _)| *i == index) {
                    Some((_, id, chunks)) => (id.clone(), *chunks),
                    None => (random_id("file")?, 0),
                };
                // The chunks are sealed under the entry's content key; each
                // attachment row holds its own wrap of it, as a draft's
                // attachments hold theirs.
                let wrapped = self.account_key.wrap(
                    &content_key_aad("attachment", &id, &self.owner),
                    &self.content_key,
                )?;
                let sealed_meta = seal_meta(
                    &self.content_key,
                    &id,
                    &meta.name,
                    &meta.media_type,
                    &meta.sha256,
                    false,
                )?;
                self.tx.execute(
                    "INSERT INTO attachments (id, owner, inbox_id, field, content_key, meta, size,
                                              chunks, state, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'complete',
                             strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                    (
                        &id,
                        &self.owner,
                        &self.id,
                        format!("attachment[{index}]"),
                        wrapped,
                        sealed_meta,
                        i64::try_from(meta.size).unwrap_or(i64::MAX),
                        chunks,
                    ),
                )?;
            }
            record(
                &self.tx,
                Some(&self.actor),
                "inbox.receive",
                Some(&self.id),
                Outcome::Ok,
            )?;
            Ok(true)
        };
        if store().map_err(io::Error::other)? {
            self.tx.commit().map_err(io::Error::other)
        } else {
            // This copy's chunks go with the transaction.
            self.tx.rollback().map_err(io::Error::other)
        }
    }
}

/// The device's recipient identities, newest first, for opening.
fn recipient_identities(conn: &Connection) -> Result<Vec<Identity>> {
    let mut statement = conn
        .prepare("SELECT secret FROM keys WHERE kind = 'recipient' ORDER BY created_at DESC, id")?;
    let rows = statement.query_map([], |row| row.get::<_, Vec<u8>>(0))?;
    let mut identities = Vec::new();
    for row in rows {
        let secret = zeroize::Zeroizing::new(row?);
        let bytes: [u8; 32] = secret.as_slice().try_into().map_err(|_| Error::Damaged)?;
        identities.push(Identity::from_bytes(bytes));
    }
    Ok(identities)
}

fn load_summary(conn: &Connection, id: &str, owner: &str) -> Result<InboxSummary> {
    conn.query_row(
        "SELECT submission_id, envelope_id, sender_member, sender_device, state, received_at
         FROM inbox WHERE id = ?1 AND owner = ?2",
        (id, owner),
        |row| {
            let state: String = row.get(4)?;
            Ok(InboxSummary {
                id: id.to_owned(),
                submission_id: row.get(0)?,
                envelope_id: row.get(1)?,
                sender_member: row.get(2)?,
                sender_device: row.get(3)?,
                state: if state == "reviewed" {
                    InboxState::Reviewed
                } else {
                    InboxState::New
                },
                received_at: row.get(5)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| not_found(id))
}

/// Turns the sealing crate's refusal into a sentence for the attorney.
fn refusal(error: satchel_seal::Error) -> Error {
    use satchel_seal::Error as Seal;
    match error {
        Seal::NoMatchingKey => Error::NotAllowed(
            "this submission is not addressed to any key on this laptop".to_owned(),
        ),
        Seal::NotAnEnvelope => Error::NotAllowed("this file is not a Satchel submission".to_owned()),
        Seal::Io(e)
            if e
                .get_ref()
                .is_some_and(|inner| inner.is::<Error>() || inner.is::<rusqlite::Error>()) =>
        {
            Error::Invalid(format!("the submission could not be stored: {e}"))
        }
        Seal::Io(e) => Error::io("read", "the submission", e),
        _ => Error::NotAllowed(
            "this submission failed its checks (damaged, altered or not from a known sender) and was not kept"
                .to_owned(),
        ),
    }
}

fn manifest_aad(inbox_id: &str) -> Vec<u8> {
    crypto::aad("inbox-manifest", &[inbox_id])
}

fn not_found(id: &str) -> Error {
    Error::RecordNotFound {
        kind: "received submission",
        id: id.to_owned(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
