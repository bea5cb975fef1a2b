//! Opening, creating and using the vault database.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::account::{Account, Attempts, NewAccount, RecoveryCode, check_name};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use satchel_seal::SigningSecret;

use crate::audit;
pub(crate) use crate::audit::Outcome;
use crate::crypto::{self, Key, random_id};
use crate::error::{Error, Result};
use crate::keyring::{AccountEntry, Keyring, Profile, Unwrapped};
use crate::migrations;
use crate::secret::{DatabaseKey, Passphrase};
use crate::strength::check_new_passphrase;
use crate::totp::{self, TotpSecret};

/// The database file inside a data directory.
pub const DATABASE_FILE: &str = "vault.db";
/// The keyring file inside a data directory.
pub const KEYRING_FILE: &str = "keyring.json";

/// The longest device label accepted, in characters.
const MAX_LABEL_CHARS: usize = 80;

/// How long an unlocked vault may sit unused before it locks itself, unless
/// the organisation's policy says otherwise.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// How long a passphrase typed again stays good for one high-stakes action.
pub const FRESH_AUTH_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// A signed-in account's handle on the vault.
///
/// While unlocked it holds the open SQLCipher connection, the database key
/// and the account's key. [`lock`](Self::lock) (by hand, or on the first
/// use after [`idle_timeout`](Self::idle_timeout) without any) drops all
/// three: SQLCipher wipes its copy when the connection closes, and the key
/// types wipe theirs on drop. The handle remembers only who was signed in,
/// so the same person can [`unlock`](Self::unlock) it again.
pub struct Vault {
    dir: PathBuf,
    account: Account,
    open: Option<Open>,
    idle_timeout: Duration,
    last_used: Instant,
}

/// What an unlocked vault holds.
struct Open {
    conn: Connection,
    database_key: DatabaseKey,
    account_key: Key,
}

/// Proof that the signed-in person typed their passphrase again just now.
///
/// High-stakes operations (finalizing, exporting, deleting, sharing, key
/// and policy changes) take one by value, so each confirmation serves one
/// action, and only [`Vault::reauthenticate`] makes them. It expires after
/// [`FRESH_AUTH_LIFETIME`].
pub struct FreshAuth {
    account_id: String,
    at: Instant,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.dir)
            .field("account", &self.account.id)
            .field("locked", &self.open.is_none())
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

    /// The accounts on this laptop, for a sign-in screen. Holds no secrets.
    pub fn accounts(dir: &Path) -> Result<Vec<Account>> {
        if Self::presence(dir) == Presence::Absent {
            return Err(Error::NotFound(dir.to_owned()));
        }
        let keyring = Keyring::load(&dir.join(KEYRING_FILE))?;
        Ok(keyring.accounts.iter().map(account_of).collect())
    }

    /// Sets up a new vault in `dir` with its first account, and returns the
    /// account's recovery code, which must be shown to the person once.
    ///
    /// The keyring is written last and atomically: it is the commit point. A
    /// set-up cut short leaves a database nobody holds a key for, which the
    /// next `create` removes.
    #[tracing::instrument(skip_all, fields(vault.dir = %dir.display()))]
    pub fn create(dir: &Path, first: &NewAccount<'_>, now: i64) -> Result<(Self, RecoveryCode)> {
        let name = check_name(first.name)?;
        check_new_passphrase(first.passphrase, name)?;
        if Self::presence(dir) == Presence::Present {
            return Err(Error::AlreadyExists(dir.to_owned()));
        }
        fs::create_dir_all(dir).map_err(|e| Error::io("create the data directory", dir, e))?;
        remove_orphaned_database(dir)?;

        let keys = Unwrapped {
            database: DatabaseKey::generate()?,
            account: Key::generate()?,
        };
        let code = RecoveryCode::generate()?;
        let entry = AccountEntry::new(
            Profile {
                id: random_id("acct")?,
                name: name.to_owned(),
                member_id: first.member_id.to_owned(),
                roles: first.roles.clone(),
                created_at: now,
            },
            &keys,
            first.passphrase.as_bytes(),
            code.as_bytes(),
        )?;
        let conn = open_database(dir, &keys.database, true)?;
        insert_account(&conn, &entry)?;
        create_device_key(&conn)?;
        record(
            &conn,
            Some(&audit::Actor {
                account_id: entry.id.clone(),
                member_id: entry.member_id.clone(),
            }),
            "vault.create",
            None,
            Outcome::Ok,
        )?;

        let mut keyring = Keyring::new();
        let account = account_of(&entry);
        keyring.accounts.push(entry);
        keyring.store(&dir.join(KEYRING_FILE))?;
        tracing::info!(account.id = %account.id, "vault created");
        Ok((Self::opened(dir, account, conn, keys), code))
    }

    /// Signs `name` in with `passphrase` and, when the account has enrolled
    /// one, the code from their authenticator app.
    ///
    /// Wrong passphrases are counted in the keyring: after a few, each try
    /// must wait longer ([`Error::TryAgainLater`]), and after
    /// [`LOCKOUT_AFTER`](crate::LOCKOUT_AFTER) in a row the account is locked
    /// for a while ([`Error::LockedOut`]), before any key derivation runs.
    #[tracing::instrument(skip_all, fields(vault.dir = %dir.display()))]
    pub fn sign_in(
        dir: &Path,
        name: &str,
        passphrase: &Passphrase,
        totp_code: Option<&str>,
        now: i64,
    ) -> Result<Self> {
        let (account, keys, failures) = authenticate(dir, name, passphrase, totp_code, now)?;
        let conn = open_database(dir, &keys.database, false)?;
        audit_sign_in(&conn, &account, &failures, "account.sign_in")?;
        tracing::info!(account.id = %account.id, "signed in");
        let mut vault = Self::opened(dir, account, conn, keys);
        vault.retain_on_open(now);
        Ok(vault)
    }

    /// Lets a person who forgot their passphrase set a new one with their
    /// recovery code. The used code stops working; the returned new one
    /// must be shown to them once. A lockout does not stop recovery.
    #[tracing::instrument(skip_all, fields(vault.dir = %dir.display()))]
    pub fn recover(
        dir: &Path,
        name: &str,
        code: &RecoveryCode,
        new_passphrase: &Passphrase,
        now: i64,
    ) -> Result<(Self, RecoveryCode)> {
        let path = dir.join(KEYRING_FILE);
        let mut keyring = load_keyring(dir)?;
        let entry = keyring
            .by_name(name)
            .ok_or_else(|| Error::UnknownAccount(name.trim().to_owned()))?;
        check_new_passphrase(new_passphrase, &entry.name)?;
        let Some(keys) = entry.open_with_recovery(code.as_bytes())? else {
            return Err(Error::WrongRecoveryCode);
        };
        let id = entry.id.clone();
        let new_code = RecoveryCode::generate()?;
        let entry = keyring
            .by_id_mut(&id)
            .ok_or_else(|| Error::UnknownAccount(name.trim().to_owned()))?;
        entry.rewrap_passphrase(&keys, new_passphrase.as_bytes())?;
        entry.rewrap_recovery(&keys, new_code.as_bytes())?;
        let failures = entry.attempts.reset();
        let account = account_of(entry);
        keyring.store(&path)?;
        let conn = open_database(dir, &keys.database, false)?;
        audit_sign_in(&conn, &account, &failures, "account.recover")?;
        tracing::info!(account.id = %account.id, "account recovered with its recovery code");
        let mut vault = Self::opened(dir, account, conn, keys);
        vault.retain_on_open(now);
        Ok((vault, new_code))
    }

    fn opened(dir: &Path, account: Account, conn: Connection, keys: Unwrapped) -> Self {
        Self {
            dir: dir.to_owned(),
            account,
            open: Some(Open {
                conn,
                database_key: keys.database,
                account_key: keys.account,
            }),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            last_used: Instant::now(),
        }
    }

    /// The signed-in account.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// The signed-in account as the audit log names it.
    pub(crate) fn actor(&self) -> audit::Actor {
        audit::Actor {
            account_id: self.account.id.clone(),
            member_id: self.account.member_id.clone(),
        }
    }

    /// Locks the vault: closes the database and wipes every key from
    /// memory. [`unlock`](Self::unlock) opens it again.
    pub fn lock(&mut self) {
        if self.open.take().is_some() {
            tracing::info!(account.id = %self.account.id, "vault locked");
        }
    }

    /// Whether the vault is locked.
    pub fn is_locked(&self) -> bool {
        self.open.is_none()
    }

    /// Locks the vault if it has not been used for its idle timeout, and
    /// says whether it is now locked. A timer calls this; every operation
    /// also checks on its own.
    pub fn lock_if_idle(&mut self) -> bool {
        if self.open.is_some() && self.last_used.elapsed() >= self.idle_timeout {
            tracing::info!(account.id = %self.account.id, "vault locked after being idle");
            self.open = None;
        }
        self.open.is_none()
    }

    /// Sets how long the vault may sit unused before it locks itself, as
    /// the organisation's policy says.
    pub fn set_idle_timeout(&mut self, timeout: Duration) {
        self.idle_timeout = timeout;
    }

    /// How long the vault may sit unused before it locks itself.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// Unlocks a locked vault for the same account.
    pub fn unlock(
        &mut self,
        passphrase: &Passphrase,
        totp_code: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let (account, keys, failures) =
            authenticate(&self.dir, &self.account.name, passphrase, totp_code, now)?;
        if account.id != self.account.id {
            return Err(Error::UnknownAccount(self.account.name.clone()));
        }
        let conn = open_database(&self.dir, &keys.database, false)?;
        audit_sign_in(&conn, &account, &failures, "account.unlock")?;
        self.open = Some(Open {
            conn,
            database_key: keys.database,
            account_key: keys.account,
        });
        self.account = account;
        self.last_used = Instant::now();
        self.retain_on_open(now);
        Ok(())
    }

    /// Applies the retention policy as the vault opens. A failure is
    /// logged, not raised: the person still gets in, and the next open (or
    /// the timer) tries again.
    fn retain_on_open(&mut self, now: i64) {
        if let Err(error) = crate::retention::run_on_open(self, now) {
            tracing::error!(%error, "retention could not run when the vault opened");
        }
    }

    /// Checks the signed-in person's passphrase again before a high-stakes
    /// action. Wrong passphrases count towards the same delays and lockout
    /// as at sign-in.
    pub fn reauthenticate(&mut self, passphrase: &Passphrase, now: i64) -> Result<FreshAuth> {
        self.session()?;
        let path = self.dir.join(KEYRING_FILE);
        let mut keyring = load_keyring(&self.dir)?;
        let entry = keyring
            .by_id_mut(&self.account.id)
            .ok_or_else(|| Error::UnknownAccount(self.account.name.clone()))?;
        entry.attempts.check(now)?;
        if entry.open_with_passphrase(passphrase.as_bytes())?.is_none() {
            entry.attempts.record_failure(now);
            keyring.store(&path)?;
            return Err(Error::WrongPassphrase);
        }
        if entry.attempts != Attempts::default() {
            entry.attempts.reset();
            keyring.store(&path)?;
        }
        Ok(FreshAuth {
            account_id: self.account.id.clone(),
            at: Instant::now(),
        })
    }

    /// Checks a confirmation for a high-stakes action: it must be this
    /// account's and recent, and the vault unlocked.
    pub(crate) fn require_fresh(&mut self, fresh: FreshAuth) -> Result<()> {
        self.session()?;
        if fresh.account_id != self.account.id || fresh.at.elapsed() > FRESH_AUTH_LIFETIME {
            return Err(Error::ReauthRequired);
        }
        Ok(())
    }

    /// Replaces the signed-in account's passphrase. The keys it wraps stay
    /// the same, so nothing else is re-encrypted.
    pub fn change_passphrase(&mut self, fresh: FreshAuth, new: &Passphrase) -> Result<()> {
        self.require_fresh(fresh)?;
        check_new_passphrase(new, &self.account.name)?;
        let path = self.dir.join(KEYRING_FILE);
        let mut keyring = load_keyring(&self.dir)?;
        let open = self.open.as_ref().ok_or(Error::Locked)?;
        let keys = Unwrapped {
            database: DatabaseKey::from_bytes(*open.database_key.as_bytes()),
            account: Key::from_bytes(*open.account_key.as_bytes()),
        };
        let entry = keyring
            .by_id_mut(&self.account.id)
            .ok_or_else(|| Error::UnknownAccount(self.account.name.clone()))?;
        entry.rewrap_passphrase(&keys, new.as_bytes())?;
        keyring.store(&path)?;
        record(
            &open.conn,
            Some(&self.actor()),
            "account.change_passphrase",
            None,
            Outcome::Ok,
        )?;
        tracing::info!(account.id = %self.account.id, "passphrase changed");
        Ok(())
    }

    /// Adds another local account to this laptop, and returns it with its
    /// recovery code. The new account opens the same database but has its
    /// own account key, so it cannot read this account's records.
    pub fn add_account(
        &mut self,
        fresh: FreshAuth,
        new: &NewAccount<'_>,
        now: i64,
    ) -> Result<(Account, RecoveryCode)> {
        self.require_fresh(fresh)?;
        let name = check_name(new.name)?;
        check_new_passphrase(new.passphrase, name)?;
        let path = self.dir.join(KEYRING_FILE);
        let mut keyring = load_keyring(&self.dir)?;
        if keyring.by_name(name).is_some() {
            return Err(Error::Invalid(format!(
                "an account named {name:?} already exists on this laptop; choose another name"
            )));
        }
        let open = self.open.as_ref().ok_or(Error::Locked)?;
        let keys = Unwrapped {
            database: DatabaseKey::from_bytes(*open.database_key.as_bytes()),
            account: Key::generate()?,
        };
        let code = RecoveryCode::generate()?;
        let entry = AccountEntry::new(
            Profile {
                id: random_id("acct")?,
                name: name.to_owned(),
                member_id: new.member_id.to_owned(),
                roles: new.roles.clone(),
                created_at: now,
            },
            &keys,
            new.passphrase.as_bytes(),
            code.as_bytes(),
        )?;
        insert_account(&open.conn, &entry)?;
        let account = account_of(&entry);
        keyring.accounts.push(entry);
        keyring.store(&path)?;
        record(
            &open.conn,
            Some(&self.actor()),
            "account.add",
            Some(&account.id),
            Outcome::Ok,
        )?;
        tracing::info!(account.id = %account.id, "account added");
        Ok((account, code))
    }

    /// Enrolls an authenticator app as the account's second factor and
    /// returns its secret, to show once as a QR code or text. From then on
    /// signing in needs the app's code. Enrolling again replaces the secret.
    pub fn enroll_totp(&mut self, fresh: FreshAuth) -> Result<TotpSecret> {
        self.require_fresh(fresh)?;
        let secret = TotpSecret::generate()?;
        let path = self.dir.join(KEYRING_FILE);
        let mut keyring = load_keyring(&self.dir)?;
        let open = self.open.as_ref().ok_or(Error::Locked)?;
        let entry = keyring
            .by_id_mut(&self.account.id)
            .ok_or_else(|| Error::UnknownAccount(self.account.name.clone()))?;
        let sealed = open
            .account_key
            .seal(&crypto::aad("totp-secret", &[&entry.id]), secret.as_bytes())?;
        entry.totp = Some(BASE64.encode(sealed));
        entry.totp_last_step = None;
        keyring.store(&path)?;
        record(
            &open.conn,
            Some(&self.actor()),
            "account.enroll_totp",
            None,
            Outcome::Ok,
        )?;
        self.account.totp_enrolled = true;
        tracing::info!(account.id = %self.account.id, "authenticator enrolled");
        Ok(secret)
    }

    /// Checks the whole audit log: the chain of hashes and every signed
    /// checkpoint. Any edited, removed or reordered entry is reported as
    /// [`Error::AuditBroken`].
    pub fn verify_audit(&mut self) -> Result<audit::Report> {
        let conn = self.connection()?;
        let keys = device_public_keys(conn)?;
        audit::verify(conn, &keys)
    }

    /// Up to `limit` audit entries after `after_seq`, for an administrator
    /// to read: who did what to which record, never content.
    pub fn audit_entries(&mut self, after_seq: u64, limit: usize) -> Result<Vec<audit::Entry>> {
        if !self
            .account
            .roles
            .contains(&satchel_seal::directory::Role::Admin)
        {
            return Err(Error::NotAllowed(
                "only an administrator can read the audit log".to_owned(),
            ));
        }
        audit::entries_after(self.connection()?, after_seq, limit)
    }

    /// The audit entries after `after_seq`, one canonical JSON object per
    /// line, ready to be sealed to the organisation's auditor key. Signs a
    /// checkpoint at the current end first, so the export ends on one.
    pub fn export_audit(&mut self, fresh: FreshAuth, after_seq: u64) -> Result<Vec<u8>> {
        self.require_fresh(fresh)?;
        let actor = self.actor();
        let conn = self.connection()?;
        let tx = conn.unchecked_transaction()?;
        record(&tx, Some(&actor), "audit.export", None, Outcome::Ok)?;
        audit::checkpoint(&tx, &device_key(&tx)?, unix_now_ms())?;
        let lines = audit::export_json_lines(&tx, after_seq)?;
        tx.commit()?;
        Ok(lines)
    }

    /// The open connection and the account's key, after checking that the
    /// vault is unlocked and has not sat idle too long.
    pub(crate) fn session(&mut self) -> Result<(&Connection, &Key)> {
        if self.open.is_some() && self.last_used.elapsed() >= self.idle_timeout {
            tracing::info!(account.id = %self.account.id, "vault locked after being idle");
            self.open = None;
        }
        self.last_used = Instant::now();
        let open = self.open.as_ref().ok_or(Error::Locked)?;
        Ok((&open.conn, &open.account_key))
    }

    /// The open connection, as [`session`](Self::session) checks it.
    pub(crate) fn connection(&mut self) -> Result<&Connection> {
        Ok(self.session()?.0)
    }

    /// Runs SQLite's full integrity check over the database, as after a
    /// crash or before trusting a restored copy.
    pub fn check_integrity(&mut self) -> Result<()> {
        let conn = self.connection()?;
        let mut statement = conn.prepare("PRAGMA integrity_check")?;
        let problems = statement
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if problems != ["ok"] {
            tracing::error!(
                problems = problems.len(),
                "vault failed its integrity check"
            );
            return Err(Error::Damaged);
        }
        Ok(())
    }

    /// The data directory this vault lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The schema version of the open database.
    pub fn schema_version(&mut self) -> Result<u32> {
        migrations::version(self.connection()?)
    }

    /// The name staff gave this laptop, if any.
    pub fn device_label(&mut self) -> Result<Option<String>> {
        Ok(self
            .connection()?
            .query_row(
                "SELECT value FROM settings WHERE key = 'device.label'",
                [],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Names this laptop. The label is trimmed and must be 1 to 80
    /// characters with no control characters.
    pub fn set_device_label(&mut self, label: &str) -> Result<()> {
        let label = check_device_label(label)?;
        self.connection()?.execute(
            "INSERT INTO settings (key, value) VALUES ('device.label', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            [label],
        )?;
        Ok(())
    }
}

/// Checks `passphrase` (and the authenticator code, if the account has
/// one) for account `name`, counting failures in the keyring.
fn authenticate(
    dir: &Path,
    name: &str,
    passphrase: &Passphrase,
    totp_code: Option<&str>,
    now: i64,
) -> Result<(Account, Unwrapped, Vec<i64>)> {
    let path = dir.join(KEYRING_FILE);
    let mut keyring = load_keyring(dir)?;
    let id = keyring
        .by_name(name)
        .ok_or_else(|| Error::UnknownAccount(name.trim().to_owned()))?
        .id
        .clone();
    let entry = keyring
        .by_id_mut(&id)
        .ok_or_else(|| Error::UnknownAccount(name.trim().to_owned()))?;
    entry.attempts.check(now)?;
    let Some(keys) = entry.open_with_passphrase(passphrase.as_bytes())? else {
        entry.attempts.record_failure(now);
        keyring.store(&path)?;
        tracing::warn!(account.id = %id, "wrong passphrase");
        return Err(Error::WrongPassphrase);
    };
    if entry.totp.is_some() {
        let code = totp_code.ok_or(Error::TotpRequired)?;
        match check_totp(entry, &keys.account, code, now) {
            Ok(step) => entry.totp_last_step = Some(step),
            Err(error) => {
                entry.attempts.record_failure(now);
                keyring.store(&path)?;
                return Err(error);
            }
        }
    }
    let failures = entry.attempts.reset();
    let account = account_of(entry);
    keyring.store(&path)?;
    Ok((account, keys, failures))
}

/// Writes a sign-in to the audit log, with the wrong passphrases that came
/// before it (they could not be written then: the database was closed).
fn audit_sign_in(
    conn: &Connection,
    account: &Account,
    failures: &[i64],
    action: &str,
) -> Result<()> {
    let actor = audit::Actor {
        account_id: account.id.clone(),
        member_id: account.member_id.clone(),
    };
    let tx = conn.unchecked_transaction()?;
    for failed_at in failures {
        audit::append(
            &tx,
            Some(&actor),
            action,
            None,
            Outcome::Refused,
            (*failed_at).clamp(0, audit::MAX_TIMESTAMP_MS / 1000) * 1000,
        )?;
    }
    record(&tx, Some(&actor), action, None, Outcome::Ok)?;
    tx.commit()?;
    Ok(())
}

/// Checks an authenticator code against the account's sealed secret,
/// refusing a code already used; returns the time step it matched.
fn check_totp(entry: &AccountEntry, account_key: &Key, code: &str, now: i64) -> Result<u64> {
    let sealed = entry
        .totp
        .as_deref()
        .and_then(|text| BASE64.decode(text).ok())
        .ok_or(Error::Damaged)?;
    let secret = account_key
        .open(&crypto::aad("totp-secret", &[&entry.id]), &sealed)
        .ok_or(Error::Damaged)?;
    let secret = TotpSecret::from_bytes(secret.to_vec())?;
    let now = u64::try_from(now).map_err(|_| Error::TotpWrong)?;
    totp::verify(&secret, code, now, entry.totp_last_step)
}

/// Audit entries between two signed checkpoints, at most.
const CHECKPOINT_EVERY: u64 = 64;

/// Appends an audit entry in `conn`'s current transaction, and signs a
/// checkpoint with the device key every [`CHECKPOINT_EVERY`] entries.
pub(crate) fn record(
    conn: &Connection,
    actor: Option<&audit::Actor>,
    action: &str,
    object_id: Option<&str>,
    outcome: Outcome,
) -> Result<()> {
    let now = unix_now_ms();
    audit::append(conn, actor, action, object_id, outcome, now)?;
    if audit::needs_checkpoint(conn, CHECKPOINT_EVERY)? {
        let device = device_key(conn)?;
        audit::checkpoint(conn, &device, now)?;
    }
    Ok(())
}

/// The current time in Unix milliseconds.
pub(crate) fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The setting naming the device's own signing key.
const DEVICE_KEY_SETTING: &str = "device.signing_key";

/// Makes the device's Ed25519 signing key, which signs audit checkpoints
/// and, once the device is enrolled, what it sends.
fn create_device_key(conn: &Connection) -> Result<()> {
    let secret = SigningSecret::generate().map_err(|_| Error::Random)?;
    let public = secret.public();
    let id = public.id().to_string();
    conn.execute(
        "INSERT INTO keys (id, kind, label, public, secret) VALUES (?1, 'signing', ?2, ?3, ?4)",
        (
            &id,
            "This device",
            public.to_string(),
            secret.to_bytes().as_slice(),
        ),
    )?;
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)",
        (DEVICE_KEY_SETTING, &id),
    )?;
    Ok(())
}

/// The device's signing key.
pub(crate) fn device_key(conn: &Connection) -> Result<SigningSecret> {
    let secret: Vec<u8> = conn
        .query_row(
            "SELECT k.secret FROM keys k JOIN settings s ON s.value = k.id WHERE s.key = ?1",
            [DEVICE_KEY_SETTING],
            |row| row.get(0),
        )
        .optional()?
        .ok_or(Error::Damaged)?;
    let secret = zeroize::Zeroizing::new(secret);
    let seed: [u8; 32] = secret.as_slice().try_into().map_err(|_| Error::Damaged)?;
    let seed = zeroize::Zeroizing::new(seed);
    Ok(SigningSecret::from_bytes(&seed))
}

/// The public halves of every signing key the device has had, for
/// checking audit checkpoints.
pub(crate) fn device_public_keys(conn: &Connection) -> Result<Vec<satchel_seal::PublicKey>> {
    let mut statement = conn.prepare("SELECT secret FROM keys WHERE kind = 'signing'")?;
    let rows = statement.query_map([], |row| row.get::<_, Vec<u8>>(0))?;
    let mut keys = Vec::new();
    for row in rows {
        let secret = zeroize::Zeroizing::new(row?);
        if let Ok(seed) = <[u8; 32]>::try_from(secret.as_slice()) {
            keys.push(SigningSecret::from_bytes(&seed).public());
        }
    }
    Ok(keys)
}

fn load_keyring(dir: &Path) -> Result<Keyring> {
    if Vault::presence(dir) == Presence::Absent {
        return Err(Error::NotFound(dir.to_owned()));
    }
    Keyring::load(&dir.join(KEYRING_FILE))
}

fn account_of(entry: &AccountEntry) -> Account {
    Account {
        id: entry.id.clone(),
        name: entry.name.clone(),
        member_id: entry.member_id.clone(),
        roles: entry.roles.clone(),
        totp_enrolled: entry.totp.is_some(),
    }
}

fn insert_account(conn: &Connection, entry: &AccountEntry) -> Result<()> {
    let roles = serde_json::to_string(&entry.roles)
        .map_err(|e| Error::Invalid(format!("could not record the account's roles: {e}")))?;
    conn.execute(
        "INSERT INTO accounts (id, name, member_id, roles) VALUES (?1, ?2, ?3, ?4)",
        (&entry.id, &entry.name, &entry.member_id, roles),
    )?;
    Ok(())
}

/// Opens (or, when `create` is set, creates) the database with `key`, sets
/// the pragmas every connection needs, checks integrity and migrates.
fn open_database(dir: &Path, key: &DatabaseKey, create: bool) -> Result<Connection> {
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
    // Sorts and temporary tables stay in memory, never in a temp file.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.busy_timeout(Duration::from_secs(5))?;

    let check: String = conn.pragma_query_value(None, "quick_check", |row| row.get(0))?;
    if check != "ok" {
        tracing::error!(check.result = %check, "vault failed its integrity check");
        return Err(Error::Damaged);
    }

    migrations::apply(&mut conn)?;
    let unfinished = crate::attachments::remove_unfinished(&conn)?;
    if unfinished > 0 {
        tracing::warn!(
            count = unfinished,
            "removed attachments whose upload was cut off"
        );
    }
    Ok(conn)
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
