//! The outbox: sealed envelopes waiting to go, going, and gone.
//!
//! An envelope is already encrypted to its recipients when it arrives
//! here, so its bytes are stored as they are, in chunks, inside the
//! encrypted database. Its state moves forward only: queued, uploading
//! (with the offset the relay has acknowledged, so an upload resumes where
//! it stopped), uploaded, receipted (with the attorney's signed receipt).

use std::io::{Read, Write};

use rusqlite::{Connection, OptionalExtension};

use crate::crypto::random_id;
use crate::drafts::DraftState;
use crate::error::{Error, Result};
use crate::vault::{Outcome, Vault, record};

/// Bytes per stored envelope chunk.
const CHUNK: usize = 256 * 1024;
/// The largest receipt kept, in bytes.
const MAX_RECEIPT_BYTES: usize = 64 * 1024;

/// Where an outgoing envelope stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OutboxState {
    /// Waiting for a connection.
    Queued,
    /// Partly uploaded.
    Uploading,
    /// On the relay, waiting for the attorney's receipt.
    Uploaded,
    /// The attorney's device confirmed it opened the envelope.
    Receipted,
}

impl OutboxState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Uploading => "uploading",
            Self::Uploaded => "uploaded",
            Self::Receipted => "receipted",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "queued" => Ok(Self::Queued),
            "uploading" => Ok(Self::Uploading),
            "uploaded" => Ok(Self::Uploaded),
            "receipted" => Ok(Self::Receipted),
            other => Err(Error::Invalid(format!(
                "the vault holds an outgoing envelope in an unknown state {other:?}"
            ))),
        }
    }
}

/// An outgoing envelope as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The entry's id, such as `out-3f9a0c21d4e5b687`.
    pub id: String,
    /// The draft it was sealed from, while that draft exists.
    pub draft_id: Option<String>,
    /// The submission id inside the envelope.
    pub submission_id: String,
    /// The envelope id (lowercase hex), which receipts name.
    pub envelope_id: String,
    /// The envelope's size in bytes.
    pub envelope_len: u64,
    /// The key ids it is sealed to.
    pub recipients: Vec<String>,
    /// Where it stands.
    pub state: OutboxState,
    /// Bytes the relay has acknowledged.
    pub upload_offset: u64,
    /// The relay's address for the upload, once one was started.
    pub upload_url: Option<String>,
    /// When it was queued.
    pub created_at: String,
    /// When its state last changed.
    pub updated_at: String,
}

/// What a new outbox entry records about its envelope.
#[derive(Debug, Clone, Copy)]
pub struct NewEnvelope<'a> {
    /// The finalized draft it was sealed from, if any.
    pub draft_id: Option<&'a str>,
    /// The submission id inside it.
    pub submission_id: &'a str,
    /// Its envelope id.
    pub envelope_id: &'a [u8; 32],
    /// The key ids it is sealed to.
    pub recipients: &'a [String],
}

impl Vault {
    /// Stores a sealed envelope read from `envelope` and queues it. The
    /// whole envelope is stored in one transaction: after a crash it is
    /// either queued complete or not at all. Queuing the same submission
    /// twice is refused.
    pub fn queue_envelope(
        &mut self,
        new: &NewEnvelope<'_>,
        envelope: &mut dyn Read,
    ) -> Result<OutboxEntry> {
        let owner = self.account().id.clone();
        let actor = self.actor();
        let id = random_id("out")?;
        let recipients = serde_json::to_string(new.recipients)
            .map_err(|e| Error::Invalid(format!("could not record the recipients: {e}")))?;
        let conn = self.connection()?;
        let tx = conn.unchecked_transaction()?;
        if let Some(draft_id) = new.draft_id {
            let state: Option<String> = tx
                .query_row(
                    "SELECT state FROM drafts WHERE id = ?1 AND owner = ?2",
                    (draft_id, &owner),
                    |row| row.get(0),
                )
                .optional()?;
            let state = state.ok_or_else(|| Error::RecordNotFound {
                kind: "draft",
                id: draft_id.to_owned(),
            })?;
            if DraftState::parse_stored(&state)? != DraftState::Finalized {
                return Err(Error::NotAllowed(
                    "only a finalized draft can be sent; finalize it first".to_owned(),
                ));
            }
        }
        let duplicate: Option<String> = tx
            .query_row(
                "SELECT id FROM outbox WHERE submission_id = ?1",
                [new.submission_id],
                |row| row.get(0),
            )
            .optional()?;
        if duplicate.is_some() {
            return Err(Error::Invalid(format!(
                "submission {} is already in the outbox",
                new.submission_id
            )));
        }
        tx.execute(
            "INSERT INTO outbox (id, owner, draft_id, submission_id, envelope_id, envelope_len,
                                 recipients, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                     strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            (
                &id,
                &owner,
                new.draft_id,
                new.submission_id,
                hex(new.envelope_id),
                recipients,
            ),
        )?;
        let mut buffer = vec![0u8; CHUNK];
        let mut seq = 0u32;
        let mut total = 0u64;
        loop {
            let read = fill(envelope, &mut buffer)?;
            if read == 0 {
                break;
            }
            tx.execute(
                "INSERT INTO outbox_chunks (outbox_id, seq, data) VALUES (?1, ?2, ?3)",
                (&id, seq, &buffer[..read]),
            )?;
            seq += 1;
            total += read as u64;
        }
        if total == 0 {
            return Err(Error::Invalid("the envelope is empty".to_owned()));
        }
        tx.execute(
            "UPDATE outbox SET envelope_len = ?2 WHERE id = ?1",
            (&id, i64::try_from(total).unwrap_or(i64::MAX)),
        )?;
        record(&tx, Some(&actor), "outbox.queue", Some(&id), Outcome::Ok)?;
        let entry = load(&tx, &id, &owner)?;
        tx.commit()?;
        Ok(entry)
    }

    /// The signed-in account's outgoing envelopes, oldest first.
    pub fn outbox(&mut self) -> Result<Vec<OutboxEntry>> {
        let owner = self.account().id.clone();
        let conn = self.connection()?;
        let mut statement =
            conn.prepare("SELECT id FROM outbox WHERE owner = ?1 ORDER BY created_at, id")?;
        let ids = statement
            .query_map([&owner], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.iter().map(|id| load(conn, id, &owner)).collect()
    }

    /// One outgoing envelope.
    pub fn outbox_entry(&mut self, outbox_id: &str) -> Result<OutboxEntry> {
        let owner = self.account().id.clone();
        load(self.connection()?, outbox_id, &owner)
    }

    /// Writes the envelope's bytes from `offset` on into `output`, as an
    /// upload resuming from the relay's offset needs. Returns how many
    /// bytes were written.
    pub fn read_envelope(
        &mut self,
        outbox_id: &str,
        offset: u64,
        output: &mut dyn Write,
    ) -> Result<u64> {
        let owner = self.account().id.clone();
        let conn = self.connection()?;
        let entry = load(conn, outbox_id, &owner)?;
        if offset > entry.envelope_len {
            return Err(Error::Invalid(format!(
                "offset {offset} is past the end of the envelope ({} bytes)",
                entry.envelope_len
            )));
        }
        let mut statement =
            conn.prepare("SELECT data FROM outbox_chunks WHERE outbox_id = ?1 ORDER BY seq")?;
        let mut rows = statement.query([outbox_id])?;
        let mut position = 0u64;
        let mut written = 0u64;
        while let Some(row) = rows.next()? {
            let data: Vec<u8> = row.get(0)?;
            let end = position + data.len() as u64;
            if end > offset {
                let skip = usize::try_from(offset.saturating_sub(position)).unwrap_or(0);
                output
                    .write_all(&data[skip..])
                    .map_err(|e| Error::io("write", "the envelope's destination", e))?;
                written += (data.len() - skip) as u64;
            }
            position = end;
        }
        if position != entry.envelope_len {
            return Err(Error::Damaged);
        }
        Ok(written)
    }

    /// Records upload progress: the offset the relay acknowledged and the
    /// upload's address. The offset never goes backwards.
    pub fn set_upload_progress(
        &mut self,
        outbox_id: &str,
        offset: u64,
        upload_url: Option<&str>,
    ) -> Result<()> {
        let owner = self.account().id.clone();
        let conn = self.connection()?;
        let entry = load(conn, outbox_id, &owner)?;
        if entry.state > OutboxState::Uploading {
            return Ok(());
        }
        if offset > entry.envelope_len || offset < entry.upload_offset {
            return Err(Error::Invalid(format!(
                "upload offset {offset} is not between {} and {}",
                entry.upload_offset, entry.envelope_len
            )));
        }
        conn.execute(
            "UPDATE outbox SET state = 'uploading', upload_offset = ?2,
                 upload_url = coalesce(?3, upload_url),
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?1",
            (
                outbox_id,
                i64::try_from(offset).unwrap_or(i64::MAX),
                upload_url,
            ),
        )?;
        Ok(())
    }

    /// Marks an envelope as fully on the relay.
    pub fn mark_uploaded(&mut self, outbox_id: &str) -> Result<()> {
        self.advance(outbox_id, OutboxState::Uploaded, None)
    }

    /// Marks an envelope as receipted and keeps the signed receipt (its
    /// canonical JSON), which the caller has already verified.
    pub fn mark_receipted(&mut self, outbox_id: &str, receipt: &[u8]) -> Result<()> {
        if receipt.is_empty() || receipt.len() > MAX_RECEIPT_BYTES {
            return Err(Error::Invalid(
                "the receipt is empty or too large".to_owned(),
            ));
        }
        self.advance(outbox_id, OutboxState::Receipted, Some(receipt))
    }

    fn advance(&mut self, outbox_id: &str, to: OutboxState, receipt: Option<&[u8]>) -> Result<()> {
        let owner = self.account().id.clone();
        let actor = self.actor();
        let conn = self.connection()?;
        let entry = load(conn, outbox_id, &owner)?;
        if entry.state >= to {
            return Ok(());
        }
        let tx = conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE outbox SET state = ?2, receipt = coalesce(?3, receipt),
                 upload_offset = CASE WHEN ?2 IN ('uploaded', 'receipted') THEN envelope_len
                                      ELSE upload_offset END,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?1",
            (outbox_id, to.as_str(), receipt),
        )?;
        record(
            &tx,
            Some(&actor),
            &format!("outbox.{}", to.as_str()),
            Some(outbox_id),
            Outcome::Ok,
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn load(conn: &Connection, id: &str, owner: &str) -> Result<OutboxEntry> {
    let row = conn
        .query_row(
            "SELECT draft_id, submission_id, envelope_id, envelope_len, recipients, state,
                    upload_offset, upload_url, created_at, updated_at
             FROM outbox WHERE id = ?1 AND owner = ?2",
            (id, owner),
            |row| {
                Ok((
                    row.get::<_, Option<String>>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, i64>(6)?,
                    row.get::<_, Option<String>>(7)?,
                    row.get::<_, String>(8)?,
                    row.get::<_, String>(9)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| Error::RecordNotFound {
            kind: "outgoing envelope",
            id: id.to_owned(),
        })?;
    let (
        draft_id,
        submission_id,
        envelope_id,
        len,
        recipients,
        state,
        offset,
        url,
        created,
        updated,
    ) = row;
    Ok(OutboxEntry {
        id: id.to_owned(),
        draft_id,
        submission_id,
        envelope_id,
        envelope_len: u64::try_from(len).map_err(|_| Error::Damaged)?,
        recipients: serde_json::from_str(&recipients).map_err(|_| Error::Damaged)?,
        state: OutboxState::parse(&state)?,
        upload_offset: u64::try_from(offset).map_err(|_| Error::Damaged)?,
        upload_url: url,
        created_at: created,
        updated_at: updated,
    })
}

fn fill(input: &mut dyn Read, buffer: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("read", "the envelope", e)),
        }
    }
    Ok(filled)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
