//! Random answer sequences through the sample interviews.
//!
//! A sequence is a list of actions interpreted against whatever screen the
//! run is on: answer one of its shown questions (with a valid answer for
//! its type, or junk), add or remove a repeat instance, go next, go back,
//! review, finalize. Whatever happens, the engine must not panic, and:
//!
//! - going back and then next returns to the same screen, unless the
//!   screen gone back to has a problem (and then next says so);
//! - a successful next never lowers the progress;
//! - a draft saved as JSON resumes to the same screen and the same result.

use std::fs;
use std::path::Path;

use proptest::prelude::*;
use satchel_interview::{FieldKind, FieldView, Interview, Run, Step, Target};
use serde_json::{Value as Json, json};

#[derive(Debug, Clone)]
enum Action {
    Answer { field: usize, value: usize },
    Add { field: usize },
    Remove { field: usize, index: usize },
    Next,
    Back,
    Finalize,
    Language,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (any::<usize>(), any::<usize>()).prop_map(|(field, value)| Action::Answer { field, value }),
        1 => any::<usize>().prop_map(|field| Action::Add { field }),
        1 => (any::<usize>(), 0usize..3).prop_map(|(field, index)| Action::Remove { field, index }),
        3 => Just(Action::Next),
        2 => Just(Action::Back),
        1 => Just(Action::Finalize),
        1 => Just(Action::Language),
    ]
}

/// Answers to try for a question: some valid for its type, some not.
fn candidates(view: &FieldView) -> Vec<Json> {
    let mut values = match view.kind {
        FieldKind::Number => vec![json!(0), json!(3), json!("12"), json!(-5), json!(1_000_000)],
        FieldKind::Money => vec![
            json!("0"),
            json!("1250.00"),
            json!("$3,400.5"),
            json!(99999.99),
        ],
        FieldKind::Date => vec![
            json!("2026-01-15"),
            json!("1990-07-04"),
            json!("2026-02-30"),
        ],
        FieldKind::YesNo => vec![json!(true), json!(false), json!("yes")],
        FieldKind::Email => vec![json!("ana@example.org"), json!("not an email")],
        FieldKind::Phone => vec![json!("(555) 010-0199"), json!("12")],
        FieldKind::Masked => vec![json!("123456789"), json!("A123456789"), json!("1234")],
        FieldKind::File => vec![json!([{
            "attachment": "att-1", "name": "notice.pdf", "type": "application/pdf",
            "size": 48213, "sha256": "ab".repeat(32)
        }])],
        FieldKind::MultipleChoice => {
            let all: Vec<Json> = view.choices.iter().map(|c| json!(c.value)).collect();
            vec![
                Json::Array(all.iter().take(1).cloned().collect()),
                Json::Array(all),
            ]
        }
        FieldKind::SingleChoice => view.choices.iter().map(|c| json!(c.value)).collect(),
        _ => vec![
            json!("Ana López"),
            json!("x".repeat(300)),
            json!("line one\nline two"),
        ],
    };
    values.extend([
        json!(null),
        json!(""),
        json!(42),
        json!(["junk"]),
        json!({"a": 1}),
    ]);
    values
}

/// The questions a person can answer on the current screen, with their
/// candidate answers, including those inside repeat instances.
fn answerable(run: &Run<'_>) -> Vec<(String, Vec<Json>)> {
    let Some(screen) = run.screen() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for field in &screen.fields {
        if field.kind == FieldKind::Repeat {
            for instance in &field.instances {
                for member in &instance.fields {
                    out.push((member.target.clone(), candidates(member)));
                }
            }
        } else if field.kind != FieldKind::Note {
            out.push((field.target.clone(), candidates(field)));
        }
    }
    out
}

fn groups(run: &Run<'_>) -> Vec<String> {
    run.screen()
        .map(|s| {
            s.fields
                .iter()
                .filter(|f| f.kind == FieldKind::Repeat)
                .map(|f| f.target.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn play(interview: &Interview, actions: &[Action]) -> Result<(), TestCaseError> {
    let mut run = Run::start(interview, "en").map_err(|e| TestCaseError::fail(e.to_string()))?;
    for action in actions {
        match action {
            Action::Answer { field, value } => {
                let choices = answerable(&run);
                if let Some((target, values)) = choices.get(field % choices.len().max(1)) {
                    let target: Target =
                        target
                            .parse()
                            .map_err(|e: satchel_interview::EngineError| {
                                TestCaseError::fail(e.to_string())
                            })?;
                    // Refusals are expected for junk; panics are not.
                    let _ = run.set(&target, values[value % values.len()].clone());
                }
            }
            Action::Add { field } => {
                let groups = groups(&run);
                if let Some(group) = groups.get(field % groups.len().max(1)) {
                    let _ = run.add_instance(group);
                }
            }
            Action::Remove { field, index } => {
                let groups = groups(&run);
                if let Some(group) = groups.get(field % groups.len().max(1)) {
                    let _ = run.remove_instance(group, *index);
                }
            }
            Action::Next => {
                let before = run.progress();
                let step = run.step().clone();
                match run.forward() {
                    Ok(_) => prop_assert!(
                        run.progress().percent >= before.percent,
                        "progress fell from {before:?} to {:?}",
                        run.progress()
                    ),
                    Err(problems) => {
                        prop_assert!(!problems.is_empty());
                        prop_assert_eq!(run.step(), &step, "a refused next moved");
                    }
                }
            }
            Action::Back => {
                let here = run.step().clone();
                let went = run.back();
                if went != here {
                    let problems = run.problems();
                    match run.forward() {
                        Ok(back_again) => {
                            prop_assert_eq!(back_again, here, "back then next went elsewhere")
                        }
                        Err(refused) => prop_assert_eq!(
                            refused,
                            problems,
                            "next refused for other reasons than the screen's problems"
                        ),
                    }
                }
            }
            Action::Finalize => {
                let result = run.finalize();
                if let Ok(submission) = &result {
                    prop_assert!(!submission.routing.team.is_empty());
                    // Nothing reaches a submission from a screen not shown.
                    let shown: Vec<String> = run
                        .review()
                        .iter()
                        .flat_map(|s| s.items.iter().map(|i| i.target.clone()))
                        .collect();
                    for field in submission.answers.keys() {
                        prop_assert!(
                            shown
                                .iter()
                                .any(|t| t == field || t.starts_with(&format!("{field}."))),
                            "{field} was sent but is not on the review"
                        );
                    }
                }
            }
            Action::Language => {
                let next = if run.draft().language == "en" {
                    "es"
                } else {
                    "en"
                };
                run.set_language(next)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
        }
        let saved =
            serde_json::to_string(run.draft()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let resumed = Run::resume(
            interview,
            serde_json::from_str(&saved).map_err(|e| TestCaseError::fail(e.to_string()))?,
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(resumed.step(), run.step());
        prop_assert_eq!(resumed.finalize(), run.finalize());
    }
    Ok(())
}

fn sample(name: &str) -> Interview {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../interviews")
        .join(name);
    let source = fs::read_to_string(&path).expect("the sample interview");
    satchel_interview::load(&source).expect("the sample interview checks")
}

macro_rules! random_runs {
    ($name:ident, $file:literal) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
            #[test]
            fn $name(actions in prop::collection::vec(action(), 0..120)) {
                let interview = sample($file);
                play(&interview, &actions)?;
            }
        }
    };
}

random_runs!(
    random_runs_through_the_eviction_interview,
    "eviction-defense.yaml"
);
random_runs!(random_runs_through_the_family_interview, "family-law.yaml");
random_runs!(
    random_runs_through_the_immigration_interview,
    "immigration.yaml"
);
random_runs!(
    random_runs_through_the_general_interview,
    "general-intake.yaml"
);

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    /// Loading arbitrary text never panics: it checks or it has problems.
    #[test]
    fn loading_arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = satchel_interview::lint(&text);
    }

    /// Any answer to any question of a sample interview is stored or
    /// refused, never a panic.
    #[test]
    fn any_json_answer_is_stored_or_refused(target in 0usize..200, text in ".{0,40}", number in any::<i64>(), float in any::<f64>()) {
        let interview = sample("general-intake.yaml");
        let mut run = Run::start(&interview, "es").expect("start");
        let view = run.screen().expect("a first screen");
        if let Some(field) = view.fields.get(target % view.fields.len().max(1))
            && let Ok(target) = field.target.parse::<Target>()
        {
            for value in [json!(text), json!(number), json!(float), json!([text]), json!({"x": number})] {
                let _ = run.set(&target, value);
            }
        }
        prop_assert!(matches!(run.step(), Step::Screen(_)));
    }
}
