//! Private keys kept in the vault.
//!
//! The vault stores key bytes without interpreting them: the sealing crate
//! decides what a key is. What it guarantees is where they live: only inside
//! the encrypted database, handed out wrapped in [`Zeroizing`].

use rusqlite::OptionalExtension;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::vault::{FreshAuth, Outcome, Vault, record as record_audit};

/// What a stored key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// An Ed25519 key that signs.
    Signing,
    /// An X25519 key that envelopes are sealed to.
    Recipient,
}

impl KeyKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Signing => "signing",
            Self::Recipient => "recipient",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "signing" => Ok(Self::Signing),
            "recipient" => Ok(Self::Recipient),
            other => Err(Error::Invalid(format!(
                "the vault holds a key of unknown kind {other:?}"
            ))),
        }
    }
}

/// A stored key's public description; the secret stays in the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The key's id, such as `x25519:3d5a0c61b9e27f04`.
    pub id: String,
    /// What it is for.
    pub kind: KeyKind,
    /// A name for people.
    pub label: String,
    /// The public half, in its text form.
    pub public: String,
}

impl Vault {
    /// Stores a new private key: a key change, so it needs the passphrase
    /// typed again. Ids are unique; storing one twice is refused.
    pub fn store_key(&mut self, fresh: FreshAuth, record: &KeyRecord, secret: &[u8]) -> Result<()> {
        self.require_fresh(fresh)?;
        let actor = self.actor();
        let conn = self.connection()?;
        let tx = conn.unchecked_transaction()?;
        let inserted = tx.execute(
            "INSERT INTO keys (id, kind, label, public, secret) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO NOTHING",
            (
                &record.id,
                record.kind.as_str(),
                &record.label,
                &record.public,
                secret,
            ),
        )?;
        if inserted == 0 {
            return Err(Error::Invalid(format!(
                "the vault already holds key {}",
                record.id
            )));
        }
        record_audit(
            &tx,
            Some(&actor),
            "key.store",
            Some(&record.id),
            Outcome::Ok,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every stored key, oldest first, without secrets.
    pub fn keys(&mut self) -> Result<Vec<KeyRecord>> {
        let mut statement = self
            .connection()?
            .prepare("SELECT id, kind, label, public FROM keys ORDER BY created_at, id")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get(2)?,
                row.get(3)?,
            ))
        })?;
        let mut keys = Vec::new();
        for row in rows {
            let (id, kind, label, public) = row?;
            keys.push(KeyRecord {
                id,
                kind: KeyKind::parse(&kind)?,
                label,
                public,
            });
        }
        Ok(keys)
    }

    /// The secret bytes of key `id`, to take out of the vault (as an age
    /// identity file for the stock `age` tool, say): an export, so it needs
    /// the passphrase typed again, and it is audited.
    pub fn export_key(&mut self, fresh: FreshAuth, id: &str) -> Result<Zeroizing<Vec<u8>>> {
        self.require_fresh(fresh)?;
        let secret = self.key_secret(id)?;
        let actor = self.actor();
        record_audit(
            self.connection()?,
            Some(&actor),
            "key.export",
            Some(id),
            Outcome::Ok,
        )?;
        Ok(secret)
    }

    /// The secret bytes of key `id`, for signing or opening on this device.
    pub fn key_secret(&mut self, id: &str) -> Result<Zeroizing<Vec<u8>>> {
        let secret: Option<Vec<u8>> = self
            .connection()?
            .query_row("SELECT secret FROM keys WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .optional()?;
        secret.map(Zeroizing::new).ok_or_else(|| {
            Error::Invalid(format!(
                "the vault holds no key {id}; see `satchel keys list`"
            ))
        })
    }
}
