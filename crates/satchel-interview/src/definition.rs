//! The interview definition as an author writes it, in YAML.
//!
//! These types mirror the file one to one and know where in it each value
//! was written, so every problem found later can point at a line and a
//! column. They accept anything well-formed; whether it makes sense (ids
//! unique, expressions valid, every label translated) is decided by
//! [`crate::check`], which turns a [`Definition`] into a runnable
//! [`crate::Interview`]. `docs/INTERVIEW_FORMAT.md` describes the format for
//! authors, and `interviews/interview.schema.json` is generated from these
//! types.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// A value together with where it was written.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct At<T>(serde_saphyr::Spanned<T>);

impl<T> At<T> {
    /// The value itself.
    pub fn get(&self) -> &T {
        &self.0.value
    }

    /// Where the value starts in the file.
    pub fn position(&self) -> Position {
        let at = self.0.referenced;
        Position {
            line: at.line(),
            column: at.column(),
        }
    }

    /// The value's byte offset in the file, where known.
    pub(crate) fn byte_offset(&self) -> Option<u64> {
        self.0.referenced.span().byte_offset()
    }
}

impl<T: JsonSchema> JsonSchema for At<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A line and a column in a definition file, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

/// Text in every language of the interview, keyed by language code
/// (`en: ...`, `es: ...`).
pub type Localized = At<BTreeMap<String, String>>;

/// One interview, as its file declares it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Stable identifier, lower case with `-` or `_`, e.g. `eviction-defense`.
    pub id: At<String>,
    /// Raised whenever questions change; drafts remember the version they
    /// started on.
    pub version: At<u32>,
    /// The interview's name, as staff see it in the list of interviews.
    pub title: Localized,
    /// A sentence for staff on when to use this interview.
    #[serde(default)]
    pub description: Option<Localized>,
    /// Language codes every text must be given in; the first is the default.
    pub languages: At<Vec<String>>,
    /// The classification of every field that does not name its own.
    #[serde(default)]
    pub classification: Option<At<Classification>>,
    /// Show an always-visible "leave this screen quickly" control, for
    /// interviews a client may need to hide at a moment's notice.
    #[serde(default)]
    pub quick_exit: bool,
    /// Which team receives finished submissions.
    pub routing: Routing,
    /// Values worked out from the answers, usable in conditions and sent
    /// with the submission.
    #[serde(default)]
    pub computed: Vec<Computed>,
    /// The screens, in the order they are asked.
    pub screens: At<Vec<Screen>>,
}

/// How sensitive an answer is; a submission is as sensitive as its most
/// sensitive answer.
///
/// The sealing crate's manifest has the same four levels under the same
/// names; neither crate depends on the other, and whoever seals a
/// submission maps one onto the other.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Could be published without harm.
    Public,
    /// Identifies a person: names, addresses, phone numbers.
    Personal,
    /// Harmful if disclosed: health, abuse, finances, identifiers.
    Sensitive,
    /// Attorney-client privileged: the facts of the legal problem.
    Privileged,
}

/// Where finished submissions go: one fixed team, or an expression over the
/// answers that chooses among listed teams.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    /// Every submission goes to this team.
    #[serde(default)]
    pub team: Option<At<String>>,
    /// An expression giving a team name, e.g.
    /// `children_in_household ? "family-urgent" : "family"`.
    #[serde(default)]
    pub expression: Option<At<String>>,
    /// The teams the expression may choose.
    #[serde(default)]
    pub teams: Option<At<Vec<String>>>,
    /// The team for a submission whose expression gives no listed team.
    #[serde(default)]
    pub fallback: Option<At<String>>,
}

/// A value worked out from the answers.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Computed {
    /// The name expressions use for it.
    pub id: At<String>,
    /// What the expression gives.
    #[serde(rename = "type")]
    pub kind: At<ComputedKind>,
    /// A CEL expression over answers and other computed values.
    pub expression: At<String>,
    /// Shown beside the value on review and to the attorney.
    #[serde(default)]
    pub label: Option<Localized>,
    #[serde(default)]
    pub classification: Option<At<Classification>>,
}

/// The type of a computed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComputedKind {
    Text,
    Number,
    Money,
    YesNo,
}

/// One screen: a few questions asked together.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Screen {
    pub id: At<String>,
    pub title: Localized,
    #[serde(default)]
    pub help: Option<Localized>,
    /// Ask this screen only when the expression is true.
    #[serde(default)]
    pub show_if: Option<At<String>>,
    pub fields: At<Vec<Field>>,
}

/// One question, a note, or a repeating group of questions.
///
/// Which keys apply depends on `type`; a key that does not apply to the
/// field's type is reported when the definition is checked.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The name expressions and submissions use; unique in the interview
    /// (within a group: unique in the group).
    pub id: At<String>,
    #[serde(rename = "type")]
    pub kind: At<FieldKind>,
    pub label: Localized,
    #[serde(default)]
    pub help: Option<Localized>,
    #[serde(default)]
    pub required: Option<At<bool>>,
    #[serde(default)]
    pub classification: Option<At<Classification>>,
    /// Ask this question only when the expression is true.
    #[serde(default)]
    pub show_if: Option<At<String>>,
    #[serde(default)]
    pub validation: Option<Validation>,
    /// The options of a `single_choice` or `multiple_choice` field.
    #[serde(default)]
    pub choices: Option<At<Vec<Choice>>>,
    /// The shape of a `masked` identifier: `#` a digit, `A` a letter,
    /// anything else itself, e.g. `###-##-####`.
    #[serde(default)]
    pub mask: Option<At<String>>,
    /// File types a `file` field accepts, as media types, e.g.
    /// `application/pdf`, `image/jpeg`.
    #[serde(default)]
    pub accept: Option<At<Vec<String>>>,
    /// The largest file a `file` field accepts, in bytes.
    #[serde(default)]
    pub max_size: Option<At<u64>>,
    /// How many files a `file` field takes (1 unless given).
    #[serde(default)]
    pub max_files: Option<At<u32>>,
    /// The questions of a `repeat` group, asked once per instance.
    #[serde(default)]
    pub fields: Option<At<Vec<Field>>>,
    /// Fewest instances of a `repeat` group.
    #[serde(default)]
    pub min: Option<At<u32>>,
    /// Most instances of a `repeat` group.
    #[serde(default)]
    pub max: Option<At<u32>>,
    /// The name of one instance of a `repeat` group, e.g. "Household member".
    #[serde(default)]
    pub item_label: Option<Localized>,
    /// The answer names a party whom the organisation must check for
    /// conflicts of interest before taking the case.
    #[serde(default)]
    pub conflict_check: Option<At<bool>>,
}

/// What kind of answer a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    LongText,
    /// A whole number.
    Number,
    /// An amount of money, with at most two decimals.
    Money,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    YesNo,
    SingleChoice,
    MultipleChoice,
    Email,
    Phone,
    /// An identifier such as a social security number, entered to a mask.
    Masked,
    /// One or more uploaded documents.
    File,
    /// Text shown to the person, with no answer.
    Note,
    /// A group of questions asked once per instance (household members).
    Repeat,
}

/// Extra rules an answer must meet.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    /// A regular expression the whole answer must match.
    #[serde(default)]
    pub pattern: Option<At<String>>,
    /// Fewest characters.
    #[serde(default)]
    pub min_length: Option<At<u32>>,
    /// Most characters.
    #[serde(default)]
    pub max_length: Option<At<u32>>,
    /// Smallest number or amount.
    #[serde(default)]
    pub min: Option<At<f64>>,
    /// Largest number or amount.
    #[serde(default)]
    pub max: Option<At<f64>>,
    /// Said instead of the built-in message when a rule above is broken.
    #[serde(default)]
    pub message: Option<Localized>,
}

/// One option of a choice field.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// What the answer holds and expressions compare against.
    pub value: At<String>,
    #[serde(default)]
    pub label: Option<Localized>,
}
