//! The keyring: the keys that open the vault, wrapped per local account.
//!
//! The keyring is a small JSON file beside the database. For each local
//! account it holds two copies of the same two keys: the database key (every
//! account opens the one database) and the account's own key, which wraps the
//! content keys of the records that account owns (see `crypto.rs`). One copy
//! is encrypted under a key derived from the account's passphrase, the other
//! under a key derived from its recovery code; both with Argon2id and
//! XChaCha20-Poly1305, the derivation parameters stored with each copy so a
//! later build can raise them without locking anyone out.
//!
//! The file also carries what sign-in must know before anything can be
//! decrypted: account names, member ids and roles, the count of recent
//! failed attempts, and the account's authenticator secret sealed under its
//! account key. None of that is client content. The attempt counters are
//! not authenticated: someone who can edit this file can also copy it and
//! guess offline, which the Argon2id cost is there to slow down.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use satchel_seal::directory::Role;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::account::Attempts;
use crate::crypto::{Key, aad};
use crate::error::{Error, Result};
use crate::secret::DatabaseKey;

/// The format tag written into every keyring file.
const FORMAT: &str = "satchel-keyring";
/// The keyring format version this build writes and reads.
const VERSION: u32 = 2;

/// Argon2id settings for new wraps: RFC 9106, section 4, second recommended
/// option (64 MiB of memory, three passes, four lanes).
const MEMORY_KIB: u32 = 64 * 1024;
const ITERATIONS: u32 = 3;
const PARALLELISM: u32 = 4;

/// The on-disk keyring.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Keyring {
    format: String,
    version: u32,
    pub(crate) accounts: Vec<AccountEntry>,
}

/// One local account as the keyring knows it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountEntry {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) member_id: String,
    pub(crate) roles: BTreeSet<Role>,
    pub(crate) created_at: i64,
    passphrase: Wrap,
    recovery: Wrap,
    /// The authenticator secret, sealed under the account key; present once
    /// the account has enrolled a second factor.
    pub(crate) totp: Option<String>,
    /// The last authenticator time step accepted, so a code is used once.
    pub(crate) totp_last_step: Option<u64>,
    pub(crate) attempts: Attempts,
}

/// Who a new account is, before any keys are wrapped for it.
pub(crate) struct Profile {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) member_id: String,
    pub(crate) roles: BTreeSet<Role>,
    pub(crate) created_at: i64,
}

/// The keys one account unwraps.
pub(crate) struct Unwrapped {
    pub(crate) database: DatabaseKey,
    pub(crate) account: Key,
}

/// One copy of an account's keys, encrypted under one secret.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrap {
    kdf: KdfParams,
    nonce: String,
    ciphertext: String,
}

/// The Argon2id parameters a wrap was made with.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfParams {
    algorithm: String,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

/// Which secret a wrap is under; part of its associated data.
#[derive(Clone, Copy)]
enum WrapKind {
    Passphrase,
    Recovery,
}

impl WrapKind {
    fn label(self) -> &'static str {
        match self {
            Self::Passphrase => "passphrase",
            Self::Recovery => "recovery",
        }
    }
}

impl Keyring {
    /// A keyring with no accounts yet.
    pub(crate) fn new() -> Self {
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            accounts: Vec::new(),
        }
    }

    /// The account signing in as `name`; names compare without regard to
    /// case or surrounding spaces.
    pub(crate) fn by_name(&self, name: &str) -> Option<&AccountEntry> {
        let wanted = name.trim().to_lowercase();
        self.accounts
            .iter()
            .find(|a| a.name.to_lowercase() == wanted)
    }

    pub(crate) fn by_id_mut(&mut self, id: &str) -> Option<&mut AccountEntry> {
        self.accounts.iter_mut().find(|a| a.id == id)
    }

    /// Reads and checks the keyring at `path`.
    pub(crate) fn load(path: &Path) -> Result<Self> {
        let text = fs::read(path).map_err(|e| Error::io("read the keyring", path, e))?;
        let bad = |reason: String| Error::BadKeyring {
            path: path.to_owned(),
            reason,
        };
        let keyring: Self =
            serde_json::from_slice(&text).map_err(|e| bad(format!("not a keyring file ({e})")))?;
        if keyring.format != FORMAT {
            return Err(bad(format!("unexpected format tag {:?}", keyring.format)));
        }
        if keyring.version != VERSION {
            return Err(bad(format!(
                "format version {} is not supported",
                keyring.version
            )));
        }
        if keyring.accounts.is_empty() {
            return Err(bad("it holds no accounts".to_owned()));
        }
        Ok(keyring)
    }

    /// Writes the keyring to `path` atomically: a crash leaves either the old
    /// file or the complete new one, never a torn one.
    pub(crate) fn store(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Invalid(format!("could not encode the keyring: {e}")))?;
        write_atomically(path, &text)
    }
}

impl AccountEntry {
    /// A new account holding `keys`, wrapped under `passphrase` and under
    /// `recovery_code`.
    pub(crate) fn new(
        profile: Profile,
        keys: &Unwrapped,
        passphrase: &[u8],
        recovery_code: &[u8],
    ) -> Result<Self> {
        let Profile {
            id,
            name,
            member_id,
            roles,
            created_at,
        } = profile;
        let passphrase = Wrap::new(&id, WrapKind::Passphrase, keys, passphrase)?;
        let recovery = Wrap::new(&id, WrapKind::Recovery, keys, recovery_code)?;
        Ok(Self {
            id,
            name,
            member_id,
            roles,
            created_at,
            passphrase,
            recovery,
            totp: None,
            totp_last_step: None,
            attempts: Attempts::default(),
        })
    }

    /// The keys, if `passphrase` is this account's.
    pub(crate) fn open_with_passphrase(&self, passphrase: &[u8]) -> Result<Option<Unwrapped>> {
        self.passphrase
            .open(&self.id, WrapKind::Passphrase, passphrase)
    }

    /// The keys, if `code` is this account's recovery code.
    pub(crate) fn open_with_recovery(&self, code: &[u8]) -> Result<Option<Unwrapped>> {
        self.recovery.open(&self.id, WrapKind::Recovery, code)
    }

    /// Replaces the passphrase copy.
    pub(crate) fn rewrap_passphrase(&mut self, keys: &Unwrapped, passphrase: &[u8]) -> Result<()> {
        self.passphrase = Wrap::new(&self.id, WrapKind::Passphrase, keys, passphrase)?;
        Ok(())
    }

    /// Replaces the recovery copy.
    pub(crate) fn rewrap_recovery(&mut self, keys: &Unwrapped, code: &[u8]) -> Result<()> {
        self.recovery = Wrap::new(&self.id, WrapKind::Recovery, keys, code)?;
        Ok(())
    }
}

impl Wrap {
    fn new(account_id: &str, kind: WrapKind, keys: &Unwrapped, secret: &[u8]) -> Result<Self> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut salt).map_err(|_| Error::Random)?;
        getrandom::fill(&mut nonce).map_err(|_| Error::Random)?;

        let kdf = KdfParams {
            algorithm: "argon2id".to_owned(),
            memory_kib: MEMORY_KIB,
            iterations: ITERATIONS,
            parallelism: PARALLELISM,
            salt: BASE64.encode(salt),
        };
        let wrapping_key = derive(&kdf, &salt, secret)?;
        let mut plain = Zeroizing::new([0u8; 64]);
        plain[..32].copy_from_slice(keys.database.as_bytes());
        plain[32..].copy_from_slice(keys.account.as_bytes());
        let cipher = XChaCha20Poly1305::new((&*wrapping_key).into());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_slice(),
                    aad: &wrap_aad(account_id, kind),
                },
            )
            .map_err(|_| Error::Invalid("could not wrap the account's keys".to_owned()))?;
        Ok(Self {
            kdf,
            nonce: BASE64.encode(nonce),
            ciphertext: BASE64.encode(ciphertext),
        })
    }

    /// Tries to open this wrap. `Ok(None)` means the secret is not this
    /// wrap's; an error means the wrap itself is unusable.
    fn open(&self, account_id: &str, kind: WrapKind, secret: &[u8]) -> Result<Option<Unwrapped>> {
        let salt = decode(&self.kdf.salt, 16, "salt")?;
        let nonce = decode(&self.nonce, 24, "nonce")?;
        let ciphertext = decode(&self.ciphertext, 64 + 16, "wrapped keys")?;

        let wrapping_key = derive(&self.kdf, &salt, secret)?;
        let cipher = XChaCha20Poly1305::new((&*wrapping_key).into());
        let Ok(plain) = cipher.decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: &wrap_aad(account_id, kind),
            },
        ) else {
            return Ok(None);
        };
        let plain = Zeroizing::new(plain);
        let (database, account) = plain.split_at(32);
        let mut database_bytes = [0u8; 32];
        database_bytes.copy_from_slice(database);
        Ok(Key::from_slice(account).map(|account| Unwrapped {
            database: DatabaseKey::from_bytes(database_bytes),
            account,
        }))
    }
}

/// A wrap's associated data: the account and which secret it is under, so
/// a copy cannot be moved to another account or used as the other kind.
fn wrap_aad(account_id: &str, kind: WrapKind) -> Vec<u8> {
    aad("satchel keyring v2", &[account_id, kind.label()])
}

/// Derives the 256-bit wrapping key, refusing parameters below the floor so
/// a planted keyring cannot make a passphrase cheap to guess.
fn derive(kdf: &KdfParams, salt: &[u8], secret: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    if kdf.algorithm != "argon2id"
        || kdf.memory_kib < MEMORY_KIB
        || kdf.iterations < ITERATIONS
        || kdf.parallelism < 1
    {
        return Err(Error::WeakKeyDerivation);
    }
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|_| Error::WeakKeyDerivation)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(secret, salt, &mut *out)
        .map_err(|_| Error::WeakKeyDerivation)?;
    Ok(out)
}

fn decode(text: &str, len: usize, what: &str) -> Result<Vec<u8>> {
    match BASE64.decode(text) {
        Ok(bytes) if bytes.len() == len => Ok(bytes),
        _ => Err(Error::Invalid(format!(
            "the keyring's {what} is malformed; restore it from a backup"
        ))),
    }
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk,
/// renames it over `path` and flushes the directory entry.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);

    let mut file = fs::File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    file.write_all(bytes)
        .map_err(|e| Error::io("write", &tmp, e))?;
    file.sync_all().map_err(|e| Error::io("flush", &tmp, e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| Error::io("replace", path, e))?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("flush the directory", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Unwrapped {
        Unwrapped {
            database: DatabaseKey::generate().expect("random key"),
            account: Key::generate().expect("random key"),
        }
    }

    fn entry(keys: &Unwrapped) -> AccountEntry {
        AccountEntry::new(
            Profile {
                id: "acct-1".to_owned(),
                name: "Maria".to_owned(),
                member_id: "m-maria".to_owned(),
                roles: BTreeSet::from([Role::Intake]),
                created_at: 0,
            },
            keys,
            b"correct horse battery",
            b"RECOVERY-CODE",
        )
        .expect("wrap")
    }

    #[test]
    fn both_copies_open_and_refuse_other_secrets() {
        let keys = keys();
        let entry = entry(&keys);
        for opened in [
            entry.open_with_passphrase(b"correct horse battery"),
            entry.open_with_recovery(b"RECOVERY-CODE"),
        ] {
            let opened = opened.expect("usable").expect("right secret");
            assert_eq!(opened.database.as_bytes(), keys.database.as_bytes());
            assert_eq!(opened.account.as_bytes(), keys.account.as_bytes());
        }
        assert!(
            entry
                .open_with_passphrase(b"correct horse battery!")
                .expect("usable")
                .is_none()
        );
        // The recovery code is not a passphrase, nor the other way round.
        assert!(
            entry
                .open_with_passphrase(b"RECOVERY-CODE")
                .expect("usable")
                .is_none()
        );
        assert!(
            entry
                .open_with_recovery(b"correct horse battery")
                .expect("usable")
                .is_none()
        );
    }

    #[test]
    fn a_copy_moved_to_another_account_does_not_open() {
        let keys = keys();
        let mut entry = entry(&keys);
        entry.id = "acct-2".to_owned();
        assert!(
            entry
                .open_with_passphrase(b"correct horse battery")
                .expect("usable")
                .is_none()
        );
    }

    #[test]
    fn weakened_parameters_are_refused() {
        let keys = keys();
        let mut entry = entry(&keys);
        entry.passphrase.kdf.memory_kib = 8;
        assert!(matches!(
            entry.open_with_passphrase(b"correct horse battery"),
            Err(Error::WeakKeyDerivation)
        ));
    }

    #[test]
    fn tampered_ciphertext_is_not_accepted() {
        let keys = keys();
        let mut entry = entry(&keys);
        let mut bytes = BASE64.decode(&entry.passphrase.ciphertext).expect("base64");
        bytes[0] ^= 1;
        entry.passphrase.ciphertext = BASE64.encode(bytes);
        assert!(
            entry
                .open_with_passphrase(b"correct horse battery")
                .expect("usable")
                .is_none()
        );
    }

    #[test]
    fn malformed_files_get_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keyring.json");
        for junk in [
            &b""[..],
            b"{}",
            b"not json",
            b"{\"format\":\"other\",\"version\":2,\"accounts\":[]}",
            b"{\"format\":\"satchel-keyring\",\"version\":1,\"wraps\":[]}",
            b"{\"format\":\"satchel-keyring\",\"version\":2,\"accounts\":[]}",
        ] {
            fs::write(&path, junk).expect("write");
            assert!(matches!(
                Keyring::load(&path),
                Err(Error::BadKeyring { .. })
            ));
        }
    }

    #[test]
    fn store_then_load_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keyring.json");
        let keys = keys();
        let mut keyring = Keyring::new();
        keyring.accounts.push(entry(&keys));
        keyring.store(&path).expect("store");
        let loaded = Keyring::load(&path).expect("load");
        let account = loaded.by_name("  maria ").expect("found by name");
        let opened = account
            .open_with_passphrase(b"correct horse battery")
            .expect("usable")
            .expect("opens");
        assert_eq!(opened.account.as_bytes(), keys.account.as_bytes());
        assert!(!dir.path().join("keyring.json.tmp").exists());
    }
}
