//! The organisation directory this device last accepted.
//!
//! The vault keeps the signed directory as it arrived, so the laptop knows
//! its organisation's members, keys and policies while offline. Checking a
//! directory's signatures against the organisation's root is the sealing
//! crate's job and happens before it gets here; the vault's part is to keep
//! it across restarts and never to go back to an older version.

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::vault::{Outcome, Vault, record};

const VERSION_KEY: &str = "directory.version";
const DOCUMENT_KEY: &str = "directory.document";
/// The largest directory kept, in bytes.
const MAX_DIRECTORY_BYTES: usize = 8 * 1024 * 1024;

impl Vault {
    /// Keeps `document`, a verified signed directory at `version`, as the
    /// one this device uses. A version lower than the one held is refused;
    /// the same version again changes nothing.
    pub fn cache_directory(&mut self, version: u64, document: &[u8]) -> Result<()> {
        if document.is_empty() || document.len() > MAX_DIRECTORY_BYTES {
            return Err(Error::Invalid(
                "the organisation directory is empty or too large to keep".to_owned(),
            ));
        }
        let text = std::str::from_utf8(document).map_err(|_| {
            Error::Invalid("the organisation directory is not UTF-8 JSON".to_owned())
        })?;
        let actor = self.actor();
        let conn = self.connection()?;
        let tx = conn.unchecked_transaction()?;
        if let Some(held) = held_version(&tx)? {
            if version < held {
                return Err(Error::NotAllowed(format!(
                    "this laptop already holds directory version {held}; version {version} is older and was not kept"
                )));
            }
            if version == held {
                return Ok(());
            }
        }
        for (key, value) in [
            (VERSION_KEY, version.to_string()),
            (DOCUMENT_KEY, text.to_owned()),
        ] {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                (key, value),
            )?;
        }
        record(
            &tx,
            Some(&actor),
            "directory.accept",
            Some(&format!("version-{version}")),
            Outcome::Ok,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The directory this device holds, with its version, if any.
    pub fn cached_directory(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        let conn = self.connection()?;
        let Some(version) = held_version(conn)? else {
            return Ok(None);
        };
        let document: String = conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [DOCUMENT_KEY],
                |row| row.get(0),
            )
            .optional()?
            .ok_or(Error::Damaged)?;
        Ok(Some((version, document.into_bytes())))
    }
}

fn held_version(conn: &Connection) -> Result<Option<u64>> {
    let text: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [VERSION_KEY],
            |row| row.get(0),
        )
        .optional()?;
    text.map(|text| text.parse().map_err(|_| Error::Damaged))
        .transpose()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::{NewAccount, Passphrase, Role};

    #[test]
    fn the_directory_is_kept_and_never_rolled_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let passphrase = Passphrase::new("violet tractor quietly umbrella 42".to_owned());
        let (mut vault, _) = Vault::create(
            dir.path(),
            &NewAccount {
                name: "admin",
                member_id: "m-admin",
                roles: BTreeSet::from([Role::Admin]),
                passphrase: &passphrase,
            },
            0,
        )
        .expect("create");
        assert_eq!(vault.cached_directory().expect("read"), None);
        vault.cache_directory(3, b"{\"v\":3}").expect("keep");
        vault.cache_directory(3, b"{\"v\":3}").expect("same again");
        assert!(matches!(
            vault.cache_directory(2, b"{\"v\":2}"),
            Err(Error::NotAllowed(_))
        ));
        vault.cache_directory(4, b"{\"v\":4}").expect("newer");
        drop(vault);
        let mut vault = Vault::sign_in(dir.path(), "admin", &passphrase, None, 0).expect("sign in");
        assert_eq!(
            vault.cached_directory().expect("read"),
            Some((4, b"{\"v\":4}".to_vec()))
        );
        assert!(
            vault.cache_directory(5, &[0xff, 0xfe]).is_err(),
            "not UTF-8"
        );
    }
}
