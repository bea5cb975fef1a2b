//! Opening, creating and using the vault database.

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::error::{Error, Result};
use crate::keyring::Keyring;
use crate::migrations;
use crate::secret::{DatabaseKey, Passphrase};

/// The database file inside a data directory.
pub const DATABASE_FILE: &str = "vault.db";
/// The keyring file inside a data directory.
pub const KEYRING_FILE: &str = "keyring.json";

/// The longest device label accepted, in characters.
const MAX_LABEL_CHARS: usize = 80;

/// An unlocked vault: an open SQLCipher connection. Dropping it closes the
/// database and SQLCipher wipes the key it holds.
pub struct Vault {
    conn: Connection,
    dir: PathBuf,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Whether a data directory holds a vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Nothing has been set up here.
    Absent,
    /// A keyring and database exist.
    Present,
}

impl Vault {
    /// Tells whether `dir` holds a vault. A database without its keyring is
    /// the remains of an interrupted set-up and counts as absent.
    pub fn presence(dir: &Path) -> Presence {
        if dir.join(KEYRING_FILE).is_file() {
            Presence::Present
        } else {
            Presence::Absent
        }
    }

    /// Sets up a new vault in `dir` under `passphrase`.
    ///
    /// The keyring is written last and atomically: it is the commit point. A
    /// set-up cut short leaves a database nobody holds a key for, which the
    /// next `create` removes.
    #[tracing::instrument(skip_all, fields(vault.dir = %dir.display()))]
    pub fn create(dir: &Path, passphrase: &Passphrase) -> Result<Self> {
        passphrase.check_new()?;
        if Self::presence(dir) == Presence::Present {
            return Err(Error::AlreadyExists(dir.to_owned()));
        }
        fs::create_dir_all(dir).map_err(|e| Error::io("create the data directory", dir, e))?;
        remove_orphaned_database(dir)?;

        let key = DatabaseKey::generate()?;
        let vault = Self::open_with_key(dir, &key, true)?;
        Keyring::wrap_new(&key, passphrase)?.store(&dir.join(KEYRING_FILE))?;
        tracing::info!("vault created");
        Ok(vault)
    }

    /// Opens the vault in `dir` with `passphrase`.
    #[tracing::instrument(skip_all, fields(vault.dir = %dir.display()))]
    pub fn unlock(dir: &Path, passphrase: &Passphrase) -> Result<Self> {
        if Self::presence(dir) == Presence::Absent {
            return Err(Error::NotFound(dir.to_owned()));
        }
        let key = Keyring::load(&dir.join(KEYRING_FILE))?.unwrap(passphrase)?;
        let vault = Self::open_with_key(dir, &key, false)?;
        tracing::info!("vault unlocked");
        Ok(vault)
    }

    /// Opens (or, when `create` is set, creates) the database with `key`,
    /// sets the pragmas every connection needs, checks integrity and
    /// migrates.
    fn open_with_key(dir: &Path, key: &DatabaseKey, create: bool) -> Result<Self> {
        let path = dir.join(DATABASE_FILE);
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        } else if !path.is_file() {
            return Err(Error::Damaged);
        }
        let mut conn = Connection::open_with_flags(&path, flags)?;

        // The key must be the first statement on the connection.
        conn.pragma_update(None, "key", &*key.to_sqlcipher_literal())?;
        // A wrong key only shows when the first page is read.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(|_| Error::Damaged)?;

        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;

        let check: String = conn.pragma_query_value(None, "quick_check", |row| row.get(0))?;
        if check != "ok" {
            tracing::error!(check.result = %check, "vault failed its integrity check");
            return Err(Error::Damaged);
        }

        migrations::apply(&mut conn)?;
        Ok(Self {
            conn,
            dir: dir.to_owned(),
        })
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The data directory this vault lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32> {
        migrations::version(&self.conn)
    }

    /// The name staff gave this laptop, if any.
    pub fn device_label(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = 'device.label'",
                [],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Names this laptop. The label is trimmed and must be 1 to 80
    /// characters with no control characters.
    pub fn set_device_label(&self, label: &str) -> Result<()> {
        let label = check_device_label(label)?;
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES ('device.label', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            [label],
        )?;
        Ok(())
    }
}

/// Checks a device label and returns it trimmed: 1 to 80 characters, no
/// control characters.
pub fn check_device_label(label: &str) -> Result<&str> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(Error::Invalid(format!(
            "the laptop's name must be 1 to {MAX_LABEL_CHARS} characters"
        )));
    }
    if label.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "the laptop's name cannot contain line breaks or control characters".to_owned(),
        ));
    }
    Ok(label)
}

/// Removes a database left by a set-up that stopped before its keyring was
/// written. Its key is gone, so nothing in it can ever be read.
fn remove_orphaned_database(dir: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = dir.join(format!("{DATABASE_FILE}{suffix}"));
        match fs::remove_file(&path) {
            Ok(()) => tracing::warn!(file = %path.display(), "removed an orphaned vault file"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", path, e)),
        }
    }
    Ok(())
}
