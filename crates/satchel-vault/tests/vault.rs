//! The vault against real SQLCipher files on disk.

use std::fs;

use satchel_vault::{
    DATABASE_FILE, Error, KEYRING_FILE, LATEST_SCHEMA, Passphrase, Presence, Vault,
};

const PASSPHRASE: &str = "a long enough passphrase";

fn passphrase(text: &str) -> Passphrase {
    Passphrase::new(text.to_owned())
}

#[test]
fn created_vault_reopens_with_its_label_and_is_encrypted_on_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(Vault::presence(dir.path()), Presence::Absent);

    let vault = Vault::create(dir.path(), &passphrase(PASSPHRASE)).expect("create");
    vault.set_device_label("Clinic laptop 3").expect("label");
    drop(vault);

    assert_eq!(Vault::presence(dir.path()), Presence::Present);
    let vault = Vault::unlock(dir.path(), &passphrase(PASSPHRASE)).expect("unlock");
    assert_eq!(
        vault.device_label().expect("read").as_deref(),
        Some("Clinic laptop 3")
    );
    assert_eq!(vault.schema_version().expect("schema"), LATEST_SCHEMA);
    drop(vault);

    let bytes = fs::read(dir.path().join(DATABASE_FILE)).expect("read db");
    assert!(bytes.len() >= 4096, "the database has at least one page");
    assert!(
        !bytes.starts_with(b"SQLite format 3"),
        "plain SQLite header on disk"
    );
    let needle = b"Clinic laptop 3";
    for name in [DATABASE_FILE, KEYRING_FILE] {
        let bytes = fs::read(dir.path().join(name)).expect("read file");
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "label in clear in {name}"
        );
    }
}

#[test]
fn wrong_passphrase_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    Vault::create(dir.path(), &passphrase(PASSPHRASE)).expect("create");
    let before = fs::read(dir.path().join(KEYRING_FILE)).expect("keyring");

    let err = Vault::unlock(dir.path(), &passphrase("not the passphrase")).expect_err("refused");
    assert!(matches!(err, Error::WrongPassphrase), "{err}");
    assert_eq!(
        fs::read(dir.path().join(KEYRING_FILE)).expect("keyring"),
        before
    );
}

#[test]
fn creating_twice_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    Vault::create(dir.path(), &passphrase(PASSPHRASE)).expect("create");
    let err =
        Vault::create(dir.path(), &passphrase("another passphrase here")).expect_err("refused");
    assert!(matches!(err, Error::AlreadyExists(_)), "{err}");
    Vault::unlock(dir.path(), &passphrase(PASSPHRASE)).expect("original still opens");
}

#[test]
fn unlocking_where_nothing_was_set_up_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Vault::unlock(dir.path(), &passphrase(PASSPHRASE)).expect_err("refused");
    assert!(matches!(err, Error::NotFound(_)), "{err}");
}

#[test]
fn short_passphrase_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Vault::create(dir.path(), &passphrase("too short")).expect_err("refused");
    assert!(matches!(err, Error::PassphraseTooShort { .. }), "{err}");
    assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 0);
}

#[test]
fn an_interrupted_set_up_is_cleared_by_the_next_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A set-up that died after the database was written but before the
    // keyring: the database's key is lost with the process.
    fs::write(dir.path().join(DATABASE_FILE), b"left behind").expect("orphan");
    assert_eq!(Vault::presence(dir.path()), Presence::Absent);

    let vault = Vault::create(dir.path(), &passphrase(PASSPHRASE)).expect("create");
    vault.set_device_label("fresh").expect("label");
}

#[test]
fn a_damaged_database_gets_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = Vault::create(dir.path(), &passphrase(PASSPHRASE)).expect("create");
    vault
        .set_device_label("about to be damaged")
        .expect("label");
    drop(vault);

    // Overwrite the first page: SQLCipher can no longer authenticate it.
    let path = dir.path().join(DATABASE_FILE);
    let mut bytes = fs::read(&path).expect("read");
    bytes[100..200].fill(0x5a);
    fs::write(&path, bytes).expect("write");

    let err = Vault::unlock(dir.path(), &passphrase(PASSPHRASE)).expect_err("refused");
    assert!(matches!(err, Error::Damaged), "{err}");
}

#[test]
fn device_labels_are_validated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = Vault::create(dir.path(), &passphrase(PASSPHRASE)).expect("create");
    for bad in ["", "   ", "line\nbreak", &"x".repeat(81)] {
        assert!(
            matches!(vault.set_device_label(bad), Err(Error::Invalid(_))),
            "{bad:?}"
        );
    }
    assert_eq!(
        vault.device_label().expect("read"),
        None,
        "nothing was stored"
    );
    vault
        .set_device_label("  Courthouse kiosk  ")
        .expect("label");
    assert_eq!(
        vault.device_label().expect("read").as_deref(),
        Some("Courthouse kiosk")
    );
}

#[test]
fn keys_are_stored_listed_and_read_back_but_never_twice() {
    use satchel_vault::{KeyKind, KeyRecord};

    let dir = tempfile::tempdir().expect("tempdir");
    let vault = Vault::create(dir.path(), &passphrase(PASSPHRASE)).expect("create");
    let record = KeyRecord {
        id: "x25519:0011223344556677".to_owned(),
        kind: KeyKind::Recipient,
        label: "attorney".to_owned(),
        public: "age1example".to_owned(),
    };
    vault.store_key(&record, &[9u8; 32]).expect("store");
    assert!(matches!(
        vault.store_key(&record, &[1u8; 32]),
        Err(Error::Invalid(_))
    ));
    drop(vault);

    let vault = Vault::unlock(dir.path(), &passphrase(PASSPHRASE)).expect("unlock");
    assert_eq!(vault.keys().expect("list"), vec![record.clone()]);
    assert_eq!(
        &vault.key_secret(&record.id).expect("secret")[..],
        &[9u8; 32]
    );
    assert!(matches!(
        vault.key_secret("x25519:missing"),
        Err(Error::Invalid(_))
    ));

    let db = fs::read(dir.path().join(DATABASE_FILE)).expect("db");
    assert!(
        !db.windows(32).any(|w| w == [9u8; 32]),
        "key bytes in clear on disk"
    );
}
