//! `satchel interview check`: the linter for interview definitions.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use satchel_interview::MAX_DEFINITION_BYTES;

use crate::documents::read_bounded;

#[derive(Debug, Subcommand)]
pub(crate) enum InterviewCommand {
    /// Check interview definition files, printing each problem as
    /// FILE:LINE:COLUMN: MESSAGE; exits non-zero if there is any.
    Check {
        /// The YAML files to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

pub(crate) fn run(command: InterviewCommand) -> anyhow::Result<()> {
    let InterviewCommand::Check { files } = command;
    let mut failed = 0;
    for path in &files {
        let bytes = read_bounded(path, MAX_DEFINITION_BYTES)?;
        let source = String::from_utf8(bytes)
            .with_context(|| format!("{} is not UTF-8 text", path.display()))?;
        match satchel_interview::load(&source) {
            Ok(interview) => println!(
                "{}: ok: {} version {}, {} screens, {} questions, languages {}",
                path.display(),
                interview.id(),
                interview.version(),
                interview.screen_count(),
                interview.field_count(),
                interview.languages().join(", ")
            ),
            Err(problems) => {
                failed += 1;
                for problem in &problems.0 {
                    println!("{}:{problem}", path.display());
                }
            }
        }
    }
    if failed > 0 {
        bail!(
            "{failed} of {} interview file(s) have problems; fix them and check again",
            files.len()
        );
    }
    Ok(())
}
