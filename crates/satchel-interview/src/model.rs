//! A checked interview, ready to run.
//!
//! [`crate::check`] builds an [`Interview`] only from a definition with no
//! problems, so everything here can be relied on: ids are unique, every
//! expression compiled and names only what exists, every text has every
//! language, computed values are in an order where each comes after what it
//! uses.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use regex::Regex;

pub use crate::definition::{Classification, ComputedKind, FieldKind};
use crate::expr::Expression;

/// Text in each of the interview's languages.
pub type Texts = BTreeMap<String, String>;

/// A checked interview definition.
pub struct Interview {
    pub(crate) id: String,
    pub(crate) version: u32,
    pub(crate) title: Texts,
    pub(crate) description: Option<Texts>,
    pub(crate) languages: Vec<String>,
    pub(crate) quick_exit: bool,
    pub(crate) screens: Vec<Screen>,
    /// Where each top-level field is: screen index, field index.
    pub(crate) index: HashMap<String, (usize, usize)>,
    /// In an order where each comes after every value it uses.
    pub(crate) computed: Vec<Computed>,
    pub(crate) routing: Routing,
    /// CEL's standard functions, made once: every evaluation context
    /// shares them.
    pub(crate) env: Arc<cel::Env>,
}

#[derive(Debug)]
pub(crate) struct Screen {
    pub id: String,
    pub title: Texts,
    pub help: Option<Texts>,
    pub show_if: Option<Expression>,
    pub fields: Vec<Field>,
}

#[derive(Debug)]
pub(crate) struct Field {
    pub id: String,
    pub kind: FieldKind,
    pub label: Texts,
    pub help: Option<Texts>,
    pub required: bool,
    pub classification: Classification,
    pub show_if: Option<Expression>,
    pub rules: Rules,
    pub choices: Vec<Choice>,
    pub mask: Option<String>,
    pub accept: Vec<String>,
    pub max_size: Option<u64>,
    pub max_files: u32,
    /// The questions of a repeat group.
    pub group: Vec<Field>,
    pub min: u32,
    pub max: Option<u32>,
    pub item_label: Option<Texts>,
    pub conflict_check: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Rules {
    pub pattern: Option<Regex>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub message: Option<Texts>,
}

#[derive(Debug)]
pub(crate) struct Choice {
    pub value: String,
    pub label: Texts,
}

#[derive(Debug)]
pub(crate) struct Computed {
    pub id: String,
    pub kind: ComputedKind,
    pub expression: Expression,
    pub label: Option<Texts>,
    pub classification: Classification,
}

#[derive(Debug)]
pub(crate) enum Routing {
    Team(String),
    Choose {
        expression: Expression,
        teams: Vec<String>,
        fallback: String,
    },
}

impl std::fmt::Debug for Interview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interview")
            .field("id", &self.id)
            .field("version", &self.version)
            .field("languages", &self.languages)
            .field("screens", &self.screens)
            .field("computed", &self.computed)
            .field("routing", &self.routing)
            .finish_non_exhaustive()
    }
}

impl Interview {
    /// The interview's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The definition's version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The title in `language`, or in the default language.
    pub fn title(&self, language: &str) -> &str {
        self.text(&self.title, language)
    }

    /// The description in `language`, if the interview has one.
    pub fn description(&self, language: &str) -> Option<&str> {
        self.description.as_ref().map(|d| self.text(d, language))
    }

    /// The languages the interview is written in; the first is the default.
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// Whether the app should offer a "leave quickly" control.
    pub fn quick_exit(&self) -> bool {
        self.quick_exit
    }

    /// How many screens the interview has, shown or not.
    pub fn screen_count(&self) -> usize {
        self.screens.len()
    }

    /// The ids of its screens, in order, shown or not.
    pub fn screen_ids(&self) -> impl Iterator<Item = &str> {
        self.screens.iter().map(|s| s.id.as_str())
    }

    /// How many questions it has, counting those inside repeat groups.
    pub fn field_count(&self) -> usize {
        fn count(fields: &[Field]) -> usize {
            fields.iter().map(|f| 1 + count(&f.group)).sum()
        }
        self.screens.iter().map(|s| count(&s.fields)).sum()
    }

    /// Picks `texts` in `language`, falling back to the default language.
    /// A checked interview has every text in every language, so the
    /// fallback only serves a language the interview does not list.
    pub(crate) fn text<'a>(&self, texts: &'a Texts, language: &str) -> &'a str {
        texts
            .get(language)
            .or_else(|| self.languages.first().and_then(|l| texts.get(l)))
            .or_else(|| texts.values().next())
            .map_or("", String::as_str)
    }

    /// The top-level field `id`.
    pub(crate) fn field(&self, id: &str) -> Option<&Field> {
        let &(screen, field) = self.index.get(id)?;
        self.screens.get(screen)?.fields.get(field)
    }
}

impl Field {
    /// Whether the field holds an answer (a note does not).
    pub(crate) fn answers(&self) -> bool {
        self.kind != FieldKind::Note
    }

    /// The question `id` inside this repeat group.
    pub(crate) fn member(&self, id: &str) -> Option<&Field> {
        self.group.iter().find(|f| f.id == id)
    }
}
