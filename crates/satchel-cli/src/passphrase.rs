//! Reading passphrases and codes without echoing them or leaving them in
//! the environment.
//!
//! On a terminal each secret is asked for at a prompt that does not echo.
//! With `--passphrase-stdin` they are read from standard input instead, one
//! per line, in the order the verb asks for them: standard input is read
//! through one shared buffer, so each read takes the next line.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use satchel_vault::Passphrase;
use zeroize::Zeroizing;

/// Where a verb reads its passphrase (and any further secrets) from.
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct PassphraseSource {
    /// Read the passphrase, and any other secret the verb needs, from
    /// standard input instead of prompting, one per line, for scripts. The
    /// passphrase comes first unless the verb's help gives another order;
    /// an account with an authenticator app needs its code on the next line.
    #[arg(long)]
    passphrase_stdin: bool,
}

impl PassphraseSource {
    /// Reads an existing passphrase.
    pub(crate) fn read(self, prompt: &str) -> anyhow::Result<Passphrase> {
        let mut text = self.read_line(prompt, "passphrase")?;
        Ok(Passphrase::new(std::mem::take(&mut *text)))
    }

    /// Reads a new passphrase for account `account_name`, asking twice on a
    /// terminal, and checks it against the policy before anything is
    /// written.
    pub(crate) fn read_new(self, account_name: &str) -> anyhow::Result<Passphrase> {
        let mut text = self.read_line(
            "New passphrase (at least 12 characters, hard to guess): ",
            "new passphrase",
        )?;
        let first = Passphrase::new(std::mem::take(&mut *text));
        satchel_vault::strength::check_new_passphrase(&first, account_name)?;
        if !self.passphrase_stdin {
            let again = self.read("Type the new passphrase again: ")?;
            if !first.matches(&again) {
                bail!(
                    "the two passphrases you typed differ; nothing was saved, so run the command again and type the same one twice"
                );
            }
        }
        Ok(first)
    }

    /// Reads one secret line, such as a recovery or authenticator code:
    /// at a prompt that does not echo, or as the next line of standard
    /// input. `what` names it in error messages.
    pub(crate) fn read_line(self, prompt: &str, what: &str) -> anyhow::Result<Zeroizing<String>> {
        if self.passphrase_stdin {
            return read_stdin_line(what);
        }
        if !std::io::stdin().is_terminal() {
            bail!("no terminal to ask for the {what} on; pass --passphrase-stdin to pipe it in");
        }
        let text = rpassword::prompt_password(prompt)
            .with_context(|| format!("could not read the {what}"))?;
        Ok(Zeroizing::new(text))
    }
}

/// Reads the next line of standard input, without its line ending.
fn read_stdin_line(what: &str) -> anyhow::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("could not read standard input")?;
    // Strip the line ending in place, so no second copy of the secret is
    // left behind unwiped.
    while line.ends_with(['\n', '\r']) {
        line.pop();
    }
    if line.is_empty() {
        bail!("standard input held no {what}; put it on its own line");
    }
    Ok(line)
}
