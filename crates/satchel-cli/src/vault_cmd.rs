//! `satchel vault …`: set up the device's encrypted vault, manage the
//! accounts that sign in to it, and check it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use satchel_vault::{Account, NewAccount, RecoveryCode, Role, Vault, unix_now};

use crate::passphrase::PassphraseSource;
use crate::{AccountName, DataDir};

#[derive(Debug, Subcommand)]
pub(crate) enum VaultCommand {
    /// Set up a new vault with its first account, and print that account's
    /// recovery code once.
    ///
    /// With --passphrase-stdin the new passphrase is the first line of
    /// standard input.
    Create {
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        account: AccountName,
        /// The account's member id in the organisation directory.
        #[arg(long, value_name = "ID")]
        member_id: String,
        /// A role the account holds: intake, attorney or admin. Repeat it
        /// for more than one.
        #[arg(long = "role", value_name = "ROLE", required = true)]
        roles: Vec<String>,
        #[command(flatten)]
        passphrase: PassphraseSource,
        /// A name for this laptop, shown to staff (for example "Clinic 3").
        #[arg(long, value_name = "NAME")]
        device_label: Option<String>,
    },
    /// Sign in and check that the vault is intact.
    Check {
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        account: AccountName,
        #[command(flatten)]
        passphrase: PassphraseSource,
    },
    /// List the accounts on this laptop: names, member ids and roles. No
    /// passphrase is needed and no secret is shown.
    Accounts {
        #[command(flatten)]
        data_dir: DataDir,
    },
    /// Change an account's passphrase. Its recovery code stays the same.
    ///
    /// With --passphrase-stdin the current passphrase is the first line of
    /// standard input and the new one the next (after the authenticator
    /// code, for an account that has one).
    ChangePassphrase {
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        account: AccountName,
        #[command(flatten)]
        passphrase: PassphraseSource,
    },
    /// Check the audit log: every entry's place in the hash chain and every
    /// signed checkpoint.
    AuditVerify {
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        account: AccountName,
        #[command(flatten)]
        passphrase: PassphraseSource,
    },
    /// Write the whole vault into one new encrypted backup file. The same
    /// accounts and passphrases open it.
    Backup {
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        account: AccountName,
        #[command(flatten)]
        passphrase: PassphraseSource,
        /// The backup file to write; an existing file is never replaced.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore a vault from a backup file into an empty data directory,
    /// after checking that it is intact and that the account opens it.
    Restore {
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        account: AccountName,
        #[command(flatten)]
        passphrase: PassphraseSource,
        /// The backup file to restore.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// Delete every record older than the retention policy allows, now,
    /// leaving tombstones (signing in also does this).
    Retention {
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        account: AccountName,
        #[command(flatten)]
        passphrase: PassphraseSource,
    },
    /// Set a new passphrase for an account with its recovery code, after the
    /// passphrase was forgotten; prints the account's new recovery code.
    ///
    /// With --passphrase-stdin the recovery code is the first line of
    /// standard input and the new passphrase the second.
    Recover {
        #[command(flatten)]
        data_dir: DataDir,
        #[command(flatten)]
        account: AccountName,
        #[command(flatten)]
        passphrase: PassphraseSource,
    },
}

pub(crate) fn run(command: VaultCommand) -> anyhow::Result<()> {
    match command {
        VaultCommand::Create {
            data_dir,
            account,
            member_id,
            roles,
            passphrase,
            device_label,
        } => {
            let dir = data_dir.resolve()?;
            // Check everything that can be checked before anything is
            // written or a passphrase asked for, so bad input leaves no
            // half-made vault behind.
            let roles = parse_roles(&roles)?;
            if member_id.trim().is_empty() {
                bail!("the member id is empty; pass the id the organisation directory lists");
            }
            if let Some(label) = &device_label {
                satchel_vault::check_device_label(label)?;
            }
            let passphrase = passphrase.read_new(&account.name)?;
            let first = NewAccount {
                name: &account.name,
                member_id: member_id.trim(),
                roles,
                passphrase: &passphrase,
            };
            let (mut vault, code) = Vault::create(&dir, &first, unix_now())?;
            if let Some(label) = &device_label {
                vault.set_device_label(label)?;
            }
            println!(
                "Created a vault in {} with the account {:?}.",
                dir.display(),
                vault.account().name
            );
            print_recovery_code(&code);
            Ok(())
        }
        VaultCommand::Check {
            data_dir,
            account,
            passphrase,
        } => {
            let dir = data_dir.resolve()?;
            let mut vault = crate::unlock(&data_dir, &account, passphrase)?;
            let label = vault
                .device_label()?
                .unwrap_or_else(|| "(not named yet)".to_owned());
            let schema = vault
                .schema_version()
                .context("could not read the schema version")?;
            let signed_in = vault.account();
            println!("Vault:   {}", dir.display());
            println!("Laptop:  {label}");
            println!(
                "Account: {} (member {})",
                signed_in.name, signed_in.member_id
            );
            println!("Roles:   {}", role_list(&signed_in.roles));
            println!("Schema:  {schema}");
            println!("Status:  unlocked, integrity check passed");
            Ok(())
        }
        VaultCommand::Accounts { data_dir } => {
            let dir = data_dir.resolve()?;
            print_accounts(&Vault::accounts(&dir)?);
            Ok(())
        }
        VaultCommand::ChangePassphrase {
            data_dir,
            account,
            passphrase: source,
        } => {
            let dir = data_dir.resolve()?;
            let current = source.read("Current passphrase: ")?;
            let mut vault = crate::sign_in(&dir, &account.name, &current, source)?;
            let name = vault.account().name.clone();
            let new = source.read_new(&name)?;
            let fresh = vault.reauthenticate(&current, unix_now())?;
            vault.change_passphrase(fresh, &new)?;
            println!(
                "Changed the passphrase for {name:?}. Sign in with the new one from now on; \
                 the recovery code has not changed."
            );
            Ok(())
        }
        VaultCommand::AuditVerify {
            data_dir,
            account,
            passphrase,
        } => {
            let mut vault = crate::unlock(&data_dir, &account, passphrase)?;
            let report = vault.verify_audit()?;
            println!(
                "Audit log intact: entries {} to {} ({} in all), {} signed checkpoints.",
                report.first_seq, report.last_seq, report.entries, report.checkpoints
            );
            Ok(())
        }
        VaultCommand::Backup {
            data_dir,
            account,
            passphrase: source,
            out,
        } => {
            let dir = data_dir.resolve()?;
            let passphrase = source.read("Passphrase: ")?;
            let mut vault = crate::sign_in(&dir, &account.name, &passphrase, source)?;
            let fresh = vault.reauthenticate(&passphrase, unix_now())?;
            let info = vault.backup(fresh, &out)?;
            println!(
                "Wrote a backup of {} to {} ({} bytes). It is encrypted: the same accounts \
                 and passphrases open it.",
                dir.display(),
                info.path.display(),
                info.bytes
            );
            Ok(())
        }
        VaultCommand::Restore {
            data_dir,
            account,
            passphrase: source,
            from,
        } => {
            let dir = data_dir.resolve()?;
            let passphrase = source.read("Passphrase: ")?;
            let restored =
                match satchel_vault::restore(&from, &dir, &account.name, &passphrase, unix_now()) {
                    Err(satchel_vault::Error::TotpRequired) => {
                        let code =
                            source.read_line("Authenticator code: ", "authenticator code")?;
                        satchel_vault::restore_with_totp(
                            &from,
                            &dir,
                            &account.name,
                            &passphrase,
                            Some(code.as_str()),
                            unix_now(),
                        )
                    }
                    other => other,
                };
            let vault = restored?;
            println!(
                "Restored the vault from {} into {}; {:?} is signed in and the integrity check passed.",
                from.display(),
                dir.display(),
                vault.account().name
            );
            Ok(())
        }
        VaultCommand::Retention {
            data_dir,
            account,
            passphrase,
        } => {
            let mut vault = crate::unlock(&data_dir, &account, passphrase)?;
            let report = vault.run_retention(unix_now())?;
            // Signing in has already applied the policy once; this run
            // catches anything that expired since.
            println!(
                "Retention is up to date (signing in applies it too). This run deleted {} \
                 drafts, {} outgoing and {} received submissions, {} attachments and {} audit \
                 entries; each deleted record left a tombstone.",
                report.drafts,
                report.outbox,
                report.inbox,
                report.attachments,
                report.audit_entries
            );
            Ok(())
        }
        VaultCommand::Recover {
            data_dir,
            account,
            passphrase: source,
        } => {
            let dir = data_dir.resolve()?;
            let typed = source.read_line("Recovery code: ", "recovery code")?;
            let code = RecoveryCode::parse(&typed)?;
            drop(typed);
            let new = source.read_new(&account.name)?;
            let (vault, new_code) = Vault::recover(&dir, &account.name, &code, &new, unix_now())?;
            println!(
                "Set a new passphrase for {:?}. The recovery code you used no longer works.",
                vault.account().name
            );
            print_recovery_code(&new_code);
            Ok(())
        }
    }
}

/// Prints a recovery code with what to do with it. It is shown only this
/// once.
fn print_recovery_code(code: &RecoveryCode) {
    println!();
    println!("Recovery code: {}", code.as_str());
    println!();
    println!(
        "Write this recovery code down now and keep it somewhere safe, away from this laptop. \
         It is the only way back into the account if the passphrase is forgotten, and it will \
         not be shown again."
    );
}

fn print_accounts(accounts: &[Account]) {
    let width = accounts
        .iter()
        .map(|account| account.name.chars().count())
        .max()
        .unwrap_or(0);
    let member_width = accounts
        .iter()
        .map(|account| account.member_id.chars().count())
        .max()
        .unwrap_or(0);
    for account in accounts {
        let second_factor = if account.totp_enrolled {
            "  (authenticator app)"
        } else {
            ""
        };
        println!(
            "{:width$}  {:member_width$}  {}{second_factor}",
            account.name,
            account.member_id,
            role_list(&account.roles),
        );
    }
}

/// Reads role names as typed on the command line.
fn parse_roles(names: &[String]) -> anyhow::Result<BTreeSet<Role>> {
    names
        .iter()
        .map(|name| match name.trim().to_lowercase().as_str() {
            "intake" => Ok(Role::Intake),
            "attorney" => Ok(Role::Attorney),
            "admin" => Ok(Role::Admin),
            _ => bail!("there is no role named {name:?}; use intake, attorney or admin"),
        })
        .collect()
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Intake => "intake",
        Role::Attorney => "attorney",
        Role::Admin => "admin",
    }
}

fn role_list(roles: &BTreeSet<Role>) -> String {
    if roles.is_empty() {
        return "(none)".to_owned();
    }
    roles
        .iter()
        .map(|role| role_name(*role))
        .collect::<Vec<_>>()
        .join(", ")
}
