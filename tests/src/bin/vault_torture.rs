//! A child process for the vault's crash and plaintext suites
//! (`tests/tests/vault_crash.rs`, `tests/tests/vault_plaintext.rs`).
//!
//! `vault_torture <data dir> <seed>` creates the vault on its first run (or
//! signs in), prints `ready`, then works until it is killed: it saves
//! answers (overwriting earlier fields now and then), starts new drafts and
//! adds attachments of a few KiB to about 300 KiB. It announces each call
//! before making it (`saving …`, `attaching …`) and reports it only after
//! the call returned `Ok` (`saved …`, `attached …`), one flushed line each,
//! so whoever kills it knows exactly which writes the vault promised.
//!
//! `vault_torture plaintext <data dir> fill <canaries…>` and
//! `vault_torture plaintext <data dir> session` run the
//! plaintext suite's scenario with logging set up as the app does it; the
//! canaries go into the vault and never to standard output.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use satchel_e2e::workload::{ACCOUNT_MEMBER_ID, ACCOUNT_NAME, ACCOUNT_PASSPHRASE, Rng};
use satchel_vault::scan::ScanPolicy;
use satchel_vault::{
    AttachmentRules, NewAccount, Passphrase, Presence, Role, Scanning, Vault, unix_now,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// What attachments may be: the torture files are binary, the plaintext
/// suite's are text.
const ALLOWED: &[&str] = &["application/octet-stream", "text/plain"];
const MAX_BYTES: u64 = 1024 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("plaintext") => plaintext(&args[1..]),
        Some(_) if args.len() == 2 => torture(Path::new(&args[0]), &args[1]),
        _ => Err(
            "usage: vault_torture <data dir> <seed> | vault_torture plaintext <data dir> \
             (fill <canaries…> | session)"
                .to_owned(),
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vault_torture: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Writes one whole line to standard output and flushes it, or exits: a
/// line that cannot be reported must not be followed by more work.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let mut text = String::with_capacity(line.len() + 1);
    text.push_str(line);
    text.push('\n');
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        std::process::exit(3);
    }
}

fn passphrase() -> Passphrase {
    Passphrase::new(ACCOUNT_PASSPHRASE.to_owned())
}

/// Signs in, or sets the vault up when the directory has none.
fn open_or_create(dir: &Path) -> Result<Vault, String> {
    if Vault::presence(dir) == Presence::Present {
        return Vault::sign_in(dir, ACCOUNT_NAME, &passphrase(), None, unix_now())
            .map_err(|e| format!("signing in: {e}"));
    }
    let passphrase = passphrase();
    let account = NewAccount {
        name: ACCOUNT_NAME,
        member_id: ACCOUNT_MEMBER_ID,
        roles: BTreeSet::from([Role::Intake]),
        passphrase: &passphrase,
    };
    Vault::create(dir, &account, unix_now())
        .map(|(vault, _code)| vault)
        .map_err(|e| format!("creating the vault: {e}"))
}

fn rules() -> AttachmentRules<'static> {
    AttachmentRules {
        allowed_types: ALLOWED,
        max_bytes: MAX_BYTES,
    }
}

fn no_scan() -> Scanning<'static> {
    Scanning {
        scanner: None,
        policy: ScanPolicy::Off,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const FIELDS: &[&str] = &[
    "tenant_name",
    "tenant_phone",
    "landlord_name",
    "address.street",
    "address.city",
    "address.postcode",
    "rent_amount",
    "rent_due_day",
    "notice_received",
    "notice_date",
    "household_size",
    "household[0].name",
    "household[1].name",
    "household[2].age",
    "repairs_needed",
    "deposit_paid",
    "language",
    "interpreter",
    "notes",
    "consent",
];

const WORDS: &[&str] = &[
    "lease",
    "eviction",
    "notice",
    "repair",
    "mould",
    "heating",
    "deposit",
    "señora",
    "Zürich",
    "日本語",
    "🙂",
    "quote\"d",
    "back\\slash",
    "line\nbreak",
    "tab\there",
];

/// A varied JSON answer: text of many lengths and scripts, numbers,
/// booleans, null, lists and objects.
fn value(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 1),
        2 => json!(rng.below(1 << 40)),
        3 => json!(f64::from(u32::try_from(rng.below(1_000_000)).unwrap_or(0)) / 100.0),
        4 => {
            let n = rng.below(6) + 1;
            json!(
                (0..n)
                    .map(|_| (*rng.pick(WORDS)).to_owned())
                    .collect::<Vec<_>>()
            )
        }
        5 => json!({
            "word": *rng.pick(WORDS),
            "count": rng.below(100),
            "nested": { "flag": rng.below(2) == 0, "list": [rng.below(10), rng.below(10)] },
        }),
        6 => {
            // Long text: a few KiB, now and then past one database page.
            let n = rng.below(900) + 100;
            let text: Vec<&str> = (0..n).map(|_| *rng.pick(WORDS)).collect();
            json!(text.join(" "))
        }
        _ => {
            let n = rng.below(8) + 1;
            let text: Vec<&str> = (0..n).map(|_| *rng.pick(WORDS)).collect();
            json!(text.join(" "))
        }
    }
}

/// Deterministic file bytes: a fixed text prefix (so no file-type signature
/// can match by chance) followed by bytes from `seed`.
fn file_bytes(seed: u64, size: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut bytes = b"satchel torture file\0".to_vec();
    while bytes.len() < size {
        bytes.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    bytes.truncate(size);
    bytes
}

/// The crash workload; runs until killed.
fn torture(dir: &Path, seed: &str) -> Result<(), String> {
    let seed: u64 = seed
        .parse()
        .map_err(|_| format!("the seed {seed:?} is not a number"))?;
    let mut rng = Rng(seed);
    let mut vault = open_or_create(dir)?;
    let mut draft = match vault
        .drafts()
        .map_err(|e| format!("listing drafts: {e}"))?
        .first()
    {
        Some(summary) => summary.id.clone(),
        None => new_draft(&mut vault)?,
    };
    say("ready");
    for iteration in 0u64.. {
        if rng.below(40) == 0 {
            draft = new_draft(&mut vault)?;
        } else if iteration % 9 == 8 && rng.below(2) == 0 {
            attach(&mut vault, &draft, &mut rng)?;
        } else {
            let field = *rng.pick(FIELDS);
            let value = value(&mut rng);
            let json = value.to_string();
            say(&format!("saving {draft} {field} {json}"));
            vault
                .save_answer(&draft, field, &value)
                .map_err(|e| format!("saving {field}: {e}"))?;
            say(&format!("saved {draft} {field} {json}"));
        }
    }
    Ok(())
}

fn new_draft(vault: &mut Vault) -> Result<String, String> {
    let id = vault
        .create_draft("housing-intake", "3")
        .map_err(|e| format!("creating a draft: {e}"))?;
    say(&format!("created {id}"));
    Ok(id)
}

fn attach(vault: &mut Vault, draft: &str, rng: &mut Rng) -> Result<(), String> {
    // Mostly small files; one in three spans several 64 KiB chunks.
    let size = if rng.below(3) == 0 {
        rng.below(300 * 1024 - 64 * 1024) + 64 * 1024
    } else {
        rng.below(16 * 1024) + 2 * 1024
    };
    let size = usize::try_from(size).unwrap_or(4096);
    let bytes = file_bytes(rng.next_u64(), size);
    let sha = sha256_hex(&bytes);
    say(&format!("attaching {draft} {sha} {size}"));
    let info = vault
        .add_attachment(
            draft,
            "evidence",
            "evidence.bin",
            &mut bytes.as_slice(),
            &rules(),
            no_scan(),
        )
        .map_err(|e| format!("attaching {size} bytes: {e}"))?;
    if info.sha256 != sha || info.size != size as u64 {
        return Err(format!(
            "the vault describes attachment {} as {} bytes with SHA-256 {}, not {size} and {sha}",
            info.id, info.size, info.sha256
        ));
    }
    say(&format!("attached {draft} {} {sha} {size}", info.id));
    Ok(())
}

/// The plaintext suite's scenario.
///
/// `fill <answer> <nested answer> <file content> <file name> <field id>
/// <draft field id>`: sets the vault up, saves the first two canaries as
/// answers, attaches a text file holding the third named after the fourth,
/// attaches a file to a field named after the fifth, and gives a second
/// draft a field named after the sixth. Prints the ids, never a canary.
///
/// `session`: signs in, prints `ready`, then runs one command a line from
/// standard input (`attach <draft> <field>` prints `attached <id>`,
/// `remove <attachment id>` prints `removed <id>`, `delete <record id>`
/// deletes a whole record and prints `deleted <id>`) and closes the vault
/// when input ends, printing `closed`. Between commands the suite looks at
/// the files as a running app leaves them.
fn plaintext(args: &[String]) -> Result<(), String> {
    satchel_telemetry::init("warn");
    let Some((dir, rest)) = args.split_first() else {
        return Err("plaintext: no data directory".to_owned());
    };
    let dir = PathBuf::from(dir);
    match rest {
        [mode, answer, nested, content, file_name, field, draft_field] if mode == "fill" => {
            let mut vault = open_or_create(&dir)?;
            let draft = new_draft(&mut vault)?;
            let err = |e: satchel_vault::Error| format!("filling: {e}");
            vault
                .save_answer(&draft, "tenant_name", &json!(answer))
                .map_err(err)?;
            vault
                .save_answer(
                    &draft,
                    "notes",
                    &json!({ "text": format!("the client said {nested} twice"), "n": 2 }),
                )
                .map_err(err)?;
            // The text file repeats its canary so copies land in more than
            // one chunk, one of them across a chunk boundary.
            let mut text = String::new();
            while text.len() < 150 * 1024 {
                text.push_str("The landlord wrote: ");
                text.push_str(content);
                text.push_str(". Nothing else.\n");
            }
            let info = vault
                .add_attachment(
                    &draft,
                    "lease_letter",
                    &format!("{file_name}.txt"),
                    &mut text.as_bytes(),
                    &rules(),
                    no_scan(),
                )
                .map_err(err)?;
            say(&format!("attached {draft} {}", info.id));
            let marked = vault
                .add_attachment(
                    &draft,
                    field,
                    "photo.txt",
                    &mut "a photo of the notice\n".as_bytes(),
                    &rules(),
                    no_scan(),
                )
                .map_err(err)?;
            say(&format!("marked {draft} {}", marked.id));
            let second = new_draft(&mut vault)?;
            vault
                .save_answer(&second, draft_field, &json!("anything"))
                .map_err(err)?;
            say(&format!("second {second}"));
            let read = vault.draft(&draft).map_err(err)?;
            if read.answers.get("tenant_name") != Some(&json!(answer)) {
                return Err("the saved answer did not read back".to_owned());
            }
            let mut back = Vec::new();
            vault.read_attachment(&info.id, &mut back).map_err(err)?;
            if back != text.as_bytes() {
                return Err("the attachment did not read back".to_owned());
            }
            say("filled");
            Ok(())
        }
        [mode] if mode == "session" => {
            let mut vault = open_or_create(&dir)?;
            say("ready");
            // One command a line; the vault stays open until input ends.
            for line in std::io::stdin().lock().lines() {
                let line = line.map_err(|e| format!("reading a command: {e}"))?;
                match line.split(' ').collect::<Vec<_>>()[..] {
                    ["attach", draft, field] => {
                        let info = vault
                            .add_attachment(
                                draft,
                                field,
                                "photo.txt",
                                &mut "another photo of the notice\n".as_bytes(),
                                &rules(),
                                no_scan(),
                            )
                            .map_err(|e| format!("attaching: {e}"))?;
                        say(&format!("attached {}", info.id));
                    }
                    ["delete", record] => {
                        let fresh = vault
                            .reauthenticate(&passphrase(), unix_now())
                            .map_err(|e| format!("confirming the passphrase: {e}"))?;
                        vault
                            .delete_record(fresh, record, "the client withdrew")
                            .map_err(|e| format!("deleting {record}: {e}"))?;
                        say(&format!("deleted {record}"));
                    }
                    ["remove", attachment] => {
                        vault
                            .remove_attachment(attachment)
                            .map_err(|e| format!("removing {attachment}: {e}"))?;
                        say(&format!("removed {attachment}"));
                    }
                    _ => return Err(format!("unknown command {line:?}")),
                }
            }
            drop(vault);
            say("closed");
            Ok(())
        }
        _ => Err(format!("plaintext: unexpected arguments {rest:?}")),
    }
}
