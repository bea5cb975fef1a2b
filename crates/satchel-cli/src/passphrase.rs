//! Reading a passphrase without echoing it or leaving it in the environment.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use satchel_vault::Passphrase;

/// Where a verb reads its passphrase from.
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct PassphraseSource {
    /// Read the passphrase from the first line of standard input instead of
    /// prompting, for scripts.
    #[arg(long)]
    passphrase_stdin: bool,
}

impl PassphraseSource {
    /// Reads an existing passphrase.
    pub(crate) fn read(self, prompt: &str) -> anyhow::Result<Passphrase> {
        if self.passphrase_stdin {
            return read_stdin_line();
        }
        if !std::io::stdin().is_terminal() {
            bail!(
                "no terminal to ask for the passphrase on; pass --passphrase-stdin to pipe it in"
            );
        }
        let text = rpassword::prompt_password(prompt).context("could not read the passphrase")?;
        Ok(Passphrase::new(text))
    }

    /// Reads a new passphrase, asking twice on a terminal.
    pub(crate) fn read_new(self) -> anyhow::Result<Passphrase> {
        let first = self.read("New passphrase (at least 12 characters): ")?;
        first.check_new()?;
        if !self.passphrase_stdin {
            let again = self.read("Type it again: ")?;
            if !first.matches(&again) {
                bail!("the two passphrases differ; nothing was created");
            }
        }
        Ok(first)
    }
}

fn read_stdin_line() -> anyhow::Result<Passphrase> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("could not read standard input")?;
    // Strip the line ending in place, so no second copy of the passphrase
    // is left behind unwiped.
    while line.ends_with(['\n', '\r']) {
        line.pop();
    }
    if line.is_empty() {
        bail!("standard input held no passphrase");
    }
    Ok(Passphrase::new(line))
}
