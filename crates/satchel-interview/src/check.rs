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

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use cel::Value;
use regex::Regex;

use crate::definition::{self, At, Definition, Localized, Position};
use crate::expr::{self, Expression};
use crate::model::{
    Choice, Classification, Computed, ComputedKind, Field, FieldKind, Interview, Routing, Rules,
    Screen, Texts,
};
use crate::problem::{Problem, ProblemKind, Problems};
use crate::vars::Bindings;

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

    /// Checks one field on its own and builds its model.
    fn field(
        &mut self,
        f: &definition::Field,
        default_class: Classification,
        in_group: bool,
    ) -> Field {
        let kind = *f.kind.get();
        let label = self.text(&f.label, "the label");
        let help = f.help.as_ref().map(|t| self.text(t, "the help"));
        let is = |kinds: &[FieldKind]| kinds.contains(&kind);
        let texty = is(&[
            FieldKind::Text,
            FieldKind::LongText,
            FieldKind::Email,
            FieldKind::Phone,
            FieldKind::Masked,
        ]);

        // Keys that do not apply to this type.
        let mut not_for = |present: bool, at: Option<Position>, key: &str, applies: bool| {
            if present && !applies {
                self.report(
                    at.unwrap_or_else(|| f.kind.position()),
                    ProblemKind::Invalid,
                    format!("`{key}` does not apply to a {} field", kind_name(kind)),
                );
            }
        };
        not_for(
            f.required.is_some(),
            f.required.as_ref().map(At::position),
            "required",
            kind != FieldKind::Note,
        );
        not_for(
            f.classification.is_some(),
            f.classification.as_ref().map(At::position),
            "classification",
            kind != FieldKind::Note,
        );
        not_for(
            f.choices.is_some(),
            f.choices.as_ref().map(At::position),
            "choices",
            is(&[FieldKind::SingleChoice, FieldKind::MultipleChoice]),
        );
        not_for(
            f.mask.is_some(),
            f.mask.as_ref().map(At::position),
            "mask",
            kind == FieldKind::Masked,
        );
        not_for(
            f.accept.is_some(),
            f.accept.as_ref().map(At::position),
            "accept",
            kind == FieldKind::File,
        );
        not_for(
            f.max_size.is_some(),
            f.max_size.as_ref().map(At::position),
            "max_size",
            kind == FieldKind::File,
        );
        not_for(
            f.max_files.is_some(),
            f.max_files.as_ref().map(At::position),
            "max_files",
            kind == FieldKind::File,
        );
        not_for(
            f.fields.is_some(),
            f.fields.as_ref().map(At::position),
            "fields",
            kind == FieldKind::Repeat,
        );
        not_for(
            f.min.is_some(),
            f.min.as_ref().map(At::position),
            "min",
            kind == FieldKind::Repeat,
        );
        not_for(
            f.max.is_some(),
            f.max.as_ref().map(At::position),
            "max",
            kind == FieldKind::Repeat,
        );
        not_for(
            f.item_label.is_some(),
            f.item_label.as_ref().map(At::position),
            "item_label",
            kind == FieldKind::Repeat,
        );
        not_for(
            f.conflict_check.is_some(),
            f.conflict_check.as_ref().map(At::position),
            "conflict_check",
            is(&[FieldKind::Text, FieldKind::LongText]),
        );
        not_for(
            f.validation.is_some(),
            None,
            "validation",
            kind != FieldKind::Note && kind != FieldKind::Repeat && kind != FieldKind::File,
        );

        let rules = f
            .validation
            .as_ref()
            .map(|v| self.rules(v, kind, texty))
            .unwrap_or_default();

        // Choices: at least one, each with a label, values unique.
        let mut choices = Vec::new();
        if is(&[FieldKind::SingleChoice, FieldKind::MultipleChoice]) {
            match &f.choices {
                None => self.report(
                    f.kind.position(),
                    ProblemKind::Choices,
                    "a choice field needs `choices`",
                ),
                Some(list) if list.get().is_empty() => {
                    self.report(
                        list.position(),
                        ProblemKind::Choices,
                        "a choice field needs at least one choice",
                    );
                }
                Some(list) => {
                    let mut values = HashSet::new();
                    for choice in list.get() {
                        if !values.insert(choice.value.get().clone()) {
                            self.report(
                                choice.value.position(),
                                ProblemKind::DuplicateId,
                                format!(
                                    "the choice value `{}` is listed twice",
                                    choice.value.get()
                                ),
                            );
                        }
                        let label = match &choice.label {
                            Some(label) => self.text(label, "the choice"),
                            None => {
                                self.report(
                                    choice.value.position(),
                                    ProblemKind::Choices,
                                    format!("the choice `{}` has no label", choice.value.get()),
                                );
                                Texts::new()
                            }
                        };
                        choices.push(Choice {
                            value: choice.value.get().clone(),
                            label,
                        });
                    }
                }
            }
        }

        let mask = f.mask.as_ref().map(|m| m.get().clone());
        if kind == FieldKind::Masked {
            match &f.mask {
                None => self.report(
                    f.kind.position(),
                    ProblemKind::Invalid,
                    "a masked field needs a `mask` such as `###-##-####`",
                ),
                Some(m) if !m.get().contains(['#', 'A']) => {
                    self.report(
                        m.position(),
                        ProblemKind::Invalid,
                        "a mask needs at least one `#` (digit) or `A` (letter)",
                    );
                }
                Some(_) => {}
            }
        }

        // Repeat groups: their own questions, and sensible bounds.
        let mut group = Vec::new();
        let (min, max) = (
            f.min.as_ref().map_or(0, |m| *m.get()),
            f.max.as_ref().map(|m| *m.get()),
        );
        if kind == FieldKind::Repeat {
            if in_group {
                self.report(
                    f.kind.position(),
                    ProblemKind::Invalid,
                    "a repeat group cannot be inside another repeat group",
                );
            }
            match &f.fields {
                Some(fields) if !fields.get().is_empty() => {
                    let mut ids = HashMap::new();
                    for member in fields.get() {
                        self.unique(&mut ids, &member.id, "group field");
                        group.push(self.field(member, default_class, true));
                    }
                }
                _ => self.report(
                    f.kind.position(),
                    ProblemKind::Invalid,
                    "a repeat group needs `fields`",
                ),
            }
            if let (Some(max_at), Some(max)) = (&f.max, max)
                && (max < min || max == 0)
            {
                self.report(
                    max_at.position(),
                    ProblemKind::Invalid,
                    "`max` must be at least 1 and not below `min`",
                );
            }
        }
        Field {
            id: f.id.get().clone(),
            kind,
            label,
            help,
            required: f.required.as_ref().is_some_and(|r| *r.get()),
            classification: f
                .classification
                .as_ref()
                .map_or(default_class, |c| *c.get()),
            show_if: None,
            rules,
            choices,
            mask,
            accept: f
                .accept
                .as_ref()
                .map(|a| a.get().clone())
                .unwrap_or_default(),
            max_size: f.max_size.as_ref().map(|m| *m.get()),
            max_files: f.max_files.as_ref().map_or(1, |m| *m.get()),
            group,
            min,
            max,
            item_label: f
                .item_label
                .as_ref()
                .map(|t| self.text(t, "the item label")),
            conflict_check: f.conflict_check.as_ref().is_some_and(|c| *c.get()),
        }
    }

    fn rules(&mut self, v: &definition::Validation, kind: FieldKind, texty: bool) -> Rules {
        let numeric = kind == FieldKind::Number || kind == FieldKind::Money;
        let mut applies = |present: Option<Position>, key: &str, ok: bool| {
            if let (Some(at), false) = (present, ok) {
                self.report(
                    at,
                    ProblemKind::Invalid,
                    format!("`{key}` does not apply to a {} field", kind_name(kind)),
                );
            }
        };
        applies(v.pattern.as_ref().map(At::position), "pattern", texty);
        applies(v.min_length.as_ref().map(At::position), "min_length", texty);
        applies(v.max_length.as_ref().map(At::position), "max_length", texty);
        applies(v.min.as_ref().map(At::position), "min", numeric);
        applies(v.max.as_ref().map(At::position), "max", numeric);
        let pattern = v.pattern.as_ref().and_then(|p| match Regex::new(p.get()) {
            Ok(regex) => Some(regex),
            Err(e) => {
                let first = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
                self.report(
                    p.position(),
                    ProblemKind::Invalid,
                    format!("the pattern is not a valid regular expression: {first}"),
                );
                None
            }
        });
        if let (Some(min), Some(max)) = (&v.min_length, &v.max_length)
            && min.get() > max.get()
        {
            self.report(
                min.position(),
                ProblemKind::Invalid,
                "`min_length` is above `max_length`",
            );
        }
        if let (Some(min), Some(max)) = (&v.min, &v.max)
            && min.get() > max.get()
        {
            self.report(min.position(), ProblemKind::Invalid, "`min` is above `max`");
        }
        Rules {
            pattern,
            min_length: v.min_length.as_ref().map(|m| *m.get()),
            max_length: v.max_length.as_ref().map(|m| *m.get()),
            min: v.min.as_ref().map(|m| *m.get()),
            max: v.max.as_ref().map(|m| *m.get()),
            message: v
                .message
                .as_ref()
                .map(|t| self.text(t, "the validation message")),
        }
    }

    /// Compiles an expression and checks every name it uses exists.
    fn expression(
        &mut self,
        text: &At<String>,
        names: &HashMap<String, Name>,
        in_group: bool,
    ) -> Option<Expression> {
        let expression = match Expression::compile(text, self.source) {
            Ok(expression) => expression,
            Err(problem) => {
                self.problems.push(problem);
                return None;
            }
        };
        let mut ok = true;
        for used in expression.names() {
            let known = match names.get(&used.name) {
                Some(Name::Field(_) | Name::Computed) => true,
                Some(Name::Note) => {
                    self.report(
                        used.position,
                        ProblemKind::UndefinedVariable,
                        format!("`{}` is a note, which holds no answer", used.name),
                    );
                    ok = false;
                    continue;
                }
                None => used.name == "item" && in_group,
            };
            if !known {
                let hint = if used.name == "item" {
                    " (`item` only means something inside a repeat group's questions)"
                } else {
                    ""
                };
                self.report(
                    used.position,
                    ProblemKind::UndefinedVariable,
                    format!(
                        "`{}` is not a field or computed value of this interview{hint}",
                        used.name
                    ),
                );
                ok = false;
            }
        }
        ok.then_some(expression)
    }

    fn routing(
        &mut self,
        r: &definition::Routing,
        names: &HashMap<String, Name>,
    ) -> Option<Routing> {
        let team_pattern = Regex::new("^[a-z][a-z0-9_-]*$").ok()?;
        let team_ok = |checker: &mut Self, team: &At<String>| {
            if !team_pattern.is_match(team.get()) {
                checker.report(
                    team.position(),
                    ProblemKind::Invalid,
                    format!(
                        "the team name `{}` must be lower case letters, digits, `-` and `_`",
                        team.get()
                    ),
                );
            }
        };
        match (&r.team, &r.expression) {
            (Some(team), None) => {
                team_ok(self, team);
                for (present, key) in [
                    (r.teams.as_ref().map(At::position), "teams"),
                    (r.fallback.as_ref().map(At::position), "fallback"),
                ] {
                    if let Some(at) = present {
                        self.report(
                            at,
                            ProblemKind::Invalid,
                            format!("`{key}` only goes with `expression`"),
                        );
                    }
                }
                Some(Routing::Team(team.get().clone()))
            }
            (None, Some(text)) => {
                let expression = self.expression(text, names, false);
                let teams = match &r.teams {
                    Some(teams) if !teams.get().is_empty() => teams.get().clone(),
                    _ => {
                        self.report(
                            text.position(),
                            ProblemKind::Invalid,
                            "routing by expression needs `teams`: the teams it may choose",
                        );
                        Vec::new()
                    }
                };
                let fallback = match &r.fallback {
                    Some(fallback) => {
                        team_ok(self, fallback);
                        if !teams.is_empty() && !teams.contains(fallback.get()) {
                            self.report(
                                fallback.position(),
                                ProblemKind::Invalid,
                                format!("the fallback team `{}` is not in `teams`", fallback.get()),
                            );
                        }
                        fallback.get().clone()
                    }
                    None => {
                        self.report(
                            text.position(),
                            ProblemKind::Invalid,
                            "routing by expression needs a `fallback` team",
                        );
                        String::new()
                    }
                };
                Some(Routing::Choose {
                    expression: expression?,
                    teams,
                    fallback,
                })
            }
            (Some(team), Some(_)) => {
                self.report(
                    team.position(),
                    ProblemKind::Invalid,
                    "routing takes either `team` or `expression`, not both",
                );
                None
            }
            (None, None) => {
                self.report(
                    Position { line: 1, column: 1 },
                    ProblemKind::Invalid,
                    "routing needs a `team`, or an `expression` with `teams` and a `fallback`",
                );
                None
            }
        }
    }

    /// Orders computed values so each comes after those it uses; reports
    /// cycles.
    fn order_computed(&mut self, computed: Vec<Computed>) -> Vec<Computed> {
        let ids: HashMap<String, usize> = computed
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let uses: Vec<Vec<usize>> = computed
            .iter()
            .map(|c| {
                c.expression
                    .names()
                    .iter()
                    .filter_map(|n| ids.get(&n.name).copied())
                    .collect()
            })
            .collect();
        // Depth-first, with the path kept to name a cycle.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        let mut marks = vec![Mark::New; computed.len()];
        let mut order = Vec::new();
        let mut cycles = Vec::new();
        fn visit(
            i: usize,
            uses: &[Vec<usize>],
            marks: &mut [Mark],
            path: &mut Vec<usize>,
            order: &mut Vec<usize>,
            cycles: &mut Vec<Vec<usize>>,
        ) {
            match marks[i] {
                Mark::Done => return,
                Mark::Open => {
                    let from = path.iter().position(|&p| p == i).unwrap_or(0);
                    let mut cycle = path[from..].to_vec();
                    cycle.push(i);
                    cycles.push(cycle);
                    return;
                }
                Mark::New => {}
            }
            marks[i] = Mark::Open;
            path.push(i);
            for &next in &uses[i] {
                visit(next, uses, marks, path, order, cycles);
            }
            path.pop();
            marks[i] = Mark::Done;
            order.push(i);
        }
        for i in 0..computed.len() {
            visit(
                i,
                &uses,
                &mut marks,
                &mut Vec::new(),
                &mut order,
                &mut cycles,
            );
        }
        for cycle in cycles {
            let names: Vec<&str> = cycle.iter().map(|&i| computed[i].id.as_str()).collect();
            let first = cycle[0];
            self.report(
                computed[first].expression.position(),
                ProblemKind::Cycle,
                format!(
                    "computed values depend on each other in a circle: {}",
                    names.join(" -> ")
                ),
            );
        }
        let mut slots: Vec<Option<Computed>> = computed.into_iter().map(Some).collect();
        order.into_iter().filter_map(|i| slots[i].take()).collect()
    }

    /// Refuses conditions that depend on a question asked at or after them:
    /// they could never be true when reached.
    fn ordering(
        &mut self,
        screens: &[Screen],
        computed: &[Computed],
        names: &HashMap<String, Name>,
    ) {
        // The fields each computed value reads, directly or through others
        // (computed is in dependency order, so one pass suffices).
        let mut reads: HashMap<&str, BTreeSet<Place>> = HashMap::new();
        for c in computed {
            let mut places = BTreeSet::new();
            for used in c.expression.names() {
                match names.get(&used.name) {
                    Some(Name::Field(place)) => {
                        places.insert(*place);
                    }
                    Some(Name::Computed) => {
                        places.extend(reads.get(used.name.as_str()).into_iter().flatten().copied());
                    }
                    _ => {}
                }
            }
            reads.insert(&c.id, places);
        }
        let latest = |expression: &Expression| -> Vec<(String, Position, Place)> {
            let mut found = Vec::new();
            for used in expression.names() {
                match names.get(&used.name) {
                    Some(Name::Field(place)) => {
                        found.push((used.name.clone(), used.position, *place))
                    }
                    Some(Name::Computed) => {
                        for place in reads.get(used.name.as_str()).into_iter().flatten() {
                            found.push((used.name.clone(), used.position, *place));
                        }
                    }
                    _ => {}
                }
            }
            found
        };
        for (s, screen) in screens.iter().enumerate() {
            if let Some(condition) = &screen.show_if {
                for (name, position, place) in latest(condition) {
                    if place.screen >= s {
                        self.report(
                            position,
                            ProblemKind::Unreachable,
                            format!(
                                "the screen `{}` can never be shown: its condition uses `{name}`, which is asked on {}",
                                screen.id,
                                if place.screen == s { "this screen".to_owned() } else { format!("the later screen `{}`", screens[place.screen].id) }
                            ),
                        );
                    }
                }
                if condition.names().is_empty() {
                    let context = Bindings::default().context(&Arc::new(cel::Env::stdlib()));
                    if !condition.holds(&context) {
                        self.report(
                            condition.position(),
                            ProblemKind::Unreachable,
                            format!(
                                "the screen `{}` can never be shown: its condition is always false",
                                screen.id
                            ),
                        );
                    }
                }
            }
            for (f, field) in screen.fields.iter().enumerate() {
                let conditions = field
                    .show_if
                    .iter()
                    .chain(field.group.iter().filter_map(|m| m.show_if.as_ref()));
                for condition in conditions {
                    for (name, position, place) in latest(condition) {
                        if place
                            >= (Place {
                                screen: s,
                                field: f,
                            })
                        {
                            self.report(
                                position,
                                ProblemKind::Unreachable,
                                format!(
                                    "the question `{}` would be asked before `{name}`, which its condition uses; ask `{name}` first",
                                    field.id
                                ),
                            );
                        }
                    }
                }
            }
        }
    }

    /// Evaluates every expression with sample answers, reporting operations
    /// on the wrong types and results of the wrong type for their place.
    fn types(&mut self, interview: &Interview) {
        for sample in [Sample::Full, Sample::Other] {
            let bindings = Bindings::sample(interview, sample);
            let context = bindings.context(&interview.env);
            let check =
                |checker: &mut Self,
                 expression: &Expression,
                 want: Want,
                 context: &cel::Context<'_, '_>| match expression.eval(context) {
                    Err(error) if expr::is_type_error(&error) => checker.report(
                        expression.position(),
                        ProblemKind::TypeError,
                        format!("this expression cannot work: {error}"),
                    ),
                    Ok(value) if !want.accepts(&value) => checker.report(
                        expression.position(),
                        ProblemKind::TypeError,
                        format!(
                            "this expression gives {}, where {} is needed",
                            expr::type_name(&value),
                            want.describe()
                        ),
                    ),
                    _ => {}
                };
            for screen in &interview.screens {
                if let Some(condition) = &screen.show_if {
                    check(self, condition, Want::Bool, &context);
                }
                for field in &screen.fields {
                    if let Some(condition) = &field.show_if {
                        check(self, condition, Want::Bool, &context);
                    }
                    for member in &field.group {
                        if let Some(condition) = &member.show_if {
                            let mut inner = context.new_inner_scope();
                            inner.add_variable_from_value(
                                "item",
                                Bindings::sample_instance(field, sample),
                            );
                            check(self, condition, Want::Bool, &inner);
                        }
                    }
                }
            }
            for c in &interview.computed {
                check(self, &c.expression, Want::Computed(c.kind), &context);
            }
            if let Routing::Choose { expression, .. } = &interview.routing {
                check(self, expression, Want::Text, &context);
            }
        }
    }
}

/// What a name in an expression refers to.
enum Name {
    Field(Place),
    Note,
    Computed,
}

/// The two sets of sample answers types are checked with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Sample {
    /// Every question answered: text, 1, true, the first choice, one
    /// instance of each group.
    Full,
    /// Every question answered differently: empty text, 0, false, the last
    /// choice, no group instances.
    Other,
}

/// The type an expression must give.
#[derive(Clone, Copy)]
enum Want {
    Bool,
    Text,
    Computed(ComputedKind),
}

impl Want {
    fn accepts(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (_, Value::Null)
                | (
                    Want::Bool | Want::Computed(ComputedKind::YesNo),
                    Value::Bool(_)
                )
                | (
                    Want::Text | Want::Computed(ComputedKind::Text),
                    Value::String(_)
                )
                | (Want::Computed(ComputedKind::Number), Value::Int(_))
                | (
                    Want::Computed(ComputedKind::Money),
                    Value::Float(_) | Value::Int(_)
                )
        )
    }

    fn describe(self) -> &'static str {
        match self {
            Want::Bool | Want::Computed(ComputedKind::YesNo) => "a yes/no (bool)",
            Want::Text | Want::Computed(ComputedKind::Text) => "text (string)",
            Want::Computed(ComputedKind::Number) => "a whole number (int)",
            Want::Computed(ComputedKind::Money) => "an amount (double)",
        }
    }
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
