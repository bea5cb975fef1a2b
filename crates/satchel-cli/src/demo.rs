//! `satchel demo`: a walk through Satchel's pieces in a throwaway directory,
//! for a machine with no display and for a first look.
//!
//! Today it sets up a real vault with one account, stores the laptop's name
//! in it, locks and unlocks it, and shows that the file on disk is
//! ciphertext.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use satchel_vault::{DATABASE_FILE, NewAccount, Passphrase, Role, Vault, unix_now};

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
const DEMO_ACCOUNT: &str = "Demo intake worker";

pub(crate) fn run(args: DemoArgs) -> anyhow::Result<()> {
    let temp;
    let dir = match args.keep {
        Some(dir) => dir,
        None => {
            temp = tempfile::tempdir().context("could not make a temporary directory")?;
            temp.path().to_owned()
        }
    };
    let passphrase = Passphrase::new(DEMO_PASSPHRASE.to_owned());

    println!("Satchel demo, in {}", dir.display());

    let first = NewAccount {
        name: DEMO_ACCOUNT,
        member_id: "demo-member",
        roles: BTreeSet::from([Role::Intake]),
        passphrase: &passphrase,
    };
    let (mut vault, code) = Vault::create(&dir, &first, unix_now())?;
    vault.set_device_label(DEMO_LABEL)?;
    println!(
        "1. Set up an encrypted vault with the account {DEMO_ACCOUNT:?} and named this laptop \
         {DEMO_LABEL:?}."
    );
    println!(
        "2. Made the account's recovery code, which staff write down and keep away from the laptop: {}.",
        code.as_str()
    );
    vault.lock();
    println!("3. Locked the vault: the database key is gone from memory.");

    vault.unlock(&passphrase, None, unix_now())?;
    let label = vault.device_label()?.unwrap_or_default();
    println!("4. Unlocked it with the passphrase and read the name back: {label:?}.");
    drop(vault);

    let mut header = [0u8; 16];
    fs::File::open(dir.join(DATABASE_FILE))
        .and_then(|mut f| f.read_exact(&mut header))
        .context("could not read the vault file back")?;
    if header.starts_with(b"SQLite format 3") {
        anyhow::bail!("the vault file is plain SQLite; SQLCipher is not in effect");
    }
    let hex: String = header.iter().map(|b| format!("{b:02x}")).collect();
    println!("5. The vault file starts with {hex}, not \"SQLite format 3\": it is ciphertext.");
    Ok(())
}
