//! What is wrong with a definition, and where.

use std::fmt;

use crate::definition::Position;

/// One thing wrong with a definition, at a line and column of its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub position: Position,
    pub kind: ProblemKind,
    pub message: String,
}

/// The kinds of problem the checker reports; tests and tools can tell them
/// apart without reading messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// The file is not YAML, or a value has the wrong kind (text for a
    /// number, a list for a map).
    Syntax,
    /// A key the format does not have.
    UnknownKey,
    /// An id used twice.
    DuplicateId,
    /// An id that is not lower case letters, digits and `_`, or is reserved.
    InvalidId,
    /// An expression that does not parse.
    ExpressionSyntax,
    /// An expression naming something that is not a field or computed value.
    UndefinedVariable,
    /// An expression applying an operation to the wrong types, or giving
    /// the wrong type for its place.
    TypeError,
    /// A screen or question that can never be shown.
    Unreachable,
    /// Computed values that depend on each other in a circle.
    Cycle,
    /// A text missing one of the interview's languages, or in another one.
    Translation,
    /// A choice field without choices, or a choice without a label.
    Choices,
    /// Any other value that cannot work: a key that does not apply to the
    /// field's type, a bad pattern, a minimum above its maximum, a team
    /// not listed.
    Invalid,
}

impl Problem {
    pub(crate) fn new(position: Position, kind: ProblemKind, message: impl Into<String>) -> Self {
        Self {
            position,
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.position.line, self.position.column, self.message
        )
    }
}

/// Every problem found in a definition, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the interview definition has {} problem(s); the first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
pub struct Problems(pub Vec<Problem>);
