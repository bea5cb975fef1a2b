//! The vault against real SQLCipher files on disk, signed in to through
//! local accounts.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::Duration;

use satchel_vault::totp::{Algorithm, code_at};
use satchel_vault::{
    DATABASE_FILE, Error, FREE_ATTEMPTS, KEYRING_FILE, LATEST_SCHEMA, LOCKOUT_AFTER,
    LOCKOUT_SECONDS, NewAccount, Passphrase, Presence, RecoveryCode, Role, Vault,
};

const NAME: &str = "Rosa Diaz";
const PASSPHRASE: &str = "copper lantern river meadow";
const OTHER_NAME: &str = "Sam Lee";
const OTHER_PASSPHRASE: &str = "violet tractor quietly umbrella 42";
/// A fixed clock, so delays and authenticator codes are reproducible.
const NOW: i64 = 1_800_000_000;

fn passphrase(text: &str) -> Passphrase {
    Passphrase::new(text.to_owned())
}

fn roles(roles: &[Role]) -> BTreeSet<Role> {
    roles.iter().copied().collect()
}

/// Creates a vault in `dir` whose first account is [`NAME`] with
/// [`PASSPHRASE`].
fn create(dir: &Path) -> (Vault, RecoveryCode) {
    create_with(dir, PASSPHRASE)
}

fn create_with(dir: &Path, text: &str) -> (Vault, RecoveryCode) {
    let secret = passphrase(text);
    let first = NewAccount {
        name: NAME,
        member_id: "m-rosa",
        roles: roles(&[Role::Admin, Role::Intake]),
        passphrase: &secret,
    };
    Vault::create(dir, &first, NOW).expect("create")
}

/// The error of an operation that must fail. Unlike `expect_err`, this
/// does not need the success value to print, and recovery codes and
/// confirmations deliberately cannot.
fn refused<T>(result: Result<T, Error>, what: &str) -> Error {
    match result {
        Ok(_) => panic!("{what} was accepted"),
        Err(error) => error,
    }
}

fn sign_in(dir: &Path, name: &str, text: &str, now: i64) -> Result<Vault, Error> {
    Vault::sign_in(dir, name, &passphrase(text), None, now)
}

#[test]
fn created_vault_reopens_with_its_label_and_is_encrypted_on_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(Vault::presence(dir.path()), Presence::Absent);

    let (mut vault, _code) = create(dir.path());
    assert_eq!(vault.account().name, NAME);
    assert_eq!(vault.account().member_id, "m-rosa");
    assert_eq!(vault.account().roles, roles(&[Role::Admin, Role::Intake]));
    assert!(!vault.account().totp_enrolled);
    vault.set_device_label("Clinic laptop 3").expect("label");
    drop(vault);

    assert_eq!(Vault::presence(dir.path()), Presence::Present);
    let mut vault = sign_in(dir.path(), NAME, PASSPHRASE, NOW).expect("sign in");
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

/// The keyring with every account's attempt counter removed: what a wrong
/// passphrase must leave alone.
fn keyring_without_attempts(dir: &Path) -> serde_json::Value {
    let text = fs::read(dir.join(KEYRING_FILE)).expect("keyring");
    let mut keyring: serde_json::Value = serde_json::from_slice(&text).expect("json");
    for account in keyring["accounts"].as_array_mut().expect("accounts") {
        account
            .as_object_mut()
            .expect("an account")
            .remove("attempts")
            .expect("an attempt counter");
    }
    keyring
}

#[test]
fn wrong_passphrase_is_refused_and_changes_nothing_but_the_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(create(dir.path()));
    let keyring = keyring_without_attempts(dir.path());
    let database = fs::read(dir.path().join(DATABASE_FILE)).expect("database");

    let err = sign_in(dir.path(), NAME, "not the passphrase", NOW).expect_err("refused");
    assert!(matches!(err, Error::WrongPassphrase), "{err}");
    assert_eq!(keyring_without_attempts(dir.path()), keyring);
    assert_eq!(
        fs::read(dir.path().join(DATABASE_FILE)).expect("database"),
        database
    );
    sign_in(dir.path(), NAME, PASSPHRASE, NOW).expect("the right one still opens");
}

#[test]
fn creating_twice_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(create(dir.path()));
    let secret = passphrase(OTHER_PASSPHRASE);
    let second = NewAccount {
        name: OTHER_NAME,
        member_id: "m-sam",
        roles: roles(&[Role::Intake]),
        passphrase: &secret,
    };
    let err = refused(Vault::create(dir.path(), &second, NOW), "a second vault");
    assert!(matches!(err, Error::AlreadyExists(_)), "{err}");
    sign_in(dir.path(), NAME, PASSPHRASE, NOW).expect("original still opens");
    let err = sign_in(dir.path(), OTHER_NAME, OTHER_PASSPHRASE, NOW).expect_err("no account");
    assert!(matches!(err, Error::UnknownAccount(_)), "{err}");
}

#[test]
fn signing_in_where_nothing_was_set_up_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = sign_in(dir.path(), NAME, PASSPHRASE, NOW).expect_err("refused");
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    let err = Vault::accounts(dir.path()).expect_err("refused");
    assert!(matches!(err, Error::NotFound(_)), "{err}");
}

#[test]
fn short_weak_or_named_passphrases_create_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let attempt = |text: &str| {
        let secret = passphrase(text);
        let first = NewAccount {
            name: NAME,
            member_id: "m-rosa",
            roles: roles(&[Role::Intake]),
            passphrase: &secret,
        };
        refused(Vault::create(dir.path(), &first, NOW), text)
    };
    let err = attempt("too short");
    assert!(matches!(err, Error::PassphraseTooShort { .. }), "{err}");
    let err = attempt("password1234");
    assert!(matches!(err, Error::WeakPassphrase(_)), "{err}");
    let err = attempt("rosa diaz walks the river");
    assert!(matches!(err, Error::WeakPassphrase(_)), "{err}");
    assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 0);
}

#[test]
fn an_interrupted_set_up_is_cleared_by_the_next_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A set-up that died after the database was written but before the
    // keyring: the database's key is lost with the process.
    fs::write(dir.path().join(DATABASE_FILE), b"left behind").expect("orphan");
    assert_eq!(Vault::presence(dir.path()), Presence::Absent);

    let (mut vault, _code) = create(dir.path());
    vault.set_device_label("fresh").expect("label");
}

#[test]
fn a_damaged_database_gets_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut vault, _code) = create(dir.path());
    vault
        .set_device_label("about to be damaged")
        .expect("label");
    drop(vault);

    // Overwrite the first page: SQLCipher can no longer authenticate it.
    let path = dir.path().join(DATABASE_FILE);
    let mut bytes = fs::read(&path).expect("read");
    bytes[100..200].fill(0x5a);
    fs::write(&path, bytes).expect("write");

    let err = sign_in(dir.path(), NAME, PASSPHRASE, NOW).expect_err("refused");
    assert!(matches!(err, Error::Damaged), "{err}");
}

#[test]
fn device_labels_are_validated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut vault, _code) = create(dir.path());
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
    let (mut vault, _code) = create(dir.path());
    // Whatever keys a new vault starts with (its own device key, say).
    let mut expected = vault.keys().expect("list");
    let record = KeyRecord {
        id: "x25519:0011223344556677".to_owned(),
        kind: KeyKind::Recipient,
        label: "attorney".to_owned(),
        public: "age1example".to_owned(),
    };
    let fresh = vault
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("confirm");
    vault.store_key(fresh, &record, &[9u8; 32]).expect("store");
    let fresh = vault
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("confirm");
    assert!(matches!(
        vault.store_key(fresh, &record, &[1u8; 32]),
        Err(Error::Invalid(_))
    ));
    drop(vault);

    let mut vault = sign_in(dir.path(), NAME, PASSPHRASE, NOW).expect("sign in");
    expected.push(record.clone());
    let mut listed = vault.keys().expect("list");
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(listed, expected);
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

#[test]
fn two_accounts_each_sign_in_with_their_own_passphrase_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut first, _code) = create(dir.path());
    first.set_device_label("Shared laptop").expect("label");
    let fresh = first
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("reauthenticate");
    let secret = passphrase(OTHER_PASSPHRASE);
    let second = NewAccount {
        name: OTHER_NAME,
        member_id: "m-sam",
        roles: roles(&[Role::Attorney]),
        passphrase: &secret,
    };
    let (added, second_code) = first.add_account(fresh, &second, NOW).expect("add");
    assert_eq!(added.name, OTHER_NAME);
    assert_eq!(second_code.as_str().len(), 29);
    let first_id = first.account().id.clone();
    assert_ne!(added.id, first_id);
    drop(first);

    let accounts = Vault::accounts(dir.path()).expect("accounts");
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, [NAME, OTHER_NAME]);
    assert_eq!(accounts[1].member_id, "m-sam");
    assert_eq!(accounts[1].roles, roles(&[Role::Attorney]));

    // Each signs in with their own passphrase, to their own account, and
    // both see the one database.
    let mut rosa = sign_in(dir.path(), NAME, PASSPHRASE, NOW).expect("first signs in");
    assert_eq!(rosa.account().id, first_id);
    let mut sam = sign_in(dir.path(), "  sam LEE ", OTHER_PASSPHRASE, NOW).expect("second");
    assert_eq!(sam.account().id, added.id);
    assert_eq!(sam.account().name, OTHER_NAME);
    assert_eq!(
        sam.device_label().expect("label").as_deref(),
        Some("Shared laptop")
    );

    // Neither passphrase opens the other account.
    let err = sign_in(dir.path(), NAME, OTHER_PASSPHRASE, NOW).expect_err("refused");
    assert!(matches!(err, Error::WrongPassphrase), "{err}");
    let err = sign_in(dir.path(), OTHER_NAME, PASSPHRASE, NOW).expect_err("refused");
    assert!(matches!(err, Error::WrongPassphrase), "{err}");
    let err = sign_in(dir.path(), "Nobody", PASSPHRASE, NOW).expect_err("refused");
    assert!(matches!(err, Error::UnknownAccount(_)), "{err}");

    // A confirmation is good only for the account that gave it.
    let sams = sam
        .reauthenticate(&passphrase(OTHER_PASSPHRASE), NOW)
        .expect("reauthenticate");
    let err = rosa
        .change_passphrase(sams, &passphrase("marble falcon sandwich orbit 93"))
        .expect_err("refused");
    assert!(matches!(err, Error::ReauthRequired), "{err}");

    // A name already taken on this laptop is refused, whatever its case.
    let fresh = rosa
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("reauthenticate");
    let again = NewAccount {
        name: "SAM LEE",
        ..second
    };
    let err = refused(rosa.add_account(fresh, &again, NOW), "a taken name");
    assert!(matches!(err, Error::Invalid(_)), "{err}");
}

#[test]
fn repeated_wrong_passphrases_slow_down_then_lock_out_and_it_persists() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(create(dir.path()));

    // Every sign-in reads the keyring from disk afresh, as a restarted app
    // would: no handle is kept open across these attempts.
    let mut now = NOW;
    let mut failed = 0;
    let mut waits = Vec::new();
    while failed < LOCKOUT_AFTER {
        match sign_in(dir.path(), NAME, "not the passphrase", now) {
            Err(Error::WrongPassphrase) => failed += 1,
            Err(Error::TryAgainLater { wait_seconds }) => {
                assert!(failed >= FREE_ATTEMPTS, "a wait after {failed} failures");
                // While the wait runs, even the right passphrase is refused.
                let err = sign_in(dir.path(), NAME, PASSPHRASE, now).expect_err("too soon");
                assert!(matches!(err, Error::TryAgainLater { .. }), "{err}");
                waits.push(wait_seconds);
                now += i64::try_from(wait_seconds).expect("seconds");
            }
            other => panic!(
                "unexpected {:?}",
                other.map(|_| ()).map_err(|e| e.to_string())
            ),
        }
    }
    assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320]);

    let err = sign_in(dir.path(), NAME, PASSPHRASE, now).expect_err("locked out");
    let Error::LockedOut { wait_seconds } = err else {
        panic!("expected a lockout, got {err}");
    };
    assert_eq!(
        wait_seconds,
        u64::try_from(LOCKOUT_SECONDS).expect("seconds")
    );
    assert!(err.to_string().contains("recovery code"), "{err}");

    // The lockout is in the files: a copy of the data directory, as on
    // another start of the app, is locked out just the same.
    let copy = tempfile::tempdir().expect("tempdir");
    for entry in fs::read_dir(dir.path()).expect("list") {
        let entry = entry.expect("entry");
        fs::copy(entry.path(), copy.path().join(entry.file_name())).expect("copy");
    }
    let later = now + LOCKOUT_SECONDS - 1;
    let err = sign_in(copy.path(), NAME, PASSPHRASE, later).expect_err("still locked");
    assert!(matches!(err, Error::LockedOut { wait_seconds: 1 }), "{err}");

    // Once the lockout is over the right passphrase works and clears the
    // count: the next wrong one is simply wrong, with no wait.
    let after = now + LOCKOUT_SECONDS;
    sign_in(dir.path(), NAME, PASSPHRASE, after).expect("the lockout ends");
    let err = sign_in(dir.path(), NAME, "not the passphrase", after).expect_err("wrong");
    assert!(matches!(err, Error::WrongPassphrase), "{err}");
}

#[test]
fn a_lockout_does_not_stop_recovery() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (vault, code) = create(dir.path());
    drop(vault);
    let mut now = NOW;
    for _ in 0..LOCKOUT_AFTER {
        loop {
            match sign_in(dir.path(), NAME, "not the passphrase", now) {
                Err(Error::WrongPassphrase) => break,
                Err(Error::TryAgainLater { wait_seconds }) => {
                    now += i64::try_from(wait_seconds).expect("seconds");
                }
                other => panic!(
                    "unexpected {:?}",
                    other.map(|_| ()).map_err(|e| e.to_string())
                ),
            }
        }
    }
    let err = sign_in(dir.path(), NAME, PASSPHRASE, now).expect_err("locked out");
    assert!(matches!(err, Error::LockedOut { .. }), "{err}");

    let new = passphrase(OTHER_PASSPHRASE);
    Vault::recover(dir.path(), NAME, &code, &new, now).expect("recover while locked out");
    sign_in(dir.path(), NAME, OTHER_PASSPHRASE, now).expect("the new passphrase, at once");
}

#[test]
fn a_recovery_code_works_once_and_is_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut vault, first_code) = create(dir.path());
    vault.set_device_label("Recovered laptop").expect("label");
    drop(vault);

    // Typed as a person might: lower case, spaces for dashes.
    let typed =
        RecoveryCode::parse(&first_code.as_str().to_lowercase().replace('-', " ")).expect("parses");
    let new = passphrase(OTHER_PASSPHRASE);
    let (mut vault, second_code) =
        Vault::recover(dir.path(), NAME, &typed, &new, NOW).expect("recover");
    assert_ne!(second_code.as_str(), first_code.as_str());
    assert_eq!(
        vault.device_label().expect("label").as_deref(),
        Some("Recovered laptop"),
        "recovery opens the same data"
    );
    drop(vault);

    let err = sign_in(dir.path(), NAME, PASSPHRASE, NOW).expect_err("old passphrase");
    assert!(matches!(err, Error::WrongPassphrase), "{err}");
    sign_in(dir.path(), NAME, OTHER_PASSPHRASE, NOW).expect("new passphrase");

    // The used code no longer works; the new one does.
    let err = refused(
        Vault::recover(dir.path(), NAME, &first_code, &passphrase(PASSPHRASE), NOW),
        "a used code",
    );
    assert!(matches!(err, Error::WrongRecoveryCode), "{err}");
    sign_in(dir.path(), NAME, OTHER_PASSPHRASE, NOW).expect("the refusal changed nothing");
    Vault::recover(dir.path(), NAME, &second_code, &passphrase(PASSPHRASE), NOW)
        .expect("the new code");

    // A recovery is held to the same passphrase policy.
    let err = refused(
        Vault::recover(
            dir.path(),
            NAME,
            &second_code,
            &passphrase("password1234"),
            NOW,
        ),
        "a weak passphrase",
    );
    assert!(matches!(err, Error::WeakPassphrase(_)), "{err}");
}

#[test]
fn an_idle_vault_locks_itself_and_unlocks_with_the_passphrase() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut vault, _code) = create(dir.path());
    vault.set_device_label("Idle laptop").expect("label");
    vault.set_idle_timeout(Duration::from_millis(50));
    std::thread::sleep(Duration::from_millis(100));

    let err = vault.device_label().expect_err("locked");
    assert!(matches!(err, Error::Locked), "{err}");
    assert!(vault.is_locked());

    let err = vault
        .unlock(&passphrase("not the passphrase"), None, NOW)
        .expect_err("wrong");
    assert!(matches!(err, Error::WrongPassphrase), "{err}");
    assert!(vault.is_locked());
    vault
        .unlock(&passphrase(PASSPHRASE), None, NOW)
        .expect("unlock");
    assert!(!vault.is_locked());
    vault.set_idle_timeout(Duration::from_secs(60));
    assert_eq!(
        vault.device_label().expect("label").as_deref(),
        Some("Idle laptop")
    );

    // Locking by hand works the same way.
    vault.lock();
    assert!(matches!(vault.device_label(), Err(Error::Locked)));
    vault
        .unlock(&passphrase(PASSPHRASE), None, NOW)
        .expect("unlock");
    assert_eq!(vault.account().name, NAME);
}

#[test]
fn changing_the_passphrase_needs_it_typed_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut vault, code) = create(dir.path());

    let err = refused(
        vault.reauthenticate(&passphrase("not the passphrase"), NOW),
        "a wrong passphrase",
    );
    assert!(matches!(err, Error::WrongPassphrase), "{err}");

    let fresh = vault
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("reauthenticate");
    let err = vault
        .change_passphrase(fresh, &passphrase("password1234"))
        .expect_err("weak");
    assert!(matches!(err, Error::WeakPassphrase(_)), "{err}");

    let fresh = vault
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("reauthenticate");
    vault
        .change_passphrase(fresh, &passphrase(OTHER_PASSPHRASE))
        .expect("change");
    drop(vault);

    let err = sign_in(dir.path(), NAME, PASSPHRASE, NOW).expect_err("old passphrase");
    assert!(matches!(err, Error::WrongPassphrase), "{err}");
    sign_in(dir.path(), NAME, OTHER_PASSPHRASE, NOW).expect("new passphrase");
    // The recovery code is unaffected by a change.
    Vault::recover(dir.path(), NAME, &code, &passphrase(PASSPHRASE), NOW)
        .expect("recover after a change");
}

#[test]
fn an_enrolled_authenticator_is_needed_to_sign_in_and_each_code_works_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut vault, _code) = create(dir.path());
    let fresh = vault
        .reauthenticate(&passphrase(PASSPHRASE), NOW)
        .expect("reauthenticate");
    let secret = vault.enroll_totp(fresh).expect("enroll");
    assert!(vault.account().totp_enrolled);
    let secret = base32_decode(&secret.to_base32());
    drop(vault);
    assert!(Vault::accounts(dir.path()).expect("accounts")[0].totp_enrolled);

    let code = |at: i64| {
        let at = u64::try_from(at).expect("after 1970");
        code_at(&secret, Algorithm::Sha1, 6, 30, at)
    };
    let with_code = |typed: Option<&str>, at: i64| {
        Vault::sign_in(dir.path(), NAME, &passphrase(PASSPHRASE), typed, at)
    };

    let err = with_code(None, NOW).expect_err("no code");
    assert!(matches!(err, Error::TotpRequired), "{err}");

    // A code that matches no step in the accepted window.
    let window = [code(NOW - 30), code(NOW), code(NOW + 30)];
    let wrong = (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|candidate| !window.contains(candidate))
        .expect("a wrong code");
    let err = with_code(Some(&wrong), NOW).expect_err("wrong code");
    assert!(matches!(err, Error::TotpWrong), "{err}");

    let right = code(NOW);
    with_code(Some(&right), NOW).expect("the right code");
    let err = with_code(Some(&right), NOW).expect_err("replayed");
    assert!(matches!(err, Error::TotpWrong), "{err}");

    // The next step's code works in its turn.
    with_code(Some(&code(NOW + 30)), NOW + 30).expect("the next code");
}

/// Decodes RFC 4648 base32 without padding, the form authenticator secrets
/// are shown in.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bytes = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = ALPHABET
            .iter()
            .position(|&a| a == c)
            .unwrap_or_else(|| panic!("{c} is not base32"));
        buffer = (buffer << 5) | u32::try_from(value).expect("small");
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push(u8::try_from((buffer >> bits) & 0xff).expect("a byte"));
        }
    }
    bytes
}
