//! Checking expressions: the names they use, routing, the order of
//! computed values, conditions that depend on later questions, and types
//! found by evaluating each with sample answers.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cel::Value;
use regex::Regex;

use super::{Checker, Name, Place};
use crate::definition::{self, At, Position};
use crate::expr::{self, Expression};
use crate::model::{Computed, ComputedKind, Interview, Routing, Screen};
use crate::problem::ProblemKind;
use crate::vars::Bindings;

impl Checker<'_> {
    /// Compiles an expression and checks every name it uses exists.
    pub(super) fn expression(
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

    pub(super) fn routing(
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
    pub(super) fn order_computed(&mut self, computed: Vec<Computed>) -> Vec<Computed> {
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
    pub(super) fn ordering(
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
    pub(super) fn types(&mut self, interview: &Interview) {
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
