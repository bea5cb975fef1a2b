//! Schema migrations, embedded from the repository's `migrations/vault/`.
//!
//! Each migration is a numbered SQL file applied in its own transaction,
//! together with the new schema number in `PRAGMA user_version`, so a crash
//! leaves the database at one version or the next, never between. A released
//! migration is never edited; changes go in a new file.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// Every migration this build knows, in order. The position in this list is
/// the schema version the migration produces (the first one gives 1).
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_settings",
        include_str!("../../../migrations/vault/0001_settings.sql"),
    ),
    (
        "0002_keys",
        include_str!("../../../migrations/vault/0002_keys.sql"),
    ),
    (
        "0003_accounts",
        include_str!("../../../migrations/vault/0003_accounts.sql"),
    ),
    (
        "0004_records",
        include_str!("../../../migrations/vault/0004_records.sql"),
    ),
    (
        "0005_audit",
        include_str!("../../../migrations/vault/0005_audit.sql"),
    ),
];

/// The newest schema version this build can produce.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

/// Brings `conn` up to [`LATEST`], refusing a database from a newer build.
pub(crate) fn apply(conn: &mut Connection) -> Result<()> {
    let current = version(conn)?;
    if current > LATEST {
        return Err(Error::SchemaTooNew {
            found: current,
            known: LATEST,
        });
    }

    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let target = index as u32 + 1;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", target)?;
        tx.commit()?;
        tracing::info!(
            migration.name = name,
            schema.version = target,
            "applied vault migration"
        );
    }
    Ok(())
}

/// The schema version recorded in the database header.
pub(crate) fn version(conn: &Connection) -> Result<u32> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_are_idempotent() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        apply(&mut conn).expect("first run");
        assert_eq!(version(&conn).expect("version"), LATEST);
        apply(&mut conn).expect("second run changes nothing");
        assert_eq!(version(&conn).expect("version"), LATEST);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        conn.pragma_update(None, "user_version", LATEST + 1)
            .expect("set version");
        assert!(matches!(
            apply(&mut conn),
            Err(Error::SchemaTooNew { found, known }) if found == LATEST + 1 && known == LATEST
        ));
    }
}
