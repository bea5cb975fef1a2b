//! The variables expressions see: every answered field and every computed
//! value, by id.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cel::Value;
use serde_json::Value as Json;

use crate::answer;
use crate::check::Sample;
use crate::model::{ComputedKind, Field, FieldKind, Interview};

/// Values bound to names, ready to become a CEL context.
#[derive(Debug, Default)]
pub(crate) struct Bindings {
    values: Vec<(String, Value)>,
}

impl Bindings {
    /// A context holding these bindings and the functions of `env`.
    pub(crate) fn context(&self, env: &Arc<cel::Env>) -> cel::Context<'static, 'static> {
        let mut context = cel::Context::with_env(Arc::clone(env));
        for (name, value) in &self.values {
            context.add_variable_from_value(name.clone(), value.clone());
        }
        context
    }

    /// What expressions see of a draft's answers: every question that is
    /// shown holds its answer, every question that is hidden is `null`,
    /// even if it was answered before it was hidden, and computed values
    /// are worked out from that. A computed value whose expression fails
    /// is `null`.
    ///
    /// The checker makes sure a condition only uses questions asked before
    /// it, so one pass in interview order settles what is shown: each
    /// condition is evaluated once everything it can use is bound.
    pub(crate) fn answers(interview: &Interview, answers: &BTreeMap<String, Json>) -> Self {
        let fields = || {
            interview
                .screens
                .iter()
                .flat_map(|s| &s.fields)
                .filter(|f| f.answers())
        };
        let mut context = cel::Context::with_env(Arc::clone(&interview.env));
        for field in fields() {
            context.add_variable_from_value(field.id.clone(), Value::Null);
        }
        let mut bindings = Self::default();
        for screen in &interview.screens {
            refresh_computed(interview, &mut context);
            let screen_shown = screen.show_if.as_ref().is_none_or(|c| c.holds(&context));
            for field in screen.fields.iter().filter(|f| f.answers()) {
                let shown =
                    screen_shown && field.show_if.as_ref().is_none_or(|c| c.holds(&context));
                let value = match answers.get(&field.id) {
                    Some(stored) if shown => answer::to_cel_shown(field, stored, &context),
                    // A shown group with no instances is an empty list.
                    None if shown && field.kind == FieldKind::Repeat => {
                        Value::List(Vec::new().into())
                    }
                    _ => Value::Null,
                };
                context.add_variable_from_value(field.id.clone(), value.clone());
                bindings.values.push((field.id.clone(), value));
            }
        }
        for (id, value) in refresh_computed(interview, &mut context) {
            bindings.values.push((id, value));
        }
        bindings
    }

    /// Sample answers of every declared type, for checking expressions.
    pub(crate) fn sample(interview: &Interview, sample: Sample) -> Self {
        let mut bindings = Self::default();
        for field in interview
            .screens
            .iter()
            .flat_map(|s| &s.fields)
            .filter(|f| f.answers())
        {
            bindings
                .values
                .push((field.id.clone(), sample_value(field, sample)));
        }
        for computed in &interview.computed {
            let full = sample == Sample::Full;
            let value = match computed.kind {
                ComputedKind::Text => {
                    Value::String((if full { "a" } else { "" }).to_owned().into())
                }
                ComputedKind::Number => Value::Int(i64::from(full)),
                ComputedKind::Money => Value::Float(if full { 1.0 } else { 0.0 }),
                ComputedKind::YesNo => Value::Bool(full),
            };
            bindings.values.push((computed.id.clone(), value));
        }
        bindings
    }

    /// A sample instance of a repeat group, as `item` holds it.
    pub(crate) fn sample_instance(group: &Field, sample: Sample) -> Value {
        let map: HashMap<String, Value> = group
            .group
            .iter()
            .filter(|m| m.answers())
            .map(|m| (m.id.clone(), sample_value(m, sample)))
            .collect();
        map.into()
    }

    /// The value bound to `name`, if any.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

fn sample_value(field: &Field, sample: Sample) -> Value {
    let full = sample == Sample::Full;
    let text =
        |full_text: &str| Value::String((if full { full_text } else { "" }).to_owned().into());
    match field.kind {
        FieldKind::Text | FieldKind::LongText => text("a"),
        FieldKind::Email => text("a@example.org"),
        FieldKind::Phone => text("5550100"),
        FieldKind::Date => Value::String(
            (if full { "2026-01-01" } else { "1999-12-31" })
                .to_owned()
                .into(),
        ),
        FieldKind::Masked => {
            let mask = field.mask.as_deref().unwrap_or("#");
            let filled: String = mask
                .chars()
                .map(|c| match c {
                    '#' => '1',
                    other => other,
                })
                .collect();
            Value::String(filled.into())
        }
        FieldKind::Number => Value::Int(i64::from(full)),
        FieldKind::Money => Value::Float(if full { 1.0 } else { 0.0 }),
        FieldKind::YesNo => Value::Bool(full),
        FieldKind::SingleChoice => {
            let choice = if full {
                field.choices.first()
            } else {
                field.choices.last()
            };
            choice.map_or(Value::Null, |c| Value::String(c.value.clone().into()))
        }
        FieldKind::MultipleChoice => {
            let chosen: Vec<Value> = if full {
                field
                    .choices
                    .first()
                    .map(|c| Value::String(c.value.clone().into()))
                    .into_iter()
                    .collect()
            } else {
                Vec::new()
            };
            Value::List(chosen.into())
        }
        FieldKind::File => {
            let files: Vec<Value> = if full {
                let mut file: HashMap<String, Value> = HashMap::new();
                file.insert("name".into(), "a.pdf".into());
                file.insert("type".into(), "application/pdf".into());
                file.insert("size".into(), Value::Int(1));
                vec![file.into()]
            } else {
                Vec::new()
            };
            Value::List(files.into())
        }
        FieldKind::Repeat => {
            let instances: Vec<Value> = if full {
                vec![Bindings::sample_instance(field, sample)]
            } else {
                Vec::new()
            };
            Value::List(instances.into())
        }
        FieldKind::Note => Value::Null,
    }
}

/// Works out every computed value from what `context` holds, in order,
/// binding each as it goes; returns them.
fn refresh_computed(
    interview: &Interview,
    context: &mut cel::Context<'static, 'static>,
) -> Vec<(String, Value)> {
    let mut values = Vec::with_capacity(interview.computed.len());
    for computed in &interview.computed {
        let value = match computed.expression.eval(context) {
            Ok(Value::Int(n)) if computed.kind == ComputedKind::Money => Value::Float(n as f64),
            Ok(value) => value,
            Err(_) => Value::Null,
        };
        context.add_variable_from_value(computed.id.clone(), value.clone());
        values.push((computed.id.clone(), value));
    }
    values
}
