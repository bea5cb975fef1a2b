//! The keyring: the database key, wrapped under a passphrase.
//!
//! The keyring is a small JSON file beside the database. It holds the
//! database key encrypted with XChaCha20-Poly1305 under a key derived from
//! the passphrase by Argon2id, together with the derivation parameters, so a
//! later build can raise them without locking anyone out. Nothing in it is
//! readable without the passphrase.

use std::fs;
use std::io::Write;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::{DatabaseKey, Passphrase};

/// The format tag written into every keyring file.
const FORMAT: &str = "satchel-keyring";
/// The keyring format version this build writes and reads.
const VERSION: u32 = 1;
/// Associated data for every wrap, so a wrap cannot be mistaken for any other
/// ciphertext Satchel produces.
const WRAP_AAD: &[u8] = b"satchel keyring v1: database key";

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
    wraps: Vec<Wrap>,
}

/// One copy of the database key, encrypted under one passphrase.
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

impl Keyring {
    /// Wraps `key` under `passphrase` into a new keyring.
    pub(crate) fn wrap_new(key: &DatabaseKey, passphrase: &Passphrase) -> Result<Self> {
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
        let wrapping_key = derive(&kdf, &salt, passphrase)?;
        let cipher = XChaCha20Poly1305::new((&*wrapping_key).into());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: key.as_bytes(),
                    aad: WRAP_AAD,
                },
            )
            .map_err(|_| Error::Invalid("could not wrap the database key".to_owned()))?;

        Ok(Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            wraps: vec![Wrap {
                kdf,
                nonce: BASE64.encode(nonce),
                ciphertext: BASE64.encode(ciphertext),
            }],
        })
    }

    /// Recovers the database key with `passphrase`, trying every wrap.
    pub(crate) fn unwrap(&self, passphrase: &Passphrase) -> Result<DatabaseKey> {
        for wrap in &self.wraps {
            if let Some(key) = wrap.open(passphrase)? {
                return Ok(key);
            }
        }
        Err(Error::WrongPassphrase)
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
        if keyring.wraps.is_empty() {
            return Err(bad("it holds no keys".to_owned()));
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

impl Wrap {
    /// Tries to open this wrap. `Ok(None)` means the passphrase is not this
    /// wrap's; an error means the wrap itself is unusable.
    fn open(&self, passphrase: &Passphrase) -> Result<Option<DatabaseKey>> {
        let salt = decode(&self.kdf.salt, 16, "salt")?;
        let nonce = decode(&self.nonce, 24, "nonce")?;
        let ciphertext = decode(&self.ciphertext, 32 + 16, "wrapped key")?;

        let wrapping_key = derive(&self.kdf, &salt, passphrase)?;
        let cipher = XChaCha20Poly1305::new((&*wrapping_key).into());
        let Ok(plain) = cipher.decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: WRAP_AAD,
            },
        ) else {
            return Ok(None);
        };
        let plain = Zeroizing::new(plain);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&plain);
        Ok(Some(DatabaseKey::from_bytes(bytes)))
    }
}

/// Derives the 256-bit wrapping key, refusing parameters below the floor so
/// a planted keyring cannot make a passphrase cheap to guess.
fn derive(kdf: &KdfParams, salt: &[u8], passphrase: &Passphrase) -> Result<Zeroizing<[u8; 32]>> {
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
        .hash_password_into(passphrase.as_bytes(), salt, &mut *out)
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

    fn passphrase(text: &str) -> Passphrase {
        Passphrase::new(text.to_owned())
    }

    #[test]
    fn wrap_round_trips_and_refuses_other_passphrases() {
        let key = DatabaseKey::generate().expect("random key");
        let keyring = Keyring::wrap_new(&key, &passphrase("correct horse battery")).expect("wrap");

        let opened = keyring
            .unwrap(&passphrase("correct horse battery"))
            .expect("unwrap");
        assert_eq!(opened.as_bytes(), key.as_bytes());
        assert!(matches!(
            keyring.unwrap(&passphrase("correct horse battery!")),
            Err(Error::WrongPassphrase)
        ));
    }

    #[test]
    fn weakened_parameters_are_refused() {
        let key = DatabaseKey::generate().expect("random key");
        let mut keyring =
            Keyring::wrap_new(&key, &passphrase("correct horse battery")).expect("wrap");
        keyring.wraps[0].kdf.memory_kib = 8;
        assert!(matches!(
            keyring.unwrap(&passphrase("correct horse battery")),
            Err(Error::WeakKeyDerivation)
        ));
    }

    #[test]
    fn tampered_ciphertext_is_not_accepted() {
        let key = DatabaseKey::generate().expect("random key");
        let mut keyring =
            Keyring::wrap_new(&key, &passphrase("correct horse battery")).expect("wrap");
        let mut bytes = BASE64.decode(&keyring.wraps[0].ciphertext).expect("base64");
        bytes[0] ^= 1;
        keyring.wraps[0].ciphertext = BASE64.encode(bytes);
        assert!(matches!(
            keyring.unwrap(&passphrase("correct horse battery")),
            Err(Error::WrongPassphrase)
        ));
    }

    #[test]
    fn malformed_files_get_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keyring.json");
        for junk in [
            &b""[..],
            b"{}",
            b"not json",
            b"{\"format\":\"other\",\"version\":1,\"wraps\":[]}",
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
        let key = DatabaseKey::generate().expect("random key");
        Keyring::wrap_new(&key, &passphrase("correct horse battery"))
            .expect("wrap")
            .store(&path)
            .expect("store");
        let loaded = Keyring::load(&path).expect("load");
        let opened = loaded
            .unwrap(&passphrase("correct horse battery"))
            .expect("unwrap");
        assert_eq!(opened.as_bytes(), key.as_bytes());
        assert!(!dir.path().join("keyring.json.tmp").exists());
    }
}
