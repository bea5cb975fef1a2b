//! Seals and opens one large attachment and reports the process's peak
//! resident memory, to show that both directions stream.
//!
//! ```text
//! cargo run --release -p satchel-seal --example stream_1gib
//! cargo run --release -p satchel-seal --example stream_1gib -- --size-mib 64
//! ```
//!
//! The attachment (1 GiB unless `--size-mib` says otherwise) is produced on
//! the fly by a deterministic generator that holds no buffer of its own: it
//! is run once to compute the SHA-256 the manifest needs, then again as the
//! stream being sealed. The envelope goes to a temporary file, which is then
//! opened into a sink that only hashes what it receives and checks that hash
//! when asked to commit. Peak memory is the kernel's `VmHWM` for this
//! process, read from `/proc/self/status` (Linux only).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read};
use std::time::Instant;

use satchel_seal::age::Identity;
use satchel_seal::directory::{Device, Directory, FORMAT, Member, Policies, RecipientKey, Role};
use satchel_seal::envelope::{
    self, AttachmentMeta, Classification, InterviewRef, MANIFEST_FORMAT, Manifest, Opened, Sender,
    Sink,
};
use satchel_seal::keys::SigningSecret;
use sha2::{Digest, Sha256};

/// The memory the whole run should stay under.
const TARGET_MIB: f64 = 64.0;
/// Read size when hashing the generator's output up front.
const READ_LEN: usize = 64 * 1024;
/// 2026-12-01T00:00:00Z, inside every key's validity window below.
const NOW: i64 = 1_796_083_200;
const DAY: i64 = 24 * 60 * 60;
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

type ExampleResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> ExampleResult<()> {
    let size_mib = size_mib_from_args()?;
    let size = size_mib * 1024 * 1024;

    // First pass: the manifest needs the attachment's hash before sealing.
    let start = Instant::now();
    let expected = sha256_of(&mut Generator::new(SEED, size))?;
    let hash_time = start.elapsed();

    let org = Org::new();
    let manifest = org.manifest(size, &expected);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("envelope.age");

    // Seal: generator -> envelope -> file.
    let start = Instant::now();
    let (sealed, file) = envelope::seal(
        manifest,
        &mut [&mut Generator::new(SEED, size)],
        &org.device,
        std::slice::from_ref(&org.recipient),
        File::create(&path)?,
    )?;
    // Written through the page cache and not synced: this measures sealing,
    // not the disk.
    drop(file);
    let seal_time = start.elapsed();
    let peak_after_seal = peak_rss_mib()?;
    let envelope_len = std::fs::metadata(&path)?.len();
    if envelope_len != sealed.envelope_len {
        return Err(format!(
            "the envelope file holds {envelope_len} bytes, sealing reported {}",
            sealed.envelope_len
        )
        .into());
    }

    // Open: file -> envelope -> hashing sink, checked at commit.
    let start = Instant::now();
    let (opened, received) = envelope::open(
        File::open(&path)?,
        std::slice::from_ref(&org.identity),
        &org.directory,
        HashingSink::new(expected),
    )?;
    let open_time = start.elapsed();
    if opened.envelope_id != sealed.envelope_id {
        return Err("opening computed a different envelope id than sealing".into());
    }
    let peak = peak_rss_mib()?;

    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let rate = |seconds: f64| mib(size) / seconds;
    println!();
    println!("| {:<34} | {:>24} |", "measure", "value");
    println!("|{:-<36}|{:->26}|", "", "");
    let line = |name: &str, value: String| println!("| {name:<34} | {value:>24} |");
    line("bytes sealed", format!("{size} ({:.0} MiB)", mib(size)));
    line(
        "envelope size",
        format!("{envelope_len} ({:.1} MiB)", mib(envelope_len)),
    );
    line(
        "hash pass (generator + SHA-256)",
        format!("{:.2} s", hash_time.as_secs_f64()),
    );
    line(
        "seal time",
        format!(
            "{:.2} s ({:.0} MiB/s)",
            seal_time.as_secs_f64(),
            rate(seal_time.as_secs_f64())
        ),
    );
    line(
        "open time",
        format!(
            "{:.2} s ({:.0} MiB/s)",
            open_time.as_secs_f64(),
            rate(open_time.as_secs_f64())
        ),
    );
    line("bytes received by the sink", format!("{received}"));
    line(
        "peak RSS after sealing",
        format!("{peak_after_seal:.1} MiB"),
    );
    line("peak RSS (VmHWM) at the end", format!("{peak:.1} MiB"));
    line(
        "within the 64 MiB target",
        if peak <= TARGET_MIB { "yes" } else { "NO" }.to_owned(),
    );
    println!();
    Ok(())
}

/// `--size-mib N`, 1024 when absent.
fn size_mib_from_args() -> ExampleResult<u64> {
    let mut args = std::env::args().skip(1);
    let mut size = 1024;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size-mib" => {
                let value = args.next().ok_or("--size-mib needs a number")?;
                size = value
                    .parse()
                    .map_err(|_| format!("--size-mib needs a whole number, not {value:?}"))?;
            }
            other => {
                return Err(format!("unknown argument {other:?}; usage: [--size-mib N]").into());
            }
        }
    }
    Ok(size)
}

/// A `Read` of `remaining` pseudo-random bytes (xorshift64*), written
/// straight into the caller's buffer. Its only state is the generator and
/// the unread rest of the current 8-byte word, so the output does not
/// depend on how it is read and no buffer is ever held.
struct Generator {
    state: u64,
    word: [u8; 8],
    /// Bytes of `word` already handed out; 8 means a fresh word is needed.
    used: usize,
    remaining: u64,
}

impl Generator {
    fn new(seed: u64, len: u64) -> Self {
        Self {
            state: seed,
            word: [0; 8],
            used: 8,
            remaining: len,
        }
    }
}

impl Generator {
    fn next_word(&mut self) -> [u8; 8] {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes()
    }
}

impl Read for Generator {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let len = (out.len() as u64).min(self.remaining) as usize;
        let out = &mut out[..len];
        // The rest of the current word first, then whole words, then the
        // start of a new word for whatever is left.
        let from_word = (self.word.len() - self.used).min(len);
        out[..from_word].copy_from_slice(&self.word[self.used..self.used + from_word]);
        self.used += from_word;
        let mut words = out[from_word..].chunks_exact_mut(8);
        for piece in &mut words {
            piece.copy_from_slice(&self.next_word());
        }
        let tail = words.into_remainder();
        if !tail.is_empty() {
            self.word = self.next_word();
            tail.copy_from_slice(&self.word[..tail.len()]);
            self.used = tail.len();
        }
        self.remaining -= len as u64;
        Ok(len)
    }
}

fn sha256_of(input: &mut impl Read) -> io::Result<[u8; 32]> {
    let mut hash = Sha256::new();
    let mut buffer = vec![0u8; READ_LEN];
    loop {
        match input.read(&mut buffer) {
            Ok(0) => return Ok(hash.finalize().into()),
            Ok(read) => hash.update(&buffer[..read]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Hashes what it receives and, at commit, refuses unless the hash is the
/// one expected.
struct HashingSink {
    hash: Sha256,
    received: u64,
    expected: [u8; 32],
}

impl HashingSink {
    fn new(expected: [u8; 32]) -> Self {
        Self {
            hash: Sha256::new(),
            received: 0,
            expected,
        }
    }
}

impl Sink for HashingSink {
    type Committed = u64;

    fn write(&mut self, _index: usize, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.received += bytes.len() as u64;
        Ok(())
    }

    fn commit(self, _opened: &Opened) -> io::Result<u64> {
        let got: [u8; 32] = self.hash.finalize().into();
        if got == self.expected {
            Ok(self.received)
        } else {
            Err(io::Error::other(
                "the opened attachment differs from what was sealed",
            ))
        }
    }
}

/// A sender device and one attorney, with fixed keys.
struct Org {
    device: SigningSecret,
    identity: Identity,
    recipient: RecipientKey,
    directory: Directory,
}

impl Org {
    fn new() -> Self {
        let device = SigningSecret::from_bytes(&[0x11; 32]);
        let identity = Identity::from_bytes([0x22; 32]);
        let recipient = RecipientKey::new(identity.recipient(), NOW - DAY, NOW + 365 * DAY);
        let member = |id: &str, role: Role, devices: Vec<Device>, keys: Vec<RecipientKey>| Member {
            id: id.to_owned(),
            display_name: id.to_owned(),
            roles: BTreeSet::from([role]),
            signing_key: SigningSecret::from_bytes(&[0x33; 32]).public(),
            devices,
            recipient_keys: keys,
        };
        let directory = Directory {
            format: FORMAT.to_owned(),
            org_id: "example-org".to_owned(),
            version: 1,
            issued_at: NOW - DAY,
            expires_at: NOW + 30 * DAY,
            members: vec![
                member(
                    "m-worker",
                    Role::Intake,
                    vec![Device {
                        id: "d-worker".to_owned(),
                        signing_key: device.public(),
                        label: "Example laptop".to_owned(),
                    }],
                    vec![],
                ),
                member(
                    "m-attorney",
                    Role::Attorney,
                    vec![],
                    vec![recipient.clone()],
                ),
            ],
            teams: vec![],
            escrow: None,
            auditor: None,
            policies: Policies {
                escrow_required: false,
                idle_lock_minutes: 15,
                totp_roles: BTreeSet::new(),
                expiry_grace_seconds: 7 * DAY,
                retention_days_received: 365,
                retention_days_drafts: 30,
            },
        };
        Self {
            device,
            identity,
            recipient,
            directory,
        }
    }

    fn manifest(&self, size: u64, sha256: &[u8; 32]) -> Manifest {
        Manifest {
            format: MANIFEST_FORMAT.to_owned(),
            submission_id: "example-0001".to_owned(),
            interview: InterviewRef {
                id: "eviction".to_owned(),
                version: "3".to_owned(),
            },
            sender: Sender {
                member_id: "m-worker".to_owned(),
                device_id: "d-worker".to_owned(),
            },
            recipients: vec![],
            created_at: NOW,
            classification: Classification::Privileged,
            answers: serde_json::json!({ "tenant_name": "Example Tenant" }),
            attachments: vec![AttachmentMeta {
                name: "recording.bin".to_owned(),
                media_type: "application/octet-stream".to_owned(),
                size,
                sha256: sha256.iter().map(|b| format!("{b:02x}")).collect(),
            }],
        }
    }
}

/// The process's peak resident set size so far, in MiB.
fn peak_rss_mib() -> ExampleResult<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or("no VmHWM line in /proc/self/status")?;
    Ok(kib / 1024.0)
}
