//! `satchel seal` and `satchel open`: envelopes from and to files, for
//! scripting and for break-glass use. Neither leaves a half-written file:
//! output is assembled beside its destination and moved into place only
//! when complete.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::ValueEnum;
use satchel_seal::envelope::{
    self, AttachmentMeta, Classification, InterviewRef, MANIFEST_FORMAT, Manifest, Opened, Sender,
    Sink,
};
use sha2::{Digest, Sha256};

use crate::documents::{DirectoryArgs, now, read_bounded};
use crate::keys_cmd::{all_identities, signing_secret};
use crate::passphrase::PassphraseSource;
use crate::{AccountName, DataDir};

/// The largest answers file accepted.
const MAX_ANSWERS_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub(crate) struct SealArgs {
    /// The answers, as a JSON object.
    #[arg(long, value_name = "FILE")]
    answers: PathBuf,
    /// A document to attach; repeat for several.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
    /// The member or team id to seal to, from the directory.
    #[arg(long, value_name = "ID")]
    to: String,
    /// The sending member's id.
    #[arg(long, value_name = "ID")]
    sender: String,
    /// This device's id in the directory.
    #[arg(long, value_name = "ID")]
    device: String,
    /// The id of this device's signing key in the vault.
    #[arg(long, value_name = "KEY_ID")]
    device_key: String,
    /// The interview the answers come from.
    #[arg(long, value_name = "ID", default_value = "ad-hoc")]
    interview: String,
    /// The interview's version.
    #[arg(long, value_name = "VERSION", default_value = "1")]
    interview_version: String,
    /// How sensitive the content is.
    #[arg(long, value_enum, default_value = "privileged")]
    classification: ClassificationArg,
    /// Where to write the envelope; it must not exist yet.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    directory: DirectoryArgs,
    #[command(flatten)]
    data_dir: DataDir,
    #[command(flatten)]
    account: AccountName,
    #[command(flatten)]
    passphrase: PassphraseSource,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ClassificationArg {
    Public,
    Personal,
    Sensitive,
    Privileged,
}

pub(crate) fn seal(args: SealArgs) -> anyhow::Result<()> {
    let now = now();
    let directory = args.directory.load(now)?;
    if args.out.exists() {
        bail!(
            "{} already exists; choose another --out",
            args.out.display()
        );
    }

    // Everything the manifest says is gathered before the vault is opened.
    let answers: serde_json::Value =
        serde_json::from_slice(&read_bounded(&args.answers, MAX_ANSWERS_BYTES)?)
            .with_context(|| format!("{} is not valid JSON", args.answers.display()))?;
    if !answers.is_object() {
        bail!(
            "{} must hold a JSON object of answers",
            args.answers.display()
        );
    }
    let attachments = args
        .attach
        .iter()
        .map(|path| describe(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let recipients = directory.recipients_for(&args.to, now)?;

    let mut vault = crate::unlock(&args.data_dir, &args.account, args.passphrase)?;
    let device_key = signing_secret(&mut vault, &args.device_key)?;
    drop(vault);

    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_owned(),
        submission_id: random_id()?,
        interview: InterviewRef {
            id: args.interview,
            version: args.interview_version,
        },
        sender: Sender {
            member_id: args.sender,
            device_id: args.device,
        },
        recipients: Vec::new(),
        created_at: now,
        classification: match args.classification {
            ClassificationArg::Public => Classification::Public,
            ClassificationArg::Personal => Classification::Personal,
            ClassificationArg::Sensitive => Classification::Sensitive,
            ClassificationArg::Privileged => Classification::Privileged,
        },
        answers,
        attachments,
    };

    let mut files = args
        .attach
        .iter()
        .map(|path| File::open(path).map(BufReader::new))
        .collect::<Result<Vec<_>, _>>()
        .context("could not reopen an attachment")?;
    let mut streams: Vec<&mut (dyn Read + Send)> = files
        .iter_mut()
        .map(|f| f as &mut (dyn Read + Send))
        .collect();

    let staged = staging_file(&args.out)?;
    let writer = BufWriter::new(staged.reopen().context("could not open the staging file")?);
    let (sealed, writer) =
        envelope::seal(manifest, &mut streams, &device_key, &recipients, writer)?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
        .context("could not flush the envelope to disk")?;
    staged
        .persist_noclobber(&args.out)
        .map_err(|e| e.error)
        .with_context(|| format!("could not move the envelope to {}", args.out.display()))?;

    println!("Submission:  {}", sealed.manifest.submission_id);
    println!(
        "Envelope:    {} ({} bytes)",
        args.out.display(),
        sealed.envelope_len
    );
    println!("Envelope id: {}", hex(&sealed.envelope_id));
    println!(
        "Sealed to:   {}",
        sealed
            .manifest
            .recipients
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

#[derive(Debug, clap::Args)]
pub(crate) struct OpenArgs {
    /// The envelope to open.
    envelope: PathBuf,
    /// A directory to create for the opened submission: `manifest.json`
    /// and the attachments. It must not exist yet.
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    #[command(flatten)]
    directory: DirectoryArgs,
    #[command(flatten)]
    data_dir: DataDir,
    #[command(flatten)]
    account: AccountName,
    #[command(flatten)]
    passphrase: PassphraseSource,
}

pub(crate) fn open(args: OpenArgs) -> anyhow::Result<()> {
    let directory = args.directory.load(now())?;
    if args.out_dir.exists() {
        bail!(
            "{} already exists; choose another --out-dir",
            args.out_dir.display()
        );
    }
    let mut vault = crate::unlock(&args.data_dir, &args.account, args.passphrase)?;
    let identities = all_identities(&mut vault)?;
    drop(vault);
    if identities.is_empty() {
        bail!("the vault holds no recipient keys to open envelopes with");
    }

    let input = BufReader::new(
        File::open(&args.envelope)
            .with_context(|| format!("could not read {}", args.envelope.display()))?,
    );
    let parent = parent_of(&args.out_dir);
    let staging = tempfile::Builder::new()
        .prefix(".satchel-open-")
        .tempdir_in(parent)
        .with_context(|| format!("could not create a staging folder in {}", parent.display()))?;
    let sink = FolderSink {
        dir: staging.path().to_owned(),
        current: None,
        names: Vec::new(),
    };
    let (opened, ()) = envelope::open(input, &identities, &directory, sink)?;

    // Everything verified and written: move the folder into place.
    let staged = staging.keep();
    std::fs::rename(&staged, &args.out_dir).with_context(|| {
        format!(
            "could not move the opened submission to {}",
            args.out_dir.display()
        )
    })?;

    println!("Submission:  {}", opened.manifest.submission_id);
    println!(
        "From:        {} ({})",
        opened.manifest.sender.member_id, opened.manifest.sender.device_id
    );
    println!(
        "Opened with {}, into {}",
        opened.opened_with,
        args.out_dir.display()
    );
    Ok(())
}

/// Writes attachments into a staging folder. Dropped without commit, the
/// folder (a `TempDir`) is removed by its owner.
struct FolderSink {
    dir: PathBuf,
    current: Option<(usize, BufWriter<File>)>,
    names: Vec<String>,
}

impl Sink for FolderSink {
    type Committed = ();

    fn write(&mut self, index: usize, bytes: &[u8]) -> std::io::Result<()> {
        if self.current.as_ref().map(|(i, _)| *i) != Some(index) {
            self.finish_current()?;
            let file = File::create(self.dir.join(format!("attachment-{:03}", index + 1)))?;
            self.current = Some((index, BufWriter::new(file)));
        }
        if let Some((_, file)) = &mut self.current {
            file.write_all(bytes)?;
        }
        Ok(())
    }

    fn commit(mut self, opened: &Opened) -> std::io::Result<()> {
        self.finish_current()?;
        // Files get their real (sanitised) names only now, and empty
        // attachments, which saw no write, are created.
        for (index, meta) in opened.manifest.attachments.iter().enumerate() {
            let staged = self.dir.join(format!("attachment-{:03}", index + 1));
            if !staged.exists() {
                File::create(&staged)?;
            }
            let name = format!("{:03}-{}", index + 1, safe_name(&meta.name));
            std::fs::rename(&staged, self.dir.join(&name))?;
            self.names.push(name);
        }
        let manifest =
            serde_json::to_vec_pretty(&opened.manifest).map_err(std::io::Error::other)?;
        let mut file = File::create(self.dir.join("manifest.json"))?;
        file.write_all(&manifest)?;
        file.sync_all()
    }
}

impl FolderSink {
    fn finish_current(&mut self) -> std::io::Result<()> {
        if let Some((_, file)) = self.current.take() {
            file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        Ok(())
    }
}

/// A file name that cannot escape its folder or hide: only letters, digits,
/// dots, dashes and underscores, no leading dot, at most 100 characters.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "attachment".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// An attachment's manifest entry: its size, SHA-256 and a media type from
/// its first bytes.
fn describe(path: &Path) -> anyhow::Result<AttachmentMeta> {
    let mut file = BufReader::new(
        File::open(path).with_context(|| format!("could not read {}", path.display()))?,
    );
    let mut hash = Sha256::new();
    let mut head = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let read = file
            .read(&mut buffer)
            .with_context(|| format!("reading {}", path.display()))?;
        if read == 0 {
            break;
        }
        if head.len() < 8 {
            head.extend_from_slice(&buffer[..read.min(8)]);
        }
        hash.update(&buffer[..read]);
        size += read as u64;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(AttachmentMeta {
        name,
        media_type: sniff(&head).to_owned(),
        size,
        sha256: hex(&hash.finalize()),
    })
}

fn sniff(head: &[u8]) -> &'static str {
    if head.starts_with(b"%PDF-") {
        "application/pdf"
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if head.starts_with(b"\xff\xd8\xff") {
        "image/jpeg"
    } else {
        "application/octet-stream"
    }
}

fn staging_file(out: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    let parent = parent_of(out);
    tempfile::Builder::new()
        .prefix(".satchel-seal-")
        .tempfile_in(parent)
        .with_context(|| format!("could not create a staging file in {}", parent.display()))
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn random_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random number generator is unavailable"))?;
    Ok(format!("sub-{}", hex(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
