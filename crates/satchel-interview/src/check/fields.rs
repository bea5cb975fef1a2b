//! Checking each field on its own: the keys that apply to its type, its
//! choices, mask, group and validation rules.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use super::{Checker, kind_name};
use crate::definition::{self, At, Position};
use crate::model::{Choice, Classification, Field, FieldKind, Rules, Texts};
use crate::problem::ProblemKind;

impl Checker<'_> {
    /// Checks one field on its own and builds its model.
    pub(super) fn field(
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
}
