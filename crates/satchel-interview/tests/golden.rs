//! The sample interviews in `interviews/`, checked and played through.
//!
//! Every definition must load with no problem and have 25 to 60 questions.
//! Every script in `interviews/scenarios/<interview>/` is played step by
//! step (answers, next, back, repeat instances; see the README there), and
//! the submission it finalizes must equal the `.json` file beside it, leave
//! out every answer the script lists as absent, and go to the team it
//! names. `SATCHEL_BLESS=1` rewrites the `.json` files instead of comparing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use satchel_interview::{Interview, Run, Step, Submission, Target};
use serde::Deserialize;
use serde_json::Value as Json;

fn interviews_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interviews")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Interview {
    let source = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    satchel_interview::load(&source).unwrap_or_else(|problems| {
        let listed: Vec<String> = problems
            .0
            .iter()
            .map(|p| format!("{}:{p}", path.display()))
            .collect();
        panic!("{} does not check:\n{}", path.display(), listed.join("\n"))
    })
}

#[test]
fn every_sample_interview_checks_and_has_25_to_60_questions() {
    let files = yaml_files(&interviews_dir());
    assert!(
        files.len() >= 4,
        "expected the four sample interviews, found {files:?}"
    );
    for path in files {
        let interview = load(&path);
        let count = interview.field_count();
        assert!(
            (25..=60).contains(&count),
            "{}: {count} questions",
            path.display()
        );
        assert_eq!(interview.languages(), ["en", "es"], "{}", path.display());
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Script {
    interview: String,
    language: String,
    steps: Vec<Action>,
    #[serde(default)]
    absent: Vec<String>,
    team: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Action {
    Set(BTreeMap<String, Json>),
    Next(String),
    NextRefused(Vec<String>),
    Back(String),
    Add(String),
    Remove(String),
}

fn screen_name(step: &Step) -> String {
    match step {
        Step::Screen(id) => id.clone(),
        Step::Review => "review".to_owned(),
    }
}

/// Plays a script; returns the submission, or why it went wrong.
fn play(path: &Path) -> Result<(Script, Submission), String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let script: Script =
        serde_saphyr::from_str(&text).map_err(|e| format!("script does not parse: {e}"))?;
    let interview = load(&interviews_dir().join(format!("{}.yaml", script.interview)));
    let mut run = Run::start(&interview, &script.language).map_err(|e| e.to_string())?;
    for (number, action) in script.steps.iter().enumerate() {
        let at = |what: String| format!("step {} ({action:?}): {what}", number + 1);
        match action {
            Action::Set(answers) => {
                for (target, value) in answers {
                    let target: Target = target.parse().map_err(|e| at(format!("{e}")))?;
                    run.set(&target, value.clone())
                        .map_err(|e| at(e.to_string()))?;
                }
            }
            Action::Next(expected) => {
                let landed = run
                    .forward()
                    .map_err(|errors| at(format!("next refused: {errors:?}")))?;
                if screen_name(&landed) != *expected {
                    return Err(at(format!("landed on {}", screen_name(&landed))));
                }
            }
            Action::NextRefused(fields) => {
                let before = run.step().clone();
                match run.forward() {
                    Ok(step) => {
                        return Err(at(format!(
                            "next was not refused; landed on {}",
                            screen_name(&step)
                        )));
                    }
                    Err(errors) => {
                        let named: Vec<&str> = errors.iter().map(|e| e.target.as_str()).collect();
                        if named != *fields {
                            return Err(at(format!("refused for {named:?}")));
                        }
                        if errors.iter().any(|e| e.message.is_empty()) {
                            return Err(at("a refusal without a message".to_owned()));
                        }
                    }
                }
                if *run.step() != before {
                    return Err(at("a refused next moved".to_owned()));
                }
            }
            Action::Back(expected) => {
                let landed = run.back();
                if screen_name(&landed) != *expected {
                    return Err(at(format!("landed on {}", screen_name(&landed))));
                }
            }
            Action::Add(group) => {
                run.add_instance(group).map_err(|e| at(e.to_string()))?;
            }
            Action::Remove(instance) => {
                let (group, index) = instance
                    .rsplit_once('.')
                    .ok_or_else(|| at("write group.index".to_owned()))?;
                let index = index
                    .parse()
                    .map_err(|_| at("write group.index".to_owned()))?;
                run.remove_instance(group, index)
                    .map_err(|e| at(e.to_string()))?;
            }
        }
    }
    if *run.step() != Step::Review {
        return Err(format!(
            "the script ends on {}, not review",
            screen_name(run.step())
        ));
    }
    // The draft survives a round trip through JSON and resumes the same.
    let saved = serde_json::to_string(run.draft()).map_err(|e| e.to_string())?;
    let resumed = Run::resume(
        &interview,
        serde_json::from_str(&saved).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let submission = run
        .finalize()
        .map_err(|errors| format!("finalize refused: {errors:?}"))?;
    if resumed.finalize().as_ref() != Ok(&submission) {
        return Err("a resumed draft finalizes differently".to_owned());
    }
    Ok((script, submission))
}

fn is_absent(submission: &Submission, target: &str) -> bool {
    let parts: Vec<&str> = target.split('.').collect();
    match parts.as_slice() {
        [field] => !submission.answers.contains_key(*field),
        [group, index, member] => {
            let index: usize = index.parse().unwrap_or(usize::MAX);
            submission
                .answers
                .get(*group)
                .and_then(|g| g.value.get(index))
                .is_none_or(|instance| instance.get(*member).is_none())
        }
        _ => false,
    }
}

#[test]
fn scripted_runs_produce_the_expected_submissions() {
    let bless = std::env::var_os("SATCHEL_BLESS").is_some();
    let scenarios = interviews_dir().join("scenarios");
    let mut played = 0;
    let mut failures = Vec::new();
    let mut folders: Vec<PathBuf> = fs::read_dir(&scenarios)
        .expect("the scenarios folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        for path in yaml_files(&folder) {
            let name = path.display().to_string();
            let (script, submission) = match play(&path) {
                Ok(done) => done,
                Err(why) => {
                    failures.push(format!("{name}: {why}"));
                    continue;
                }
            };
            played += 1;
            for target in &script.absent {
                if !is_absent(&submission, target) {
                    failures.push(format!(
                        "{name}: `{target}` was hidden but is in the submission"
                    ));
                }
            }
            if submission.routing.team != script.team {
                failures.push(format!(
                    "{name}: routed to {}, not {}",
                    submission.routing.team, script.team
                ));
            }
            let golden = path.with_extension("json");
            let actual = serde_json::to_string_pretty(&submission).expect("serializable") + "\n";
            if bless {
                fs::write(&golden, &actual).expect("write the golden file");
            } else {
                match fs::read_to_string(&golden) {
                    Ok(expected) if expected == actual => {}
                    Ok(_) => failures.push(format!(
                        "{name}: the submission differs from {} (SATCHEL_BLESS=1 rewrites it; read the diff)",
                        golden.display()
                    )),
                    Err(_) => failures.push(format!("{name}: no {} yet", golden.display())),
                }
            }
        }
    }
    println!("played {played} scripts");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(played >= 12, "only {played} scripts played");
}
