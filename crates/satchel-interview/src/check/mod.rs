//! From a definition file to a runnable [`Interview`], or the list of
//! everything wrong with it.
//!
//! The steps, in order: parse the YAML ([`parse`]); check each screen and
//! field on its own (ids, keys that apply to the type, translations,
//! choices, rules), building the model as it goes; compile every
//! expression and check the names it uses; order the computed values and
//! refuse cycles; check that no condition depends on a question asked at or
//! after it; and finally evaluate every expression with sample answers to
//! find type errors. Every step reports all it finds, so one run of the
//! linter lists every problem, not only the first.
//!
//! This file holds the walk over the interview and its screens;
//! `fields.rs` checks one field at a time, and `expressions.rs` everything
//! about expressions.

mod expressions;
mod fields;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use regex::Regex;

use crate::definition::{At, Definition, Localized, Position};
use crate::model::{Classification, Computed, Field, FieldKind, Interview, Screen, Texts};
use crate::problem::{Problem, ProblemKind, Problems};

pub(crate) use expressions::Sample;

/// The largest definition file accepted, in bytes. The biggest sample is
/// a few tens of KiB; this leaves room and bounds the parser's work.
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;

/// Names expressions cannot use for a field: `item` means the current
/// instance of a repeat group, the rest are CEL's reserved words.
const RESERVED: &[&str] = &[
    "item",
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// Parses a definition file without checking what it says.
pub fn parse(source: &str) -> Result<Definition, Problems> {
    if source.len() > MAX_DEFINITION_BYTES {
        return Err(Problems(vec![Problem::new(
            Position { line: 1, column: 1 },
            ProblemKind::Syntax,
            format!(
                "the file is {} bytes; an interview definition may be at most {} bytes",
                source.len(),
                MAX_DEFINITION_BYTES
            ),
        )]));
    }
    serde_saphyr::from_str::<Definition>(source).map_err(|error| {
        let position = error
            .location()
            .map_or(Position { line: 1, column: 1 }, |at| Position {
                line: at.line().max(1),
                column: at.column().max(1),
            });
        let text = error.to_string();
        // The library's message starts with its own "line L column C:" and
        // may add a drawing of the source; keep the first sentence only.
        let message = readable(&text);
        let kind = if message.contains("unknown field") {
            ProblemKind::UnknownKey
        } else {
            ProblemKind::Syntax
        };
        Problems(vec![Problem::new(position, kind, message)])
    })
}

/// The YAML library's message, without the position it repeats (the
/// problem carries it) and in the format's own words where they differ.
fn readable(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or_default();
    let first_line = first_line.trim_start_matches("error: ");
    let mut message = first_line
        .split_once(": ")
        .filter(|(head, _)| head.starts_with("line ") && head.contains(" column "))
        .map_or(first_line, |(_, rest)| rest);
    if let Some(at) = message.rfind(" at line ") {
        message = &message[..at];
    }
    match message.strip_prefix("duplicate mapping key: ") {
        Some(rest) => {
            let key = rest.split(", set ").next().unwrap_or(rest);
            format!("the key `{key}` is given twice")
        }
        None => message.to_owned(),
    }
}

/// Parses and checks a definition file.
pub fn load(source: &str) -> Result<Interview, Problems> {
    let definition = parse(source)?;
    check(&definition, source)
}

/// Checks a parsed definition; `source` is the file it came from, used to
/// place problems inside expressions.
pub fn check(definition: &Definition, source: &str) -> Result<Interview, Problems> {
    let mut checker = Checker {
        source,
        problems: Vec::new(),
        languages: definition.languages.get().clone(),
    };
    let interview = checker.interview(definition);
    let mut problems = checker.problems;
    problems.sort_by_key(|p| p.position);
    problems.dedup();
    match interview {
        Some(interview) if problems.is_empty() => Ok(interview),
        _ => Err(Problems(problems)),
    }
}

struct Checker<'s> {
    source: &'s str,
    problems: Vec<Problem>,
    languages: Vec<String>,
}

/// Where a field sits, for the ordering checks.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    screen: usize,
    field: usize,
}

impl Checker<'_> {
    fn report(&mut self, position: Position, kind: ProblemKind, message: impl Into<String>) {
        self.problems.push(Problem::new(position, kind, message));
    }

    fn interview(&mut self, d: &Definition) -> Option<Interview> {
        self.languages_ok(&d.languages);
        let id_pattern = Regex::new("^[a-z][a-z0-9_-]*$").ok()?;
        if !id_pattern.is_match(d.id.get()) {
            self.report(
                d.id.position(),
                ProblemKind::InvalidId,
                format!(
                    "the interview id `{}` must be lower case letters, digits, `-` and `_`, starting with a letter",
                    d.id.get()
                ),
            );
        }
        if *d.version.get() == 0 {
            self.report(
                d.version.position(),
                ProblemKind::Invalid,
                "the version must be 1 or more",
            );
        }
        let title = self.text(&d.title, "the title");
        let description = d
            .description
            .as_ref()
            .map(|t| self.text(t, "the description"));
        let default_class = d
            .classification
            .as_ref()
            .map_or(Classification::Personal, |c| *c.get());

        // Screens and their fields, each on its own.
        let mut screens = Vec::new();
        let mut screen_ids = HashMap::new();
        let mut field_ids: HashMap<String, Position> = HashMap::new();
        let mut index = HashMap::new();
        for (s, screen) in d.screens.get().iter().enumerate() {
            self.unique(&mut screen_ids, &screen.id, "screen");
            let fields: Vec<Field> = screen
                .fields
                .get()
                .iter()
                .map(|f| self.field(f, default_class, false))
                .collect();
            if fields.is_empty() {
                self.report(
                    screen.fields.position(),
                    ProblemKind::Invalid,
                    "a screen needs at least one field",
                );
            }
            for (f, field) in screen.fields.get().iter().enumerate() {
                if self.unique(&mut field_ids, &field.id, "field or computed value") {
                    index.insert(field.id.get().clone(), (s, f));
                }
            }
            screens.push(Screen {
                id: screen.id.get().clone(),
                title: self.text(&screen.title, "the screen title"),
                help: screen
                    .help
                    .as_ref()
                    .map(|t| self.text(t, "the screen help")),
                show_if: None,
                fields,
            });
        }
        if d.screens.get().is_empty() {
            self.report(
                d.screens.position(),
                ProblemKind::Invalid,
                "an interview needs at least one screen",
            );
        }

        let mut computed_defs = Vec::new();
        for c in &d.computed {
            self.unique(&mut field_ids, &c.id, "field or computed value");
            let label = c
                .label
                .as_ref()
                .map(|t| self.text(t, "the computed value's label"));
            computed_defs.push((c, label));
        }

        // What expressions may name: answered fields and computed values.
        let mut names: HashMap<String, Name> = HashMap::new();
        for (s, screen) in d.screens.get().iter().enumerate() {
            for (f, field) in screen.fields.get().iter().enumerate() {
                let name = if *field.kind.get() == FieldKind::Note {
                    Name::Note
                } else {
                    Name::Field(Place {
                        screen: s,
                        field: f,
                    })
                };
                names.entry(field.id.get().clone()).or_insert(name);
            }
        }
        for c in &d.computed {
            names.entry(c.id.get().clone()).or_insert(Name::Computed);
        }

        // Expressions: compile, check names.
        for (screen, def) in screens.iter_mut().zip(d.screens.get()) {
            screen.show_if = def
                .show_if
                .as_ref()
                .and_then(|e| self.expression(e, &names, false));
            for (field, fdef) in screen.fields.iter_mut().zip(def.fields.get()) {
                field.show_if = fdef
                    .show_if
                    .as_ref()
                    .and_then(|e| self.expression(e, &names, false));
                for (member, mdef) in field
                    .group
                    .iter_mut()
                    .zip(fdef.fields.iter().flat_map(|g| g.get()))
                {
                    member.show_if = mdef
                        .show_if
                        .as_ref()
                        .and_then(|e| self.expression(e, &names, true));
                }
            }
        }
        let mut computed = Vec::new();
        for (c, label) in computed_defs {
            let Some(expression) = self.expression(&c.expression, &names, false) else {
                continue;
            };
            computed.push(Computed {
                id: c.id.get().clone(),
                kind: *c.kind.get(),
                expression,
                label,
                classification: c
                    .classification
                    .as_ref()
                    .map_or(default_class, |k| *k.get()),
            });
        }
        let routing = self.routing(&d.routing, &names);

        let computed = self.order_computed(computed);
        self.ordering(&screens, &computed, &names);
        let interview = Interview {
            id: d.id.get().clone(),
            version: *d.version.get(),
            title,
            description,
            languages: self.languages.clone(),
            quick_exit: d.quick_exit,
            screens,
            index,
            computed,
            routing: routing?,
            env: Arc::new(cel::Env::stdlib()),
        };
        self.types(&interview);
        Some(interview)
    }

    fn languages_ok(&mut self, languages: &At<Vec<String>>) {
        let pattern = Regex::new("^[a-z]{2,3}(-[A-Z]{2})?$").ok();
        if languages.get().is_empty() {
            self.report(
                languages.position(),
                ProblemKind::Invalid,
                "list at least one language, e.g. [en, es]",
            );
        }
        let mut seen = HashSet::new();
        for language in languages.get() {
            if !pattern.as_ref().is_some_and(|p| p.is_match(language)) {
                self.report(
                    languages.position(),
                    ProblemKind::Invalid,
                    format!("`{language}` is not a language code such as `en` or `es`"),
                );
            }
            if !seen.insert(language) {
                self.report(
                    languages.position(),
                    ProblemKind::DuplicateId,
                    format!("the language `{language}` is listed twice"),
                );
            }
        }
    }

    /// Checks a text has every language and no other; returns it.
    fn text(&mut self, text: &Localized, what: &str) -> Texts {
        for language in &self.languages.clone() {
            match text.get().get(language) {
                None => self.report(
                    text.position(),
                    ProblemKind::Translation,
                    format!("{what} has no `{language}` text"),
                ),
                Some(words) if words.trim().is_empty() => self.report(
                    text.position(),
                    ProblemKind::Translation,
                    format!("{what} has an empty `{language}` text"),
                ),
                Some(_) => {}
            }
        }
        for language in text.get().keys() {
            if !self.languages.contains(language) {
                self.report(
                    text.position(),
                    ProblemKind::Translation,
                    format!("{what} is given in `{language}`, which the interview does not list in `languages`"),
                );
            }
        }
        text.get().clone()
    }

    /// Records `id` as taken; false (and a problem) if it already was, or
    /// is not a valid id.
    fn unique(
        &mut self,
        taken: &mut HashMap<String, Position>,
        id: &At<String>,
        what: &str,
    ) -> bool {
        let valid = id
            .get()
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
            && id
                .get()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            self.report(
                id.position(),
                ProblemKind::InvalidId,
                format!("the id `{}` must be lower case letters, digits and `_`, starting with a letter", id.get()),
            );
            return false;
        }
        if RESERVED.contains(&id.get().as_str()) {
            self.report(
                id.position(),
                ProblemKind::InvalidId,
                format!(
                    "`{}` is a reserved name in expressions; choose another id",
                    id.get()
                ),
            );
            return false;
        }
        if let Some(first) = taken.get(id.get()) {
            let first = *first;
            self.report(
                id.position(),
                ProblemKind::DuplicateId,
                format!(
                    "the {what} id `{}` is already used at line {}",
                    id.get(),
                    first.line
                ),
            );
            return false;
        }
        taken.insert(id.get().clone(), id.position());
        true
    }
}

/// What a name in an expression refers to.
enum Name {
    Field(Place),
    Note,
    Computed,
}

pub(crate) fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "text",
        FieldKind::LongText => "long_text",
        FieldKind::Number => "number",
        FieldKind::Money => "money",
        FieldKind::Date => "date",
        FieldKind::YesNo => "yes_no",
        FieldKind::SingleChoice => "single_choice",
        FieldKind::MultipleChoice => "multiple_choice",
        FieldKind::Email => "email",
        FieldKind::Phone => "phone",
        FieldKind::Masked => "masked",
        FieldKind::File => "file",
        FieldKind::Note => "note",
        FieldKind::Repeat => "repeat",
    }
}
