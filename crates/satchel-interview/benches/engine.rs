//! How long the engine takes for what a person waits on.
//!
//! ```sh
//! cargo bench -p satchel-interview --bench engine
//! ```
//!
//! A plain program that prints a table (no bench harness): each row is
//! timed over many repetitions after a warm-up, and reports the median and
//! the 99th percentile. It asserts nothing; the targets are printed beside
//! the figures.
//!
//! - loading the largest sample interview: parsing the YAML and every check
//!   (names, ordering, sample-typed evaluation of every expression);
//! - one keystroke on a screen: store an answer, then work out the screen's
//!   shown questions and what is wrong on it, as the UI does after every
//!   change.

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use satchel_interview::{FieldKind, Run, Target};
use serde_json::json;

fn timed(rounds: usize, mut once: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..rounds.div_ceil(10) {
        once();
    }
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            once();
            start.elapsed()
        })
        .collect();
    times.sort();
    (
        times[rounds / 2],
        times[(rounds * 99 / 100).min(rounds - 1)],
    )
}

fn row(what: &str, (median, p99): (Duration, Duration), target: Duration) {
    println!(
        "| {what:<58} | {:>10.1?} | {:>10.1?} | {:>8?} | {:>4} |",
        median,
        p99,
        target,
        if median <= target { "yes" } else { "NO" }
    );
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interviews");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("interviews/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let (largest, source) = files
        .iter()
        .map(|p| (p.clone(), fs::read_to_string(p).expect("readable")))
        .max_by_key(|(_, s)| s.len())
        .expect("a sample interview");
    let interview = satchel_interview::load(&source).expect("the sample checks");
    let name = largest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    println!(
        "largest sample: {name} ({} bytes, {} screens, {} questions)\n",
        source.len(),
        interview.screen_count(),
        interview.field_count()
    );
    println!(
        "| {:<58} | {:>10} | {:>10} | {:>8} | {:>4} |",
        "operation", "median", "p99", "target", "met"
    );
    println!(
        "|{:-<60}|{:-<12}|{:-<12}|{:-<10}|{:-<6}|",
        "", "", "", "", ""
    );

    row(
        &format!("load and check {name}"),
        timed(200, || {
            black_box(satchel_interview::load(black_box(&source)).expect("checks"));
        }),
        Duration::from_millis(5),
    );
    row(
        "parse the YAML only (no checks), for reference",
        timed(200, || {
            black_box(satchel_interview::parse(black_box(&source)).expect("parses"));
        }),
        Duration::from_millis(5),
    );

    // The screen with the most shown questions, with every yes/no
    // question before it answered "yes" so that conditional screens show.
    let mut walk = Run::start(&interview, "en").expect("start");
    for _ in 0..interview.screen_count() {
        let Some(screen) = walk.screen() else { break };
        for field in &screen.fields {
            if field.kind == FieldKind::YesNo
                && let Ok(target) = field.target.parse::<Target>()
            {
                let _ = walk.set(&target, json!(true));
            }
        }
        let next = screen.id.clone();
        let ids: Vec<&str> = interview.screen_ids().collect();
        let Some(at) = ids.iter().position(|id| *id == next) else {
            break;
        };
        let Some(following) = ids.get(at + 1) else {
            break;
        };
        let mut draft = walk.draft().clone();
        draft.step = satchel_interview::Step::Screen((*following).to_owned());
        walk = Run::resume(&interview, draft).expect("resume");
    }
    let answers = walk.draft().answers.clone();
    let (fields, draft) = interview
        .screen_ids()
        .filter_map(|id| {
            let mut draft = walk.draft().clone();
            draft.answers = answers.clone();
            draft.step = satchel_interview::Step::Screen(id.to_owned());
            let run = Run::resume(&interview, draft).ok()?;
            let shown = run.screen()?.fields.len();
            Some((shown, run.draft().clone()))
        })
        .max_by_key(|(shown, _)| *shown)
        .expect("a screen");
    let mut run = Run::resume(&interview, draft).expect("resume");
    let screen = run.screen().expect("on a screen");
    let text_field = screen
        .fields
        .iter()
        .find(|f| matches!(f.kind, FieldKind::Text | FieldKind::LongText))
        .or_else(|| {
            screen
                .fields
                .iter()
                .find(|f| f.kind != FieldKind::Note && f.kind != FieldKind::Repeat)
        })
        .expect("an answerable question");
    let target: Target = text_field.target.parse().expect("target");
    let mut letters = String::new();
    row(
        &format!(
            "one keystroke on `{}` ({fields} questions shown)",
            screen.id
        ),
        timed(2000, || {
            if letters.len() > 40 {
                letters.clear();
            }
            letters.push('a');
            let _ = run.set(&target, json!(letters));
            black_box(run.screen());
            black_box(run.problems());
        }),
        Duration::from_micros(100),
    );
    row(
        "  of which: working out the screen's shown questions",
        timed(2000, || {
            black_box(run.screen());
        }),
        Duration::from_micros(100),
    );
}
