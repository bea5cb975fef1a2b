//! Backups: the whole vault in one file, never in the clear, and restoring
//! it on this or another laptop.
//!
//! # What a backup holds
//!
//! A backup is the keyring and a consistent copy of the database, one after
//! the other in a single file:
//!
//! ```text
//! offset      size  field
//! 0           17    "SATCHEL-BACKUP-1\n": the tag and the format version
//! 17          4     K, the keyring's length in bytes (u32, big-endian)
//! 21          K     the keyring file, as stored (JSON, keys wrapped)
//! 21+K        8     D, the database's length in bytes (u64, big-endian)
//! 29+K        D     the database: an SQLCipher 4 file under the vault's key
//! 29+K+D      32    SHA-256 of every byte before it
//! ```
//!
//! Nothing in it is in the clear that is not already so on disk: the
//! keyring holds the database key only wrapped under each account's
//! passphrase and recovery code, and the database copy is encrypted page by
//! page with the vault's own key. The copy is made by SQLCipher itself with
//! `VACUUM INTO`, which attaches the new file under the main database's key
//! and writes one consistent snapshot without the write-ahead log or free
//! pages; before the copy goes into the backup it is attached again and
//! must pass `PRAGMA integrity_check`, and its first bytes must not be a
//! plain SQLite header.
//!
//! The trailing SHA-256 catches a damaged or incomplete file before
//! anything is restored. It is a checksum, not a signature: what stops a
//! deliberate change is that SQLCipher authenticates every database page
//! with a key derived from the vault's key, and that every wrap in the
//! keyring is authenticated under its passphrase.
//!
//! # Writing and restoring safely
//!
//! The backup is written to a temporary file beside its destination,
//! flushed to disk, and only then given its name; an existing file is never
//! replaced. Restoring unpacks into a staging folder beside the target
//! folder, checks the checksum, the passphrase and the database's
//! integrity there, and only then moves the two files into place, the
//! keyring last, as it marks a vault as present. If anything fails, nothing
//! is left in the target folder.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};

use crate::crypto::random_id;
use crate::error::{Error, Result};
use crate::keyring::Keyring;
use crate::migrations;
use crate::secret::{DatabaseKey, Passphrase};
use crate::vault::{DATABASE_FILE, FreshAuth, KEYRING_FILE, Outcome, Presence, Vault, record};

/// The first line of every backup this build writes.
const MAGIC: &[u8] = b"SATCHEL-BACKUP-1\n";
/// The first line's fixed start, before the format version.
const TAG: &[u8] = b"SATCHEL-BACKUP-";
/// The backup format version this build writes and reads.
const FORMAT_VERSION: u32 = 1;
/// The most digits a format version may have.
const MAX_VERSION_DIGITS: usize = 9;
/// The largest keyring accepted in a backup.
const MAX_KEYRING_BYTES: u32 = 4 * 1024 * 1024;
/// How a plain, unencrypted SQLite file starts.
const PLAIN_SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
/// The name the database copy is attached under while it is checked.
const CHECK_SCHEMA: &str = "satchel_backup_check";

/// A backup just written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// Where it was written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

impl Vault {
    /// Writes the whole vault (every account's keyring entry and the whole
    /// database) into one new file at `destination`, encrypted as it is on
    /// disk. Needs the passphrase typed again. An existing file is never
    /// replaced.
    ///
    /// Anyone restoring the backup needs the passphrase or recovery code of
    /// one of its accounts, as they were when the backup was made.
    pub fn backup(&mut self, fresh: FreshAuth, destination: &Path) -> Result<BackupInfo> {
        self.require_fresh(fresh)?;
        let actor = self.actor();
        let written = self.write_backup(destination);
        let conn = self.connection()?;
        match written {
            Ok(info) => {
                if let Err(error) = record(conn, Some(&actor), "backup.create", None, Outcome::Ok) {
                    // A backup the audit log does not know of is not kept.
                    remove_quietly(&info.path);
                    return Err(error);
                }
                tracing::info!(backup.bytes = info.bytes, "backup written");
                Ok(info)
            }
            Err(error) => {
                if let Err(audit) =
                    record(conn, Some(&actor), "backup.create", None, Outcome::Failed)
                {
                    tracing::warn!(%audit, "could not audit a failed backup");
                }
                Err(error)
            }
        }
    }

    fn write_backup(&mut self, destination: &Path) -> Result<BackupInfo> {
        let name = destination
            .file_name()
            .ok_or_else(|| {
                Error::Invalid("choose a file name for the backup, not a folder".to_owned())
            })?
            .to_string_lossy()
            .into_owned();
        let folder = folder_of(destination);
        if !folder.is_dir() {
            return Err(Error::Invalid(format!(
                "the folder {} does not exist; choose another place for the backup",
                folder.display()
            )));
        }
        if destination.symlink_metadata().is_ok() {
            return Err(exists(destination));
        }

        let keyring_path = self.dir().join(KEYRING_FILE);
        Keyring::load(&keyring_path)?;
        let keyring =
            fs::read(&keyring_path).map_err(|e| Error::io("read the keyring", &keyring_path, e))?;
        let keyring_len = u32::try_from(keyring.len())
            .ok()
            .filter(|&len| len <= MAX_KEYRING_BYTES)
            .ok_or_else(|| Error::Invalid("the keyring is too large to back up".to_owned()))?;

        let tag = random_id("part")?;
        let copy = TempPath::new(folder.join(format!(".{name}.{tag}.db")));
        let part = TempPath::new(folder.join(format!(".{name}.{tag}.part")));

        let conn = self.connection()?;
        copy_database(conn, &copy.path)?;

        let copy_len = fs::metadata(&copy.path)
            .map_err(|e| Error::io("read", &copy.path, e))?
            .len();
        let file = create_private(&part.path)?;
        let mut out = HashingWriter {
            inner: BufWriter::new(file),
            hash: Sha256::new(),
        };
        let write = |e| Error::io("write", &part.path, e);
        out.write_all(MAGIC).map_err(write)?;
        out.write_all(&keyring_len.to_be_bytes()).map_err(write)?;
        out.write_all(&keyring).map_err(write)?;
        out.write_all(&copy_len.to_be_bytes()).map_err(write)?;
        let mut source = File::open(&copy.path)
            .map_err(|e| Error::io("read", &copy.path, e))?
            .take(copy_len);
        let copied = io::copy(&mut source, &mut out).map_err(write)?;
        if copied != copy_len {
            return Err(Error::Invalid(
                "the database copy changed while it was being backed up; try again".to_owned(),
            ));
        }
        let digest = out.hash.finalize();
        let mut inner = out.inner;
        inner.write_all(&digest).map_err(write)?;
        let file = inner
            .into_inner()
            .map_err(|e| Error::io("write", &part.path, e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io("flush", &part.path, e))?;
        drop(file);

        publish(&part.path, destination)?;
        sync_folder(&folder)?;
        let bytes = (MAGIC.len() + 4 + keyring.len() + 8 + digest.len()) as u64 + copy_len;
        Ok(BackupInfo {
            path: destination.to_owned(),
            bytes,
        })
    }
}

/// Restores a backup into `dir`, which must not hold a vault yet, and signs
/// `account` in with `passphrase`.
///
/// The backup is checked completely (its checksum, the passphrase, and the
/// database's integrity) before anything is put into `dir`, and on any
/// failure nothing is left there. An account that signs in with an
/// authenticator code needs [`restore_with_totp`].
///
/// # Errors
///
/// [`Error::AlreadyExists`] when `dir` holds a vault;
/// [`Error::UnknownAccount`] or [`Error::WrongPassphrase`] when the backup
/// has no such account or the passphrase does not open it;
/// [`Error::Invalid`] explaining what is wrong with a file that is not a
/// Satchel backup, is incomplete or damaged, or comes from a newer Satchel.
pub fn restore(
    backup: &Path,
    dir: &Path,
    account: &str,
    passphrase: &Passphrase,
    now: i64,
) -> Result<Vault> {
    restore_with_totp(backup, dir, account, passphrase, None, now)
}

/// [`restore`] for an account that signs in with a code from an
/// authenticator app as well.
pub fn restore_with_totp(
    backup: &Path,
    dir: &Path,
    account: &str,
    passphrase: &Passphrase,
    totp_code: Option<&str>,
    now: i64,
) -> Result<Vault> {
    if Vault::presence(dir) == Presence::Present {
        return Err(Error::AlreadyExists(dir.to_owned()));
    }
    let dir_name = dir
        .file_name()
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{} cannot hold a vault; choose a folder to restore into",
                dir.display()
            ))
        })?
        .to_string_lossy()
        .into_owned();
    let parent = folder_of(dir);
    fs::create_dir_all(&parent).map_err(|e| Error::io("create the folder", &parent, e))?;

    let staging = Staging::create(&parent, &dir_name)?;
    unpack(backup, &staging.path)?;

    let keyring = Keyring::load(&staging.path.join(KEYRING_FILE))
        .map_err(|_| damaged(backup, "its keyring cannot be read"))?;
    let entry = keyring
        .by_name(account)
        .ok_or_else(|| Error::UnknownAccount(account.trim().to_owned()))?;
    let keys = entry
        .open_with_passphrase(passphrase.as_bytes())?
        .ok_or(Error::WrongPassphrase)?;
    check_database(backup, &staging.path.join(DATABASE_FILE), &keys.database)?;
    drop(keys);

    let installed = Installed::move_in(&staging.path, dir)?;
    let mut vault = match Vault::sign_in(dir, account, passphrase, totp_code, now) {
        Ok(vault) => vault,
        Err(error) => {
            installed.undo();
            return Err(error);
        }
    };
    let actor = vault.actor();
    let audited = vault
        .connection()
        .and_then(|conn| record(conn, Some(&actor), "backup.restore", None, Outcome::Ok));
    if let Err(error) = audited {
        drop(vault);
        installed.undo();
        return Err(error);
    }
    installed.keep();
    tracing::info!(account.id = %actor.account_id, "vault restored from a backup");
    Ok(vault)
}

/// Copies the open database into a new file at `path` with `VACUUM INTO`,
/// and checks that the copy is encrypted under the same key and intact.
fn copy_database(conn: &Connection, path: &Path) -> Result<()> {
    let target = path.to_str().ok_or_else(|| {
        Error::Invalid(format!(
            "the backup cannot be written into {}: choose a folder whose name has only \
             ordinary characters",
            folder_of(path).display()
        ))
    })?;
    let _journal = TempPath::new(PathBuf::from(format!("{target}-journal")));
    conn.execute("VACUUM INTO ?1", [target])?;

    let mut head = [0u8; 16];
    File::open(path)
        .and_then(|mut file| file.read_exact(&mut head))
        .map_err(|e| Error::io("read", path, e))?;
    if &head == PLAIN_SQLITE_HEADER {
        return Err(Error::Invalid(
            "the backup was not written: the database copy came out unencrypted".to_owned(),
        ));
    }

    // Attached without a key, the copy is read with the main database's
    // key: it opens and checks out only if it is encrypted under it.
    conn.execute(&format!("ATTACH DATABASE ?1 AS {CHECK_SCHEMA}"), [target])?;
    let checked = integrity_check(conn, Some(CHECK_SCHEMA));
    let detached = conn.execute_batch(&format!("DETACH DATABASE {CHECK_SCHEMA}"));
    let ok = checked?;
    detached?;
    if !ok {
        return Err(Error::Invalid(
            "the backup was not written: the database copy failed its check; try again, and \
             if it fails again the vault itself may be damaged"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Whether `PRAGMA integrity_check` on `schema` (or the main database)
/// reports exactly "ok".
fn integrity_check(conn: &Connection, schema: Option<&str>) -> Result<bool> {
    let sql = match schema {
        Some(schema) => format!("PRAGMA {schema}.integrity_check"),
        None => "PRAGMA integrity_check".to_owned(),
    };
    let mut statement = conn.prepare(&sql)?;
    let rows = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows.len() == 1 && rows[0] == "ok")
}

/// Reads `backup` into `staging` as a keyring and a database file, checking
/// its format and checksum.
fn unpack(backup: &Path, staging: &Path) -> Result<()> {
    let file = File::open(backup).map_err(|e| Error::io("open the backup file", backup, e))?;
    let mut input = HashingReader {
        inner: BufReader::new(file),
        hash: Sha256::new(),
    };
    let read_error = |e: io::Error| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            truncated(backup)
        } else {
            Error::io("read the backup file", backup, e)
        }
    };

    read_first_line(&mut input, backup)?;

    let mut len = [0u8; 4];
    input.read_exact(&mut len).map_err(read_error)?;
    let keyring_len = u32::from_be_bytes(len);
    if keyring_len == 0 || keyring_len > MAX_KEYRING_BYTES {
        return Err(damaged(backup, "its keyring has an impossible length"));
    }
    let mut keyring = vec![0u8; keyring_len as usize];
    input.read_exact(&mut keyring).map_err(read_error)?;
    let keyring_path = staging.join(KEYRING_FILE);
    let mut out = create_private(&keyring_path)?;
    out.write_all(&keyring)
        .and_then(|()| out.sync_all())
        .map_err(|e| Error::io("write", &keyring_path, e))?;

    let mut len = [0u8; 8];
    input.read_exact(&mut len).map_err(read_error)?;
    let database_len = u64::from_be_bytes(len);
    let database_path = staging.join(DATABASE_FILE);
    let out = create_private(&database_path)?;
    let mut out = BufWriter::new(out);
    let copied = io::copy(&mut (&mut input).take(database_len), &mut out).map_err(read_error)?;
    if copied != database_len {
        return Err(truncated(backup));
    }
    let out = out
        .into_inner()
        .map_err(|e| Error::io("write", &database_path, e.into_error()))?;
    out.sync_all()
        .map_err(|e| Error::io("write", &database_path, e))?;

    let digest = input.hash.finalize();
    let mut stored = [0u8; 32];
    input.inner.read_exact(&mut stored).map_err(read_error)?;
    let mut extra = [0u8; 1];
    let more = input
        .inner
        .read(&mut extra)
        .map_err(|e| Error::io("read the backup file", backup, e))?;
    if more != 0 {
        return Err(damaged(backup, "it has unexpected data at its end"));
    }
    if digest[..] != stored[..] {
        return Err(damaged(backup, "its contents do not match its checksum"));
    }
    Ok(())
}

/// Reads and checks the first line: the tag and a format version this
/// build reads.
fn read_first_line(input: &mut impl Read, backup: &Path) -> Result<()> {
    let not_a_backup = || {
        Error::Invalid(format!(
            "{} is not a Satchel backup; choose the file Satchel wrote when the vault was \
             backed up",
            backup.display()
        ))
    };
    let mut tag = Vec::with_capacity(TAG.len());
    let read = input
        .take(TAG.len() as u64)
        .read_to_end(&mut tag)
        .map_err(|e| Error::io("read the backup file", backup, e))?;
    if read == 0 {
        return Err(Error::Invalid(format!(
            "{} is empty; it is not a Satchel backup, or it was not copied completely",
            backup.display()
        )));
    }
    if !TAG.starts_with(&tag) {
        return Err(not_a_backup());
    }
    if tag.len() < TAG.len() {
        return Err(truncated(backup));
    }

    let mut digits = String::new();
    loop {
        let mut byte = [0u8; 1];
        match input.read(&mut byte) {
            Ok(0) => return Err(truncated(backup)),
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) if byte[0].is_ascii_digit() && digits.len() < MAX_VERSION_DIGITS => {
                digits.push(char::from(byte[0]));
            }
            Ok(_) => return Err(not_a_backup()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("read the backup file", backup, e)),
        }
    }
    let version: u32 = digits.parse().map_err(|_| not_a_backup())?;
    if version == 0 {
        return Err(not_a_backup());
    }
    if version > FORMAT_VERSION {
        return Err(Error::Invalid(format!(
            "{} was made by a newer version of Satchel (backup format {version}); update \
             Satchel, then restore it again",
            backup.display()
        )));
    }
    Ok(())
}

/// Opens the unpacked database with `key` and checks that it is one this
/// build can open and that it is intact.
fn check_database(backup: &Path, path: &Path, key: &DatabaseKey) -> Result<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.pragma_update(None, "key", &*key.to_sqlcipher_literal())?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .map_err(|_| damaged(backup, "its database does not open with its keyring"))?;
    let version = migrations::version(&conn)?;
    if version > migrations::LATEST {
        return Err(Error::SchemaTooNew {
            found: version,
            known: migrations::LATEST,
        });
    }
    match integrity_check(&conn, None) {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => Err(damaged(backup, "its database failed its integrity check")),
    }
}

/// The folder a path lies in (the current one for a bare name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Gives the finished temporary file `part` the name `destination`,
/// refusing to replace an existing file.
fn publish(part: &Path, destination: &Path) -> Result<()> {
    match fs::hard_link(part, destination) {
        Ok(()) => {
            remove_quietly(part);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(exists(destination)),
        // Some file systems, such as those of many USB sticks, have no hard
        // links; a rename after checking is the best they allow.
        Err(_) => {
            if destination.symlink_metadata().is_ok() {
                return Err(exists(destination));
            }
            fs::rename(part, destination).map_err(|e| Error::io("write", destination, e))
        }
    }
}

/// Creates a new file only its owner can read.
fn create_private(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| Error::io("create", path, e))
}

/// Flushes a folder's entries to disk, so a renamed file stays renamed.
fn sync_folder(folder: &Path) -> Result<()> {
    File::open(folder)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("flush the folder", folder, e))
}

fn remove_quietly(path: &Path) {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(error) => tracing::warn!(%error, file = %path.display(), "could not remove a file"),
    }
}

fn exists(path: &Path) -> Error {
    Error::Invalid(format!(
        "{} already exists; choose a new file name, so that no file is replaced",
        path.display()
    ))
}

fn truncated(backup: &Path) -> Error {
    Error::Invalid(format!(
        "the backup {} is incomplete: it ends too early, perhaps because it was not copied \
         completely; use another copy of the backup",
        backup.display()
    ))
}

fn damaged(backup: &Path, why: &str) -> Error {
    Error::Invalid(format!(
        "the backup {} is damaged ({why}); use another copy of the backup",
        backup.display()
    ))
}

/// A temporary file, removed when dropped.
struct TempPath {
    path: PathBuf,
}

impl TempPath {
    fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        remove_quietly(&self.path);
    }
}

/// The staging folder a backup is unpacked into, removed with whatever is
/// left in it when dropped.
struct Staging {
    path: PathBuf,
}

impl Staging {
    fn create(parent: &Path, dir_name: &str) -> Result<Self> {
        let path = parent.join(format!(".{dir_name}.{}", random_id("restore")?));
        fs::create_dir(&path).map_err(|e| Error::io("create the folder", &path, e))?;
        Ok(Self { path })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Err(error) = fs::remove_dir_all(&self.path) {
            tracing::warn!(%error, folder = %self.path.display(), "could not remove a staging folder");
        }
    }
}

/// The files a restore moved into the target folder, so they can be taken
/// out again if signing in fails.
struct Installed {
    dir: PathBuf,
    created_dir: bool,
}

impl Installed {
    /// Moves the unpacked database and then the keyring from `staging` into
    /// `dir`, removing the remains of an interrupted set-up (a database
    /// with no keyring, which nobody can open) first.
    fn move_in(staging: &Path, dir: &Path) -> Result<Self> {
        let created_dir = !dir.exists();
        fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, e))?;
        let installed = Self {
            dir: dir.to_owned(),
            created_dir,
        };
        if Vault::presence(dir) == Presence::Present {
            // Someone set a vault up here meanwhile: leave it alone.
            installed.keep();
            return Err(Error::AlreadyExists(dir.to_owned()));
        }
        let moved = (|| {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let path = dir.join(format!("{DATABASE_FILE}{suffix}"));
                match fs::remove_file(&path) {
                    Ok(()) => {
                        tracing::warn!(file = %path.display(), "removed an orphaned vault file");
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io("remove", path, e)),
                }
            }
            for name in [DATABASE_FILE, KEYRING_FILE] {
                let target = dir.join(name);
                fs::rename(staging.join(name), &target)
                    .map_err(|e| Error::io("move the restored file into", target, e))?;
            }
            sync_folder(dir)
        })();
        match moved {
            Ok(()) => Ok(installed),
            Err(error) => {
                installed.undo();
                Err(error)
            }
        }
    }

    /// Takes the restored files out of the target folder again, and the
    /// folder too if the restore made it.
    fn undo(self) {
        remove_quietly(&self.dir.join(KEYRING_FILE));
        remove_quietly(&self.dir.join(format!("{KEYRING_FILE}.tmp")));
        for suffix in ["", "-wal", "-shm", "-journal"] {
            remove_quietly(&self.dir.join(format!("{DATABASE_FILE}{suffix}")));
        }
        if self.created_dir
            && let Err(error) = fs::remove_dir(&self.dir)
        {
            tracing::warn!(%error, folder = %self.dir.display(), "could not remove a folder");
        }
    }

    /// Keeps the restored files.
    fn keep(self) {}
}

/// A writer that hashes what passes through it.
struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hash.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what passes through it.
struct HashingReader<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hash.update(&buf[..read]);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [0x5c; 32];
    const CANARY: &str = "canary-Esperanza-Villalobos-4471";

    fn keyed(path: &Path, key: &DatabaseKey) -> Connection {
        let conn = Connection::open(path).expect("open");
        conn.pragma_update(None, "key", &*key.to_sqlcipher_literal())
            .expect("key");
        conn
    }

    /// VACUUM INTO, run on an SQLCipher connection, writes its copy
    /// encrypted under the main database's key in this build: the copy has
    /// no plain header, does not hold the stored text, opens with the key
    /// and does not open without it.
    #[test]
    fn vacuum_into_output_is_encrypted_with_the_main_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = DatabaseKey::from_bytes(KEY);
        let conn = keyed(&dir.path().join("main.db"), &key);
        conn.pragma_update(None, "journal_mode", "WAL")
            .expect("wal");
        conn.execute_batch("CREATE TABLE t (v TEXT NOT NULL)")
            .expect("table");
        conn.execute("INSERT INTO t (v) VALUES (?1)", [CANARY])
            .expect("insert");

        let copy = dir.path().join("copy.db");
        copy_database(&conn, &copy).expect("copy");
        let bytes = fs::read(&copy).expect("read copy");
        assert_ne!(&bytes[..16], PLAIN_SQLITE_HEADER);
        assert!(
            !bytes
                .windows(CANARY.len())
                .any(|window| window == CANARY.as_bytes()),
            "the canary is in the copy in the clear"
        );

        let reopened = keyed(&copy, &key);
        let value: String = reopened
            .query_row("SELECT v FROM t", [], |row| row.get(0))
            .expect("the copy opens with the main key");
        assert_eq!(value, CANARY);

        let plain = Connection::open(&copy).expect("open");
        assert!(
            plain
                .query_row("SELECT count(*) FROM sqlite_master", [], |row| row
                    .get::<_, i64>(0))
                .is_err(),
            "the copy opened without a key"
        );
        let other = keyed(&copy, &DatabaseKey::from_bytes([0x11; 32]));
        assert!(
            other
                .query_row("SELECT count(*) FROM sqlite_master", [], |row| row
                    .get::<_, i64>(0))
                .is_err(),
            "the copy opened with another key"
        );
    }

    #[test]
    fn the_first_line_is_checked() {
        let path = Path::new("backup.satchel");
        let check = |bytes: &[u8]| read_first_line(&mut &bytes[..], path);
        check(b"SATCHEL-BACKUP-1\n").expect("this build's format");
        for (bytes, expected) in [
            (&b""[..], "is empty"),
            (b"PK\x03\x04 a zip file", "is not a Satchel backup"),
            (b"SATCHEL-BACK", "incomplete"),
            (b"SATCHEL-BACKUP-", "incomplete"),
            (b"SATCHEL-BACKUP-1", "incomplete"),
            (b"SATCHEL-BACKUP-0\n", "is not a Satchel backup"),
            (b"SATCHEL-BACKUP-x\n", "is not a Satchel backup"),
            (b"SATCHEL-BACKUP-\n", "is not a Satchel backup"),
            (b"SATCHEL-BACKUP-2\n", "newer version of Satchel"),
            (b"SATCHEL-BACKUP-10\n", "newer version of Satchel"),
            (b"SATCHEL-BACKUP-1234567890\n", "is not a Satchel backup"),
        ] {
            let message = check(bytes).expect_err("refused").to_string();
            assert!(message.contains(expected), "{bytes:?}: {message}");
        }
    }
}
