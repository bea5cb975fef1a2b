//! `satchel interview check`, run as a person would run it.

#[allow(
    dead_code,
    reason = "checking definitions needs no vault, so the shared vault passphrase and account go unused here"
)]
mod common;

use std::path::Path;

use common::satchel;

fn samples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interviews");
    [
        "eviction-defense",
        "family-law",
        "immigration",
        "general-intake",
    ]
    .iter()
    .map(|name| dir.join(format!("{name}.yaml")).display().to_string())
    .collect()
}

#[test]
fn the_sample_interviews_check_clean() {
    let files = samples();
    let mut args = vec!["interview", "check"];
    args.extend(files.iter().map(String::as_str));
    let out = satchel(&args, "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.contains(": ok: ")).count(),
        4,
        "{stdout}"
    );
}

#[test]
fn problems_are_printed_as_file_line_column_and_the_exit_is_non_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = std::fs::read_to_string(&samples()[0]).expect("the eviction sample");
    // One unknown key, on a line we can find again.
    let broken = source.replacen("    fields:\n", "    feilds_typo: 1\n    fields:\n", 1);
    let line = broken
        .lines()
        .position(|l| l.contains("feilds_typo"))
        .expect("seeded")
        + 1;
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, broken).expect("write");
    let out = satchel(&["interview", "check", &path.display().to_string()], "");
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!("{}:{line}:5: unknown field `feilds_typo`", path.display());
    assert!(stdout.starts_with(&expected), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("1 of 1 interview file(s) have problems"),
        "{stderr}"
    );
}

#[test]
fn a_missing_file_is_one_clear_line() {
    let out = satchel(&["interview", "check", "/nonexistent/interview.yaml"], "");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/interview.yaml"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
