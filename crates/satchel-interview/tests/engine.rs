//! The engine's rules, on a small interview written for them.

use satchel_interview::{EngineError, Run, Step, Target, load};
use serde_json::json;

const DEFINITION: &str = r#"
id: rules
version: 1
title: { en: "Rules", es: "Reglas" }
languages: [en, es]
routing:
  expression: 'urgent ? "urgent" : (got_notice ? "housing" : "nowhere")'
  teams: [general, housing, urgent]
  fallback: general
computed:
  - id: household_size
    type: number
    expression: size(household) + 1
    label: { en: "People in the household", es: "Personas en el hogar" }
screens:
  - id: notice
    title: { en: "Notice", es: "Aviso" }
    fields:
      - id: got_notice
        type: yes_no
        label: { en: "Notice?", es: "¿Aviso?" }
        required: true
      - id: notice_kind
        type: single_choice
        label: { en: "Kind?", es: "¿Tipo?" }
        show_if: got_notice
        required: true
        choices:
          - { value: pay_or_quit, label: { en: "Pay or quit", es: "Pagar o irse" } }
          - { value: other, label: { en: "Other", es: "Otro" } }
  - id: pay
    title: { en: "Paying", es: "Pagar" }
    show_if: 'notice_kind == "pay_or_quit"'
    fields:
      - id: owed
        type: money
        label: { en: "Owed", es: "Debe" }
        validation: { min: 0, max: 50000 }
  - id: people
    title: { en: "People", es: "Personas" }
    fields:
      - id: household
        type: repeat
        label: { en: "Household", es: "Hogar" }
        max: 2
        fields:
          - id: name
            type: text
            label: { en: "Name", es: "Nombre" }
            required: true
          - id: school
            type: text
            label: { en: "School", es: "Escuela" }
            show_if: item.name == "Luis"
      - id: urgent
        type: yes_no
        label: { en: "Urgent?", es: "¿Urgente?" }
"#;

fn set(run: &mut Run<'_>, target: &str, value: serde_json::Value) -> Result<(), EngineError> {
    run.set(&target.parse().expect("a target"), value)
}

#[test]
fn an_answer_hidden_later_no_longer_opens_what_depended_on_it() {
    let interview = load(DEFINITION).expect("checks");
    let mut run = Run::start(&interview, "en").expect("start");
    set(&mut run, "got_notice", json!(true)).expect("set");
    set(&mut run, "notice_kind", json!("pay_or_quit")).expect("set");
    assert_eq!(run.forward(), Ok(Step::Screen("pay".into())));
    set(&mut run, "owed", json!("1,200")).expect("set");
    assert_eq!(run.back(), Step::Screen("notice".into()));
    // No notice: the kind question hides, and with it the screen that
    // depended on its (still stored) answer.
    set(&mut run, "got_notice", json!(false)).expect("set");
    assert_eq!(run.forward(), Ok(Step::Screen("people".into())));
    assert_eq!(run.forward(), Ok(Step::Review));
    let submission = run.finalize().expect("complete");
    assert!(!submission.answers.contains_key("notice_kind"));
    assert!(!submission.answers.contains_key("owed"));
    // The answers are still in the draft, should the person change back.
    assert_eq!(run.draft().answers.get("owed"), Some(&json!("1200.00")));
    // The routing saw no notice: "nowhere" is not a listed team.
    assert_eq!(submission.routing.team, "general");
}

#[test]
fn a_refused_answer_is_kept_as_typed_and_blocks_moving_on() {
    let interview = load(DEFINITION).expect("checks");
    let mut run = Run::start(&interview, "es").expect("start");
    set(&mut run, "got_notice", json!(true)).expect("set");
    set(&mut run, "notice_kind", json!("pay_or_quit")).expect("set");
    run.forward().expect("to the pay screen");
    let refused = set(&mut run, "owed", json!("lots")).expect_err("not an amount");
    let EngineError::Refused(error) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(error.target, "owed");
    assert!(
        error.message.contains("cantidad"),
        "Spanish: {}",
        error.message
    );
    assert_eq!(run.draft().answers.get("owed"), Some(&json!("lots")));
    let view = run.screen().expect("a screen");
    assert!(view.fields[0].error.is_some());
    assert_eq!(run.forward().expect_err("blocked")[0].target, "owed");
    // The author's range, in the person's language.
    let too_much = set(&mut run, "owed", json!("60000")).expect_err("above max");
    assert!(too_much.to_string().contains("50000"), "{too_much}");
    set(&mut run, "owed", json!("")).expect("clearing is always allowed");
    assert_eq!(run.forward(), Ok(Step::Screen("people".into())));
}

#[test]
fn a_missing_required_answer_is_named_in_the_persons_language() {
    let interview = load(DEFINITION).expect("checks");
    let mut run = Run::start(&interview, "en").expect("start");
    let errors = run.forward().expect_err("nothing answered");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].target, "got_notice");
    assert_eq!(errors[0].message, "Please answer this question.");
    run.set_language("es").expect("Spanish");
    assert_eq!(
        run.forward().expect_err("still")[0].message,
        "Por favor, responda esta pregunta."
    );
    assert!(matches!(
        run.set_language("fr"),
        Err(EngineError::UnknownLanguage(_))
    ));
}

#[test]
fn repeat_groups_keep_their_bounds_and_hide_per_instance() {
    let interview = load(DEFINITION).expect("checks");
    let mut run = Run::start(&interview, "en").expect("start");
    set(&mut run, "got_notice", json!(false)).expect("set");
    run.forward().expect("people");
    assert_eq!(run.add_instance("household"), Ok(0));
    assert_eq!(run.add_instance("household"), Ok(1));
    assert!(
        matches!(run.add_instance("household"), Err(EngineError::Refused(_))),
        "max 2"
    );
    set(&mut run, "household.0.name", json!("Luis")).expect("set");
    set(&mut run, "household.0.school", json!("Lincoln")).expect("set");
    set(&mut run, "household.1.name", json!("Ana")).expect("set");
    set(&mut run, "household.1.school", json!("Roosevelt")).expect("set, though hidden");
    assert!(matches!(
        set(&mut run, "household.2.name", json!("X")),
        Err(EngineError::NoSuchInstance(..))
    ));
    assert!(matches!(
        set(&mut run, "household.0.age", json!(3)),
        Err(EngineError::UnknownTarget(_))
    ));
    let view = run.screen().expect("screen");
    let shown: Vec<Vec<&str>> = view.fields[0]
        .instances
        .iter()
        .map(|i| i.fields.iter().map(|f| f.target.as_str()).collect())
        .collect();
    assert_eq!(
        shown,
        vec![
            vec!["household.0.name", "household.0.school"],
            vec!["household.1.name"]
        ]
    );
    run.forward().expect("review");
    let submission = run.finalize().expect("complete");
    let household = &submission.answers["household"].value;
    assert_eq!(household[0]["school"]["value"], json!("Lincoln"));
    assert!(
        household[1].get("school").is_none(),
        "a hidden question inside an instance is not sent"
    );
    assert_eq!(submission.computed["household_size"].value, json!(3));
    assert_eq!(run.worked_out()[0].shown, "3");
    run.remove_instance("household", 0).expect("remove");
    assert_eq!(run.draft().answers["household"][0]["name"], json!("Ana"));
    assert!(matches!(
        run.remove_instance("household", 5),
        Err(EngineError::NoSuchInstance(..))
    ));
}

#[test]
fn oversized_and_misdirected_requests_are_refused_without_change() {
    let interview = load(DEFINITION).expect("checks");
    let mut run = Run::start(&interview, "en").expect("start");
    let before = run.draft().clone();
    let huge = json!("x".repeat(satchel_interview::MAX_ANSWER_BYTES));
    assert!(matches!(
        set(&mut run, "got_notice", huge),
        Err(EngineError::TooLarge(_))
    ));
    assert!(matches!(
        set(&mut run, "nope", json!(1)),
        Err(EngineError::UnknownTarget(_))
    ));
    assert!(matches!(
        set(&mut run, "household", json!([])),
        Err(EngineError::UnknownTarget(_))
    ));
    assert!(matches!(
        run.add_instance("got_notice"),
        Err(EngineError::NotAGroup(_))
    ));
    assert!("a.b".parse::<Target>().is_err());
    assert_eq!(run.draft(), &before);
}

#[test]
fn a_draft_resumes_only_on_its_own_interview_and_version() {
    let interview = load(DEFINITION).expect("checks");
    let newer = load(&DEFINITION.replace("version: 1", "version: 2")).expect("checks");
    let mut run = Run::start(&interview, "en").expect("start");
    set(&mut run, "got_notice", json!(true)).expect("set");
    let draft = run.into_draft();
    assert!(matches!(
        Run::resume(&newer, draft.clone()),
        Err(EngineError::WrongInterview { .. })
    ));
    let mut bad = draft.clone();
    bad.step = Step::Screen("gone".into());
    assert!(matches!(
        Run::resume(&interview, bad),
        Err(EngineError::NoSuchScreen(_))
    ));
    let resumed = Run::resume(&interview, draft.clone()).expect("resume");
    assert_eq!(resumed.draft(), &draft);
}

#[test]
fn progress_counts_only_the_screens_that_will_be_shown() {
    let interview = load(DEFINITION).expect("checks");
    let mut run = Run::start(&interview, "en").expect("start");
    assert_eq!((run.progress().done, run.progress().total), (0, 2));
    set(&mut run, "got_notice", json!(true)).expect("set");
    set(&mut run, "notice_kind", json!("pay_or_quit")).expect("set");
    assert_eq!((run.progress().done, run.progress().total), (0, 3));
    run.forward().expect("pay");
    assert_eq!(run.progress().percent, 33);
    run.forward().expect("people");
    run.forward().expect("review");
    assert_eq!(run.progress().percent, 100);
}

#[test]
fn debug_output_never_shows_an_answer() {
    let interview = load(DEFINITION).expect("checks");
    let mut run = Run::start(&interview, "en").expect("start");
    set(&mut run, "got_notice", json!(false)).expect("set");
    run.forward().expect("people");
    run.add_instance("household").expect("add");
    set(&mut run, "household.0.name", json!("Luis")).expect("set");
    set(&mut run, "household.0.school", json!("CANARY-SCHOOL-7731")).expect("set");
    let screen = run.screen().expect("screen");
    run.forward().expect("review");
    let printed = [
        format!("{:?}", run.draft()),
        format!("{run:?}"),
        format!("{screen:?}"),
        format!("{:?}", run.review()),
        format!("{:?}", run.finalize()),
    ];
    for text in printed {
        assert!(
            !text.contains("CANARY-SCHOOL-7731"),
            "an answer in Debug output: {text}"
        );
        assert!(!text.is_empty());
    }
    // The value is really there, just not printed.
    let submission = run.finalize().expect("complete");
    assert_eq!(
        submission.answers["household"].value[0]["school"]["value"],
        json!("CANARY-SCHOOL-7731")
    );
}

/// The app keeps checked interviews in state shared between threads.
#[test]
fn a_checked_interview_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<satchel_interview::Interview>();
    shareable::<satchel_interview::Draft>();
    shareable::<satchel_interview::Submission>();
}
