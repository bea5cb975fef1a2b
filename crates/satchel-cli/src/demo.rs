//! `satchel demo`: a walk through Satchel's pieces in a throwaway directory,
//! for a machine with no display and for a first look.
//!
//! Today it sets up a real vault, stores the laptop's name in it, locks and
//! unlocks it, and shows that the file on disk is ciphertext.

use std::fs;
use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use satchel_vault::{DATABASE_FILE, Passphrase, Vault};

#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// Keep the demo's data in DIR (created if missing) instead of a
    /// temporary directory that is removed afterwards.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

/// The demo vault's passphrase. It protects nothing but demo data.
const DEMO_PASSPHRASE: &str = "demo passphrase, not for real use";
const DEMO_LABEL: &str = "Demo field laptop";

pub(crate) fn run(args: DemoArgs) -> anyhow::Result<()> {
    let temp;
    let dir = match args.keep {
        Some(dir) => dir,
        None => {
            temp = tempfile::tempdir().context("could not make a temporary directory")?;
            temp.path().to_owned()
        }
    };
    let passphrase = || Passphrase::new(DEMO_PASSPHRASE.to_owned());

    println!("Satchel demo, in {}", dir.display());

    let vault = Vault::create(&dir, &passphrase())?;
    vault.set_device_label(DEMO_LABEL)?;
    println!("1. Set up an encrypted vault and named this laptop {DEMO_LABEL:?}.");
    drop(vault);
    println!("2. Locked the vault: the database key is gone from memory.");

    let vault = Vault::unlock(&dir, &passphrase())?;
    let label = vault.device_label()?.unwrap_or_default();
    println!("3. Unlocked it with the passphrase and read the name back: {label:?}.");
    drop(vault);

    let mut header = [0u8; 16];
    fs::File::open(dir.join(DATABASE_FILE))
        .and_then(|mut f| f.read_exact(&mut header))
        .context("could not read the vault file back")?;
    if header.starts_with(b"SQLite format 3") {
        anyhow::bail!("the vault file is plain SQLite; SQLCipher is not in effect");
    }
    let hex: String = header.iter().map(|b| format!("{b:02x}")).collect();
    println!("4. The vault file starts with {hex}, not \"SQLite format 3\": it is ciphertext.");
    Ok(())
}
