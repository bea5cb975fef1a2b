//! The `satchel` binary as a script would use it.

mod common;

use std::path::Path;
use std::process::Output;

use common::{PASSPHRASE, satchel};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn create(dir: &Path, label: &str) -> Output {
    let dir = dir.to_str().expect("utf-8 path");
    satchel(
        &[
            "vault",
            "create",
            "--data-dir",
            dir,
            "--passphrase-stdin",
            "--device-label",
            label,
        ],
        &format!("{PASSPHRASE}\n"),
    )
}

#[test]
fn create_then_check_reads_the_label_back_from_an_encrypted_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = create(dir.path(), "Courthouse kiosk");
    assert!(
        created.status.success(),
        "create failed: {}",
        text(&created.stderr)
    );

    let header = std::fs::read(dir.path().join("vault.db")).expect("vault file");
    assert!(
        !header.starts_with(b"SQLite format 3"),
        "the vault file is plain SQLite"
    );

    let data_dir = dir.path().to_str().expect("utf-8 path");
    let checked = satchel(
        &[
            "vault",
            "check",
            "--data-dir",
            data_dir,
            "--passphrase-stdin",
        ],
        &format!("{PASSPHRASE}\n"),
    );
    assert!(
        checked.status.success(),
        "check failed: {}",
        text(&checked.stderr)
    );
    let out = text(&checked.stdout);
    assert!(out.contains("Courthouse kiosk"), "{out}");
    assert!(out.contains("integrity check passed"), "{out}");
}

#[test]
fn wrong_passphrase_fails_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(create(dir.path(), "Clinic").status.success());
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let checked = satchel(
        &[
            "vault",
            "check",
            "--data-dir",
            data_dir,
            "--passphrase-stdin",
        ],
        "a different passphrase\n",
    );
    assert!(!checked.status.success());
    let err = text(&checked.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("does not unlock this vault"), "{err}");
    assert!(
        !err.contains("a different passphrase"),
        "the passphrase was echoed: {err}"
    );
}

#[test]
fn a_bad_label_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("vault");
    let created = create(&target, "two\nlines");
    assert!(!created.status.success());
    assert!(
        text(&created.stderr).contains("line breaks"),
        "{}",
        text(&created.stderr)
    );
    assert!(
        !target.exists(),
        "a refused create left {}",
        target.display()
    );
}

#[test]
fn a_short_passphrase_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("vault");
    let created = satchel(
        &[
            "vault",
            "create",
            "--data-dir",
            data_dir.to_str().expect("utf-8"),
            "--passphrase-stdin",
        ],
        "short\n",
    );
    assert!(!created.status.success());
    assert!(
        text(&created.stderr).contains("at least 12 characters"),
        "{}",
        text(&created.stderr)
    );
    assert!(!data_dir.exists());
}

#[test]
fn without_a_terminal_or_flag_it_says_how_to_pass_the_passphrase() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let out = satchel(&["vault", "check", "--data-dir", data_dir], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--passphrase-stdin"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn demo_runs_headless_and_shows_ciphertext_on_disk() {
    let out = satchel(&["demo"], "");
    assert!(out.status.success(), "demo failed: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("read the name back: \"Demo field laptop\""),
        "{stdout}"
    );
    assert!(stdout.contains("it is ciphertext"), "{stdout}");
}
