//! Sealing and opening throughput, compared with the raw cipher and with the
//! stock `age` command-line tool.
//!
//! Run with `cargo bench -p satchel-seal --bench throughput`. Every row works
//! on the same 64 MiB of pseudo-random bytes; each is run once to warm up and
//! then `REPS` times, and the median is reported. The rows in memory take
//! turns round by round, and their ratio to the raw cipher is the median of
//! the ratios within each round. Nothing is asserted: shared
//! machines are noisy, so the table is evidence to read, not a test. Compare
//! the ratios within one run rather than absolute times across runs.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use satchel_seal::age::{self, Identity};
use satchel_seal::directory::{Device, Directory, FORMAT, Member, Policies, RecipientKey, Role};
use satchel_seal::envelope::{
    self, AttachmentMeta, Classification, InterviewRef, MANIFEST_FORMAT, Manifest, Opened, Sender,
    Sink,
};
use satchel_seal::keys::SigningSecret;
use sha2::{Digest, Sha256};

/// Bytes sealed by every row.
const DATA_LEN: usize = 64 * 1024 * 1024;
/// The STREAM chunk size, and the piece size of the raw-cipher row.
const CHUNK: usize = 64 * 1024;
/// Read size for the age decryption rows and the file copies.
const READ_LEN: usize = 1024 * 1024;
/// Timed repetitions per row, after one warm-up run.
const REPS: usize = 9;
/// The stock age tool, as Debian installs it.
const AGE_CLI: &str = "/usr/bin/age";
/// 2026-12-01T00:00:00Z, inside every key's validity window below.
const NOW: i64 = 1_796_083_200;
const DAY: i64 = 24 * 60 * 60;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> BenchResult<()> {
    let data = pseudo_random(DATA_LEN, 0x5a7c_4e1d_9b02_3f68);
    let fixture = Fixture::new(&data);
    let age_file = {
        let mut writer =
            age::encrypt(&[fixture.identity.recipient()], Vec::new()).expect("start age");
        writer.write_all(&data).expect("encrypt");
        writer.finish().expect("finish age encryption")
    };
    let envelope_bytes = fixture.seal(&mut &data[..], Vec::new())?;

    // The rows in memory run in rounds, each round timing every one of them
    // once, so a slow moment on the machine hits all rows of a round alike
    // and the per-round ratios stay meaningful.
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&[0x44; 32]));
    let mut raw_buffer = data.clone();
    let mut rows = interleaved(vec![
        (
            "raw ChaCha20-Poly1305, 64 KiB chunks, in place",
            Box::new(|| raw_chacha(&cipher, &mut raw_buffer)),
        ),
        (
            "SHA-256 alone (one pass, for reference)",
            Box::new(|| {
                std::hint::black_box(Sha256::digest(&data));
            }),
        ),
        (
            "age::encrypt, memory -> io::sink()",
            Box::new(|| {
                let mut writer = age::encrypt(&[fixture.identity.recipient()], io::sink())
                    .expect("start age encryption");
                writer.write_all(&data).expect("encrypt");
                writer.finish().expect("finish age encryption");
            }),
        ),
        (
            "age::decrypt, memory -> discard, 1 MiB reads",
            Box::new(|| {
                let mut reader =
                    age::decrypt(std::slice::from_ref(&fixture.identity), &age_file[..])
                        .expect("open age header");
                drain(&mut reader).expect("decrypt");
            }),
        ),
        (
            "envelope::seal, memory -> io::sink()",
            Box::new(|| {
                fixture
                    .seal(&mut &data[..], io::sink())
                    .expect("seal to sink");
            }),
        ),
        (
            "envelope::open, memory -> discarding sink",
            Box::new(|| {
                fixture
                    .open(&envelope_bytes[..], Discard(0))
                    .expect("open from memory");
            }),
        ),
    ]);
    drop(raw_buffer);
    drop(age_file);
    drop(envelope_bytes);
    let raw = rows[0].time.unwrap_or(Duration::MAX);
    let timed = |name, time| Row::against(name, time, raw);

    // The same work between files, side by side with the age CLI.
    let dir = tempfile::tempdir()?;
    let plain = dir.path().join("plain.bin");
    std::fs::write(&plain, &data)?;
    let identity_file = dir.path().join("identity.txt");
    std::fs::write(
        &identity_file,
        format!("{}\n", fixture.identity.to_age_string().as_str()),
    )?;
    let sealed = dir.path().join("sealed.age");
    let opened = dir.path().join("opened.bin");

    rows.push(timed(
        "envelope::seal, file -> file",
        median(|| {
            let mut input = File::open(&plain).expect("open input file");
            let output = create_fresh(&sealed).expect("create envelope file");
            fixture.seal(&mut input, output).expect("seal to file");
        }),
    ));
    rows.push(timed(
        "envelope::open, file -> file",
        median(|| {
            let input = File::open(&sealed).expect("open envelope file");
            let output = create_fresh(&opened).expect("create output file");
            fixture.open(input, FileSink(output)).expect("open to file");
        }),
    ));
    check_same(&plain, &opened)?;

    rows.push(timed(
        "age::encrypt, file -> file",
        median(|| {
            let mut input = File::open(&plain).expect("open input file");
            let output = create_fresh(&sealed).expect("create age file");
            let mut writer = age::encrypt(&[fixture.identity.recipient()], output)
                .expect("start age encryption");
            copy(&mut input, &mut writer).expect("encrypt");
            writer.finish().expect("finish age encryption");
        }),
    ));
    rows.push(timed(
        "age::decrypt, file -> file",
        median(|| {
            let input = File::open(&sealed).expect("open age file");
            let mut output = create_fresh(&opened).expect("create output file");
            let mut reader = age::decrypt(std::slice::from_ref(&fixture.identity), input)
                .expect("open age header");
            copy(&mut reader, &mut output).expect("decrypt");
        }),
    ));
    check_same(&plain, &opened)?;

    let recipient = fixture.identity.recipient().to_string();
    if Path::new(AGE_CLI).exists() {
        rows.push(timed(
            "age CLI -r, file -> file",
            median(|| {
                run_age(&["-r", &recipient, "-o"], &sealed, &plain).expect("age -r");
            }),
        ));
        let identity_arg = identity_file.to_string_lossy().into_owned();
        rows.push(timed(
            "age CLI -d -i, file -> file",
            median(|| {
                run_age(&["-d", "-i", &identity_arg, "-o"], &opened, &sealed).expect("age -d");
            }),
        ));
        check_same(&plain, &opened)?;
    } else {
        rows.push(Row::missing(
            "age CLI -r, file -> file",
            "age CLI not installed (apt-get install age)",
        ));
        rows.push(Row::missing(
            "age CLI -d -i, file -> file",
            "age CLI not installed (apt-get install age)",
        ));
    }

    print_table(&rows);
    Ok(())
}

/// The organisation, keys and manifest every row uses.
struct Fixture {
    device: SigningSecret,
    identity: Identity,
    recipients: Vec<RecipientKey>,
    directory: Directory,
    manifest: Manifest,
}

impl Fixture {
    /// Fixed keys, so runs differ only in the random nonces and file keys.
    fn new(data: &[u8]) -> Self {
        let device = SigningSecret::from_bytes(&[0x11; 32]);
        let identity = Identity::from_bytes([0x22; 32]);
        let key = RecipientKey::new(identity.recipient(), NOW - DAY, NOW + 365 * DAY);
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
            org_id: "bench-org".to_owned(),
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
                        label: "Bench laptop".to_owned(),
                    }],
                    vec![],
                ),
                member("m-attorney", Role::Attorney, vec![], vec![key.clone()]),
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
        // The manifest carries the attachment's size and hash, computed
        // here so no row pays for an extra pass.
        let sha256: String = Sha256::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let manifest = Manifest {
            format: MANIFEST_FORMAT.to_owned(),
            submission_id: "bench-0001".to_owned(),
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
            answers: serde_json::json!({ "tenant_name": "Bench Example" }),
            attachments: vec![AttachmentMeta {
                name: "scan.pdf".to_owned(),
                media_type: "application/pdf".to_owned(),
                size: data.len() as u64,
                sha256,
            }],
        };
        Self {
            device,
            identity,
            recipients: vec![key],
            directory,
            manifest,
        }
    }

    fn seal<W: Write>(
        &self,
        attachment: &mut (dyn Read + Send),
        output: W,
    ) -> satchel_seal::Result<W> {
        let (_, output) = envelope::seal(
            self.manifest.clone(),
            &mut [attachment],
            &self.device,
            &self.recipients,
            output,
        )?;
        Ok(output)
    }

    fn open<R: Read + Send, S: Sink>(
        &self,
        input: R,
        sink: S,
    ) -> satchel_seal::Result<S::Committed> {
        let identities = std::slice::from_ref(&self.identity);
        let (_, committed) = envelope::open(input, identities, &self.directory, sink)?;
        Ok(committed)
    }
}

/// A sink that counts and forgets.
struct Discard(u64);

impl Sink for Discard {
    type Committed = u64;

    fn write(&mut self, _index: usize, bytes: &[u8]) -> io::Result<()> {
        self.0 += bytes.len() as u64;
        Ok(())
    }

    fn commit(self, _opened: &Opened) -> io::Result<u64> {
        Ok(self.0)
    }
}

/// A sink that writes the (single) attachment to a file.
struct FileSink(File);

impl Sink for FileSink {
    type Committed = ();

    fn write(&mut self, _index: usize, bytes: &[u8]) -> io::Result<()> {
        self.0.write_all(bytes)
    }

    fn commit(mut self, _opened: &Opened) -> io::Result<()> {
        self.0.flush()
    }
}

/// The raw cipher alone: what the STREAM costs with no framing, copying,
/// hashing or I/O.
fn raw_chacha(cipher: &ChaCha20Poly1305, buffer: &mut [u8]) {
    let mut tags = 0u8;
    for (index, chunk) in buffer.chunks_mut(CHUNK).enumerate() {
        let mut nonce = Nonce::default();
        nonce[3..11].copy_from_slice(&(index as u64).to_be_bytes());
        let tag = cipher
            .encrypt_in_place_detached(&nonce, b"", chunk)
            .expect("a 64 KiB chunk is within the cipher's limit");
        tags ^= tag[0];
    }
    // Keep the result observable so the work cannot be optimised away.
    std::hint::black_box(tags);
}

/// A named piece of work for [`interleaved`].
type Work<'a> = (&'static str, Box<dyn FnMut() + 'a>);

/// Runs every piece of work once to warm up, then `REPS` rounds in which
/// each runs once, in order. A row's time is its median; its ratio is the
/// median over rounds of the first row's time divided by its own, so both
/// sides of every ratio come from the same moment.
fn interleaved(mut work: Vec<Work<'_>>) -> Vec<Row> {
    for (_, run) in &mut work {
        run();
    }
    let mut times = vec![Vec::with_capacity(REPS); work.len()];
    for _ in 0..REPS {
        for ((_, run), times) in work.iter_mut().zip(&mut times) {
            let start = Instant::now();
            run();
            times.push(start.elapsed());
        }
    }
    let base = times[0].clone();
    work.iter()
        .zip(&times)
        .map(|((name, _), times)| {
            let mut ratios: Vec<f64> = base
                .iter()
                .zip(times)
                .map(|(base, time)| base.as_secs_f64() / time.as_secs_f64())
                .collect();
            ratios.sort_by(f64::total_cmp);
            let mut sorted = times.clone();
            sorted.sort();
            Row {
                name,
                time: Some(sorted[REPS / 2]),
                ratio: Some(ratios[REPS / 2]),
                note: "",
            }
        })
        .collect()
}

/// Runs `work` once to warm up, then `REPS` times, and returns the median.
fn median(mut work: impl FnMut()) -> Duration {
    work();
    let mut times: Vec<Duration> = (0..REPS)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[REPS / 2]
}

/// Reads `reader` to the end in 1 MiB reads, discarding the bytes.
fn drain(reader: &mut impl Read) -> io::Result<u64> {
    let mut buffer = vec![0u8; READ_LEN];
    let mut total = 0u64;
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(read) => total += read as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Copies `reader` to `writer` in 1 MiB pieces (`io::copy` would use 8 KiB
/// ones, which measures system calls rather than the cipher).
fn copy(reader: &mut impl Read, writer: &mut impl Write) -> io::Result<u64> {
    let mut buffer = vec![0u8; READ_LEN];
    let mut total = 0u64;
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(read) => {
                writer.write_all(&buffer[..read])?;
                total += read as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Removes `path` if it exists, so nothing is truncated in place: ext4
/// flushes a file that was truncated and rewritten when it is closed, which
/// would charge disk writes to whichever row overwrote its output.
fn remove_old(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// A new, empty file at `path`, created afresh as the age CLI rows do.
fn create_fresh(path: &Path) -> io::Result<File> {
    remove_old(path)?;
    File::create(path)
}

/// Runs `age <args> <output> <input>` and fails unless it succeeds.
fn run_age(args: &[&str], output: &Path, input: &Path) -> io::Result<()> {
    remove_old(output)?;
    let status = Command::new(AGE_CLI)
        .args(args)
        .arg(output)
        .arg(input)
        .stdin(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("{AGE_CLI} exited with {status}")))
    }
}

/// Checks that a round trip gave back the original bytes.
fn check_same(expected: &Path, actual: &Path) -> BenchResult<()> {
    let expected_hash = Sha256::digest(std::fs::read(expected)?);
    let actual_hash = Sha256::digest(std::fs::read(actual)?);
    if expected_hash == actual_hash {
        Ok(())
    } else {
        Err(format!("{} does not match {}", actual.display(), expected.display()).into())
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), no dependency needed.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let word = state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
        let take = word.len().min(len - out.len());
        out.extend_from_slice(&word[..take]);
    }
    out
}

/// One line of the table.
struct Row {
    name: &'static str,
    time: Option<Duration>,
    /// Speed relative to the raw cipher.
    ratio: Option<f64>,
    note: &'static str,
}

impl Row {
    /// A row timed on its own, compared with the raw cipher's median.
    fn against(name: &'static str, time: Duration, raw: Duration) -> Self {
        Self {
            name,
            time: Some(time),
            ratio: Some(raw.as_secs_f64() / time.as_secs_f64()),
            note: "",
        }
    }

    fn missing(name: &'static str, note: &'static str) -> Self {
        Self {
            name,
            time: None,
            ratio: None,
            note,
        }
    }

    fn mib_per_s(&self) -> Option<f64> {
        self.time
            .map(|t| DATA_LEN as f64 / (1024.0 * 1024.0) / t.as_secs_f64())
    }
}

fn print_table(rows: &[Row]) {
    let find = |name: &str| {
        rows.iter()
            .find(|r| r.name == name)
            .and_then(Row::mib_per_s)
    };

    println!();
    println!(
        "{} MiB of pseudo-random data, median of {REPS} runs after one warm-up; \
         rows in memory run in interleaved rounds and their ratio is the median \
         of the per-round ratios",
        DATA_LEN / (1024 * 1024)
    );
    println!();
    println!(
        "| {:<48} | {:>10} | {:>8} | {:>6} |",
        "operation", "median", "MiB/s", "x raw"
    );
    println!("|{:-<50}|{:->12}|{:->10}|{:->8}|", "", "", "", "");
    for row in rows {
        match (row.time, row.mib_per_s(), row.ratio) {
            (Some(time), Some(speed), Some(ratio)) => println!(
                "| {:<48} | {:>7.1} ms | {:>8.0} | {:>6.2} |",
                row.name,
                time.as_secs_f64() * 1000.0,
                speed,
                ratio
            ),
            _ => println!(
                "| {:<48} | {:>10} | {:>8} | {:>6} |  {}",
                row.name, "-", "-", "-", row.note
            ),
        }
    }
    println!();

    let ratio = |name: &str| {
        rows.iter()
            .find(|r| r.name == name)
            .and_then(|r| r.ratio)
            .unwrap_or(f64::NAN)
    };
    let seal = ratio("envelope::seal, memory -> io::sink()");
    let open = ratio("envelope::open, memory -> discarding sink");
    let verdict = |ok: bool| if ok { "yes" } else { "NO" };
    println!(
        "seal at least 0.8 of raw: {} ({seal:.2}); open at least 0.8 of raw: {} ({open:.2})",
        verdict(seal >= 0.8),
        verdict(open >= 0.8)
    );
    let cli_seal = find("age CLI -r, file -> file");
    let cli_open = find("age CLI -d -i, file -> file");
    match (cli_seal, cli_open) {
        (Some(cli_seal), Some(cli_open)) => {
            let seal = find("envelope::seal, file -> file").unwrap_or(f64::NAN);
            let open = find("envelope::open, file -> file").unwrap_or(f64::NAN);
            println!(
                "seal faster than the age CLI (file to file): {} ({:.2}x); \
                 open faster than age -d: {} ({:.2}x)",
                verdict(seal > cli_seal),
                seal / cli_seal,
                verdict(open > cli_open),
                open / cli_open
            );
        }
        _ => println!("age CLI not installed (apt-get install age): no comparison with it"),
    }
}
