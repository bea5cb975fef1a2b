//! The `satchel` binary as a script would use it.

mod common;

use std::path::Path;
use std::process::Output;

use common::{ACCOUNT, PASSPHRASE, satchel, satchel_with_env};

/// A passphrase the vault accepts for a change or a recovery.
const NEW_PASSPHRASE: &str = "violet tractor quietly umbrella 42";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn succeeded(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Asserts that `output` failed with one line on standard error containing
/// `needle`, and returns that line.
fn failed_with(output: &Output, needle: &str) -> String {
    assert!(
        !output.status.success(),
        "it succeeded: {}",
        text(&output.stdout)
    );
    let err = text(&output.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("satchel: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
    err
}

fn create(dir: &Path, label: &str) -> Output {
    satchel(
        &[
            "vault",
            "create",
            "--data-dir",
            path(dir),
            "--account",
            ACCOUNT,
            "--member-id",
            "m-rosa",
            "--role",
            "intake",
            "--role",
            "attorney",
            "--passphrase-stdin",
            "--device-label",
            label,
        ],
        &format!("{PASSPHRASE}\n"),
    )
}

fn check(dir: &Path, passphrase: &str) -> Output {
    satchel(
        &[
            "vault",
            "check",
            "--data-dir",
            path(dir),
            "--account",
            ACCOUNT,
            "--passphrase-stdin",
        ],
        &format!("{passphrase}\n"),
    )
}

fn recover(dir: &Path, code: &str, new_passphrase: &str) -> Output {
    satchel(
        &[
            "vault",
            "recover",
            "--data-dir",
            path(dir),
            "--account",
            ACCOUNT,
            "--passphrase-stdin",
        ],
        &format!("{code}\n{new_passphrase}\n"),
    )
}

/// The recovery code printed on its own line, checked for its shape: five
/// groups of five letters and digits.
fn recovery_code(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("Recovery code: "))
        .unwrap_or_else(|| panic!("no recovery code in {stdout}"));
    let groups: Vec<&str> = line.split('-').collect();
    assert_eq!(groups.len(), 5, "{line}");
    for group in groups {
        assert_eq!(group.len(), 5, "{line}");
        assert!(
            group
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
            "{line}"
        );
    }
    line.to_owned()
}

#[test]
fn create_then_check_reads_the_label_back_from_an_encrypted_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    succeeded(&create(dir.path(), "Courthouse kiosk"), "create");

    let header = std::fs::read(dir.path().join("vault.db")).expect("vault file");
    assert!(
        !header.starts_with(b"SQLite format 3"),
        "the vault file is plain SQLite"
    );

    let out = succeeded(&check(dir.path(), PASSPHRASE), "check");
    assert!(out.contains("Courthouse kiosk"), "{out}");
    assert!(out.contains("Account: Rosa Diaz (member m-rosa)"), "{out}");
    assert!(out.contains("Roles:   intake, attorney"), "{out}");
    assert!(out.contains("integrity check passed"), "{out}");
}

#[test]
fn create_prints_a_recovery_code_once_with_what_to_do_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = succeeded(&create(dir.path(), "Clinic"), "create");
    let code = recovery_code(&out);
    assert_eq!(out.matches(&code).count(), 1, "{out}");
    assert!(out.contains("Write this recovery code down"), "{out}");
    assert!(out.contains("away from this laptop"), "{out}");

    // It is not kept anywhere in the clear, and checking the vault does
    // not show it again.
    for file in ["keyring.json", "vault.db"] {
        let bytes = std::fs::read(dir.path().join(file)).expect("read");
        assert!(
            !bytes.windows(code.len()).any(|w| w == code.as_bytes()),
            "the recovery code is in {file} in the clear"
        );
    }
    let checked = succeeded(&check(dir.path(), PASSPHRASE), "check");
    assert!(!checked.contains(&code), "{checked}");
}

#[test]
fn wrong_passphrase_fails_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    succeeded(&create(dir.path(), "Clinic"), "create");
    let err = failed_with(
        &check(dir.path(), "a different passphrase"),
        "does not unlock this vault",
    );
    assert!(
        !err.contains("a different passphrase"),
        "the passphrase was echoed: {err}"
    );
}

#[test]
fn an_unknown_account_is_named_in_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    succeeded(&create(dir.path(), "Clinic"), "create");
    let checked = satchel(
        &[
            "vault",
            "check",
            "--data-dir",
            path(dir.path()),
            "--account",
            "Sam Lee",
            "--passphrase-stdin",
        ],
        &format!("{PASSPHRASE}\n"),
    );
    failed_with(&checked, "no account named \"Sam Lee\"");
}

#[test]
fn the_account_can_come_from_the_environment_and_is_otherwise_required() {
    let dir = tempfile::tempdir().expect("tempdir");
    succeeded(&create(dir.path(), "Clinic"), "create");
    let args = [
        "vault",
        "check",
        "--data-dir",
        path(dir.path()),
        "--passphrase-stdin",
    ];
    let stdin = format!("{PASSPHRASE}\n");

    let out = satchel_with_env(&args, &stdin, &[("SATCHEL_ACCOUNT", ACCOUNT)]);
    let out = succeeded(&out, "check with SATCHEL_ACCOUNT");
    assert!(out.contains("Rosa Diaz"), "{out}");

    let out = satchel(&args, &stdin);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--account"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn accounts_lists_names_member_ids_and_roles_without_signing_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = succeeded(&create(dir.path(), "Clinic"), "create");
    let code = recovery_code(&created);

    let listed = satchel(&["vault", "accounts", "--data-dir", path(dir.path())], "");
    let out = succeeded(&listed, "accounts");
    assert_eq!(out.lines().count(), 1, "{out}");
    let line = out.lines().next().expect("one line");
    assert!(line.starts_with("Rosa Diaz"), "{line}");
    assert!(line.contains("m-rosa"), "{line}");
    assert!(line.contains("intake, attorney"), "{line}");
    assert!(!out.contains(&code), "{out}");
    assert!(!out.contains(PASSPHRASE), "{out}");

    let empty = tempfile::tempdir().expect("tempdir");
    let listed = satchel(&["vault", "accounts", "--data-dir", path(empty.path())], "");
    failed_with(&listed, "no vault has been set up");
}

#[test]
fn change_passphrase_then_only_the_new_one_signs_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = succeeded(&create(dir.path(), "Clinic"), "create");
    let args = [
        "vault",
        "change-passphrase",
        "--data-dir",
        path(dir.path()),
        "--account",
        ACCOUNT,
        "--passphrase-stdin",
    ];

    // A wrong current passphrase changes nothing.
    let refused = satchel(&args, &format!("not the passphrase\n{NEW_PASSPHRASE}\n"));
    failed_with(&refused, "does not unlock this vault");
    // Nor does a weak new one.
    let refused = satchel(&args, &format!("{PASSPHRASE}\npassword1234\n"));
    failed_with(&refused, "too easy to guess");
    succeeded(
        &check(dir.path(), PASSPHRASE),
        "check with the old passphrase",
    );

    let changed = satchel(&args, &format!("{PASSPHRASE}\n{NEW_PASSPHRASE}\n"));
    let out = succeeded(&changed, "change-passphrase");
    assert!(out.contains("Changed the passphrase"), "{out}");
    assert!(!out.contains(NEW_PASSPHRASE), "{out}");

    let out = succeeded(&check(dir.path(), NEW_PASSPHRASE), "check with the new one");
    assert!(out.contains("integrity check passed"), "{out}");
    failed_with(&check(dir.path(), PASSPHRASE), "does not unlock this vault");

    // The recovery code made at set-up still works after a change.
    let recovered = recover(dir.path(), &recovery_code(&created), PASSPHRASE);
    succeeded(&recovered, "recover after a change");
}

#[test]
fn change_passphrase_needs_the_new_one_on_the_second_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    succeeded(&create(dir.path(), "Clinic"), "create");
    let changed = satchel(
        &[
            "vault",
            "change-passphrase",
            "--data-dir",
            path(dir.path()),
            "--account",
            ACCOUNT,
            "--passphrase-stdin",
        ],
        &format!("{PASSPHRASE}\n"),
    );
    failed_with(&changed, "no new passphrase");
    succeeded(&check(dir.path(), PASSPHRASE), "check");
}

#[test]
fn recover_sets_a_new_passphrase_and_replaces_the_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = succeeded(&create(dir.path(), "Clinic"), "create");
    let first_code = recovery_code(&created);

    // As a person might type it: lower case, spaces instead of dashes.
    let typed = first_code.to_lowercase().replace('-', " ");
    let recovered = recover(dir.path(), &typed, NEW_PASSPHRASE);
    let out = succeeded(&recovered, "recover");
    let second_code = recovery_code(&out);
    assert_ne!(second_code, first_code);
    assert!(out.contains("Write this recovery code down"), "{out}");
    assert!(out.contains("no longer works"), "{out}");

    succeeded(
        &check(dir.path(), NEW_PASSPHRASE),
        "check with the new passphrase",
    );
    failed_with(&check(dir.path(), PASSPHRASE), "does not unlock this vault");

    // The used code is spent; the new one works.
    let again = recover(dir.path(), &first_code, PASSPHRASE);
    failed_with(&again, "recovery code does not match");
    succeeded(
        &check(dir.path(), NEW_PASSPHRASE),
        "the refusal changed nothing",
    );
    let recovered = recover(dir.path(), &second_code, PASSPHRASE);
    succeeded(&recovered, "recover with the new code");
    succeeded(
        &check(dir.path(), PASSPHRASE),
        "check after the second recovery",
    );
}

#[test]
fn a_mistyped_recovery_code_is_refused_before_the_new_passphrase_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    succeeded(&create(dir.path(), "Clinic"), "create");
    let recovered = recover(dir.path(), "ABCDE-FGHIJ", NEW_PASSPHRASE);
    failed_with(&recovered, "recovery code does not match");
    succeeded(&check(dir.path(), PASSPHRASE), "check");
}

#[test]
fn an_account_with_an_authenticator_reads_its_code_from_the_next_line() {
    use satchel_vault::totp::{Algorithm, code_at};
    use satchel_vault::{NewAccount, Passphrase, Role, Vault, unix_now};

    let dir = tempfile::tempdir().expect("tempdir");
    let passphrase = Passphrase::new(PASSPHRASE.to_owned());
    let first = NewAccount {
        name: ACCOUNT,
        member_id: "m-rosa",
        roles: [Role::Attorney].into(),
        passphrase: &passphrase,
    };
    let (mut vault, _code) = Vault::create(dir.path(), &first, unix_now()).expect("create");
    let fresh = vault
        .reauthenticate(&passphrase, unix_now())
        .expect("reauthenticate");
    let secret = vault.enroll_totp(fresh).expect("enroll");
    let secret = base32_decode(&secret.to_base32());
    drop(vault);

    let listed = satchel(&["vault", "accounts", "--data-dir", path(dir.path())], "");
    let out = succeeded(&listed, "accounts");
    assert!(out.contains("(authenticator app)"), "{out}");

    let without = check(dir.path(), PASSPHRASE);
    failed_with(&without, "no authenticator code");

    let now = u64::try_from(unix_now()).expect("clock");
    let code = code_at(&secret, Algorithm::Sha1, 6, 30, now);
    let out = check(dir.path(), &format!("{PASSPHRASE}\n{code}"));
    let out = succeeded(&out, "check with the authenticator code");
    assert!(out.contains("integrity check passed"), "{out}");
}

/// Decodes RFC 4648 base32 without padding, as authenticator secrets are
/// written.
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

#[test]
fn a_bad_label_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("vault");
    let created = create(&target, "two\nlines");
    failed_with(&created, "line breaks");
    assert!(
        !target.exists(),
        "a refused create left {}",
        target.display()
    );
}

#[test]
fn an_unknown_role_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("vault");
    let created = satchel(
        &[
            "vault",
            "create",
            "--data-dir",
            path(&target),
            "--account",
            ACCOUNT,
            "--member-id",
            "m-rosa",
            "--role",
            "intake",
            "--role",
            "judge",
            "--passphrase-stdin",
        ],
        &format!("{PASSPHRASE}\n"),
    );
    failed_with(
        &created,
        "no role named \"judge\"; use intake, attorney or admin",
    );
    assert!(!target.exists());
}

#[test]
fn short_or_guessable_passphrases_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("vault");
    let create_with = |passphrase: &str| {
        satchel(
            &[
                "vault",
                "create",
                "--data-dir",
                path(&data_dir),
                "--account",
                ACCOUNT,
                "--member-id",
                "m-rosa",
                "--role",
                "intake",
                "--passphrase-stdin",
            ],
            &format!("{passphrase}\n"),
        )
    };
    failed_with(&create_with("short"), "at least 12 characters");
    failed_with(&create_with("password1234"), "too easy to guess");
    failed_with(
        &create_with("rosa diaz walks the river"),
        "must not contain your account name",
    );
    assert!(!data_dir.exists());
}

#[test]
fn without_a_terminal_or_flag_it_says_how_to_pass_the_passphrase() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = satchel(
        &[
            "vault",
            "check",
            "--data-dir",
            path(dir.path()),
            "--account",
            ACCOUNT,
        ],
        "",
    );
    failed_with(&out, "--passphrase-stdin");
}

#[test]
fn demo_runs_headless_and_shows_ciphertext_on_disk() {
    let out = satchel(&["demo"], "");
    let stdout = succeeded(&out, "demo");
    assert!(
        stdout.contains("with the account \"Demo intake worker\""),
        "{stdout}"
    );
    assert!(stdout.contains("recovery code"), "{stdout}");
    assert!(
        stdout.contains("read the name back: \"Demo field laptop\""),
        "{stdout}"
    );
    assert!(stdout.contains("it is ciphertext"), "{stdout}");
}

/// Runs a vault verb that signs in with the test account's passphrase.
fn signed_in(verb: &str, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "vault",
        verb,
        "--data-dir",
        path(dir),
        "--account",
        ACCOUNT,
        "--passphrase-stdin",
    ];
    args.extend_from_slice(extra);
    satchel(&args, &format!("{PASSPHRASE}\n"))
}

#[test]
fn backup_then_restore_brings_the_vault_back_and_its_audit_log_verifies() {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join("vault");
    succeeded(&create(&dir, "Clinic laptop 7"), "create");
    let verified = succeeded(&signed_in("audit-verify", &dir, &[]), "audit-verify");
    assert!(verified.contains("Audit log intact"), "{verified}");

    let file = home.path().join("vault.backup");
    let out = succeeded(
        &signed_in("backup", &dir, &["--out", path(&file)]),
        "backup",
    );
    assert!(out.contains("encrypted"), "{out}");
    failed_with(
        &signed_in("backup", &dir, &["--out", path(&file)]),
        "already exists",
    );

    // Into a directory that already holds a vault: refused.
    failed_with(
        &signed_in("restore", &dir, &["--from", path(&file)]),
        "already exists",
    );
    let restored = home.path().join("restored");
    let out = succeeded(
        &signed_in("restore", &restored, &["--from", path(&file)]),
        "restore",
    );
    assert!(out.contains("integrity check passed"), "{out}");
    let checked = succeeded(&check(&restored, PASSPHRASE), "check the restored vault");
    assert!(checked.contains("Clinic laptop 7"), "{checked}");
    succeeded(&signed_in("audit-verify", &restored, &[]), "audit-verify");

    // A damaged backup is refused and leaves nothing behind.
    let mut bytes = std::fs::read(&file).expect("read backup");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    let damaged = home.path().join("damaged.backup");
    std::fs::write(&damaged, bytes).expect("write");
    let elsewhere = home.path().join("elsewhere");
    let output = signed_in("restore", &elsewhere, &["--from", path(&damaged)]);
    assert!(!output.status.success(), "a damaged backup was restored");
    assert!(
        !elsewhere.join("keyring.json").exists(),
        "a refused restore left a keyring behind"
    );
}

#[test]
fn retention_reports_what_it_deleted() {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join("vault");
    succeeded(&create(&dir, "Clinic laptop 7"), "create");
    let out = succeeded(&signed_in("retention", &dir, &[]), "retention");
    assert!(out.contains("This run deleted 0 drafts"), "{out}");
}
