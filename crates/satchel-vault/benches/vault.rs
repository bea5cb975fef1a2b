//! How fast the vault is where people feel it, measured on the real disk.
//!
//! - Autosave: one `save_answer`, as the interview saves each field the
//!   moment it changes (2,000 saves after a warm-up; median, p90, p99, max;
//!   target: median at most 2 ms). Each save is one transaction that must
//!   reach the disk (`synchronous=FULL`), so the disk's flush dominates.
//! - Unlock: `Vault::sign_in` with the real Argon2id parameters (median of
//!   5).
//! - Many drafts: creating 10,000 drafts, then listing them with `drafts()`
//!   (median of 5; target: comfortably under a second).
//! - A long draft: `draft()` of a draft with 200 answers.
//!
//! The vault lives in a temporary directory (under `TMPDIR`, `/tmp` when
//! unset); the table's header names its filesystem. A plain program that
//! prints a table:
//!
//! ```text
//! cargo bench -p satchel-vault --bench vault
//! ```

use std::collections::BTreeSet;
use std::error::Error;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use satchel_vault::{NewAccount, Passphrase, Role, Vault, unix_now};
use serde_json::json;

const NAME: &str = "Bench Tester";
const PASSPHRASE: &str = "violet tractor quietly umbrella 42";
const AUTOSAVE_WARM_UP: usize = 200;
const AUTOSAVES: usize = 2_000;
const UNLOCKS: usize = 5;
const DRAFTS: usize = 10_000;
const LISTINGS: usize = 5;
const LONG_DRAFT_ANSWERS: usize = 200;
const LONG_DRAFT_READS: usize = 20;

type Outcome<T> = Result<T, Box<dyn Error>>;

fn main() -> Outcome<()> {
    let dir = tempfile::Builder::new()
        .prefix("satchel-bench-")
        .tempdir()?;
    let data = dir.path().join("data");
    println!("Satchel vault benchmarks");
    println!(
        "data directory: {} ({})",
        data.display(),
        filesystem(dir.path())
    );
    println!(
        "cores: {}",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!();

    let passphrase = Passphrase::new(PASSPHRASE.to_owned());
    let account = NewAccount {
        name: NAME,
        member_id: "m-bench",
        roles: BTreeSet::from([Role::Intake]),
        passphrase: &passphrase,
    };
    let (mut vault, _code) = Vault::create(&data, &account, unix_now())?;
    let mut rows = Vec::new();

    // Autosave.
    let draft = vault.create_draft("housing-intake", "3")?;
    let mut autosave = Vec::with_capacity(AUTOSAVES);
    for i in 0..AUTOSAVE_WARM_UP + AUTOSAVES {
        let field = format!("field_{}", i % 50);
        let value = json!(format!("an answer typed by the client, version {i}"));
        let started = Instant::now();
        vault.save_answer(&draft, &field, &value)?;
        let took = started.elapsed();
        if i >= AUTOSAVE_WARM_UP {
            autosave.push(took);
        }
    }
    rows.push(Row::new(
        "autosave: save_answer, one answer",
        autosave,
        Some(("median <= 2 ms", |s: &Stats| s.median <= ms(2.0))),
    ));

    // Unlock.
    drop(vault);
    let mut unlocks = Vec::with_capacity(UNLOCKS);
    for _ in 0..UNLOCKS {
        let started = Instant::now();
        let vault = Vault::sign_in(&data, NAME, &passphrase, None, unix_now())?;
        unlocks.push(started.elapsed());
        drop(black_box(vault));
    }
    rows.push(Row::new(
        "unlock: sign_in (Argon2id 64 MiB, t=3, p=4)",
        unlocks,
        None,
    ));
    let mut vault = Vault::sign_in(&data, NAME, &passphrase, None, unix_now())?;

    // Many drafts.
    let mut creations = Vec::with_capacity(DRAFTS);
    let started = Instant::now();
    for _ in 0..DRAFTS {
        let one = Instant::now();
        black_box(vault.create_draft("housing-intake", "3")?);
        creations.push(one.elapsed());
    }
    let creating_all = started.elapsed();
    rows.push(Row::new("create_draft, each of 10,000", creations, None));
    let mut listings = Vec::with_capacity(LISTINGS);
    let mut listed = 0;
    for _ in 0..LISTINGS {
        let started = Instant::now();
        listed = black_box(vault.drafts()?).len();
        listings.push(started.elapsed());
    }
    rows.push(Row::new(
        "drafts(): list all drafts",
        listings,
        Some(("median < 1 s", |s: &Stats| s.median < ms(1000.0))),
    ));

    // A long draft.
    let long = vault.create_draft("housing-intake", "3")?;
    for i in 0..LONG_DRAFT_ANSWERS {
        let value = match i % 4 {
            0 => json!(format!("a short answer to question {i}")),
            1 => json!(i),
            2 => json!({ "street": "12 Harbour Road", "city": "Eastside", "flat": i }),
            _ => json!("a longer answer that the client dictated at some length. ".repeat(8)),
        };
        vault.save_answer(&long, &format!("question_{i}"), &value)?;
    }
    let mut reads = Vec::with_capacity(LONG_DRAFT_READS);
    for _ in 0..LONG_DRAFT_READS {
        let started = Instant::now();
        let read = black_box(vault.draft(&long)?);
        reads.push(started.elapsed());
        if read.answers.len() != LONG_DRAFT_ANSWERS {
            return Err(format!("the draft has {} answers", read.answers.len()).into());
        }
    }
    rows.push(Row::new("draft(): one draft with 200 answers", reads, None));

    print_table(&rows);
    println!();
    println!(
        "creating {DRAFTS} drafts took {:.1} s in all; drafts() listed {listed} drafts",
        creating_all.as_secs_f64()
    );
    let failed: Vec<&str> = rows
        .iter()
        .filter(|row| row.verdict() == Some(false))
        .map(|row| row.name)
        .collect();
    if failed.is_empty() {
        println!("every target met");
    } else {
        println!("targets missed: {}", failed.join("; "));
    }
    Ok(())
}

fn ms(millis: f64) -> Duration {
    Duration::from_secs_f64(millis / 1000.0)
}

/// Order statistics of a set of timings.
struct Stats {
    n: usize,
    median: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        let at = |q: f64| {
            let rank = (q * samples.len() as f64).ceil() as usize;
            samples[rank.clamp(1, samples.len()) - 1]
        };
        Self {
            n: samples.len(),
            median: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

type Check = (&'static str, fn(&Stats) -> bool);

struct Row {
    name: &'static str,
    stats: Stats,
    target: Option<Check>,
}

impl Row {
    fn new(name: &'static str, samples: Vec<Duration>, target: Option<Check>) -> Self {
        Self {
            name,
            stats: Stats::of(samples),
            target,
        }
    }

    fn verdict(&self) -> Option<bool> {
        self.target.map(|(_, check)| check(&self.stats))
    }
}

/// A duration in the unit that suits it.
fn show(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 1.0 {
        format!("{secs:.2} s")
    } else if secs >= 0.001 {
        format!("{:.2} ms", secs * 1e3)
    } else {
        format!("{:.0} µs", secs * 1e6)
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "| {:<44} | {:>6} | {:>9} | {:>9} | {:>9} | {:>9} | {:<22} |",
        "measurement", "n", "median", "p90", "p99", "max", "target"
    );
    println!(
        "|{:-<46}|{:->8}|{:->11}|{:->11}|{:->11}|{:->11}|{:-<24}|",
        "", "", "", "", "", "", ""
    );
    for row in rows {
        let target = match (row.target, row.verdict()) {
            (Some((text, _)), Some(true)) => format!("{text}: met"),
            (Some((text, _)), _) => format!("{text}: MISSED"),
            (None, _) => String::new(),
        };
        println!(
            "| {:<44} | {:>6} | {:>9} | {:>9} | {:>9} | {:>9} | {:<22} |",
            row.name,
            row.stats.n,
            show(row.stats.median),
            show(row.stats.p90),
            show(row.stats.p99),
            show(row.stats.max),
            target
        );
    }
}

/// The filesystem holding `path`, from `/proc/self/mounts`: the longest
/// mount point that contains it.
fn filesystem(path: &Path) -> String {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else {
        return "filesystem unknown".to_owned();
    };
    let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    mounts
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            let device = parts.next()?;
            let mount_point = parts.next()?;
            let kind = parts.next()?;
            path.starts_with(mount_point).then(|| {
                (
                    mount_point.len(),
                    format!("{kind} on {device}, mounted at {mount_point}"),
                )
            })
        })
        .max_by_key(|(len, _)| *len)
        .map_or_else(|| "filesystem unknown".to_owned(), |(_, text)| text)
}
