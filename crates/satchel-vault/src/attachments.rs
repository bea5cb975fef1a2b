//! Attachments: files a client hands over, stored encrypted in chunks.
//!
//! A file streams in piece by piece and is never held whole in memory. Its
//! type is read from its first bytes, never from its name, and checked
//! against the field's allow-list; its size against the field's limit; its
//! bytes go through the malware scanner when the policy asks for one. Each
//! 64 KiB chunk is sealed under the attachment's own content key and bound
//! to its position, and the file name, type and SHA-256 are sealed too.
//!
//! Arrival is crash-safe: the attachment's row is marked `receiving` until
//! the last chunk and the scan verdict are in, and a row still marked so
//! when the vault next opens is the remains of an interrupted upload and is
//! removed. A refused file leaves nothing behind, and the rest of its draft
//! is untouched.

use std::io::{Read, Write};

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::crypto::{self, Key, random_id};
use crate::drafts::{check_field, content_key_aad, open_draft_key};
use crate::error::{Error, Result};
use crate::scan::{PolicyScan, ScanOutcome, ScanPolicy, Scanner};
use crate::vault::{Outcome, Vault, record};

/// The plaintext bytes per stored chunk.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks written per transaction while a file streams in.
const CHUNKS_PER_COMMIT: u32 = 32;
/// The longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 255;

/// What a field accepts.
#[derive(Debug, Clone, Copy)]
pub struct AttachmentRules<'a> {
    /// Media types allowed, such as `application/pdf` or `image/*`.
    pub allowed_types: &'a [&'a str],
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
}

/// The scanner to use and how much to insist on it.
#[derive(Clone, Copy)]
pub struct Scanning<'a> {
    /// The scanner, if one is configured.
    pub scanner: Option<&'a dyn Scanner>,
    /// Whether a scan is required, optional or off.
    pub policy: ScanPolicy,
}

/// A stored attachment's description, for its owner.
#[derive(Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// The attachment's id, such as `file-3f9a0c21d4e5b687`.
    pub id: String,
    /// The field it was attached to.
    pub field: String,
    /// The file's name as the person chose it (without any folder).
    pub file_name: String,
    /// The media type read from the content.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Whether the malware scanner checked it and found nothing; `false`
    /// when scanning was off or optional and unavailable.
    pub scanned: bool,
    /// When it was stored.
    pub created_at: String,
}

/// Withholds the file's name, which is the client's: Debug output ends up
/// in logs and panic messages.
impl std::fmt::Debug for AttachmentInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentInfo")
            .field("id", &self.id)
            .field("field", &self.field)
            .field("file_name", &"<withheld>")
            .field("media_type", &self.media_type)
            .field("size", &self.size)
            .field("sha256", &self.sha256)
            .field("scanned", &self.scanned)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// The sealed part of an attachment's row.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    file_name: String,
    media_type: String,
    sha256: String,
    scanned: bool,
}

impl Vault {
    /// Stores the file read from `input` as an attachment to `field` of an
    /// open draft, checking it against `rules` and scanning it as
    /// `scanning` says. On any refusal nothing of the file is kept.
    pub fn add_attachment(
        &mut self,
        draft_id: &str,
        field: &str,
        file_name: &str,
        input: &mut dyn Read,
        rules: &AttachmentRules<'_>,
        scanning: Scanning<'_>,
    ) -> Result<AttachmentInfo> {
        check_field(field)?;
        let file_name = clean_file_name(file_name)?;
        let owner = self.account().id.clone();
        let actor = self.actor();
        let id = random_id("file")?;
        let (conn, account_key) = self.session()?;

        // Claim the row first, so an interrupted upload can be found and
        // removed on the next open.
        let content_key = Key::generate()?;
        {
            let tx = conn.unchecked_transaction()?;
            open_draft_key(&tx, account_key, draft_id, &owner, true)?;
            let wrapped =
                account_key.wrap(&content_key_aad("attachment", &id, &owner), &content_key)?;
            tx.execute(
                "INSERT INTO attachments (id, owner, draft_id, field, content_key, state, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'receiving', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                (&id, &owner, draft_id, field, wrapped),
            )?;
            tx.commit()?;
        }

        let stored = store_chunks(conn, &id, &content_key, input, rules, scanning);
        let (size, chunks, media_type, sha256, outcome) = match stored {
            Ok(stored) => stored,
            Err(error) => {
                let tx = conn.unchecked_transaction()?;
                tx.execute("DELETE FROM attachments WHERE id = ?1", [&id])?;
                record(
                    &tx,
                    Some(&actor),
                    "attachment.add",
                    Some(&id),
                    Outcome::Refused,
                )?;
                tx.commit()?;
                return Err(error);
            }
        };

        let meta = Meta {
            file_name: file_name.to_owned(),
            media_type,
            sha256,
            scanned: outcome == ScanOutcome::Clean,
        };
        let sealed_meta = seal_meta(
            &content_key,
            &id,
            &meta.file_name,
            &meta.media_type,
            &meta.sha256,
            meta.scanned,
        )?;
        let tx = conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE attachments SET meta = ?2, size = ?3, chunks = ?4, state = 'complete'
             WHERE id = ?1",
            (
                &id,
                sealed_meta,
                i64::try_from(size).unwrap_or(i64::MAX),
                chunks,
            ),
        )?;
        tx.execute(
            "UPDATE drafts SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            [draft_id],
        )?;
        record(&tx, Some(&actor), "attachment.add", Some(&id), Outcome::Ok)?;
        let created_at: String = tx.query_row(
            "SELECT created_at FROM attachments WHERE id = ?1",
            [&id],
            |row| row.get(0),
        )?;
        tx.commit()?;
        Ok(AttachmentInfo {
            id,
            field: field.to_owned(),
            file_name: meta.file_name,
            media_type: meta.media_type,
            size,
            sha256: meta.sha256,
            scanned: meta.scanned,
            created_at,
        })
    }

    /// The attachments of one of the account's drafts, oldest first.
    pub fn attachments(&mut self, draft_id: &str) -> Result<Vec<AttachmentInfo>> {
        let owner = self.account().id.clone();
        let (conn, account_key) = self.session()?;
        open_draft_key(conn, account_key, draft_id, &owner, false)?;
        let mut statement = conn.prepare(
            "SELECT id FROM attachments
             WHERE draft_id = ?1 AND owner = ?2 AND state = 'complete'
             ORDER BY created_at, id",
        )?;
        let ids = statement
            .query_map((draft_id, &owner), |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.iter()
            .map(|id| Ok(load(conn, account_key, id, &owner)?.0))
            .collect()
    }

    /// Streams an attachment's bytes into `output`, checking every chunk
    /// and, at the end, the whole file's SHA-256. On an error, what was
    /// written so far must be discarded.
    pub fn read_attachment(
        &mut self,
        attachment_id: &str,
        output: &mut dyn Write,
    ) -> Result<AttachmentInfo> {
        let owner = self.account().id.clone();
        let (conn, account_key) = self.session()?;
        let (info, key, chunks) = load(conn, account_key, attachment_id, &owner)?;
        let mut hash = Sha256::new();
        let mut statement = conn.prepare(
            "SELECT seq, data FROM attachment_chunks WHERE attachment_id = ?1 ORDER BY seq",
        )?;
        let mut rows = statement.query([attachment_id])?;
        let mut expected = 0u32;
        let mut total = 0u64;
        while let Some(row) = rows.next()? {
            let seq: u32 = row.get(0)?;
            let sealed: Vec<u8> = row.get(1)?;
            if seq != expected {
                return Err(Error::Damaged);
            }
            let plain = key
                .open(&chunk_aad(attachment_id, seq), &sealed)
                .ok_or(Error::Damaged)?;
            hash.update(&plain[..]);
            total += plain.len() as u64;
            output
                .write_all(&plain)
                .map_err(|e| Error::io("write", "the attachment's destination", e))?;
            expected += 1;
        }
        if expected != chunks || total != info.size || hex(&hash.finalize()) != info.sha256 {
            return Err(Error::Damaged);
        }
        Ok(info)
    }

    /// Removes an attachment from a draft that is still open, as when the
    /// wrong file was picked.
    pub fn remove_attachment(&mut self, attachment_id: &str) -> Result<()> {
        let owner = self.account().id.clone();
        let actor = self.actor();
        let (conn, account_key) = self.session()?;
        let draft_id: Option<Option<String>> = conn
            .query_row(
                "SELECT draft_id FROM attachments WHERE id = ?1 AND owner = ?2",
                (attachment_id, &owner),
                |row| row.get(0),
            )
            .optional()?;
        let draft_id = draft_id.flatten().ok_or_else(|| not_found(attachment_id))?;
        let tx = conn.unchecked_transaction()?;
        open_draft_key(&tx, account_key, &draft_id, &owner, true)?;
        // The wrapped key goes first, then the chunks with the row.
        tx.execute(
            "UPDATE attachments SET content_key = zeroblob(length(content_key)) WHERE id = ?1",
            [attachment_id],
        )?;
        tx.execute("DELETE FROM attachments WHERE id = ?1", [attachment_id])?;
        record(
            &tx,
            Some(&actor),
            "attachment.remove",
            Some(attachment_id),
            Outcome::Ok,
        )?;
        tx.commit()?;
        // Old page images of the removed rows leave the write-ahead log.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// Reads, checks, scans and stores the chunks of a new attachment. Returns
/// its size, chunk count, media type, SHA-256 and scan outcome.
fn store_chunks(
    conn: &Connection,
    id: &str,
    key: &Key,
    input: &mut dyn Read,
    rules: &AttachmentRules<'_>,
    scanning: Scanning<'_>,
) -> Result<(u64, u32, String, String, ScanOutcome)> {
    let mut scan = PolicyScan::start(scanning.scanner, scanning.policy)?;
    let mut hash = Sha256::new();
    let mut buffer = zeroize::Zeroizing::new(vec![0u8; CHUNK_BYTES]);
    let mut size = 0u64;
    let mut seq = 0u32;
    let mut media_type = None;
    let mut tx = conn.unchecked_transaction()?;
    loop {
        let read = fill(input, &mut buffer)?;
        if read == 0 {
            break;
        }
        let piece = &buffer[..read];
        size += read as u64;
        if size > rules.max_bytes {
            return Err(Error::AttachmentRefused(format!(
                "the file is larger than this question accepts ({}); choose a smaller file",
                human_size(rules.max_bytes)
            )));
        }
        if media_type.is_none() {
            let detected = detect_type(piece);
            if !allowed(rules.allowed_types, &detected) {
                return Err(Error::AttachmentRefused(format!(
                    "this question does not accept {detected} files; it accepts {}",
                    rules.allowed_types.join(", ")
                )));
            }
            media_type = Some(detected);
        }
        scan.write(piece)?;
        hash.update(piece);
        let sealed = key.seal(&chunk_aad(id, seq), piece)?;
        tx.execute(
            "INSERT INTO attachment_chunks (attachment_id, seq, data) VALUES (?1, ?2, ?3)",
            (id, seq, sealed),
        )?;
        seq = seq
            .checked_add(1)
            .ok_or_else(|| Error::AttachmentRefused("the file is too large".to_owned()))?;
        if seq.is_multiple_of(CHUNKS_PER_COMMIT) {
            tx.commit()?;
            tx = conn.unchecked_transaction()?;
        }
    }
    tx.commit()?;
    let Some(media_type) = media_type else {
        return Err(Error::AttachmentRefused(
            "the file is empty; choose the file again".to_owned(),
        ));
    };
    let outcome = scan.finish()?;
    Ok((size, seq, media_type, hex(&hash.finalize()), outcome))
}

/// An attachment's row as stored.
struct Row {
    field: String,
    wrapped: Vec<u8>,
    sealed_meta: Option<Vec<u8>>,
    size: i64,
    chunks: u32,
    created_at: String,
}

/// An attachment's description, content key and chunk count.
fn load(
    conn: &Connection,
    account_key: &Key,
    id: &str,
    owner: &str,
) -> Result<(AttachmentInfo, Key, u32)> {
    let Row {
        field,
        wrapped,
        sealed_meta,
        size,
        chunks,
        created_at,
    } = conn
        .query_row(
            "SELECT field, content_key, meta, size, chunks, created_at FROM attachments
             WHERE id = ?1 AND owner = ?2 AND state = 'complete'",
            (id, owner),
            |row| {
                Ok(Row {
                    field: row.get(0)?,
                    wrapped: row.get(1)?,
                    sealed_meta: row.get(2)?,
                    size: row.get(3)?,
                    chunks: row.get(4)?,
                    created_at: row.get(5)?,
                })
            },
        )
        .optional()?
        .ok_or_else(|| not_found(id))?;
    let size = u64::try_from(size).map_err(|_| Error::Damaged)?;
    let key = account_key
        .unwrap_key(&content_key_aad("attachment", id, owner), &wrapped)
        .ok_or(Error::Damaged)?;
    let meta_json = sealed_meta
        .and_then(|sealed| key.open(&meta_aad(id), &sealed))
        .ok_or(Error::Damaged)?;
    let meta: Meta = serde_json::from_slice(&meta_json).map_err(|_| Error::Damaged)?;
    let info = AttachmentInfo {
        id: id.to_owned(),
        field,
        file_name: meta.file_name,
        media_type: meta.media_type,
        size,
        sha256: meta.sha256,
        scanned: meta.scanned,
        created_at,
    };
    Ok((info, key, chunks))
}

/// Seals an attachment's description under its content key.
pub(crate) fn seal_meta(
    key: &Key,
    id: &str,
    file_name: &str,
    media_type: &str,
    sha256: &str,
    scanned: bool,
) -> Result<Vec<u8>> {
    let meta = Meta {
        file_name: file_name.to_owned(),
        media_type: media_type.to_owned(),
        sha256: sha256.to_owned(),
        scanned,
    };
    let json = serde_json::to_vec(&meta)
        .map_err(|e| Error::Invalid(format!("could not describe the file: {e}")))?;
    key.seal(&meta_aad(id), &json)
}

/// An attachment's description, for its owner.
pub(crate) fn describe(
    conn: &Connection,
    account_key: &Key,
    id: &str,
    owner: &str,
) -> Result<AttachmentInfo> {
    Ok(load(conn, account_key, id, owner)?.0)
}

/// Removes attachments whose upload was cut off (still `receiving`), and
/// returns how many there were.
pub(crate) fn remove_unfinished(conn: &Connection) -> Result<usize> {
    Ok(conn.execute("DELETE FROM attachments WHERE state = 'receiving'", [])?)
}

/// The media type of a file, from its first bytes: a known signature, or
/// plain text when the bytes are UTF-8 without control characters other
/// than line breaks and tabs, or else `application/octet-stream`.
fn detect_type(first: &[u8]) -> String {
    if let Some(kind) = infer::get(first) {
        return kind.mime_type().to_owned();
    }
    // The piece may end inside a multi-byte character.
    let text = match std::str::from_utf8(first) {
        Ok(text) => Some(text),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&first[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    match text {
        Some(text)
            if !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            "text/plain".to_owned()
        }
        _ => "application/octet-stream".to_owned(),
    }
}

/// Whether `media_type` matches one of `allowed` (`type/*` matches a whole
/// family).
fn allowed(allowed: &[&str], media_type: &str) -> bool {
    allowed
        .iter()
        .any(|pattern| match pattern.strip_suffix("/*") {
            Some(family) => media_type
                .split_once('/')
                .is_some_and(|(kind, _)| kind == family),
            None => *pattern == media_type,
        })
}

/// Keeps the last path component of a file name and checks it.
fn clean_file_name(name: &str) -> Result<&str> {
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(Error::AttachmentRefused(format!(
            "the file name must be 1 to {MAX_NAME_CHARS} characters without control characters; rename the file"
        )));
    }
    Ok(name)
}

/// Reads until `buffer` is full or the input ends.
fn fill(input: &mut dyn Read, buffer: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("read", "the file being attached", e)),
        }
    }
    Ok(filled)
}

pub(crate) fn chunk_aad(id: &str, seq: u32) -> Vec<u8> {
    crypto::aad("attachment-chunk", &[id, &seq.to_string()])
}

fn meta_aad(id: &str) -> Vec<u8> {
    crypto::aad("attachment-meta", &[id])
}

fn not_found(id: &str) -> Error {
    Error::RecordNotFound {
        kind: "attachment",
        id: id.to_owned(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_content() {
        assert_eq!(detect_type(b"%PDF-1.7\n%\xe2\xe3"), "application/pdf");
        assert_eq!(
            detect_type(&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F']),
            "image/jpeg"
        );
        assert_eq!(detect_type("Hola, señora\n".as_bytes()), "text/plain");
        // Cut inside the two bytes of "ñ": still text.
        assert_eq!(detect_type(&"señ".as_bytes()[..3]), "text/plain");
        assert_eq!(detect_type(&[0, 1, 2, 3, 0xfe]), "application/octet-stream");
    }

    #[test]
    fn allow_lists_match_exact_types_and_families() {
        let rules = ["application/pdf", "image/*"];
        assert!(allowed(&rules, "application/pdf"));
        assert!(allowed(&rules, "image/png"));
        assert!(!allowed(&rules, "text/plain"));
        assert!(!allowed(&rules, "imagex/png"));
    }

    #[test]
    fn file_names_lose_their_folders() {
        assert_eq!(
            clean_file_name("C:\\Users\\x\\lease.pdf").expect("ok"),
            "lease.pdf"
        );
        assert_eq!(
            clean_file_name("/tmp/../notice.pdf").expect("ok"),
            "notice.pdf"
        );
        for bad in ["", "dir/", "..", "new\nline.pdf"] {
            assert!(clean_file_name(bad).is_err(), "{bad:?}");
        }
    }
}
