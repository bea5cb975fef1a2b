//! The checker finds a seeded mistake of each kind it claims, at the right
//! line and column.
//!
//! Each case takes a small definition that checks clean, makes one mistake
//! in it, and expects exactly one problem of the right kind at the place
//! where the mistake was made, which the test finds by searching the text
//! (independently of the YAML parser).

use satchel_interview::{ProblemKind, lint};

const CLEAN: &str = r#"id: tenant-check
version: 2
title: { en: "Tenant check", es: "Revisión para inquilinos" }
languages: [en, es]
routing:
  expression: 'got_notice ? "housing-urgent" : "housing"'
  teams: [housing, housing-urgent]
  fallback: housing
computed:
  - id: household_size
    type: number
    expression: size(household) + 1
  - id: big_household
    type: yes_no
    expression: household_size > 4
screens:
  - id: notice
    title: { en: "Your notice", es: "Su aviso" }
    fields:
      - id: got_notice
        type: yes_no
        label: { en: "Did you get a notice?", es: "¿Recibió un aviso?" }
        required: true
      - id: notice_kind
        type: single_choice
        label: { en: "What kind?", es: "¿De qué tipo?" }
        show_if: got_notice
        choices:
          - value: pay_or_quit
            label: { en: "Pay or quit", es: "Pagar o desalojar" }
          - value: other
            label: { en: "Something else", es: "Otro" }
  - id: people
    title: { en: "Who lives with you", es: "Quién vive con usted" }
    fields:
      - id: household
        type: repeat
        label: { en: "People", es: "Personas" }
        max: 8
        fields:
          - id: name
            type: text
            label: { en: "Name", es: "Nombre" }
          - id: age
            type: number
            label: { en: "Age", es: "Edad" }
            show_if: item.name != ""
  - id: rent
    title: { en: "Rent", es: "Renta" }
    show_if: got_notice
    fields:
      - id: rent_amount
        type: money
        label: { en: "Monthly rent", es: "Renta mensual" }
        validation:
          min: 0
          max: 100000
      - id: landlord
        type: text
        label: { en: "Landlord's name", es: "Nombre del arrendador" }
        conflict_check: true
"#;

/// The line and column (from 1) of the first `needle` in `text`, plus
/// `shift` columns.
fn locate(text: &str, needle: &str, shift: u64) -> (u64, u64) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in the text"));
    let before = &text[..at];
    let line = before.matches('\n').count() as u64 + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    (line, column + shift)
}

/// Applies `from -> to` to the clean text, lints it, and expects exactly
/// one problem of `kind` at the first `point` in the changed text (shifted
/// by `shift` columns), whose message mentions `mentions`.
fn seeded(from: &str, to: &str, kind: ProblemKind, point: &str, shift: u64, mentions: &str) {
    assert!(CLEAN.contains(from), "`{from}` is not in the clean text");
    let text = CLEAN.replacen(from, to, 1);
    let problems = lint(&text);
    let expected = locate(&text, point, shift);
    let matching: Vec<_> = problems.iter().filter(|p| p.kind == kind).collect();
    assert_eq!(
        matching.len(),
        1,
        "{kind:?}: expected one such problem, got {problems:#?}"
    );
    let problem = matching[0];
    assert_eq!(
        (problem.position.line, problem.position.column),
        expected,
        "{kind:?}: {problem}"
    );
    assert!(
        problem.message.contains(mentions),
        "{kind:?}: `{}` does not mention `{mentions}`",
        problem.message
    );
    assert_eq!(
        problems.len(),
        1,
        "{kind:?}: other problems came along: {problems:#?}"
    );
}

#[test]
fn the_clean_definition_checks_clean() {
    assert_eq!(lint(CLEAN), vec![]);
}

#[test]
fn an_unknown_key() {
    seeded(
        "        show_if: got_notice\n        choices:",
        "        shwo_if: got_notice\n        choices:",
        ProblemKind::UnknownKey,
        "shwo_if",
        0,
        "shwo_if",
    );
}

#[test]
fn a_value_of_the_wrong_kind() {
    seeded(
        "version: 2",
        "version: two",
        ProblemKind::Syntax,
        "two",
        0,
        "",
    );
}

#[test]
fn a_duplicate_field_id() {
    seeded(
        "      - id: landlord",
        "      - id: rent_amount",
        ProblemKind::DuplicateId,
        "id: rent_amount\n        type: text",
        4,
        "rent_amount",
    );
}

#[test]
fn a_duplicate_screen_id() {
    seeded(
        "  - id: rent\n",
        "  - id: people\n",
        ProblemKind::DuplicateId,
        "id: people\n    title: { en: \"Rent\"",
        4,
        "people",
    );
}

#[test]
fn an_invalid_id() {
    seeded(
        "      - id: landlord",
        "      - id: Landlord-Name",
        ProblemKind::InvalidId,
        "Landlord-Name",
        0,
        "lower case",
    );
}

#[test]
fn an_undefined_variable_points_inside_the_expression() {
    // Quoted: the column counts the quote.
    seeded(
        r#"expression: 'got_notice ? "housing-urgent""#,
        r#"expression: 'got_notise ? "housing-urgent""#,
        ProblemKind::UndefinedVariable,
        "got_notise",
        0,
        "got_notise",
    );
    // Plain, and not at the start.
    seeded(
        "expression: household_size > 4",
        "expression: household_size > fout",
        ProblemKind::UndefinedVariable,
        "fout",
        0,
        "fout",
    );
}

#[test]
fn item_outside_a_group() {
    seeded(
        "    show_if: got_notice\n    fields:\n      - id: rent_amount",
        "    show_if: item.name == \"\"\n    fields:\n      - id: rent_amount",
        ProblemKind::UndefinedVariable,
        "item.name == \"\"\n    fields:\n      - id: rent_amount",
        0,
        "repeat group",
    );
}

#[test]
fn an_expression_that_does_not_parse() {
    seeded(
        "    show_if: got_notice\n    fields:\n      - id: rent_amount",
        "    show_if: got_notice &&\n    fields:\n      - id: rent_amount",
        ProblemKind::ExpressionSyntax,
        "got_notice &&\n",
        13,
        "does not parse",
    );
}

#[test]
fn a_type_error() {
    seeded(
        "expression: household_size > 4",
        "expression: household_size > \"four\"",
        ProblemKind::TypeError,
        "household_size > \"four\"",
        0,
        "cannot work",
    );
}

#[test]
fn a_condition_that_is_not_a_yes_or_no() {
    seeded(
        "    show_if: got_notice\n    fields:\n      - id: rent_amount",
        "    show_if: size(household)\n    fields:\n      - id: rent_amount",
        ProblemKind::TypeError,
        "size(household)\n",
        0,
        "bool",
    );
}

#[test]
fn a_screen_that_depends_on_a_later_question() {
    seeded(
        "    show_if: got_notice\n    fields:\n      - id: rent_amount",
        "    show_if: landlord != \"\"\n    fields:\n      - id: rent_amount",
        ProblemKind::Unreachable,
        "landlord != \"\"",
        0,
        "never be shown",
    );
}

#[test]
fn a_screen_whose_condition_is_always_false() {
    seeded(
        "    show_if: got_notice\n    fields:\n      - id: rent_amount",
        "    show_if: 1 > 2\n    fields:\n      - id: rent_amount",
        ProblemKind::Unreachable,
        "1 > 2",
        0,
        "always false",
    );
}

#[test]
fn computed_values_in_a_cycle() {
    seeded(
        "expression: size(household) + 1",
        "expression: 'big_household ? 5 : 1'",
        ProblemKind::Cycle,
        "big_household ? 5",
        0,
        "household_size -> big_household -> household_size",
    );
}

#[test]
fn a_missing_translation() {
    seeded(
        r#"label: { en: "Monthly rent", es: "Renta mensual" }"#,
        r#"label: { en: "Monthly rent" }"#,
        ProblemKind::Translation,
        r#"{ en: "Monthly rent" }"#,
        0,
        "`es`",
    );
}

#[test]
fn a_text_in_a_language_not_listed() {
    seeded(
        r#"label: { en: "Age", es: "Edad" }"#,
        r#"label: { en: "Age", es: "Edad", fr: "Âge" }"#,
        ProblemKind::Translation,
        r#"{ en: "Age", es: "Edad", fr"#,
        0,
        "`fr`",
    );
}

#[test]
fn a_choice_without_a_label() {
    seeded(
        "          - value: other\n            label: { en: \"Something else\", es: \"Otro\" }\n",
        "          - value: other\n",
        ProblemKind::Choices,
        "other\n",
        0,
        "no label",
    );
}

#[test]
fn a_choice_field_without_choices() {
    let from = "        choices:\n          - value: pay_or_quit\n            label: { en: \"Pay or quit\", es: \"Pagar o desalojar\" }\n          - value: other\n            label: { en: \"Something else\", es: \"Otro\" }\n";
    seeded(
        from,
        "",
        ProblemKind::Choices,
        "single_choice",
        0,
        "choices",
    );
}

#[test]
fn a_key_that_does_not_apply_to_the_type() {
    seeded(
        "        conflict_check: true",
        "        mask: \"###\"",
        ProblemKind::Invalid,
        "\"###\"",
        0,
        "`mask` does not apply",
    );
}

#[test]
fn a_pattern_that_is_not_a_regular_expression() {
    seeded(
        "        conflict_check: true",
        "        validation:\n          pattern: \"[a-\"",
        ProblemKind::Invalid,
        "\"[a-\"",
        0,
        "regular expression",
    );
}

#[test]
fn a_minimum_above_the_maximum() {
    seeded(
        "          min: 0\n          max: 100000",
        "          min: 500\n          max: 100",
        ProblemKind::Invalid,
        "500",
        0,
        "above",
    );
}

#[test]
fn a_fallback_team_not_listed() {
    seeded(
        "  fallback: housing",
        "  fallback: general",
        ProblemKind::Invalid,
        "general",
        0,
        "not in `teams`",
    );
}

#[test]
fn a_key_given_twice() {
    seeded(
        "version: 2\n",
        "version: 2\nversion: 3\n",
        ProblemKind::Syntax,
        "version: 3",
        0,
        "the key `version` is given twice",
    );
}

/// YAML ends a line at a lone carriage return too, and so do the line
/// numbers (a fuzzed file with old Mac line endings found this).
#[test]
fn lone_carriage_returns_end_lines() {
    let problems = lint("id: a\rversion: 1\rversion: 2\r");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        (problems[0].position.line, problems[0].position.column),
        (3, 1)
    );
    assert!(
        problems[0].message.contains("given twice"),
        "{}",
        problems[0]
    );
}

#[test]
fn a_file_that_is_not_yaml_at_all() {
    let problems = lint("id: [unclosed\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, ProblemKind::Syntax);
    assert_eq!(problems[0].position.line, 1);
}

#[test]
fn an_oversized_file_is_refused_before_parsing() {
    let huge = format!(
        "# {}\n",
        "x".repeat(satchel_interview::MAX_DEFINITION_BYTES)
    );
    let problems = lint(&huge);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("at most"), "{}", problems[0]);
}

#[test]
fn every_problem_is_listed_in_one_run() {
    let text = CLEAN
        .replacen("      - id: landlord", "      - id: rent_amount", 1)
        .replacen(
            r#"label: { en: "Age", es: "Edad" }"#,
            r#"label: { en: "Age" }"#,
            1,
        )
        .replacen(
            "expression: household_size > 4",
            "expression: household_size > fout",
            1,
        );
    let kinds: Vec<ProblemKind> = lint(&text).iter().map(|p| p.kind).collect();
    for kind in [
        ProblemKind::DuplicateId,
        ProblemKind::Translation,
        ProblemKind::UndefinedVariable,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} missing from {kinds:?}");
    }
}
