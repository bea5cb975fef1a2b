//! Running an interview: one screen at a time, answers checked as they
//! arrive, hidden screens skipped, and a submission that holds exactly what
//! was asked.
//!
//! A [`Run`] pairs a checked [`Interview`] with a [`Draft`], the whole state
//! of one person's answers. The draft is plain data: the vault stores it
//! after every answer, and [`Run::resume`] continues exactly where it
//! stopped. Nothing here does I/O.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::answer::{self, Wrong};
use crate::model::{Classification, ComputedKind, Field, FieldKind, Interview, Routing, Texts};
use crate::vars::Bindings;

/// The most bytes one answer may take, as JSON. Far above any real answer;
/// it keeps a runaway input from filling the draft.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// One person's progress through an interview: everything needed to carry
/// on later.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub interview: String,
    pub version: u32,
    pub language: String,
    pub step: Step,
    /// Answers by field id. A repeat group holds a list of instances, each
    /// a map from question id to answer. An answer that was refused is kept
    /// as given, so nothing typed is lost; it counts as unanswered until
    /// it is put right.
    pub answers: BTreeMap<String, Json>,
}

/// Where a draft is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// On the screen with this id.
    Screen(String),
    /// Past the last screen: reviewing, ready to finalize.
    Review,
}

/// A question to answer: a field id, or a question inside one instance of
/// a repeat group, written `group.index.field` (instances from 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub field: String,
    pub instance: Option<(usize, String)>,
}

impl Target {
    pub fn field(id: &str) -> Self {
        Self {
            field: id.to_owned(),
            instance: None,
        }
    }

    pub fn member(group: &str, index: usize, id: &str) -> Self {
        Self {
            field: group.to_owned(),
            instance: Some((index, id.to_owned())),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.instance {
            None => f.write_str(&self.field),
            Some((index, member)) => write!(f, "{}.{index}.{member}", self.field),
        }
    }
}

impl FromStr for Target {
    type Err = EngineError;

    fn from_str(text: &str) -> Result<Self, EngineError> {
        let parts: Vec<&str> = text.split('.').collect();
        match parts.as_slice() {
            [field] if !field.is_empty() => Ok(Self::field(field)),
            [group, index, member] => {
                let index = index
                    .parse()
                    .map_err(|_| EngineError::UnknownTarget(text.to_owned()))?;
                Ok(Self::member(group, index, member))
            }
            _ => Err(EngineError::UnknownTarget(text.to_owned())),
        }
    }
}

/// A refused answer, or a question that still needs one, with what to tell
/// the person in the interview's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub target: String,
    pub message: String,
}

/// A request the engine cannot carry out. These are mistakes of the
/// program driving the engine, not of the person answering; the messages
/// say what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error(
        "this draft is for `{draft}` version {draft_version}, not `{interview}` version {version}"
    )]
    WrongInterview {
        draft: String,
        draft_version: u32,
        interview: String,
        version: u32,
    },
    #[error("the interview is not written in `{0}`")]
    UnknownLanguage(String),
    #[error("`{0}` is not a question of this interview")]
    UnknownTarget(String),
    #[error("`{0}` is not a repeat group")]
    NotAGroup(String),
    #[error("`{0}` has no instance {1}")]
    NoSuchInstance(String, usize),
    #[error("`{0}` is not a screen that is shown")]
    NoSuchScreen(String),
    #[error("the answer to `{0}` is larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge(String),
    #[error("{}: {}", .0.target, .0.message)]
    Refused(FieldError),
}

/// How far along a draft is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Screens shown so far, before the current one.
    pub done: usize,
    /// Screens the interview will show, given the answers so far.
    pub total: usize,
    /// `done` of `total`, from 0 to 100; 100 at review.
    pub percent: u8,
}

/// The current screen, with only the questions that are shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenView {
    pub id: String,
    pub title: String,
    pub help: Option<String>,
    pub fields: Vec<FieldView>,
}

/// One question as the person sees it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldView {
    /// What to pass to [`Run::set`].
    pub target: String,
    pub kind: FieldKind,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub classification: Classification,
    /// The stored answer, if any.
    pub value: Option<Json>,
    /// What is wrong with the stored answer, if anything. A missing
    /// required answer is only reported by [`Run::forward`].
    pub error: Option<String>,
    pub choices: Vec<ChoiceView>,
    pub mask: Option<String>,
    pub accept: Vec<String>,
    pub max_size: Option<u64>,
    pub max_files: u32,
    /// For a repeat group: its instances, each with its shown questions.
    pub instances: Vec<InstanceView>,
    pub min: u32,
    pub max: Option<u32>,
    pub item_label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceView {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceView {
    pub index: usize,
    pub fields: Vec<FieldView>,
}

/// Every shown answer of one screen, for the review before finalizing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewScreen {
    pub id: String,
    pub title: String,
    pub items: Vec<ReviewItem>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub target: String,
    pub label: String,
    /// The answer as a person reads it: choice labels rather than values,
    /// "Yes"/"No", file names.
    pub shown: String,
    pub classification: Classification,
}

/// What finalizing produces: the answers that were asked, and where they go.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub interview: String,
    pub version: u32,
    pub language: String,
    /// Every shown, answered question by id. A repeat group's value is a
    /// list of instances, each a map from question id to a
    /// `{ value, classification }` of its own.
    pub answers: BTreeMap<String, Submitted>,
    /// Computed values that have a value.
    pub computed: BTreeMap<String, Submitted>,
    /// The highest classification among the answers and computed values.
    pub classification: Classification,
    /// Names the organisation must check for conflicts of interest.
    pub conflict_names: Vec<String>,
    pub routing: RoutingResult,
}

/// One answer in a submission.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    pub value: Json,
    pub classification: Classification,
}

/// The team a submission goes to, and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingResult {
    pub team: String,
    pub by: RoutedBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutedBy {
    /// The interview names one team.
    Fixed,
    /// The routing expression chose a listed team.
    Expression,
    /// The expression failed or chose no listed team.
    Fallback,
}

// Debug output of what holds answers names fields and counts them but
// never shows a value: Debug text ends up in logs and panic messages, and
// answers are a client's privileged facts.

/// How Debug shows a value it withholds.
struct Withheld;

impl fmt::Debug for Withheld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<withheld>")
    }
}

impl fmt::Debug for Draft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Draft")
            .field("interview", &self.interview)
            .field("version", &self.version)
            .field("language", &self.language)
            .field("step", &self.step)
            .field("answered", &self.answers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for FieldView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldView")
            .field("target", &self.target)
            .field("kind", &self.kind)
            .field("required", &self.required)
            .field("answered", &self.value.is_some())
            .field("error", &self.error)
            .field("instances", &self.instances)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ReviewItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReviewItem")
            .field("target", &self.target)
            .field("shown", &Withheld)
            .field("classification", &self.classification)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Submitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Submitted")
            .field("value", &Withheld)
            .field("classification", &self.classification)
            .finish()
    }
}

impl fmt::Debug for Submission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Submission")
            .field("interview", &self.interview)
            .field("version", &self.version)
            .field("language", &self.language)
            .field("answers", &self.answers)
            .field("computed", &self.computed)
            .field("classification", &self.classification)
            .field("conflict_names", &Withheld)
            .field("routing", &self.routing)
            .finish()
    }
}

/// An interview being answered.
#[derive(Debug)]
pub struct Run<'i> {
    interview: &'i Interview,
    draft: Draft,
}

impl<'i> Run<'i> {
    /// Starts a new draft on the first screen that is shown.
    pub fn start(interview: &'i Interview, language: &str) -> Result<Self, EngineError> {
        if !interview.languages.iter().any(|l| l == language) {
            return Err(EngineError::UnknownLanguage(language.to_owned()));
        }
        let mut run = Self {
            interview,
            draft: Draft {
                interview: interview.id.clone(),
                version: interview.version,
                language: language.to_owned(),
                step: Step::Review,
                answers: BTreeMap::new(),
            },
        };
        run.draft.step = run.first_from(0);
        Ok(run)
    }

    /// Carries on with a saved draft, on the screen it was on (or the
    /// next shown one, if that screen is no longer shown).
    pub fn resume(interview: &'i Interview, draft: Draft) -> Result<Self, EngineError> {
        if draft.interview != interview.id || draft.version != interview.version {
            return Err(EngineError::WrongInterview {
                draft: draft.interview,
                draft_version: draft.version,
                interview: interview.id.clone(),
                version: interview.version,
            });
        }
        if !interview.languages.contains(&draft.language) {
            return Err(EngineError::UnknownLanguage(draft.language));
        }
        let mut run = Self { interview, draft };
        if let Step::Screen(id) = &run.draft.step {
            let index = run
                .screen_index(id)
                .ok_or_else(|| EngineError::NoSuchScreen(id.clone()))?;
            run.draft.step = run.first_from(index);
        }
        Ok(run)
    }

    pub fn interview(&self) -> &'i Interview {
        self.interview
    }

    /// The state to save.
    pub fn draft(&self) -> &Draft {
        &self.draft
    }

    pub fn into_draft(self) -> Draft {
        self.draft
    }

    pub fn step(&self) -> &Step {
        &self.draft.step
    }

    /// Switches the language questions and messages are given in.
    pub fn set_language(&mut self, language: &str) -> Result<(), EngineError> {
        if !self.interview.languages.iter().any(|l| l == language) {
            return Err(EngineError::UnknownLanguage(language.to_owned()));
        }
        language.clone_into(&mut self.draft.language);
        Ok(())
    }

    /// Stores an answer. An empty answer (`null`, blank text, an empty
    /// list) clears it. A refused answer is kept as given, so nothing is
    /// lost, and the error says what to put right; it counts as
    /// unanswered until then.
    pub fn set(&mut self, target: &Target, input: Json) -> Result<(), EngineError> {
        let size = serde_json::to_vec(&input).map_or(usize::MAX, |bytes| bytes.len());
        if size > MAX_ANSWER_BYTES {
            return Err(EngineError::TooLarge(target.to_string()));
        }
        let field = self.question(target)?;
        let result = answer::normalize(field, &input);
        let stored = match &result {
            Ok(normalized) => normalized.clone(),
            Err(_) => Some(input),
        };
        let refusal = result.err().map(|wrong| self.error(target, field, &wrong));
        match (&target.instance, stored) {
            (None, Some(value)) => {
                self.draft.answers.insert(target.field.clone(), value);
            }
            (None, None) => {
                self.draft.answers.remove(&target.field);
            }
            (Some((index, member)), stored) => {
                let instance = match self.draft.answers.get_mut(&target.field) {
                    Some(Json::Array(list)) => list.get_mut(*index),
                    _ => None,
                };
                let Some(Json::Object(instance)) = instance else {
                    return Err(EngineError::NoSuchInstance(target.field.clone(), *index));
                };
                match stored {
                    Some(value) => instance.insert(member.clone(), value),
                    None => instance.remove(member),
                };
            }
        }
        match refusal {
            Some(error) => Err(EngineError::Refused(error)),
            None => Ok(()),
        }
    }

    /// Adds an instance to a repeat group; returns its index.
    pub fn add_instance(&mut self, group: &str) -> Result<usize, EngineError> {
        let field = self.group(group)?;
        let count = self.instances(group).len();
        if let Some(max) = field.max.filter(|&max| count >= max as usize) {
            return Err(EngineError::Refused(self.error(
                &Target::field(group),
                field,
                &Wrong::TooMany(max),
            )));
        }
        let slot = self
            .draft
            .answers
            .entry(group.to_owned())
            .or_insert_with(|| Json::Array(Vec::new()));
        match slot {
            Json::Array(list) => {
                list.push(Json::Object(Map::new()));
                Ok(list.len() - 1)
            }
            // Only a hand-edited draft holds anything else for a group.
            _ => Err(EngineError::NotAGroup(group.to_owned())),
        }
    }

    /// Removes one instance of a repeat group, with its answers.
    pub fn remove_instance(&mut self, group: &str, index: usize) -> Result<(), EngineError> {
        self.group(group)?;
        match self.draft.answers.get_mut(group) {
            Some(Json::Array(list)) if index < list.len() => {
                list.remove(index);
                if list.is_empty() {
                    self.draft.answers.remove(group);
                }
                Ok(())
            }
            _ => Err(EngineError::NoSuchInstance(group.to_owned(), index)),
        }
    }

    /// The current screen with only its shown questions; `None` at review.
    pub fn screen(&self) -> Option<ScreenView> {
        let Step::Screen(id) = &self.draft.step else {
            return None;
        };
        let screen = self.interview.screens.iter().find(|s| &s.id == id)?;
        let bindings = Bindings::answers(self.interview, &self.draft.answers);
        let context = bindings.context(&self.interview.env);
        let language = &self.draft.language;
        let fields = screen
            .fields
            .iter()
            .filter(|f| f.show_if.as_ref().is_none_or(|c| c.holds(&context)))
            .map(|f| self.field_view(f, &context, None))
            .collect();
        Some(ScreenView {
            id: screen.id.clone(),
            title: self.interview.text(&screen.title, language).to_owned(),
            help: screen
                .help
                .as_ref()
                .map(|h| self.interview.text(h, language).to_owned()),
            fields,
        })
    }

    /// What is missing or wrong on the current screen.
    pub fn problems(&self) -> Vec<FieldError> {
        match &self.draft.step {
            Step::Screen(id) => match self.screen_index(id) {
                Some(index) => {
                    let bindings = Bindings::answers(self.interview, &self.draft.answers);
                    self.screen_problems(index, &bindings.context(&self.interview.env))
                }
                None => Vec::new(),
            },
            Step::Review => Vec::new(),
        }
    }

    /// Moves to the next shown screen, or to review after the last, if
    /// every shown question on this screen is answered as it must be.
    pub fn forward(&mut self) -> Result<Step, Vec<FieldError>> {
        let Step::Screen(id) = &self.draft.step else {
            return Ok(Step::Review);
        };
        let Some(index) = self.screen_index(id) else {
            return Ok(Step::Review);
        };
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        self.draft.step = self.first_from(index + 1);
        Ok(self.draft.step.clone())
    }

    /// Moves to the previous shown screen; stays on the first. From
    /// review, goes to the last shown screen. Answers are kept.
    pub fn back(&mut self) -> Step {
        let before = match &self.draft.step {
            Step::Screen(id) => self.screen_index(id).unwrap_or(0),
            Step::Review => self.interview.screens.len(),
        };
        let shown = self.shown_screens();
        if let Some(&previous) = shown.iter().rev().find(|&&s| s < before) {
            self.draft.step = Step::Screen(self.interview.screens[previous].id.clone());
        }
        self.draft.step.clone()
    }

    /// Goes straight to a shown screen, as from the review to change an
    /// answer.
    pub fn go_to(&mut self, screen: &str) -> Result<(), EngineError> {
        let index = self
            .screen_index(screen)
            .ok_or_else(|| EngineError::NoSuchScreen(screen.to_owned()))?;
        if !self.shown_screens().contains(&index) {
            return Err(EngineError::NoSuchScreen(screen.to_owned()));
        }
        self.draft.step = Step::Screen(screen.to_owned());
        Ok(())
    }

    /// How far along the draft is, among the screens shown now.
    pub fn progress(&self) -> Progress {
        let shown = self.shown_screens();
        let total = shown.len();
        let done = match &self.draft.step {
            Step::Screen(id) => {
                let index = self.screen_index(id).unwrap_or(0);
                shown.iter().filter(|&&s| s < index).count()
            }
            Step::Review => total,
        };
        let percent = (done * 100).checked_div(total).map_or(100, |p| p as u8);
        Progress {
            done,
            total,
            percent,
        }
    }

    /// Every shown answer, screen by screen.
    pub fn review(&self) -> Vec<ReviewScreen> {
        let bindings = Bindings::answers(self.interview, &self.draft.answers);
        let context = bindings.context(&self.interview.env);
        let language = &self.draft.language;
        let mut screens = Vec::new();
        for index in self.shown_screens_in(&context) {
            let screen = &self.interview.screens[index];
            let mut items = Vec::new();
            for field in self.shown_fields(index, &context) {
                if field.kind == FieldKind::Repeat {
                    for (i, instance) in self.instances(&field.id).iter().enumerate() {
                        for member in self.shown_members(field, instance, &context) {
                            if let Some(value) = instance.get(&member.id) {
                                let target = Target::member(&field.id, i, &member.id);
                                items.push(self.review_item(&target, member, value));
                            }
                        }
                    }
                } else if let Some(value) = self.draft.answers.get(&field.id) {
                    items.push(self.review_item(&Target::field(&field.id), field, value));
                }
            }
            screens.push(ReviewScreen {
                id: screen.id.clone(),
                title: self.interview.text(&screen.title, language).to_owned(),
                items,
            });
        }
        screens
    }

    /// The computed values that have a label, as the review shows them
    /// (an eligibility result, a household size).
    pub fn worked_out(&self) -> Vec<ReviewItem> {
        let bindings = Bindings::answers(self.interview, &self.draft.answers);
        let language = &self.draft.language;
        self.interview
            .computed
            .iter()
            .filter_map(|c| {
                let label = c.label.as_ref()?;
                let value = computed_json(c.kind, bindings.get(&c.id)?)?;
                let shown = match value {
                    Json::Bool(true) if language == "es" => "Sí".to_owned(),
                    Json::Bool(true) => "Yes".to_owned(),
                    Json::Bool(false) => "No".to_owned(),
                    Json::String(text) => text,
                    other => other.to_string(),
                };
                Some(ReviewItem {
                    target: c.id.clone(),
                    label: self.interview.text(label, language).to_owned(),
                    shown,
                    classification: c.classification,
                })
            })
            .collect()
    }

    /// The submission, if every shown question is answered as it must be;
    /// otherwise every problem, screen by screen. Answers to questions or
    /// screens that are hidden now are left out.
    pub fn finalize(&self) -> Result<Submission, Vec<FieldError>> {
        let bindings = Bindings::answers(self.interview, &self.draft.answers);
        let context = bindings.context(&self.interview.env);
        let shown = self.shown_screens_in(&context);
        let problems: Vec<FieldError> = shown
            .iter()
            .flat_map(|&s| self.screen_problems(s, &context))
            .collect();
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut answers = BTreeMap::new();
        let mut conflict_names = Vec::new();
        let mut highest = Classification::Public;
        for &index in &shown {
            for field in self.shown_fields(index, &context) {
                let value = if field.kind == FieldKind::Repeat {
                    let instances: Vec<Json> = self
                        .instances(&field.id)
                        .iter()
                        .map(|instance| {
                            let mut kept = Map::new();
                            for member in self.shown_members(field, instance, &context) {
                                let Some(value) = normalized(member, instance.get(&member.id))
                                else {
                                    continue;
                                };
                                if member.conflict_check {
                                    conflict_names.extend(value.as_str().map(str::to_owned));
                                }
                                highest = highest.max(member.classification);
                                let submitted = Submitted {
                                    value,
                                    classification: member.classification,
                                };
                                kept.insert(
                                    member.id.clone(),
                                    serde_json::to_value(submitted).unwrap_or(Json::Null),
                                );
                            }
                            Json::Object(kept)
                        })
                        .collect();
                    if instances.is_empty() {
                        continue;
                    }
                    Json::Array(instances)
                } else {
                    let Some(value) = normalized(field, self.draft.answers.get(&field.id)) else {
                        continue;
                    };
                    if field.conflict_check {
                        conflict_names.extend(value.as_str().map(str::to_owned));
                    }
                    value
                };
                highest = highest.max(field.classification);
                answers.insert(
                    field.id.clone(),
                    Submitted {
                        value,
                        classification: field.classification,
                    },
                );
            }
        }
        let mut computed = BTreeMap::new();
        for c in &self.interview.computed {
            let Some(value) = bindings.get(&c.id).and_then(|v| computed_json(c.kind, v)) else {
                continue;
            };
            highest = highest.max(c.classification);
            computed.insert(
                c.id.clone(),
                Submitted {
                    value,
                    classification: c.classification,
                },
            );
        }
        Ok(Submission {
            interview: self.interview.id.clone(),
            version: self.interview.version,
            language: self.draft.language.clone(),
            answers,
            computed,
            classification: highest,
            conflict_names,
            routing: self.route(&context),
        })
    }

    fn route(&self, context: &cel::Context<'_, '_>) -> RoutingResult {
        match &self.interview.routing {
            Routing::Team(team) => RoutingResult {
                team: team.clone(),
                by: RoutedBy::Fixed,
            },
            Routing::Choose {
                expression,
                teams,
                fallback,
            } => match expression.eval(context) {
                Ok(cel::Value::String(team)) if teams.contains(&team) => RoutingResult {
                    team: team.as_str().to_owned(),
                    by: RoutedBy::Expression,
                },
                _ => RoutingResult {
                    team: fallback.clone(),
                    by: RoutedBy::Fallback,
                },
            },
        }
    }

    // The steps the public operations share.

    fn screen_index(&self, id: &str) -> Option<usize> {
        self.interview.screens.iter().position(|s| s.id == id)
    }

    fn shown_screens(&self) -> Vec<usize> {
        let bindings = Bindings::answers(self.interview, &self.draft.answers);
        self.shown_screens_in(&bindings.context(&self.interview.env))
    }

    fn shown_screens_in(&self, context: &cel::Context<'_, '_>) -> Vec<usize> {
        (0..self.interview.screens.len())
            .filter(|&s| {
                self.interview.screens[s]
                    .show_if
                    .as_ref()
                    .is_none_or(|c| c.holds(context))
            })
            .collect()
    }

    /// The first shown screen at or after `from`, or review.
    fn first_from(&self, from: usize) -> Step {
        self.shown_screens()
            .into_iter()
            .find(|&s| s >= from)
            .map_or(Step::Review, |s| {
                Step::Screen(self.interview.screens[s].id.clone())
            })
    }

    fn shown_fields<'a>(
        &'a self,
        screen: usize,
        context: &'a cel::Context<'_, '_>,
    ) -> impl Iterator<Item = &'i Field> + 'a {
        self.interview.screens[screen]
            .fields
            .iter()
            .filter(move |f| f.answers() && f.show_if.as_ref().is_none_or(|c| c.holds(context)))
    }

    fn shown_members(
        &self,
        group: &'i Field,
        instance: &Json,
        context: &cel::Context<'_, '_>,
    ) -> Vec<&'i Field> {
        let mut inner = context.new_inner_scope();
        inner.add_variable_from_value("item", answer::group_instance(group, instance));
        group
            .group
            .iter()
            .filter(|m| m.answers() && m.show_if.as_ref().is_none_or(|c| c.holds(&inner)))
            .collect()
    }

    fn instances(&self, group: &str) -> &[Json] {
        match self.draft.answers.get(group) {
            Some(Json::Array(list)) => list,
            _ => &[],
        }
    }

    fn screen_problems(&self, screen: usize, context: &cel::Context<'_, '_>) -> Vec<FieldError> {
        let mut problems = Vec::new();
        for field in self.shown_fields(screen, context) {
            if field.kind == FieldKind::Repeat {
                let instances = self.instances(&field.id);
                let count = instances.len();
                let minimum = if field.required {
                    field.min.max(1)
                } else {
                    field.min
                };
                if count < minimum as usize {
                    problems.push(self.error(
                        &Target::field(&field.id),
                        field,
                        &Wrong::TooFew(minimum),
                    ));
                }
                for (i, instance) in instances.iter().enumerate() {
                    for member in self.shown_members(field, instance, context) {
                        let target = Target::member(&field.id, i, &member.id);
                        if let Some(wrong) = answer_problem(member, instance.get(&member.id)) {
                            problems.push(self.error(&target, member, &wrong));
                        }
                    }
                }
            } else if let Some(wrong) = answer_problem(field, self.draft.answers.get(&field.id)) {
                problems.push(self.error(&Target::field(&field.id), field, &wrong));
            }
        }
        problems
    }

    fn error(&self, target: &Target, field: &Field, wrong: &Wrong) -> FieldError {
        FieldError {
            target: target.to_string(),
            message: answer::message(self.interview, field, wrong, &self.draft.language),
        }
    }

    /// The question a target names.
    fn question(&self, target: &Target) -> Result<&'i Field, EngineError> {
        let unknown = || EngineError::UnknownTarget(target.to_string());
        let field = self.interview.field(&target.field).ok_or_else(unknown)?;
        match (&target.instance, field.kind) {
            (None, FieldKind::Repeat | FieldKind::Note) => Err(unknown()),
            (None, _) => Ok(field),
            (Some((_, member)), FieldKind::Repeat) => field
                .member(member)
                .filter(|m| m.answers())
                .ok_or_else(unknown),
            (Some(_), _) => Err(unknown()),
        }
    }

    fn group(&self, id: &str) -> Result<&'i Field, EngineError> {
        match self.interview.field(id) {
            Some(field) if field.kind == FieldKind::Repeat => Ok(field),
            _ => Err(EngineError::NotAGroup(id.to_owned())),
        }
    }

    fn field_view(
        &self,
        field: &Field,
        context: &cel::Context<'_, '_>,
        instance: Option<(usize, &Field, &Json)>,
    ) -> FieldView {
        let language = &self.draft.language;
        let text = |t: &Texts| self.interview.text(t, language).to_owned();
        let (target, stored) = match instance {
            None => (Target::field(&field.id), self.draft.answers.get(&field.id)),
            Some((index, group, values)) => (
                Target::member(&group.id, index, &field.id),
                values.get(&field.id),
            ),
        };
        let error = stored
            .filter(|_| field.kind != FieldKind::Repeat)
            .and_then(|value| answer::normalize(field, value).err())
            .map(|wrong| answer::message(self.interview, field, &wrong, language));
        let instances = if field.kind == FieldKind::Repeat {
            self.instances(&field.id)
                .iter()
                .enumerate()
                .map(|(index, values)| InstanceView {
                    index,
                    fields: self
                        .shown_members(field, values, context)
                        .into_iter()
                        .map(|m| self.field_view(m, context, Some((index, field, values))))
                        .collect(),
                })
                .collect()
        } else {
            Vec::new()
        };
        FieldView {
            target: target.to_string(),
            kind: field.kind,
            label: text(&field.label),
            help: field.help.as_ref().map(text),
            required: field.required,
            classification: field.classification,
            value: if field.kind == FieldKind::Repeat {
                None
            } else {
                stored.cloned()
            },
            error,
            choices: field
                .choices
                .iter()
                .map(|c| ChoiceView {
                    value: c.value.clone(),
                    label: text(&c.label),
                })
                .collect(),
            mask: field.mask.clone(),
            accept: field.accept.clone(),
            max_size: field.max_size,
            max_files: field.max_files,
            instances,
            min: field.min,
            max: field.max,
            item_label: field.item_label.as_ref().map(text),
        }
    }

    fn review_item(&self, target: &Target, field: &Field, value: &Json) -> ReviewItem {
        let language = &self.draft.language;
        let spanish = language == "es";
        let choice_label = |v: &str| {
            field.choices.iter().find(|c| c.value == v).map_or_else(
                || v.to_owned(),
                |c| self.interview.text(&c.label, language).to_owned(),
            )
        };
        let shown = match (field.kind, value) {
            (FieldKind::YesNo, Json::Bool(true)) => (if spanish { "Sí" } else { "Yes" }).to_owned(),
            (FieldKind::YesNo, Json::Bool(false)) => "No".to_owned(),
            (FieldKind::SingleChoice, Json::String(v)) => choice_label(v),
            (FieldKind::MultipleChoice, Json::Array(items)) => items
                .iter()
                .filter_map(Json::as_str)
                .map(choice_label)
                .collect::<Vec<_>>()
                .join(", "),
            (FieldKind::File, Json::Array(items)) => items
                .iter()
                .filter_map(|i| i.get("name").and_then(Json::as_str))
                .collect::<Vec<_>>()
                .join(", "),
            (_, Json::String(s)) => s.clone(),
            (_, other) => other.to_string(),
        };
        ReviewItem {
            target: target.to_string(),
            label: self.interview.text(&field.label, language).to_owned(),
            shown,
            classification: field.classification,
        }
    }
}

/// What is wrong with the answer a question holds, if anything.
fn answer_problem(field: &Field, stored: Option<&Json>) -> Option<Wrong> {
    match stored.map(|value| answer::normalize(field, value)) {
        None | Some(Ok(None)) => field.required.then_some(Wrong::Required),
        Some(Ok(Some(_))) => None,
        Some(Err(wrong)) => Some(wrong),
    }
}

/// The stored answer in its normal form, if it is a valid answer.
fn normalized(field: &Field, stored: Option<&Json>) -> Option<Json> {
    answer::normalize(field, stored?).ok().flatten()
}

/// A computed value as JSON, in the form an answer of its type takes (an
/// amount as `"1250.00"`); `None` for null or a value of another type.
fn computed_json(kind: ComputedKind, value: &cel::Value) -> Option<Json> {
    match (kind, value) {
        (ComputedKind::YesNo, cel::Value::Bool(b)) => Some(Json::Bool(*b)),
        (ComputedKind::Number, cel::Value::Int(n)) => Some(Json::from(*n)),
        (ComputedKind::Money, cel::Value::Float(x)) if x.is_finite() => {
            Some(Json::String(format!("{x:.2}")))
        }
        (ComputedKind::Text, cel::Value::String(s)) => Some(Json::String(s.as_str().to_owned())),
        _ => None,
    }
}
