//! Interoperability with the stock `age` tool (Debian's `age` package).
//!
//! Satchel envelopes must always open with `age -d -i <identity file>`, and
//! files from `age -r <recipient>` must open here. The test fails, rather
//! than skipping, when the tool is missing.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use satchel_seal::age::{self, Identity};

/// Where Debian installs the tool.
const AGE: &str = "/usr/bin/age";

/// Sizes around the 64 KiB chunk boundary, empty, and several chunks.
const SIZES: [usize; 5] = [0, 1, 65536, 65537, 200 * 1024 + 7];

fn age_tool() -> &'static Path {
    let path = Path::new(AGE);
    assert!(
        path.exists(),
        "{AGE} is missing: install Debian's `age` package (apt-get install age) to run the \
         interoperability tests"
    );
    path
}

fn plaintext(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i * 7 % 256) as u8 ^ (i >> 16) as u8)
        .collect()
}

fn run(command: &mut Command) -> Vec<u8> {
    let output = command.output().expect("age runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn stock_age_opens_our_files() {
    let tool = age_tool();
    let dir = tempfile::tempdir().expect("temp dir");
    let identity = Identity::generate().expect("identity");
    // Another recipient first, so age has to look past a stanza not for it.
    let other = Identity::generate().expect("identity").recipient();
    let key_file = dir.path().join("key.txt");
    std::fs::write(
        &key_file,
        format!("{}\n", identity.to_age_string().as_str()),
    )
    .expect("key written");

    for len in SIZES {
        let data = plaintext(len);
        let recipients = [other, identity.recipient()];
        let mut encryptor = age::encrypt(&recipients, Vec::new()).expect("header");
        encryptor.write_all(&data).expect("buffered");
        let sealed = encryptor.finish().expect("finished");
        let sealed_file = dir.path().join(format!("ours-{len}.age"));
        std::fs::write(&sealed_file, &sealed).expect("file written");

        let opened = run(Command::new(tool)
            .arg("-d")
            .arg("-i")
            .arg(&key_file)
            .arg(&sealed_file));
        assert!(
            opened == data,
            "age -d returned different plaintext for {len} bytes"
        );
    }
}

#[test]
fn we_open_stock_age_files() {
    let tool = age_tool();
    let dir = tempfile::tempdir().expect("temp dir");
    let identity = Identity::generate().expect("identity");
    let recipient = identity.recipient().to_string();
    let other = Identity::generate()
        .expect("identity")
        .recipient()
        .to_string();

    for len in SIZES {
        let data = plaintext(len);
        let plain_file = dir.path().join(format!("plain-{len}"));
        let sealed_file = dir.path().join(format!("theirs-{len}.age"));
        std::fs::write(&plain_file, &data).expect("plaintext written");
        run(Command::new(tool)
            .args(["-r", &other, "-r", &recipient, "-o"])
            .arg(&sealed_file)
            .arg(&plain_file));

        let file = std::fs::File::open(&sealed_file).expect("sealed file");
        let mut decryptor = age::decrypt(std::slice::from_ref(&identity), file).expect("header");
        let mut opened = Vec::new();
        decryptor.read_to_end(&mut opened).expect("payload");
        assert!(
            opened == data,
            "our decrypt returned different plaintext for {len} bytes"
        );
    }
}

#[test]
fn stock_age_keys_parse_here() {
    let tool = age_tool();
    // age-keygen ships in the same package; its output is what attorneys hold.
    let keygen = tool.with_file_name("age-keygen");
    let text = String::from_utf8(run(&mut Command::new(keygen))).expect("utf-8 key file");
    let secret = text
        .lines()
        .find(|line| line.starts_with("AGE-SECRET-KEY-1"))
        .expect("a secret key line");
    let public = text
        .lines()
        .find_map(|line| line.strip_prefix("# public key: "))
        .expect("a public key comment");
    let identity = Identity::parse(secret).expect("age-keygen identity parses");
    assert_eq!(identity.recipient().to_string(), public);
    assert_eq!(identity.to_age_string().as_str(), secret);
}
