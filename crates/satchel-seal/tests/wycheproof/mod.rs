//! Shared plumbing for the Wycheproof test files: loading a vector file into
//! typed structs, hex decoding, and a [`Tally`] that judges and records every
//! case.
//!
//! Wycheproof rates each case `valid`, `invalid` or `acceptable`. A case
//! passes when Satchel's verdict agrees:
//!
//! - `valid`: accepted, with exactly the expected output;
//! - `invalid`: refused;
//! - `acceptable`: the input is legal but questionable, and an
//!   implementation may go either way. Satchel does not leave that to
//!   chance: each test file states a [`Policy`] for every flag that marks an
//!   acceptable case, and the case passes only when the verdict follows that
//!   policy (refused, or accepted with exactly the expected output). An
//!   acceptable case carrying a flag with no stated policy fails, so a new
//!   revision of the vectors forces a decision instead of passing silently.

// Each test file is its own crate and uses only part of this module.
#![allow(dead_code, reason = "each vector file uses only part of these helpers")]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

/// Where the Wycheproof files live: `shared/` sits beside the checkout, in
/// development and in CI alike.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/wycheproof")
}

/// Reads and parses one Wycheproof file; `G` is the file's group type.
pub fn load<G: DeserializeOwned>(file_name: &str) -> TestFile<G> {
    let path = vectors_dir().join(file_name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("parsing {}: {err}", path.display()))
}

/// The top level of every Wycheproof file. Fields the tests do not need
/// (header, notes, schema) are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestFile<G> {
    /// The algorithm's name, e.g. `XDH` or `CHACHA20-POLY1305`.
    pub algorithm: String,
    /// How many cases the file says it holds; each test checks it ran them all.
    pub number_of_tests: usize,
    /// The groups, each sharing parameters (a key, sizes) among its cases.
    pub test_groups: Vec<G>,
}

/// One case: the fields every schema shares, plus the algorithm's own inputs
/// and outputs in `io`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case<T> {
    /// The case's id, unique within its file.
    pub tc_id: u64,
    /// What the case is about; often empty.
    pub comment: String,
    /// Wycheproof's labels for the case, explained in the file's `notes`.
    pub flags: Vec<String>,
    /// Wycheproof's rating.
    pub result: Expected,
    /// The algorithm-specific fields.
    #[serde(flatten)]
    pub io: T,
}

/// Wycheproof's rating of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    /// Must be accepted with exactly the expected output.
    Valid,
    /// Must be refused.
    Invalid,
    /// Legal but questionable; the test file's [`Policy`] decides.
    Acceptable,
}

/// What Satchel does with a case Wycheproof rates acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Accept it, and produce exactly the expected output.
    Accept,
    /// Refuse it.
    Refuse,
}

/// Satchel's policy for a case, from a file's table of policies per flag:
/// any flag whose policy is [`Policy::Refuse`] refuses the case. `None` when
/// some flag has no stated policy.
pub fn policy_for(flags: &[String], table: &[(&str, Policy)]) -> Option<Policy> {
    let mut policy = Policy::Accept;
    for flag in flags {
        match table.iter().find(|(name, _)| name == flag) {
            Some((_, Policy::Refuse)) => policy = Policy::Refuse,
            Some((_, Policy::Accept)) => {}
            None => return None,
        }
    }
    Some(policy)
}

/// Bytes written in the vectors as a hex string; `""` is zero bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hex(pub Vec<u8>);

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        hex::decode(&text).map(Hex).map_err(D::Error::custom)
    }
}

impl std::ops::Deref for Hex {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// What the code under test did with a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted, and every output is exactly the expected one.
    Exact,
    /// Accepted, but some output differs from the expected one; never a pass.
    Differs(String),
    /// Refused, and why.
    Refused(String),
}

/// One judged case.
#[derive(Debug)]
pub struct Record {
    /// The case's id.
    pub tc_id: u64,
    /// The case's comment.
    pub comment: String,
    /// The case's flags.
    pub flags: Vec<String>,
    /// Wycheproof's rating.
    pub expected: Expected,
    /// What Satchel's primitive did.
    pub verdict: Verdict,
    /// Why the case failed; `None` when it passed.
    pub failure: Option<String>,
}

/// Every case of one file, judged as it runs, so a test reports all its
/// mismatches at once rather than stopping at the first.
#[derive(Debug)]
pub struct Tally {
    name: &'static str,
    records: Vec<Record>,
    ids: BTreeSet<u64>,
}

impl Tally {
    /// An empty tally; `name` opens the summary line.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            records: Vec::new(),
            ids: BTreeSet::new(),
        }
    }

    /// Judges and records one case. `policy` is Satchel's policy for the case
    /// should it be rated acceptable (see [`policy_for`]); valid and invalid
    /// cases are judged by their rating alone.
    pub fn record<T>(&mut self, case: &Case<T>, policy: Option<Policy>, verdict: Verdict) {
        let failure = judge(case.result, policy, &verdict);

        // A repeated id would make the count meaningless.
        let failure = if self.ids.insert(case.tc_id) {
            failure
        } else {
            Some(format!("tcId {} appears twice", case.tc_id))
        };

        self.records.push(Record {
            tc_id: case.tc_id,
            comment: case.comment.clone(),
            flags: case.flags.clone(),
            expected: case.result,
            verdict,
            failure,
        });
    }

    /// Prints the summary line, then asserts that no case failed and that
    /// exactly `number_of_tests` cases ran.
    pub fn finish(self, number_of_tests: usize) {
        let failed: Vec<&Record> = self
            .records
            .iter()
            .filter(|r| r.failure.is_some())
            .collect();
        let passed = self.records.len() - failed.len();
        println!(
            "wycheproof {}: {passed} passed, {} failed",
            self.name,
            failed.len()
        );

        let mut report = String::new();
        for record in &failed {
            let _ = writeln!(
                report,
                "  tcId {} ({:?}, flags {:?}, comment {:?}): {}; verdict {:?}",
                record.tc_id,
                record.expected,
                record.flags,
                record.comment,
                record.failure.as_deref().unwrap_or_default(),
                record.verdict,
            );
        }
        assert!(
            failed.is_empty(),
            "wycheproof {} mismatches:\n{report}",
            self.name
        );
        assert_eq!(
            self.records.len(),
            number_of_tests,
            "wycheproof {}: ran a different number of cases than the file declares",
            self.name
        );
    }
}

/// Why a verdict does not agree with the rating, or `None` when it does.
fn judge(expected: Expected, policy: Option<Policy>, verdict: &Verdict) -> Option<String> {
    match (expected, verdict) {
        (_, Verdict::Differs(what)) => Some(format!("wrong output: {what}")),

        (Expected::Valid, Verdict::Exact) => None,
        (Expected::Valid, Verdict::Refused(why)) => Some(format!("valid case refused: {why}")),

        (Expected::Invalid, Verdict::Refused(_)) => None,
        (Expected::Invalid, Verdict::Exact) => Some("invalid case accepted".to_owned()),

        (Expected::Acceptable, _) => match (policy, verdict) {
            (None, _) => Some("acceptable case with a flag that has no stated policy".to_owned()),
            (Some(Policy::Accept), Verdict::Exact)
            | (Some(Policy::Refuse), Verdict::Refused(_)) => None,
            (Some(Policy::Accept), _) => Some("policy is to accept, but it was refused".to_owned()),
            (Some(Policy::Refuse), _) => {
                Some("policy is to refuse, but it was accepted".to_owned())
            }
        },
    }
}
