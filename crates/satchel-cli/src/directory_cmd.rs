//! `satchel directory verify` and `satchel safety-code`.

use std::path::PathBuf;

use anyhow::bail;
use clap::Subcommand;
use satchel_seal::enrollment::{MAX_DOCUMENT_BYTES, SignedKeyRequest};
use satchel_seal::keys::safety_code;

use crate::documents::{DirectoryArgs, now, read_bounded};

#[derive(Debug, Subcommand)]
pub(crate) enum DirectoryCommand {
    /// Check a directory's signature, version and expiry, and summarise it.
    Verify {
        #[command(flatten)]
        directory: DirectoryArgs,
        /// Check as of this Unix time instead of now.
        #[arg(long, value_name = "SECONDS")]
        at: Option<i64>,
    },
}

pub(crate) fn run(command: DirectoryCommand) -> anyhow::Result<()> {
    let DirectoryCommand::Verify { directory, at } = command;
    let verified = directory.load(at.unwrap_or_else(now))?;
    println!("Organisation: {}", verified.org_id);
    println!("Version:      {}", verified.version);
    println!("Expires at:   {} (Unix time)", verified.expires_at);
    println!("Members:      {}", verified.members.len());
    println!("Teams:        {}", verified.teams.len());
    println!("Status:       signature, version and expiry verified");
    Ok(())
}

/// `satchel safety-code`: the digits two people compare.
#[derive(Debug, clap::Args)]
pub(crate) struct SafetyCodeArgs {
    /// A key request file: its signatures are checked and its code printed.
    #[arg(long, value_name = "FILE", conflicts_with = "key")]
    request: Option<PathBuf>,
    /// Public keys (Ed25519 base64 or age1…), in the order both sides use.
    #[arg(long, value_name = "KEY")]
    key: Vec<String>,
}

pub(crate) fn safety(args: SafetyCodeArgs) -> anyhow::Result<()> {
    if let Some(path) = args.request {
        let signed = SignedKeyRequest::from_json(&read_bounded(&path, MAX_DOCUMENT_BYTES)?)?;
        let request = signed.verify()?;
        println!("{}", request.safety_code()?);
        return Ok(());
    }
    if args.key.is_empty() {
        bail!("give a key request with --request FILE, or public keys with --key");
    }
    let mut keys = Vec::new();
    for text in &args.key {
        let bytes = if text.starts_with("age1") {
            text.parse::<satchel_seal::age::Recipient>()?.to_bytes()
        } else {
            text.parse::<satchel_seal::PublicKey>()?.to_bytes()
        };
        keys.push(bytes);
    }
    let slices: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
    println!("{}", safety_code(&slices));
    Ok(())
}
