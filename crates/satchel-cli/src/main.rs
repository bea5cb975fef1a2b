//! `satchel`: Satchel's command-line client.
//!
//! Every verb works on one device's data directory (`--data-dir`, or the
//! same default the desktop app uses). Errors print one line that says what
//! to do, and the exit status is non-zero.

#![forbid(unsafe_code)]

mod demo;
mod passphrase;
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
    /// Create and inspect this device's encrypted vault.
    #[command(subcommand)]
    Vault(vault_cmd::VaultCommand),
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

fn main() -> ExitCode {
    satchel_telemetry::init("warn");
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Vault(command) => vault_cmd::run(command),
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
