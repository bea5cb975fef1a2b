//! The age layer on its own.
//!
//! Every input is first decrypted as it is, as an age file, with a fixed
//! identity and read to the end: whatever the bytes, this must return an
//! error or plaintext and never panic. As nothing the fuzzer writes carries
//! a valid header MAC, that part mostly covers the header parser.
//!
//! The same input then drives a tamper check that reaches the payload: its
//! tail is encrypted to the fixed identity, the resulting file is changed
//! in one way the input chooses (or left alone), and decrypted again with
//! reads of a size the input chooses. An untouched file must give back the
//! plaintext exactly; a truncated, bit-flipped or extended one must fail.

#![no_main]

use std::io::{self, Read};
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use satchel_seal::age::{self, Identity};

static IDENTITY: LazyLock<Identity> = LazyLock::new(|| Identity::from_bytes([0x42; 32]));

fuzz_target!(|data: &[u8]| {
    let _ = decrypt(data, 64 * 1024);
    tamper_check(data);
});

/// Decrypts `file` with the fixed identity in reads of `read_len` bytes.
fn decrypt(file: &[u8], read_len: usize) -> Result<Vec<u8>, String> {
    let mut reader =
        age::decrypt(std::slice::from_ref(&*IDENTITY), file).map_err(|e| format!("header: {e}"))?;
    let mut plaintext = Vec::new();
    let mut buffer = vec![0u8; read_len];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return Ok(plaintext),
            Ok(read) => plaintext.extend_from_slice(&buffer[..read]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("payload: {e}")),
        }
    }
}

/// Input layout: `[edit, pos_hi, pos_lo, repeat, read]` then the plaintext
/// piece, which is repeated so payloads can span several 64 KiB chunks.
fn tamper_check(data: &[u8]) {
    let Some((&[edit, pos_hi, pos_lo, repeat, read], piece)) = data.split_first_chunk::<5>() else {
        return;
    };
    let plaintext = piece.repeat(1 + usize::from(repeat & 0x3f));
    // Small reads go through the decryptor's own buffer; reads of a chunk
    // or more are decrypted straight into the caller's buffer.
    let read_len = match read {
        0..=127 => 1 + usize::from(read) * 7,
        _ => 64 * 1024 + usize::from(read - 128) * 13,
    };

    let mut file = Vec::new();
    let mut writer =
        age::encrypt(&[IDENTITY.recipient()], &mut file).expect("encrypting to a fixed key");
    io::Write::write_all(&mut writer, &plaintext).expect("encrypting into memory");
    writer.finish().expect("finishing into memory");

    // A position spread over the whole file, and a short distance.
    let pos = usize::from(u16::from_be_bytes([pos_hi, pos_lo]));
    let len = file.len();
    let spread = pos * len / 0x1_0000;
    let short = 1 + pos % 64;
    let what = match edit % 5 {
        0 => "untouched",
        1 => {
            file.truncate(spread);
            "truncated anywhere"
        }
        2 => {
            file.truncate(len.saturating_sub(short));
            "truncated near the end"
        }
        3 => {
            file[spread] ^= 1 << (edit / 5 % 8);
            "one bit flipped"
        }
        _ => {
            file.extend(std::iter::repeat_n(edit, short));
            "extended"
        }
    };

    match (what, decrypt(&file, read_len)) {
        ("untouched", Ok(opened)) => assert!(opened == plaintext, "a round trip changed the data"),
        ("untouched", Err(e)) => panic!("an untouched file failed to decrypt: {e}"),
        (what, Ok(_)) => panic!("a file that was {what} still decrypted"),
        (_, Err(_)) => {}
    }
}
