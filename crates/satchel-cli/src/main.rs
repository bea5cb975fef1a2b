//! `satchel`: Satchel's command-line client.
//!
//! Every verb works on one device's data directory (`--data-dir`, or the
//! same default the desktop app uses). Errors print one line that says what
//! to do, and the exit status is non-zero.

#![forbid(unsafe_code)]

mod demo;
mod directory_cmd;
mod documents;
mod interview_cmd;
mod keys_cmd;
mod passphrase;
mod seal_cmd;
mod vault_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "satchel",
    version,
    about = "Sealed legal intake, from the field to the attorney."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Set up this device's encrypted vault, and manage the accounts that sign in to it.
    #[command(subcommand)]
    Vault(vault_cmd::VaultCommand),
    /// Make and list keys in the vault; export an attorney's age identity.
    #[command(subcommand)]
    Keys(keys_cmd::KeysCommand),
    /// Check a signed organisation directory.
    #[command(subcommand)]
    Directory(directory_cmd::DirectoryCommand),
    /// Check interview definition files.
    #[command(subcommand)]
    Interview(interview_cmd::InterviewCommand),
    /// Seal answers and documents into an envelope for a member or team.
    Seal(Box<seal_cmd::SealArgs>),
    /// Verify and open an envelope into a new folder.
    Open(seal_cmd::OpenArgs),
    /// Print the safety code two people compare for a key request or keys.
    SafetyCode(directory_cmd::SafetyCodeArgs),
    /// Walk through what Satchel can do, in a throwaway directory.
    Demo(demo::DemoArgs),
}

/// The data directory option every verb shares.
#[derive(Debug, clap::Args)]
struct DataDir {
    /// The device's data directory [default: $SATCHEL_DATA_DIR, else
    /// $XDG_DATA_HOME/satchel, else ~/.local/share/satchel].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl DataDir {
    fn resolve(&self) -> anyhow::Result<PathBuf> {
        self.data_dir
            .clone()
            .or_else(satchel_vault::default_data_dir)
            .context("no data directory: pass --data-dir or set SATCHEL_DATA_DIR")
    }
}

/// The account option every verb that opens the vault shares.
#[derive(Debug, clap::Args)]
struct AccountName {
    /// The account's name on this laptop, which its holder signs in with;
    /// `satchel vault accounts` lists them.
    #[arg(long = "account", env = "SATCHEL_ACCOUNT", value_name = "NAME")]
    name: String,
}

/// Signs the account in to the vault in the data directory with the
/// person's passphrase (and authenticator code, if the account has one).
fn unlock(
    data_dir: &DataDir,
    account: &AccountName,
    source: passphrase::PassphraseSource,
) -> anyhow::Result<satchel_vault::Vault> {
    let dir = data_dir.resolve()?;
    let passphrase = source.read("Passphrase: ")?;
    sign_in(&dir, &account.name, &passphrase, source)
}

/// Signs `name` in with a passphrase already read, asking for the
/// authenticator code next when the account has enrolled one.
fn sign_in(
    dir: &std::path::Path,
    name: &str,
    passphrase: &satchel_vault::Passphrase,
    source: passphrase::PassphraseSource,
) -> anyhow::Result<satchel_vault::Vault> {
    let code = if needs_authenticator_code(dir, name)? {
        Some(source.read_line("Authenticator code: ", "authenticator code")?)
    } else {
        None
    };
    let code = code.as_ref().map(|code| code.as_str());
    Ok(satchel_vault::Vault::sign_in(
        dir,
        name,
        passphrase,
        code,
        satchel_vault::unix_now(),
    )?)
}

/// Whether account `name` signs in with an authenticator code. Names
/// compare as the vault compares them: ignoring case and surrounding
/// spaces. An unknown name is left for sign-in to report.
fn needs_authenticator_code(dir: &std::path::Path, name: &str) -> anyhow::Result<bool> {
    let wanted = name.trim().to_lowercase();
    Ok(satchel_vault::Vault::accounts(dir)?
        .iter()
        .any(|account| account.totp_enrolled && account.name.to_lowercase() == wanted))
}

fn main() -> ExitCode {
    // Every refusal is reported below as the one-line error; the warnings
    // libraries log about the same events (a wrong passphrase, say) would
    // only repeat it. `SATCHEL_LOG=warn` shows them.
    satchel_telemetry::init("error");
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Vault(command) => vault_cmd::run(command),
        Command::Keys(command) => keys_cmd::run(command),
        Command::Directory(command) => directory_cmd::run(command),
        Command::Interview(command) => interview_cmd::run(command),
        Command::Seal(args) => seal_cmd::seal(*args),
        Command::Open(args) => seal_cmd::open(args),
        Command::SafetyCode(args) => directory_cmd::safety(args),
        Command::Demo(args) => demo::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("satchel: {error:#}");
            ExitCode::FAILURE
        }
    }
}
