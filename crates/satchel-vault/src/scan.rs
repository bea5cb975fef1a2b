//! Malware scanning of attachments: the scanner interface, clamd over its
//! socket, and the policy.
//!
//! Attachments arrive chunk by chunk, so a scan is a session that takes the
//! bytes as they come ([`ScanSession::write`]) and gives its verdict at the
//! end ([`ScanSession::finish`]). [`Clamd`] talks to the ClamAV daemon over
//! its Unix socket. [`PolicyScan`] runs one scan under a [`ScanPolicy`] and
//! decides what a missing or failing scanner means: refuse the file
//! ([`ScanPolicy::Required`]), keep it unscanned ([`ScanPolicy::Optional`]),
//! or do not scan at all ([`ScanPolicy::Off`]).

use std::fmt;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Whether attachments must be scanned before they are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanPolicy {
    /// Every attachment is scanned; when the scanner cannot be reached the
    /// attachment is refused.
    #[default]
    Required,
    /// Attachments are scanned when the scanner can be reached and kept
    /// unscanned when it cannot.
    Optional,
    /// Attachments are never scanned.
    Off,
}

impl ScanPolicy {
    /// The policy's name as written in settings: `required`, `optional` or
    /// `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
            Self::Off => "off",
        }
    }
}

impl fmt::Display for ScanPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ScanPolicy {
    type Err = Error;

    /// Reads `required`, `optional` or `off`, ignoring case and surrounding
    /// spaces.
    fn from_str(s: &str) -> Result<Self> {
        let name = s.trim();
        [Self::Required, Self::Optional, Self::Off]
            .into_iter()
            .find(|policy| policy.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{name:?} is not a scanning setting; use required, optional or off"
                ))
            })
    }
}

/// What a scanner found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing was found.
    Clean,
    /// The scanner recognised something harmful.
    Infected {
        /// The scanner's name for what it found.
        signature: String,
    },
}

/// A malware scanner that can check files.
pub trait Scanner: Send + Sync {
    /// Starts scanning one file.
    ///
    /// # Errors
    ///
    /// When the scanner cannot be reached; the error's text says why in a
    /// few words.
    fn start(&self) -> io::Result<Box<dyn ScanSession>>;

    /// A short name for logs and messages, e.g. "clamd".
    fn name(&self) -> &str;
}

/// The scan of one file in progress.
pub trait ScanSession: Send {
    /// Passes the next part of the file to the scanner.
    ///
    /// # Errors
    ///
    /// When the scanner stopped answering or refused the data.
    fn write(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Ends the file and waits for the scanner's verdict.
    ///
    /// # Errors
    ///
    /// When the scanner stopped answering or could not check the file (for
    /// example because it is larger than the scanner accepts).
    fn finish(self: Box<Self>) -> io::Result<Verdict>;
}

/// The largest piece of a file sent to clamd in one chunk.
const CHUNK: usize = 64 * 1024;

/// The longest answer read from clamd. Real answers are a line.
const MAX_REPLY: usize = 4 * 1024;

/// How much of an unexpected answer is quoted in an error message.
const QUOTED_REPLY_CHARS: usize = 200;

/// The ClamAV daemon, reached over its Unix socket.
///
/// Each file is sent with clamd's `INSTREAM` command on a connection of its
/// own. Reads and writes on the socket give up after the timeout
/// ([`Clamd::DEFAULT_TIMEOUT`] unless set with [`Clamd::with_timeout`]);
/// the wait for the verdict after the last byte counts as one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clamd {
    socket: PathBuf,
    timeout: Duration,
}

impl Clamd {
    /// The socket clamd listens on when installed from Debian's
    /// `clamav-daemon` package.
    pub const DEBIAN_SOCKET: &str = "/run/clamav/clamd.ctl";

    /// How long a read or write on the socket may take before the scan is
    /// given up, unless set otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

    /// A scanner that talks to the clamd listening on `socket`.
    ///
    /// Nothing is contacted until a scan starts.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Self {
            socket: socket.into(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Sets how long a read or write on the socket may take. A zero
    /// duration is treated as one millisecond.
    #[must_use]
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self {
            timeout: timeout.max(Duration::from_millis(1)),
            ..self
        }
    }

    /// The socket this scanner connects to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The read and write timeout on the socket.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Checks that clamd is running and answering, with its `PING` command.
    ///
    /// # Errors
    ///
    /// When clamd cannot be reached or does not answer `PONG`.
    pub fn ping(&self) -> io::Result<()> {
        let mut stream = self.connect()?;
        stream
            .write_all(b"zPING\0")
            .map_err(|e| self.lost_connection(&e))?;
        let reply = self.read_reply(&mut stream)?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(self.unexpected_reply(&reply))
        }
    }

    fn connect(&self) -> io::Result<UnixStream> {
        let stream = UnixStream::connect(&self.socket).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "could not connect to {}: {}",
                    self.socket.display(),
                    describe(&e)
                ),
            )
        })?;
        stream.set_read_timeout(Some(self.timeout))?;
        stream.set_write_timeout(Some(self.timeout))?;
        Ok(stream)
    }

    /// Reads one NUL-terminated answer, at most [`MAX_REPLY`] bytes.
    fn read_reply(&self, stream: &mut UnixStream) -> io::Result<String> {
        let mut reply = Vec::with_capacity(64);
        let mut buf = [0u8; 512];
        loop {
            let n = match stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.lost_connection(&e)),
            };
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&buf[..n]);
            if let Some(end) = reply.iter().position(|&b| b == 0) {
                reply.truncate(end);
                break;
            }
            if reply.len() > MAX_REPLY {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the virus scanner at {} gave an answer that is too long",
                        self.socket.display()
                    ),
                ));
            }
        }
        if reply.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the virus scanner at {} hung up without an answer",
                    self.socket.display()
                ),
            ));
        }
        Ok(String::from_utf8_lossy(&reply).trim().to_owned())
    }

    /// The answer clamd left on a connection that failed, if it left one.
    /// Nothing is read after a timeout: the wait would only be repeated.
    fn read_reply_after_failure(&self, stream: &mut UnixStream, timed_out: bool) -> Option<String> {
        if timed_out {
            return None;
        }
        self.read_reply(stream).ok()
    }

    /// Turns an error on the socket into one that names the socket.
    fn lost_connection(&self, e: &io::Error) -> io::Error {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the virus scanner at {} did not answer within {}",
                    self.socket.display(),
                    seconds(self.timeout)
                ),
            ),
            kind => io::Error::new(
                kind,
                format!(
                    "lost the connection to {}: {}",
                    self.socket.display(),
                    describe(e)
                ),
            ),
        }
    }

    fn unexpected_reply(&self, reply: &str) -> io::Error {
        io::Error::other(format!(
            "the virus scanner at {} answered {:?}",
            self.socket.display(),
            quote(reply)
        ))
    }

    /// Reads the verdict out of clamd's answer to `INSTREAM`.
    fn verdict(&self, reply: &str) -> io::Result<Verdict> {
        match parse_reply(reply) {
            Reply::Clean => Ok(Verdict::Clean),
            Reply::Found(signature) => Ok(Verdict::Infected { signature }),
            Reply::TooLarge => Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "the file is larger than the virus scanner accepts",
            )),
            Reply::Other => Err(self.unexpected_reply(reply)),
        }
    }
}

impl Scanner for Clamd {
    fn start(&self) -> io::Result<Box<dyn ScanSession>> {
        let mut stream = self.connect()?;
        stream
            .write_all(b"zINSTREAM\0")
            .map_err(|e| self.lost_connection(&e))?;
        Ok(Box::new(ClamdSession {
            clamd: self.clone(),
            stream,
            pending: Vec::with_capacity(CHUNK),
            failed: None,
        }))
    }

    fn name(&self) -> &str {
        "clamd"
    }
}

/// One `INSTREAM` upload to clamd.
///
/// Small writes are gathered into chunks of [`CHUNK`] bytes; large ones are
/// cut into chunks of that size.
struct ClamdSession {
    clamd: Clamd,
    stream: UnixStream,
    /// Bytes written but not sent yet, fewer than [`CHUNK`].
    pending: Vec<u8>,
    /// Why the upload failed, once it has; repeated on every later call.
    failed: Option<(io::ErrorKind, String)>,
}

impl ClamdSession {
    fn check_failed(&self) -> io::Result<()> {
        match &self.failed {
            Some((kind, message)) => Err(io::Error::new(*kind, message.clone())),
            None => Ok(()),
        }
    }

    /// Sends one length-prefixed chunk; an empty one ends the file.
    fn send_chunk(stream: &mut UnixStream, chunk: &[u8]) -> io::Result<()> {
        debug_assert!(chunk.len() <= CHUNK);
        let len = u32::try_from(chunk.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "chunk too large"))?;
        stream.write_all(&len.to_be_bytes())?;
        stream.write_all(chunk)
    }

    /// Remembers a failed send and explains it. clamd answers and hangs up
    /// when a file goes over its size limit, so its answer is read, when
    /// there is one, to say why.
    fn fail(&mut self, e: &io::Error) -> io::Error {
        let timed_out = matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        );
        let error = match self
            .clamd
            .read_reply_after_failure(&mut self.stream, timed_out)
        {
            Some(reply) => match self.clamd.verdict(&reply) {
                Err(explained) => explained,
                Ok(_) => self.clamd.lost_connection(e),
            },
            None => self.clamd.lost_connection(e),
        };
        self.failed = Some((error.kind(), error.to_string()));
        error
    }
}

impl ScanSession for ClamdSession {
    fn write(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        self.check_failed()?;
        while !bytes.is_empty() {
            if self.pending.is_empty() && bytes.len() >= CHUNK {
                let (chunk, rest) = bytes.split_at(CHUNK);
                if let Err(e) = Self::send_chunk(&mut self.stream, chunk) {
                    return Err(self.fail(&e));
                }
                bytes = rest;
                continue;
            }
            let take = (CHUNK - self.pending.len()).min(bytes.len());
            let (part, rest) = bytes.split_at(take);
            self.pending.extend_from_slice(part);
            bytes = rest;
            if self.pending.len() == CHUNK {
                let sent = Self::send_chunk(&mut self.stream, &self.pending);
                self.pending.clear();
                if let Err(e) = sent {
                    return Err(self.fail(&e));
                }
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<Verdict> {
        self.check_failed()?;
        let mut sent = Ok(());
        if !self.pending.is_empty() {
            sent = Self::send_chunk(&mut self.stream, &self.pending);
        }
        if sent.is_ok() {
            sent = Self::send_chunk(&mut self.stream, &[]);
        }
        if let Err(e) = sent {
            return Err(self.fail(&e));
        }
        let reply = self.clamd.read_reply(&mut self.stream)?;
        self.clamd.verdict(&reply)
    }
}

/// clamd's answer to `INSTREAM`, sorted.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Clean,
    Found(String),
    TooLarge,
    Other,
}

fn parse_reply(reply: &str) -> Reply {
    let reply = reply.trim_end_matches('\0').trim();
    if reply == "stream: OK" {
        return Reply::Clean;
    }
    if let Some(name) = reply
        .strip_prefix("stream: ")
        .and_then(|rest| rest.strip_suffix(" FOUND"))
    {
        let name = name.trim();
        if !name.is_empty() && !name.contains('\n') {
            return Reply::Found(name.to_owned());
        }
    }
    if reply.contains("size limit exceeded") {
        return Reply::TooLarge;
    }
    Reply::Other
}

/// The text of an I/O error without the "(os error N)" the standard library
/// adds.
fn describe(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_owned(),
        _ => text,
    }
}

/// A scanner's answer made safe to show: printable characters only, and
/// not too long.
fn quote(reply: &str) -> String {
    let mut quoted: String = reply
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(QUOTED_REPLY_CHARS)
        .collect();
    if reply.chars().count() > QUOTED_REPLY_CHARS {
        quoted.push('…');
    }
    quoted
}

/// A duration as "N seconds" (or milliseconds when under a second).
fn seconds(duration: Duration) -> String {
    match duration.as_secs() {
        0 => format!("{} milliseconds", duration.as_millis()),
        1 => "1 second".to_owned(),
        n => format!("{n} seconds"),
    }
}

/// What scanning under a policy decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOutcome {
    /// The scanner checked the file and found nothing.
    Clean,
    /// The file was not scanned, and the policy allows that.
    NotScanned {
        /// Why it was not scanned, in a few words.
        reason: String,
    },
}

/// The reason given when the policy is [`ScanPolicy::Off`].
const TURNED_OFF: &str = "scanning is turned off";

/// The reason given when no scanner is set up.
const NO_SCANNER: &str = "no virus scanner is set up";

/// Runs a whole scan under `policy`, as the attachment store will: holds an
/// optional session and applies the policy at the end.
///
/// Call [`PolicyScan::start`] before the first byte of the file,
/// [`PolicyScan::write`] for each part of it, and [`PolicyScan::finish`]
/// after the last; store the file only if `finish` returns `Ok`.
pub struct PolicyScan {
    policy: ScanPolicy,
    scanner_name: String,
    session: Option<Box<dyn ScanSession>>,
    /// Why the file is not being scanned, once that is known.
    not_scanned: Option<String>,
}

impl fmt::Debug for PolicyScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyScan")
            .field("policy", &self.policy)
            .field("scanner", &self.scanner_name)
            .field("scanning", &self.session.is_some())
            .field("not_scanned", &self.not_scanned)
            .finish()
    }
}

impl PolicyScan {
    /// Starts scanning one file with `scanner` under `policy`.
    ///
    /// With [`ScanPolicy::Off`] the scanner is not contacted. With
    /// [`ScanPolicy::Optional`] a missing or unreachable scanner is noted
    /// and the file goes on unscanned.
    ///
    /// # Errors
    ///
    /// [`Error::ScannerUnavailable`] when the policy is
    /// [`ScanPolicy::Required`] and there is no scanner or it cannot be
    /// reached.
    pub fn start(scanner: Option<&dyn Scanner>, policy: ScanPolicy) -> Result<Self> {
        let mut scan = Self {
            policy,
            scanner_name: scanner.map_or_else(String::new, |s| s.name().to_owned()),
            session: None,
            not_scanned: None,
        };
        if policy == ScanPolicy::Off {
            scan.not_scanned = Some(TURNED_OFF.to_owned());
            return Ok(scan);
        }
        match scanner {
            None => scan.failed(NO_SCANNER.to_owned())?,
            Some(scanner) => match scanner.start() {
                Ok(session) => scan.session = Some(session),
                Err(e) => scan.failed(e.to_string())?,
            },
        }
        Ok(scan)
    }

    /// Passes the next part of the file to the scanner, if one is running.
    ///
    /// # Errors
    ///
    /// [`Error::ScannerUnavailable`] when the policy is
    /// [`ScanPolicy::Required`] and the scanner failed. With
    /// [`ScanPolicy::Optional`] a failure is noted and the rest of the file
    /// goes unscanned.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        if let Some(session) = self.session.as_mut() {
            if let Err(e) = session.write(bytes) {
                self.session = None;
                self.failed(e.to_string())?;
            }
        } else if self.policy == ScanPolicy::Required {
            return Err(Error::ScannerUnavailable(self.reason()));
        }
        Ok(())
    }

    /// Ends the file and applies the policy to what the scanner said.
    ///
    /// # Errors
    ///
    /// [`Error::Infected`] when the scanner found something, whatever the
    /// policy; [`Error::ScannerUnavailable`] when the policy is
    /// [`ScanPolicy::Required`] and the scan did not complete.
    pub fn finish(mut self) -> Result<ScanOutcome> {
        if let Some(session) = self.session.take() {
            match session.finish() {
                Ok(Verdict::Clean) => return Ok(ScanOutcome::Clean),
                Ok(Verdict::Infected { signature }) => {
                    tracing::warn!(
                        scanner = %self.scanner_name,
                        %signature,
                        "attachment refused: the scanner found malware"
                    );
                    return Err(Error::Infected { signature });
                }
                Err(e) => self.failed(e.to_string())?,
            }
        }
        match self.policy {
            ScanPolicy::Required => Err(Error::ScannerUnavailable(self.reason())),
            ScanPolicy::Optional | ScanPolicy::Off => Ok(ScanOutcome::NotScanned {
                reason: self.reason(),
            }),
        }
    }

    /// Notes why the file is not being scanned; an error when the policy
    /// requires scanning.
    fn failed(&mut self, reason: String) -> Result<()> {
        let first = self.not_scanned.is_none();
        let reason = self.not_scanned.get_or_insert(reason).clone();
        match self.policy {
            ScanPolicy::Required => {
                if first {
                    tracing::warn!(
                        scanner = %self.scanner_name,
                        %reason,
                        "attachment refused: scanning is required and the scanner failed"
                    );
                }
                Err(Error::ScannerUnavailable(reason))
            }
            ScanPolicy::Optional | ScanPolicy::Off => {
                if first {
                    tracing::warn!(
                        scanner = %self.scanner_name,
                        %reason,
                        "attachment kept unscanned: the scanner failed"
                    );
                }
                Ok(())
            }
        }
    }

    fn reason(&self) -> String {
        self.not_scanned
            .clone()
            .unwrap_or_else(|| NO_SCANNER.to_owned())
    }
}

#[cfg(test)]
mod tests;
