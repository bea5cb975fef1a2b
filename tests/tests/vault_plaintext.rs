//! No client content leaves the vault in the clear, and deleted content does
//! not linger inside it.
//!
//! The `vault_torture` child, with `SATCHEL_LOG=trace` as a curious
//! administrator might set it, puts random canaries into a fresh vault: as
//! answers, as an attachment's bytes, as its file name, and as field ids.
//! Then every file in the data directory (database, WAL, shared memory,
//! keyring, anything else) and everything the child printed to stdout and
//! stderr is searched for each canary in UTF-8, UTF-16LE, UTF-16BE and
//! base64 at all three alignments: there must be no hit.
//!
//! Inside the database, field ids are stored in the clear (only values are
//! sealed), which lets the suite check deletion: it derives the database key
//! from the keyring on its own (Argon2id, then XChaCha20-Poly1305, as
//! `crates/satchel-vault/src/keyring.rs` documents), decrypts every
//! SQLCipher page of `vault.db` and every frame of its WAL, free pages and
//! stale frames included, sees the field ids there (so the search works),
//! removes two attachments and deletes a whole draft, and checks that no
//! page holds their field ids any more: right after each removal, while the
//! vault is still open as the app holds it, and again once it is closed.
//!
//! ```text
//! cargo test -p satchel-e2e --test vault_plaintext -- --nocapture
//! ```

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use aes::Aes256;
use anyhow::{Context, Result, bail, ensure};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use satchel_e2e::ChildGuard;
use satchel_e2e::workload::ACCOUNT_PASSPHRASE;

const TORTURE: &str = env!("CARGO_BIN_EXE_vault_torture");
/// How long one step of the child may take on a busy machine.
const PATIENCE: Duration = Duration::from_secs(120);

/// SQLCipher 4's defaults: 4096-byte pages ending in an 80-byte reserve
/// (a 16-byte IV, then a 64-byte HMAC-SHA512); page 1 starts with the
/// 16-byte salt in place of SQLite's magic string.
const PAGE: usize = 4096;
const RESERVE: usize = 80;
const IV: usize = 16;
const SALT: usize = 16;
/// SQLite's WAL: a 32-byte header, then frames of a 24-byte header and a
/// page.
const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// The canaries, each with what it stands for.
struct Canaries {
    answer: String,
    nested: String,
    content: String,
    file_name: String,
    /// The field of an attachment added by the first run and removed later.
    field: String,
    /// A field of a second draft, which is deleted whole.
    draft_field: String,
    /// The field of an attachment added and removed in one session.
    session_field: String,
}

impl Canaries {
    fn new() -> Result<Self> {
        Ok(Self {
            answer: format!("CANARY-{}", random_hex()?),
            nested: format!("CANARY-{}", random_hex()?),
            content: format!("CANARY-{}", random_hex()?),
            file_name: format!("CANARY-{}", random_hex()?),
            field: format!("canary_{}", random_hex()?),
            draft_field: format!("canary_{}", random_hex()?),
            session_field: format!("canary_{}", random_hex()?),
        })
    }

    fn all(&self) -> [(&'static str, &str); 7] {
        [
            ("answer", &self.answer),
            ("nested answer", &self.nested),
            ("attachment content", &self.content),
            ("attachment file name", &self.file_name),
            ("removed attachment's field", &self.field),
            ("deleted draft's field", &self.draft_field),
            ("session attachment's field", &self.session_field),
        ]
    }

    /// The canaries that are sealed values, never stored in the clear even
    /// inside the database.
    fn sealed(&self) -> [&str; 4] {
        [&self.answer, &self.nested, &self.content, &self.file_name]
    }
}

fn random_hex() -> Result<String> {
    let mut bytes = [0u8; 8];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn no_canary_is_stored_or_logged_in_the_clear() -> Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("satchel-plaintext-")
        .tempdir()
        .context("making the data directory")?;
    let data = dir.path().join("data");
    let canaries = Canaries::new()?;
    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();

    // The first run fills the vault and exits.
    let fill = Command::new(TORTURE)
        .arg("plaintext")
        .arg(&data)
        .arg("fill")
        .args([
            &canaries.answer,
            &canaries.nested,
            &canaries.content,
            &canaries.file_name,
            &canaries.field,
            &canaries.draft_field,
        ])
        .env("SATCHEL_LOG", "trace")
        .env_remove("SATCHEL_LOG_FORMAT")
        .stdin(Stdio::null())
        .output()
        .context("running the fill step")?;
    let stdout = String::from_utf8_lossy(&fill.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&fill.stderr).into_owned();
    ensure!(
        fill.status.success(),
        "the fill step failed ({}): {stderr}",
        fill.status
    );
    // The log capture works: trace logging from the vault is there.
    ensure!(
        stderr.contains("vault created"),
        "the child's log holds no vault events; is logging set up? {stderr}"
    );
    println!(
        "fill step: {} lines on stdout, {} log lines on stderr",
        stdout.lines().count(),
        stderr.lines().count()
    );
    let word = |verb: &str, index: usize| -> Result<String> {
        stdout
            .lines()
            .find_map(|line| {
                let mut parts = line.split(' ');
                (parts.next() == Some(verb)).then(|| parts.nth(index).map(str::to_owned))
            })
            .flatten()
            .with_context(|| format!("no `{verb}` line in {stdout:?}"))
    };
    let draft = word("marked", 0)?;
    let marked = word("marked", 1)?;
    let second_draft = word("second", 0)?;
    ensure!(stdout.lines().any(|l| l == "filled"), "fill did not finish");
    outputs.push(("fill stdout".to_owned(), fill.stdout));
    outputs.push(("fill stderr".to_owned(), fill.stderr));

    let key = database_key(&data)?;

    // The closed vault: the decryption is right (header, schema), field ids
    // are visible in it and sealed values are not.
    let pages = decrypt_all(&data, &key)?;
    pages.describe("after the fill step, vault closed");
    ensure!(
        pages.find(b"CREATE TABLE drafts").is_some(),
        "the decrypted pages hold no schema text: the decryption is wrong"
    );
    for field in [&canaries.field, &canaries.draft_field] {
        let found = pages.find(field.as_bytes());
        ensure!(
            found.is_some(),
            "field id {field} is not in the decrypted pages: the search does not work"
        );
        println!(
            "positive control: field id {field} found in {}",
            found.unwrap_or_default()
        );
    }
    for value in canaries.sealed() {
        ensure!(
            pages.find(value.as_bytes()).is_none(),
            "the sealed value {value} is readable in the decrypted database"
        );
    }
    search_raw(&data, &outputs, &canaries, "after the fill step")?;

    // A session, as the app holds the vault open: remove the first
    // attachment, add and remove another, delete the second draft. After
    // each step no page may hold what went.
    let mut residue = Vec::new();
    let mut session = Session::start(&data)?;
    session.command(&format!("remove {marked}"), &format!("removed {marked}"))?;
    let pages = decrypt_all(&data, &key)?;
    pages.describe("after removing the first attachment, vault open");
    find_residue(&pages, &canaries.field, "the first removal", &mut residue);

    let attached = session.command(
        &format!("attach {draft} {}", canaries.session_field),
        "attached ",
    )?;
    let second = attached
        .strip_prefix("attached ")
        .context("the attachment's id")?
        .to_owned();
    let pages = decrypt_all(&data, &key)?;
    pages.describe("after adding the second attachment, vault open");
    let found = pages.find(canaries.session_field.as_bytes());
    ensure!(
        found.is_some(),
        "field id {} is not in the decrypted pages while the vault is open: the WAL \
         decryption does not work",
        canaries.session_field
    );
    println!(
        "positive control: field id {} found in {}",
        canaries.session_field,
        found.unwrap_or_default()
    );
    search_raw(&data, &outputs, &canaries, "with the vault open")?;

    session.command(&format!("remove {second}"), &format!("removed {second}"))?;
    let pages = decrypt_all(&data, &key)?;
    pages.describe("after removing the second attachment, vault open");
    find_residue(
        &pages,
        &canaries.session_field,
        "the second removal",
        &mut residue,
    );

    session.command(
        &format!("delete {second_draft}"),
        &format!("deleted {second_draft}"),
    )?;
    let pages = decrypt_all(&data, &key)?;
    pages.describe("after deleting the second draft, vault open");
    find_residue(
        &pages,
        &canaries.draft_field,
        "the draft's deletion",
        &mut residue,
    );
    outputs.extend(session.finish()?);

    // Closed again: nothing of what went, anywhere.
    let pages = decrypt_all(&data, &key)?;
    pages.describe("after the session, vault closed");
    for field in [
        &canaries.field,
        &canaries.session_field,
        &canaries.draft_field,
    ] {
        find_residue(&pages, field, "closing the vault", &mut residue);
    }
    search_raw(&data, &outputs, &canaries, "after the session")?;
    ensure!(
        residue.is_empty(),
        "removed content is still readable in the decrypted pages:\n{}",
        residue.join("\n")
    );
    println!("no page of vault.db or its WAL holds a removed field id, free pages included");
    Ok(())
}

/// Records where `needle` still is, after `step`.
fn find_residue(pages: &Decrypted, needle: &str, step: &str, residue: &mut Vec<String>) {
    let places = pages.find_all(needle.as_bytes());
    if !places.is_empty() {
        residue.push(format!(
            "after {step}, field id {needle} is in {}",
            places.join(", ")
        ));
    }
}

/// The child's `session` mode, driven one command at a time.
struct Session {
    guard: ChildGuard,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stdout: Vec<u8>,
    stderr: std::thread::JoinHandle<Vec<u8>>,
}

impl Session {
    fn start(data: &Path) -> Result<Self> {
        let mut guard = ChildGuard::spawn(
            Command::new(TORTURE)
                .arg("plaintext")
                .arg(data)
                .arg("session")
                .env("SATCHEL_LOG", "trace")
                .env("SATCHEL_LOG_FORMAT", "json")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            "the session step",
        )?;
        let child = guard.child();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("the session's stdout")?;
        let mut stderr = child.stderr.take().context("the session's stderr")?;
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr.read_to_end(&mut bytes);
            bytes
        });
        let mut session = Self {
            guard,
            stdin,
            lines,
            stdout: Vec::new(),
            stderr,
        };
        session.expect("ready")?;
        Ok(session)
    }

    /// Waits for a line starting with `prefix` and returns it.
    fn expect(&mut self, prefix: &str) -> Result<String> {
        let line = self
            .lines
            .recv_timeout(PATIENCE)
            .with_context(|| format!("the session did not answer {prefix:?}"))?;
        self.stdout.extend_from_slice(line.as_bytes());
        self.stdout.push(b'\n');
        ensure!(
            line.starts_with(prefix),
            "the session said {line:?}, not {prefix:?}"
        );
        Ok(line)
    }

    fn command(&mut self, command: &str, answer: &str) -> Result<String> {
        let stdin = self.stdin.as_mut().context("the session's stdin")?;
        writeln!(stdin, "{command}")
            .and_then(|()| stdin.flush())
            .context("sending a command")?;
        self.expect(answer)
    }

    /// Ends input, waits for the child to close the vault and exit, and
    /// returns what it printed.
    fn finish(mut self) -> Result<Vec<(String, Vec<u8>)>> {
        drop(self.stdin.take());
        self.expect("closed")?;
        let status = self
            .guard
            .child()
            .wait()
            .context("waiting for the session")?;
        let stderr = self.stderr.join().unwrap_or_default();
        ensure!(
            status.success(),
            "the session failed ({status}): {}",
            String::from_utf8_lossy(&stderr)
        );
        ensure!(
            String::from_utf8_lossy(&stderr).contains("signed in"),
            "the session's log holds no vault events"
        );
        println!(
            "session step: {} lines on stdout, {} log lines on stderr",
            self.stdout.split(|b| *b == b'\n').count() - 1,
            stderr.split(|b| *b == b'\n').count() - 1
        );
        Ok(vec![
            (
                "session stdout".to_owned(),
                std::mem::take(&mut self.stdout),
            ),
            ("session stderr".to_owned(), stderr),
        ])
    }
}

/// Derives the raw database key from the keyring as its format documents:
/// Argon2id over the passphrase with the stored parameters and salt, then
/// XChaCha20-Poly1305 with the stored nonce; the plaintext is the 32-byte
/// database key followed by the 32-byte account key.
fn database_key(data: &Path) -> Result<[u8; 32]> {
    let text = fs::read(data.join("keyring.json")).context("reading the keyring")?;
    let keyring: serde_json::Value =
        serde_json::from_slice(&text).context("parsing the keyring")?;
    let account = &keyring["accounts"][0];
    let id = account["id"].as_str().context("the account id")?;
    let wrap = &account["passphrase"];
    let kdf = &wrap["kdf"];
    ensure!(
        kdf["algorithm"] == "argon2id",
        "unexpected KDF {}",
        kdf["algorithm"]
    );
    let number = |name: &str| -> Result<u32> {
        kdf[name]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .with_context(|| format!("the KDF's {name}"))
    };
    let decode = |value: &serde_json::Value, what: &str| -> Result<Vec<u8>> {
        BASE64
            .decode(
                value
                    .as_str()
                    .with_context(|| format!("the wrap's {what}"))?,
            )
            .with_context(|| format!("decoding the wrap's {what}"))
    };
    let salt = decode(&kdf["salt"], "salt")?;
    let nonce = decode(&wrap["nonce"], "nonce")?;
    let ciphertext = decode(&wrap["ciphertext"], "ciphertext")?;
    ensure!(nonce.len() == 24, "the nonce is {} bytes", nonce.len());

    let params = Params::new(
        number("memory_kib")?,
        number("iterations")?,
        number("parallelism")?,
        Some(32),
    )
    .map_err(|e| anyhow::anyhow!("Argon2 parameters: {e}"))?;
    let mut wrapping = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(ACCOUNT_PASSPHRASE.as_bytes(), &salt, &mut wrapping)
        .map_err(|e| anyhow::anyhow!("Argon2id: {e}"))?;
    let mut aad = b"satchel keyring v2\0".to_vec();
    aad.extend_from_slice(id.as_bytes());
    aad.extend_from_slice(b"\0passphrase");
    let plain = XChaCha20Poly1305::new((&wrapping).into())
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| anyhow::anyhow!("the keyring's passphrase wrap does not open"))?;
    ensure!(
        plain.len() == 64,
        "the wrapped keys are {} bytes",
        plain.len()
    );
    let mut key = [0u8; 32];
    key.copy_from_slice(&plain[..32]);
    Ok(key)
}

/// Every page of the database and every frame of its WAL, decrypted.
struct Decrypted {
    /// Where each page came from, and its plaintext.
    pages: Vec<(String, Vec<u8>)>,
    db_pages: usize,
    free_pages: u32,
    wal_frames: usize,
}

impl Decrypted {
    fn find(&self, needle: &[u8]) -> Option<String> {
        self.pages
            .iter()
            .find(|(_, page)| contains(page, needle))
            .map(|(place, _)| place.clone())
    }

    fn find_all(&self, needle: &[u8]) -> Vec<String> {
        self.pages
            .iter()
            .filter(|(_, page)| contains(page, needle))
            .map(|(place, _)| place.clone())
            .collect()
    }

    fn describe(&self, when: &str) {
        println!(
            "decrypted {when}: vault.db {} pages ({} on the free list), vault.db-wal {} frames",
            self.db_pages, self.free_pages, self.wal_frames
        );
    }
}

/// Decrypts `vault.db` and `vault.db-wal` (when there is one), checking the
/// SQLite header of every copy of page 1 so a wrong key or layout cannot
/// pass for an empty search.
fn decrypt_all(data: &Path, key: &[u8; 32]) -> Result<Decrypted> {
    let db = fs::read(data.join("vault.db")).context("reading vault.db")?;
    ensure!(
        !db.is_empty() && db.len() % PAGE == 0,
        "vault.db is {} bytes, not whole pages",
        db.len()
    );
    let mut pages = Vec::new();
    for (index, page) in db.chunks(PAGE).enumerate() {
        let number = u32::try_from(index + 1)?;
        let plain = decrypt_page(key, number, page)?;
        pages.push((format!("vault.db page {number}"), plain));
    }
    let free_pages = u32::from_be_bytes(pages[0].1[36 - SALT..40 - SALT].try_into()?);

    let mut wal_frames = 0;
    match fs::read(data.join("vault.db-wal")) {
        Ok(wal) if wal.len() > WAL_HEADER => {
            let page_size = u32::from_be_bytes(wal[8..12].try_into()?);
            ensure!(
                page_size as usize == PAGE,
                "the WAL's page size is {page_size}"
            );
            for (index, frame) in wal[WAL_HEADER..].chunks(FRAME_HEADER + PAGE).enumerate() {
                if frame.len() < FRAME_HEADER + PAGE {
                    break;
                }
                let number = u32::from_be_bytes(frame[..4].try_into()?);
                let plain = decrypt_page(key, number, &frame[FRAME_HEADER..])?;
                pages.push((
                    format!("vault.db-wal frame {} (page {number})", index + 1),
                    plain,
                ));
                wal_frames += 1;
            }
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).context("reading vault.db-wal"),
    }
    Ok(Decrypted {
        pages,
        db_pages: db.len() / PAGE,
        free_pages,
        wal_frames,
    })
}

/// Decrypts one SQLCipher page: AES-256-CBC without padding, under the raw
/// key, with the IV from the page's reserve. Page 1's first 16 bytes are
/// the salt and stay out.
fn decrypt_page(key: &[u8; 32], number: u32, page: &[u8]) -> Result<Vec<u8>> {
    ensure!(page.len() == PAGE, "a page of {} bytes", page.len());
    let start = if number == 1 { SALT } else { 0 };
    let end = PAGE - RESERVE;
    let iv: [u8; IV] = page[end..end + IV].try_into()?;
    let mut plain = page[start..end].to_vec();
    cbc::Decryptor::<Aes256>::new(key.into(), (&iv).into())
        .decrypt_padded_mut::<NoPadding>(&mut plain)
        .map_err(|_| anyhow::anyhow!("page {number} is not whole AES blocks"))?;
    if number == 1 {
        // SQLite's header from byte 16: page size 4096, WAL read and write
        // versions 2, 80 reserved bytes, and the fixed payload fractions.
        ensure!(
            plain[..8] == [0x10, 0x00, 2, 2, RESERVE as u8, 64, 32, 32],
            "page 1 does not decrypt to an SQLite header: the key or the layout is wrong"
        );
    }
    Ok(plain)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The byte strings a canary could appear as: UTF-8, UTF-16 either way
/// round, and base64 at each of the three alignments (only the characters
/// that depend on the canary alone, not on its neighbours).
fn encodings(canary: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        ("utf-8".to_owned(), canary.as_bytes().to_vec()),
        (
            "utf-16le".to_owned(),
            canary.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        ),
        (
            "utf-16be".to_owned(),
            canary.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        ),
    ];
    let len = canary.len();
    for shift in 0..3 {
        let mut input = vec![0u8; shift];
        input.extend_from_slice(canary.as_bytes());
        let encoded = BASE64.encode(&input);
        // Character j covers bits 6j..6j+6; keep those inside the canary.
        let first = (8 * shift).div_ceil(6);
        let last = 8 * (shift + len) / 6;
        out.push((
            format!("base64+{shift}"),
            encoded.as_bytes()[first..last].to_vec(),
        ));
    }
    out
}

/// Searches every file under the data directory and every captured output
/// for every encoding of every canary; prints what it searched.
fn search_raw(
    data: &Path,
    outputs: &[(String, Vec<u8>)],
    canaries: &Canaries,
    when: &str,
) -> Result<()> {
    let mut haystacks: Vec<(String, Vec<u8>)> = Vec::new();
    for path in files_under(data)? {
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let name = path
            .strip_prefix(data)
            .unwrap_or(&path)
            .display()
            .to_string();
        haystacks.push((name, bytes));
    }
    for (label, bytes) in outputs {
        haystacks.push((label.clone(), bytes.clone()));
    }
    let patterns: Vec<(String, Vec<u8>)> = canaries
        .all()
        .iter()
        .flat_map(|(what, canary)| {
            encodings(canary)
                .into_iter()
                .map(move |(encoding, bytes)| (format!("{what} ({encoding})"), bytes))
        })
        .collect();
    println!(
        "searched {when} for {} patterns ({} canaries):",
        patterns.len(),
        canaries.all().len()
    );
    let mut hits = Vec::new();
    for (name, bytes) in &haystacks {
        println!("  {name}: {} bytes", bytes.len());
        for (pattern, needle) in &patterns {
            if contains(bytes, needle) {
                hits.push(format!("{pattern} in {name}"));
            }
        }
    }
    if !hits.is_empty() {
        bail!("canaries found in the clear:\n{}", hits.join("\n"));
    }
    println!("  no hits");
    Ok(())
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[test]
fn base64_patterns_ignore_the_neighbours() {
    let canary = "CANARY-0123456789abcdef";
    let patterns = encodings(canary);
    for (shift, (_, pattern)) in patterns[3..].iter().enumerate() {
        for neighbour in [0u8, 0xff, b'x'] {
            let mut input = vec![neighbour; shift];
            input.extend_from_slice(canary.as_bytes());
            input.extend_from_slice(&[neighbour; 3]);
            let encoded = BASE64.encode(&input);
            assert!(
                contains(encoded.as_bytes(), pattern),
                "base64+{shift} with neighbour {neighbour}"
            );
        }
        assert!(
            pattern.len() >= 28,
            "base64+{shift} keeps {} characters",
            pattern.len()
        );
    }
}
