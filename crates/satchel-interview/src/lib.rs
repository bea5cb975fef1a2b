//! Interviews: the definition format and the engine that runs it.
//!
//! An interview is a YAML file (`docs/INTERVIEW_FORMAT.md`): screens of
//! questions in two or more languages, conditions that show or hide them,
//! validation, repeating groups, computed values, a classification per
//! answer, and routing to a team. This crate reads and checks such a file
//! and runs it, one screen at a time, to a submission. It does no I/O and
//! builds for `wasm32-unknown-unknown`, so the desktop app's UI runs the
//! same checks on every keystroke as the app does when it saves.
//!
//! - [`load`] parses and checks a definition into an [`Interview`], or
//!   returns every [`Problem`] with its line and column ([`lint`] is the
//!   same for tools that only want the list);
//! - [`Run`] answers an interview: [`Run::set`], [`Run::forward`],
//!   [`Run::back`], [`Run::review`], [`Run::finalize`], with its whole state
//!   in a serializable [`Draft`];
//! - [`json_schema`] describes the file format for editors.
//!
//! Expressions are CEL, evaluated by the `cel` crate; the engine adds the
//! checks that make a definition safe to hand to staff: every name exists,
//! types fit, no condition depends on a question asked after it.

#![forbid(unsafe_code)]

mod answer;
mod check;
pub mod definition;
mod engine;
mod expr;
mod model;
mod problem;
mod vars;

pub use check::{MAX_DEFINITION_BYTES, check, load, parse};
pub use definition::{Classification, Position};
pub use engine::{
    ChoiceView, Draft, EngineError, FieldError, FieldView, InstanceView, MAX_ANSWER_BYTES,
    Progress, ReviewItem, ReviewScreen, RoutedBy, RoutingResult, Run, ScreenView, Step, Submission,
    Submitted, Target,
};
pub use model::{ComputedKind, FieldKind, Interview};
pub use problem::{Problem, ProblemKind, Problems};

/// Every problem in a definition file; empty if it is ready to use.
pub fn lint(source: &str) -> Vec<Problem> {
    match load(source) {
        Ok(_) => Vec::new(),
        Err(Problems(problems)) => problems,
    }
}

/// The JSON Schema of the definition format, for editors.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(definition::Definition);
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}
