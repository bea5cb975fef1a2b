//! The vault never loses a write it reported, whenever the process dies.
//!
//! One data directory lives through every trial. Each trial starts the
//! `vault_torture` child (saving answers, starting drafts, adding
//! attachments, and printing each write only after the vault returned `Ok`),
//! lets it run a random 20 to 400 ms, and kills it with SIGKILL. Then this
//! process signs in, runs the full integrity check, and checks every line
//! the child ever printed, in this trial or any earlier one: each answer
//! holds its latest reported value, each attachment reads back with its
//! reported SHA-256 and size, each draft exists. The one write that was
//! announced but not reported when the kill landed may be there or not;
//! if it is, it must be whole, and it joins the model. Nothing else may
//! appear: no answer nobody saved, no half-stored attachment.
//!
//! Most trials count the delay from the child's `ready` (signed in); one
//! in eight counts it from the start, so some kills land in sign-in.
//!
//! The seed is printed; `SATCHEL_CRASH_SEED=<seed>` replays its choices
//! (timing on a busy machine still varies). The long run:
//!
//! ```text
//! SATCHEL_CRASH_TRIALS=200 cargo test -p satchel-e2e --test vault_crash -- --nocapture
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use satchel_e2e::ChildGuard;
use satchel_e2e::workload::{ACCOUNT_NAME, ACCOUNT_PASSPHRASE, Rng};
use satchel_vault::{Passphrase, Vault, unix_now};
use serde_json::Value;
use sha2::{Digest, Sha256};

const DEFAULT_TRIALS: u32 = 25;
/// How long the child may take to sign in on a busy machine.
const READY_PATIENCE: Duration = Duration::from_secs(120);

/// A stored attachment as the child reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Attached {
    draft: String,
    sha256: String,
    size: u64,
}

/// The write the child had announced but not reported when it died.
#[derive(Debug, Clone)]
enum InFlight {
    Save {
        draft: String,
        field: String,
        value: Value,
    },
    Attach {
        draft: String,
        sha256: String,
        size: u64,
    },
}

/// Everything the vault has promised so far.
#[derive(Default)]
struct Model {
    drafts: BTreeSet<String>,
    answers: BTreeMap<String, BTreeMap<String, Value>>,
    attachments: BTreeMap<String, Attached>,
}

#[derive(Default)]
struct Totals {
    trials: u32,
    lines: u64,
    saves_reported: u64,
    attachments_reported: u64,
    answers_checked: u64,
    attachments_checked: u64,
    bytes_read_back: u64,
    killed_in_start_up: u32,
    killed_mid_save: u32,
    killed_mid_attachment: u32,
    in_flight_found_committed: u32,
    slowest_check: Duration,
}

#[test]
fn no_reported_write_is_lost_when_the_process_is_killed() -> Result<()> {
    let trials = match std::env::var("SATCHEL_CRASH_TRIALS") {
        Ok(text) => text
            .parse()
            .with_context(|| format!("SATCHEL_CRASH_TRIALS={text:?} is not a number"))?,
        Err(_) => DEFAULT_TRIALS,
    };
    let seed = match std::env::var("SATCHEL_CRASH_SEED") {
        Ok(text) => text
            .parse()
            .with_context(|| format!("SATCHEL_CRASH_SEED={text:?} is not a number"))?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    };
    println!(
        "vault crash suite: {trials} trials, seed {seed} (replay with SATCHEL_CRASH_SEED={seed})"
    );

    let dir = tempfile::Builder::new()
        .prefix("satchel-crash-")
        .tempdir()
        .context("making the data directory")?;
    let data = dir.path().join("data");
    let started = Instant::now();
    let mut totals = Totals::default();
    let outcome = run(&data, trials, seed, &mut totals);
    let wall = started.elapsed();
    if outcome.is_err() {
        let kept = dir.keep();
        println!(
            "the data directory is kept for inspection: {}",
            kept.display()
        );
    }
    println!(
        "summary: {} trials in {:.1} s (seed {seed}); {} lines read; {} saves and {} attachments \
         reported; {} answer checks and {} attachment checks ({} MiB read back); kills in \
         start-up {}, mid-save {}, mid-attachment {}; announced writes found committed {}; \
         slowest check {:.2} s",
        totals.trials,
        wall.as_secs_f64(),
        totals.lines,
        totals.saves_reported,
        totals.attachments_reported,
        totals.answers_checked,
        totals.attachments_checked,
        totals.bytes_read_back / (1024 * 1024),
        totals.killed_in_start_up,
        totals.killed_mid_save,
        totals.killed_mid_attachment,
        totals.in_flight_found_committed,
        totals.slowest_check.as_secs_f64(),
    );
    outcome
}

fn run(data: &Path, trials: u32, seed: u64, totals: &mut Totals) -> Result<()> {
    let mut rng = Rng(seed);
    let mut model = Model::default();
    for trial in 1..=trials {
        let delay = Duration::from_millis(20 + rng.below(381));
        let from_start = rng.below(8) == 0;
        let child_seed = rng.next_u64();
        let lines = run_child(data, child_seed, delay, from_start)
            .with_context(|| format!("trial {trial} (child seed {child_seed})"))?;
        totals.trials = trial;
        totals.lines += lines.len() as u64;
        let in_flight = apply(&mut model, &lines, totals)
            .with_context(|| format!("trial {trial}: reading the child's output"))?;
        let ready = lines.iter().any(|line| line == "ready");
        if !ready {
            totals.killed_in_start_up += 1;
        }
        match &in_flight {
            Some(InFlight::Save { .. }) => totals.killed_mid_save += 1,
            Some(InFlight::Attach { .. }) => totals.killed_mid_attachment += 1,
            None => {}
        }
        let check_started = Instant::now();
        if Vault::presence(data) == satchel_vault::Presence::Present {
            check(data, &mut model, in_flight.as_ref(), totals)
                .with_context(|| format!("trial {trial} (child seed {child_seed})"))?;
        } else {
            ensure!(
                model.drafts.is_empty() && !ready,
                "trial {trial}: the keyring is gone after the vault reported writes"
            );
        }
        totals.slowest_check = totals.slowest_check.max(check_started.elapsed());
        println!(
            "trial {trial:>3}: killed {:>3} ms after {:<5}, {:>4} lines, {}; model: {} drafts, \
             {} answers, {} attachments; checked in {:.2} s",
            delay.as_millis(),
            if from_start { "start" } else { "ready" },
            lines.len(),
            match (&in_flight, ready) {
                (_, false) => "in start-up",
                (Some(InFlight::Save { .. }), _) => "mid-save",
                (Some(InFlight::Attach { .. }), _) => "mid-attachment",
                (None, _) => "between writes",
            },
            model.drafts.len(),
            model.answers.values().map(BTreeMap::len).sum::<usize>(),
            model.attachments.len(),
            check_started.elapsed().as_secs_f64(),
        );
    }
    Ok(())
}

/// Runs the child until `delay` after it started (or signed in), kills it
/// with SIGKILL, reaps it, and returns every whole line it printed.
fn run_child(data: &Path, seed: u64, delay: Duration, from_start: bool) -> Result<Vec<String>> {
    let mut guard = ChildGuard::spawn(
        Command::new(env!("CARGO_BIN_EXE_vault_torture"))
            .arg(data)
            .arg(seed.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        "vault_torture",
    )?;
    let started = Instant::now();
    let child = guard.child();
    let stdout = child.stdout.take().context("the child's stdout")?;
    let mut stderr = child.stderr.take().context("the child's stderr")?;
    let pid = Pid::from_raw(i32::try_from(child.id()).context("the child's pid")?);
    let (sender, receiver) = mpsc::channel();
    let reader = read_lines(stdout, sender);
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let mut lines = Vec::new();
    let kill_at = if from_start {
        started + delay
    } else {
        wait_for_ready(&receiver, &mut lines, started)? + delay
    };
    // Keep draining while the child works, so it never blocks on a full pipe.
    loop {
        let now = Instant::now();
        if now >= kill_at {
            break;
        }
        match receiver.recv_timeout(kill_at - now) {
            Ok(line) => lines.push(line),
            Err(RecvTimeoutError::Timeout) => break,
            Err(RecvTimeoutError::Disconnected) => {
                let status = guard.child().wait()?;
                let stderr = errors.join().unwrap_or_default();
                bail!("the child stopped on its own ({status}) before the kill: {stderr}");
            }
        }
    }
    kill(pid, Signal::SIGKILL).context("killing the child")?;
    let status = guard.child().wait().context("reaping the child")?;
    let _ = reader.join();
    lines.extend(receiver.try_iter());
    let stderr = errors.join().unwrap_or_default();
    if status.signal() != Some(Signal::SIGKILL as i32) {
        bail!("the child ended with {status} rather than by the kill: {stderr}");
    }
    ensure!(
        stderr.is_empty(),
        "the child wrote to stderr before the kill: {stderr}"
    );
    Ok(lines)
}

/// Sends each whole line the child printed; a last line cut off by the kill
/// (no newline) was never fully reported and is dropped.
fn read_lines(stdout: impl Read + Send + 'static, sender: mpsc::Sender<String>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            match reader.read_until(b'\n', &mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if buffer.last() != Some(&b'\n') {
                        break;
                    }
                    buffer.pop();
                    let line = String::from_utf8_lossy(&buffer).into_owned();
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    })
}

/// Collects lines until `ready`, and returns when it came.
fn wait_for_ready(
    receiver: &Receiver<String>,
    lines: &mut Vec<String>,
    started: Instant,
) -> Result<Instant> {
    loop {
        let left = READY_PATIENCE
            .checked_sub(started.elapsed())
            .context("the child did not sign in in time")?;
        match receiver.recv_timeout(left) {
            Ok(line) => {
                let ready = line == "ready";
                lines.push(line);
                if ready {
                    return Ok(Instant::now());
                }
            }
            Err(RecvTimeoutError::Timeout) => bail!("the child did not sign in in time"),
            Err(RecvTimeoutError::Disconnected) => {
                bail!("the child exited before signing in")
            }
        }
    }
}

/// Adds what the child reported to the model, and returns the write it
/// had announced but not reported, if any.
fn apply(model: &mut Model, lines: &[String], totals: &mut Totals) -> Result<Option<InFlight>> {
    let mut in_flight = None;
    for line in lines {
        let (verb, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match verb {
            "ready" => {}
            "created" => {
                model.drafts.insert(rest.to_owned());
            }
            "saving" | "saved" => {
                let mut parts = rest.splitn(3, ' ');
                let (Some(draft), Some(field), Some(json)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    bail!("malformed line {line:?}");
                };
                let value: Value =
                    serde_json::from_str(json).with_context(|| format!("the value in {line:?}"))?;
                if verb == "saving" {
                    in_flight = Some(InFlight::Save {
                        draft: draft.to_owned(),
                        field: field.to_owned(),
                        value,
                    });
                } else {
                    model.drafts.insert(draft.to_owned());
                    model
                        .answers
                        .entry(draft.to_owned())
                        .or_default()
                        .insert(field.to_owned(), value);
                    totals.saves_reported += 1;
                    in_flight = None;
                }
            }
            "attaching" => {
                let parts: Vec<&str> = rest.split(' ').collect();
                let [draft, sha256, size] = parts[..] else {
                    bail!("malformed line {line:?}");
                };
                in_flight = Some(InFlight::Attach {
                    draft: draft.to_owned(),
                    sha256: sha256.to_owned(),
                    size: size.parse()?,
                });
            }
            "attached" => {
                let parts: Vec<&str> = rest.split(' ').collect();
                let [draft, id, sha256, size] = parts[..] else {
                    bail!("malformed line {line:?}");
                };
                model.drafts.insert(draft.to_owned());
                model.attachments.insert(
                    id.to_owned(),
                    Attached {
                        draft: draft.to_owned(),
                        sha256: sha256.to_owned(),
                        size: size.parse()?,
                    },
                );
                totals.attachments_reported += 1;
                in_flight = None;
            }
            _ => bail!("unexpected line {line:?}"),
        }
    }
    Ok(in_flight)
}

/// Signs in and checks the whole model against the vault.
fn check(
    data: &Path,
    model: &mut Model,
    in_flight: Option<&InFlight>,
    totals: &mut Totals,
) -> Result<()> {
    let passphrase = Passphrase::new(ACCOUNT_PASSPHRASE.to_owned());
    let mut vault =
        Vault::sign_in(data, ACCOUNT_NAME, &passphrase, None, unix_now()).context("signing in")?;
    vault.check_integrity().context("the integrity check")?;

    let listed: BTreeSet<String> = vault
        .drafts()
        .context("listing drafts")?
        .into_iter()
        .map(|summary| summary.id)
        .collect();
    for draft in &model.drafts {
        ensure!(
            listed.contains(draft),
            "draft {draft} was reported but is gone"
        );
    }

    // Answers: exactly the reported ones, each at its latest value, plus the
    // announced one if it made it.
    for draft in &listed {
        let stored = vault
            .draft(draft)
            .with_context(|| format!("reading draft {draft}"))?
            .answers;
        let expected = model.answers.entry(draft.clone()).or_default();
        for (field, value) in &stored {
            let pending = match in_flight {
                Some(InFlight::Save {
                    draft: d,
                    field: f,
                    value: v,
                }) if d == draft && f == field => Some(v),
                _ => None,
            };
            match (expected.get(field), pending) {
                (_, Some(new)) if value == new => {
                    if expected.get(field) != Some(new) {
                        totals.in_flight_found_committed += 1;
                    }
                }
                (Some(old), _) if value == old => {}
                (Some(old), _) => {
                    bail!("{draft} {field} holds {value}, but the last reported save was {old}")
                }
                (None, _) => bail!("{draft} {field} holds {value}, which nobody reported saving"),
            }
            totals.answers_checked += 1;
        }
        for field in expected.keys() {
            ensure!(
                stored.contains_key(field),
                "{draft} {field} was reported saved but is gone"
            );
        }
        *expected = stored;
    }
    model.answers.retain(|_, answers| !answers.is_empty());

    // Attachments: exactly the reported ones, plus the announced one if it
    // was completed; each reads back whole.
    let mut seen = BTreeSet::new();
    for draft in &listed {
        for info in vault
            .attachments(draft)
            .with_context(|| format!("listing the attachments of {draft}"))?
        {
            let found = Attached {
                draft: draft.clone(),
                sha256: info.sha256.clone(),
                size: info.size,
            };
            match model.attachments.get(&info.id) {
                Some(reported) => ensure!(
                    *reported == found,
                    "attachment {} is described as {found:?}, but was reported as {reported:?}",
                    info.id
                ),
                None => {
                    let announced = matches!(in_flight, Some(InFlight::Attach { draft: d, sha256: s, size: n })
                        if *d == found.draft && *s == found.sha256 && *n == found.size);
                    ensure!(
                        announced,
                        "attachment {} ({found:?}) was never reported or announced",
                        info.id
                    );
                    totals.in_flight_found_committed += 1;
                    model.attachments.insert(info.id.clone(), found);
                }
            }
            seen.insert(info.id);
        }
    }
    for (id, reported) in &model.attachments {
        ensure!(
            seen.contains(id),
            "attachment {id} ({reported:?}) was reported stored but is not listed"
        );
        let mut hasher = Sha256Writer::default();
        vault
            .read_attachment(id, &mut hasher)
            .with_context(|| format!("reading attachment {id}"))?;
        let sha256 = hex(&hasher.hash.finalize());
        ensure!(
            sha256 == reported.sha256 && hasher.size == reported.size,
            "attachment {id} reads back as {} bytes with SHA-256 {sha256}, not {} and {}",
            hasher.size,
            reported.size,
            reported.sha256
        );
        totals.attachments_checked += 1;
        totals.bytes_read_back += hasher.size;
    }
    Ok(())
}

/// Hashes what is written to it, without keeping it.
#[derive(Default)]
struct Sha256Writer {
    hash: Sha256,
    size: u64,
}

impl std::io::Write for Sha256Writer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.hash.update(bytes);
        self.size += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
