//! Conditions, computed values and routing, written in CEL.
//!
//! The `cel` crate parses and evaluates; this module adds what an interview
//! needs around it: pointing at the line and column of a problem inside an
//! expression, finding the names an expression uses (leaving out the
//! variables its own macros bind, as `m` in `household.exists(m, ...)`), and
//! telling an expression that failed because an answer was missing from one
//! that can never work.

use cel::common::ast::{EntryExpr, Expr};
use cel::{ExecutionError, IdedExpr, Program, Value};

use crate::definition::{At, Position};
use crate::problem::{Problem, ProblemKind};

/// A compiled expression, with where it was written.
pub(crate) struct Expression {
    program: Program,
    /// Where the expression's first character is in the file.
    start: Position,
    /// Whether the expression is on one line, so offsets inside it map to
    /// columns.
    one_line: bool,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expression")
            .field("source", &self.program.source_info().source)
            .field("start", &self.start)
            .finish()
    }
}

/// A name an expression uses, and where.
pub(crate) struct Name {
    pub name: String,
    pub position: Position,
}

impl Expression {
    /// Compiles the expression written at `text` in the file `source`.
    pub(crate) fn compile(text: &At<String>, source: &str) -> Result<Self, Problem> {
        let mut start = text.position();
        // A quoted scalar starts at its quote; the expression one further.
        let quoted = text
            .byte_offset()
            .and_then(|offset| source.as_bytes().get(usize::try_from(offset).ok()?))
            .is_some_and(|&byte| byte == b'\'' || byte == b'"');
        if quoted {
            start.column += 1;
        }
        let one_line = !text.get().contains('\n');
        match Program::compile(text.get()) {
            Ok(program) => Ok(Self {
                program,
                start,
                one_line,
            }),
            Err(errors) => {
                let first = errors.errors.first();
                let (line, column) = first.map_or((1, 0), |e| e.pos);
                let message = first.map_or_else(|| errors.to_string(), |e| e.msg.clone());
                // Keep what was found, not the parser's list of what it
                // could have accepted instead.
                let message = message.split(" expecting ").next().unwrap_or_default();
                let message = message.trim_start_matches("Syntax error: ");
                // The parser counts columns from 1.
                let here = Self::locate(start, one_line, line, column - 1);
                Err(Problem::new(
                    here,
                    ProblemKind::ExpressionSyntax,
                    format!("this expression does not parse: {message}"),
                ))
            }
        }
    }

    /// Where the expression starts in the file.
    pub(crate) fn position(&self) -> Position {
        self.start
    }

    /// Maps a line and 0-based column inside the expression to the file.
    fn locate(start: Position, one_line: bool, line: isize, column: isize) -> Position {
        if one_line && line <= 1 {
            Position {
                line: start.line,
                column: start.column + u64::try_from(column.max(0)).unwrap_or(0),
            }
        } else {
            start
        }
    }

    /// Every name the expression reads from outside itself, with where.
    pub(crate) fn names(&self) -> Vec<Name> {
        let mut found = Vec::new();
        let mut bound = Vec::new();
        collect_names(self.program.expression(), &mut bound, &mut found);
        found
            .into_iter()
            .map(|(name, id)| {
                let position =
                    self.program
                        .source_info()
                        .offset_for(id)
                        .map_or(self.start, |(offset, _)| {
                            let column = self
                                .program
                                .source_info()
                                .source
                                .get(..offset as usize)
                                .map_or(0, |before| before.chars().count());
                            Self::locate(
                                self.start,
                                self.one_line,
                                1,
                                isize::try_from(column).unwrap_or(0),
                            )
                        });
                Name { name, position }
            })
            .collect()
    }

    /// Evaluates the expression with the answers bound in `context`.
    pub(crate) fn eval(&self, context: &cel::Context<'_, '_>) -> Result<Value, ExecutionError> {
        self.program.execute(context)
    }

    /// Evaluates a condition: true only if it gives `true`. A condition
    /// that fails (it touched an unanswered question) is false.
    pub(crate) fn holds(&self, context: &cel::Context<'_, '_>) -> bool {
        matches!(self.eval(context), Ok(Value::Bool(true)))
    }
}

/// Walks the expression, collecting identifiers that no enclosing macro
/// binds.
fn collect_names(node: &IdedExpr, bound: &mut Vec<String>, found: &mut Vec<(String, u64)>) {
    match &node.expr {
        Expr::Ident(name) => {
            if !bound.iter().any(|b| b == name) {
                found.push((name.clone(), node.id));
            }
        }
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                collect_names(target, bound, found);
            }
            for argument in &call.args {
                collect_names(argument, bound, found);
            }
        }
        Expr::Select(select) => collect_names(&select.operand, bound, found),
        Expr::List(list) => {
            for element in &list.elements {
                collect_names(element, bound, found);
            }
        }
        Expr::Map(map) => entries(map.entries.iter().map(|e| &e.expr), bound, found),
        Expr::Struct(fields) => entries(fields.entries.iter().map(|e| &e.expr), bound, found),
        Expr::Comprehension(loop_) => {
            collect_names(&loop_.iter_range, bound, found);
            collect_names(&loop_.accu_init, bound, found);
            let depth = bound.len();
            bound.push(loop_.iter_var.clone());
            bound.extend(loop_.iter_var2.clone());
            bound.push(loop_.accu_var.clone());
            collect_names(&loop_.loop_cond, bound, found);
            collect_names(&loop_.loop_step, bound, found);
            collect_names(&loop_.result, bound, found);
            bound.truncate(depth);
        }
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn entries<'a>(
    entries: impl Iterator<Item = &'a EntryExpr>,
    bound: &mut Vec<String>,
    found: &mut Vec<(String, u64)>,
) {
    for entry in entries {
        match entry {
            EntryExpr::MapEntry(pair) => {
                collect_names(&pair.key, bound, found);
                collect_names(&pair.value, bound, found);
            }
            EntryExpr::StructField(field) => collect_names(&field.value, bound, found),
        }
    }
}

/// Whether an evaluation error means the expression cannot work whatever
/// the answers, rather than that these particular sample answers hit a
/// division by zero or an empty list.
pub(crate) fn is_type_error(error: &ExecutionError) -> bool {
    !matches!(
        error,
        ExecutionError::DivisionByZero(_)
            | ExecutionError::RemainderByZero(_)
            | ExecutionError::Overflow(..)
            | ExecutionError::IndexOutOfBounds(_)
            // A name that does not exist is reported on its own, where it
            // is written.
            | ExecutionError::UndeclaredReference(_)
    )
}

/// A short name for a value's type, for messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "a yes/no (bool)",
        Value::Int(_) | Value::UInt(_) => "a whole number (int)",
        Value::Float(_) => "a number with decimals (double)",
        Value::String(_) => "text (string)",
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
        Value::Null => "null",
        _ => "a value of another type",
    }
}
