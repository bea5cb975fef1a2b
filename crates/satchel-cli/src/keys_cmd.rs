//! `satchel keys …`: make keys inside the vault, list them, and export an
//! attorney's identity for the stock `age` tool.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use satchel_seal::age::Identity;
use satchel_seal::directory::recipient_id;
use satchel_seal::keys::SigningSecret;
use satchel_vault::{KeyKind, KeyRecord, Vault};

use crate::passphrase::PassphraseSource;
use crate::{AccountName, DataDir};

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Make a new key pair; the private half stays in the vault.
    New {
        /// `signing` (Ed25519: root, admin, member, device) or `recipient`
        /// (X25519: what submissions are sealed to).
        #[arg(long, value_enum)]
        kind: Kind,
        /// A name for people, such as "Attorney Rivera 2026".
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        account: AccountName,
        #[command(flatten)]
        passphrase: PassphraseSource,
    },
    /// List the keys in the vault (public halves only).
    List {
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        account: AccountName,
        #[command(flatten)]
        passphrase: PassphraseSource,
    },
    /// Write a recipient key's private half as an age identity file, for
    /// opening envelopes with the stock `age` tool when Satchel cannot.
    ExportIdentity {
        /// The key's id, from `satchel keys list`.
        id: String,
        /// Where to write it. It must not exist yet; it is created readable
        /// by its owner only.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        account: AccountName,
        #[command(flatten)]
        passphrase: PassphraseSource,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Kind {
    Signing,
    Recipient,
}

pub(crate) fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::New {
            kind,
            label,
            data_dir,
            account,
            passphrase,
        } => {
            let dir = data_dir.resolve()?;
            let typed = passphrase.read("Passphrase: ")?;
            let mut vault = crate::sign_in(&dir, &account.name, &typed, passphrase)?;
            // Storing a key is a key change: the vault wants the passphrase
            // confirmed, and it was typed just now.
            let fresh = vault.reauthenticate(&typed, satchel_vault::unix_now())?;
            let record = match kind {
                Kind::Signing => {
                    let secret = SigningSecret::generate()?;
                    let public = secret.public();
                    let record = KeyRecord {
                        id: public.id().to_string(),
                        kind: KeyKind::Signing,
                        label,
                        public: public.to_string(),
                    };
                    vault.store_key(fresh, &record, &*secret.to_bytes())?;
                    record
                }
                Kind::Recipient => {
                    let identity = Identity::generate()?;
                    let public = identity.recipient();
                    let record = KeyRecord {
                        id: recipient_id(&public).to_string(),
                        kind: KeyKind::Recipient,
                        label,
                        public: public.to_string(),
                    };
                    vault.store_key(fresh, &record, &*identity.to_bytes())?;
                    record
                }
            };
            println!("{}  {}", record.id, record.public);
            Ok(())
        }
        KeysCommand::List {
            data_dir,
            account,
            passphrase,
        } => {
            let mut vault = crate::unlock(&data_dir, &account, passphrase)?;
            for key in vault.keys()? {
                let kind = match key.kind {
                    KeyKind::Signing => "signing",
                    KeyKind::Recipient => "recipient",
                };
                println!("{}  {kind:9}  {}  {}", key.id, key.public, key.label);
            }
            Ok(())
        }
        KeysCommand::ExportIdentity {
            id,
            out,
            data_dir,
            account,
            passphrase,
        } => {
            let dir = data_dir.resolve()?;
            let typed = passphrase.read("Passphrase: ")?;
            let mut vault = crate::sign_in(&dir, &account.name, &typed, passphrase)?;
            // Taking a private key out of the vault is an export: confirmed
            // by the passphrase typed just now, and audited.
            check_recipient(&mut vault, &id)?;
            let fresh = vault.reauthenticate(&typed, satchel_vault::unix_now())?;
            let identity = Identity::from_bytes(fixed(&vault.export_key(fresh, &id)?, &id)?);
            write_identity_file(&out, &identity)?;
            eprintln!(
                "Wrote the private key {id} to {}. Anyone holding this file can open every \
                 submission sealed to it: keep it offline and delete it when done.",
                out.display()
            );
            Ok(())
        }
    }
}

/// Checks that the vault holds a recipient key `id`.
fn check_recipient(vault: &mut Vault, id: &str) -> anyhow::Result<()> {
    let record = vault.keys()?.into_iter().find(|k| k.id == id);
    match record {
        Some(KeyRecord {
            kind: KeyKind::Recipient,
            ..
        }) => Ok(()),
        Some(_) => bail!("{id} is a signing key, not a recipient key"),
        None => bail!("the vault holds no key {id}; see `satchel keys list`"),
    }
}

/// The signing key `id` from the vault.
pub(crate) fn signing_secret(vault: &mut Vault, id: &str) -> anyhow::Result<SigningSecret> {
    let record = vault.keys()?.into_iter().find(|k| k.id == id);
    match record {
        Some(KeyRecord {
            kind: KeyKind::Signing,
            ..
        }) => {}
        Some(_) => bail!("{id} is a recipient key, not a signing key"),
        None => bail!("the vault holds no key {id}; see `satchel keys list`"),
    }
    Ok(SigningSecret::from_bytes(&fixed(
        &vault.key_secret(id)?,
        id,
    )?))
}

/// Every recipient key in the vault, for opening envelopes.
pub(crate) fn all_identities(vault: &mut Vault) -> anyhow::Result<Vec<Identity>> {
    let keys = vault.keys()?;
    keys.iter()
        .filter(|k| k.kind == KeyKind::Recipient)
        .map(|k| {
            Ok(Identity::from_bytes(fixed(
                &vault.key_secret(&k.id)?,
                &k.id,
            )?))
        })
        .collect()
}

fn fixed(bytes: &[u8], id: &str) -> anyhow::Result<[u8; 32]> {
    bytes
        .try_into()
        .with_context(|| format!("the vault's copy of key {id} is damaged"))
}

fn write_identity_file(path: &std::path::Path, identity: &Identity) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;

    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| {
            format!(
                "could not create {} (it must not exist yet)",
                path.display()
            )
        })?;
    let text = identity.to_age_string();
    let written = writeln!(file, "# public key: {}", identity.recipient())
        .and_then(|()| writeln!(file, "{}", &*text))
        .and_then(|()| file.sync_all());
    if let Err(error) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(error).with_context(|| format!("could not write {}", path.display()));
    }
    Ok(())
}
