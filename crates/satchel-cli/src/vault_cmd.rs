//! `satchel vault …`: set up and inspect the device's encrypted vault.

use anyhow::Context;
use clap::Subcommand;
use satchel_vault::Vault;

use crate::DataDir;
use crate::passphrase::PassphraseSource;

#[derive(Debug, Subcommand)]
pub(crate) enum VaultCommand {
    /// Set up a new vault, protected by a passphrase.
    Create {
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        passphrase: PassphraseSource,
        /// A name for this laptop, shown to staff (for example "Clinic 3").
        #[arg(long, value_name = "NAME")]
        device_label: Option<String>,
    },
    /// Unlock the vault and check that it is intact.
    Check {
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        passphrase: PassphraseSource,
    },
}

pub(crate) fn run(command: VaultCommand) -> anyhow::Result<()> {
    match command {
        VaultCommand::Create {
            data_dir,
            passphrase,
            device_label,
        } => {
            let dir = data_dir.resolve()?;
            let passphrase = passphrase.read_new()?;
            // Check the label before anything is written, so a bad one
            // leaves no half-made vault behind.
            if let Some(label) = &device_label {
                satchel_vault::check_device_label(label)?;
            }
            let vault = Vault::create(&dir, &passphrase)?;
            if let Some(label) = &device_label {
                vault.set_device_label(label)?;
            }
            println!("Created a vault in {}", dir.display());
            Ok(())
        }
        VaultCommand::Check {
            data_dir,
            passphrase,
        } => {
            let dir = data_dir.resolve()?;
            let passphrase = passphrase.read("Passphrase: ")?;
            let vault = Vault::unlock(&dir, &passphrase)?;
            let label = vault
                .device_label()?
                .unwrap_or_else(|| "(not named yet)".to_owned());
            let schema = vault
                .schema_version()
                .context("could not read the schema version")?;
            println!("Vault:   {}", dir.display());
            println!("Laptop:  {label}");
            println!("Schema:  {schema}");
            println!("Status:  unlocked, integrity check passed");
            Ok(())
        }
    }
}
