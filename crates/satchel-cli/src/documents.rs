//! Reading the signed documents verbs take as files: the directory, with
//! the root key it must chain to, and key requests.

use std::path::{Path, PathBuf};

use anyhow::Context;
use satchel_seal::PublicKey;
use satchel_seal::directory::{Directory, Held, SignedDirectory};

/// The directory options seal, open and verify share.
#[derive(Debug, clap::Args)]
pub(crate) struct DirectoryArgs {
    /// The organisation's signed directory file.
    #[arg(long, value_name = "FILE")]
    pub(crate) directory: PathBuf,
    /// The organisation's root public key (base64), from the enrollment
    /// bundle. The directory must be signed by it or by an admin it
    /// delegated to.
    #[arg(long, value_name = "KEY")]
    pub(crate) root: String,
    /// Refuse a directory older than this version.
    #[arg(long, value_name = "N")]
    pub(crate) held_version: Option<u64>,
}

impl DirectoryArgs {
    /// Reads and verifies the directory at time `now`.
    pub(crate) fn load(&self, now: i64) -> anyhow::Result<Directory> {
        let root: PublicKey = self
            .root
            .parse()
            .context("--root is not a root public key")?;
        let bytes = read_bounded(
            &self.directory,
            satchel_seal::directory::MAX_DIRECTORY_BYTES,
        )?;
        let signed = SignedDirectory::from_json(&bytes)?;
        let held = self.held_version.map(|version| Held { version });
        signed
            .verify(&root, held, now)
            .with_context(|| format!("the directory {} was refused", self.directory.display()))
    }
}

/// Reads a file, refusing one larger than `limit` bytes before reading it.
pub(crate) fn read_bounded(path: &Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("could not read {}", path.display()))?
        .len();
    if size > limit as u64 {
        anyhow::bail!(
            "{} is larger than the {} bytes allowed",
            path.display(),
            limit
        );
    }
    std::fs::read(path).with_context(|| format!("could not read {}", path.display()))
}

/// Seconds since the Unix epoch, now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
