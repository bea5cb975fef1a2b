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
mod tests {
    use std::os::unix::net::UnixListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread::{self, JoinHandle};

    use super::*;

    #[test]
    fn replies_are_sorted() {
        assert_eq!(parse_reply("stream: OK"), Reply::Clean);
        assert_eq!(parse_reply("stream: OK\0"), Reply::Clean);
        assert_eq!(parse_reply("stream: OK\n"), Reply::Clean);
        assert_eq!(
            parse_reply("stream: Eicar-Test-Signature FOUND"),
            Reply::Found("Eicar-Test-Signature".to_owned())
        );
        assert_eq!(
            parse_reply("stream: Win.Test.EICAR_HDB-1 FOUND\0"),
            Reply::Found("Win.Test.EICAR_HDB-1".to_owned())
        );
        assert_eq!(
            parse_reply("INSTREAM size limit exceeded. ERROR"),
            Reply::TooLarge
        );
        for other in [
            "stream: FOUND",
            "stream:  FOUND",
            "stream: Can't allocate memory ERROR",
            "UNKNOWN COMMAND",
            "PONG",
            "",
            "stream: ok",
        ] {
            assert_eq!(parse_reply(other), Reply::Other, "{other:?}");
        }
    }

    #[test]
    fn errors_read_like_sentences() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(describe(&e), "No such file or directory");
        assert_eq!(describe(&io::Error::other("plain")), "plain");
        assert_eq!(seconds(Duration::from_secs(60)), "60 seconds");
        assert_eq!(seconds(Duration::from_secs(1)), "1 second");
        assert_eq!(seconds(Duration::from_millis(250)), "250 milliseconds");
        assert_eq!(quote("a\nb"), "a b");
        assert_eq!(quote(&"x".repeat(500)).chars().count(), 201);
    }

    #[test]
    fn scans_can_move_between_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<PolicyScan>();
        assert_send::<Clamd>();
    }

    #[test]
    fn policy_names() {
        assert_eq!(ScanPolicy::default(), ScanPolicy::Required);
        for policy in [ScanPolicy::Required, ScanPolicy::Optional, ScanPolicy::Off] {
            assert_eq!(
                policy.as_str().parse::<ScanPolicy>().expect("parse"),
                policy
            );
            assert_eq!(policy.to_string(), policy.as_str());
            let json = serde_json::to_string(&policy).expect("serialize");
            assert_eq!(json, format!("\"{}\"", policy.as_str()));
            let back: ScanPolicy = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, policy);
        }
        assert_eq!(
            " Optional ".parse::<ScanPolicy>().expect("parse"),
            ScanPolicy::Optional
        );
        let e = "sometimes".parse::<ScanPolicy>().expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "\"sometimes\" is not a scanning setting; use required, optional or off"
        );
        assert!(serde_json::from_str::<ScanPolicy>("\"Required\"").is_err());
    }

    /// What the fake clamd received on one connection.
    #[derive(Debug, Default)]
    struct Received {
        command: Vec<u8>,
        chunk_lengths: Vec<usize>,
        data: Vec<u8>,
        ended: bool,
    }

    /// How the fake clamd behaves after reading the command.
    enum Fake {
        /// Reads the whole stream, then answers.
        Answer(&'static [u8]),
        /// Reads `usize` bytes of chunks, then answers and hangs up.
        AnswerEarly(usize, &'static [u8]),
        /// Reads the whole stream and then says nothing for a while.
        Silent(Duration),
    }

    fn read_u32(stream: &mut UnixStream) -> Option<u32> {
        let mut len = [0u8; 4];
        stream.read_exact(&mut len).ok()?;
        Some(u32::from_be_bytes(len))
    }

    /// Reads chunks until the end marker or until `limit` bytes have come.
    fn read_chunks(stream: &mut UnixStream, received: &mut Received, limit: usize) {
        while received.data.len() < limit {
            let Some(len) = read_u32(stream) else { return };
            if len == 0 {
                received.ended = true;
                return;
            }
            let mut chunk = vec![0u8; len as usize];
            if stream.read_exact(&mut chunk).is_err() {
                return;
            }
            received.chunk_lengths.push(chunk.len());
            received.data.extend_from_slice(&chunk);
        }
    }

    fn fake_clamd(behaviour: Fake) -> (tempfile::TempDir, PathBuf, JoinHandle<Received>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("fake.sock");
        let listener = UnixListener::bind(&socket).expect("bind");
        let handle = thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut received = Received::default();
            let mut command = [0u8; 10];
            stream.read_exact(&mut command).expect("command");
            received.command = command.to_vec();
            match behaviour {
                Fake::Answer(reply) => {
                    read_chunks(&mut stream, &mut received, usize::MAX);
                    stream.write_all(reply).expect("reply");
                }
                Fake::AnswerEarly(limit, reply) => {
                    read_chunks(&mut stream, &mut received, limit);
                    stream.write_all(reply).expect("reply");
                }
                Fake::Silent(wait) => {
                    read_chunks(&mut stream, &mut received, usize::MAX);
                    thread::sleep(wait);
                }
            }
            received
        });
        (dir, socket, handle)
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn large_writes_are_cut_into_64_kib_chunks() {
        let (_dir, socket, server) = fake_clamd(Fake::Answer(b"stream: OK\0"));
        let data = pattern(150 * 1024);
        let mut session = Clamd::new(&socket).start().expect("start");
        session.write(&data).expect("write");
        session.write(&[]).expect("an empty write sends nothing");
        assert_eq!(session.finish().expect("finish"), Verdict::Clean);

        let received = server.join().expect("server");
        assert_eq!(received.command, b"zINSTREAM\0");
        assert_eq!(
            received.chunk_lengths,
            [CHUNK, CHUNK, 150 * 1024 - 2 * CHUNK]
        );
        assert!(received.ended);
        assert_eq!(received.data, data);
    }

    #[test]
    fn small_writes_are_gathered_into_chunks() {
        let (_dir, socket, server) = fake_clamd(Fake::Answer(b"stream: Test.Sig FOUND\0"));
        let data = pattern(100_000);
        let mut session = Clamd::new(&socket).start().expect("start");
        for part in data.chunks(999) {
            session.write(part).expect("write");
        }
        assert_eq!(
            session.finish().expect("finish"),
            Verdict::Infected {
                signature: "Test.Sig".to_owned()
            }
        );

        let received = server.join().expect("server");
        assert_eq!(received.chunk_lengths, [CHUNK, 100_000 - CHUNK]);
        assert!(received.ended);
        assert_eq!(received.data, data);
    }

    #[test]
    fn an_empty_file_is_only_the_end_marker() {
        let (_dir, socket, server) = fake_clamd(Fake::Answer(b"stream: OK\0"));
        let session = Clamd::new(&socket).start().expect("start");
        assert_eq!(session.finish().expect("finish"), Verdict::Clean);
        let received = server.join().expect("server");
        assert!(received.chunk_lengths.is_empty());
        assert!(received.ended);
    }

    #[test]
    fn an_error_answer_is_an_error_quoting_it() {
        let (_dir, socket, server) =
            fake_clamd(Fake::Answer(b"stream: Can't allocate memory ERROR\0"));
        let mut session = Clamd::new(&socket).start().expect("start");
        session.write(b"hello").expect("write");
        let e = session.finish().expect_err("error answer");
        let text = e.to_string();
        assert!(text.contains("Can't allocate memory ERROR"), "{text}");
        assert!(text.contains(&socket.display().to_string()), "{text}");
        server.join().expect("server");
    }

    #[test]
    fn an_answer_without_its_nul_still_counts() {
        let (_dir, socket, server) = fake_clamd(Fake::Answer(b"stream: OK"));
        let session = Clamd::new(&socket).start().expect("start");
        assert_eq!(session.finish().expect("finish"), Verdict::Clean);
        server.join().expect("server");
    }

    #[test]
    fn an_endless_answer_is_refused() {
        static LONG: [u8; 8192] = [b'A'; 8192];
        let (_dir, socket, server) = fake_clamd(Fake::Answer(&LONG));
        let session = Clamd::new(&socket).start().expect("start");
        let e = session.finish().expect_err("too long");
        assert!(e.to_string().contains("too long"), "{e}");
        server.join().expect("server");
    }

    #[test]
    fn going_over_the_size_limit_reports_the_limit() {
        let (_dir, socket, server) = fake_clamd(Fake::AnswerEarly(
            CHUNK,
            b"INSTREAM size limit exceeded. ERROR\0",
        ));
        let mut session = Clamd::new(&socket).start().expect("start");
        let data = pattern(CHUNK);
        let mut result = Ok(());
        for _ in 0..64 {
            result = session.write(&data);
            if result.is_err() {
                break;
            }
        }
        let e = match result {
            Err(e) => e,
            Ok(()) => session.finish().expect_err("over the limit"),
        };
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(
            e.to_string(),
            "the file is larger than the virus scanner accepts"
        );
        server.join().expect("server");
    }

    #[test]
    fn a_silent_scanner_times_out() {
        let (_dir, socket, server) = fake_clamd(Fake::Silent(Duration::from_millis(500)));
        let clamd = Clamd::new(&socket).with_timeout(Duration::from_millis(100));
        let session = clamd.start().expect("start");
        let e = session.finish().expect_err("timeout");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(
            e.to_string()
                .contains("did not answer within 100 milliseconds"),
            "{e}"
        );
        server.join().expect("server");
    }

    #[test]
    fn a_missing_socket_is_named_in_the_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("absent.sock");
        let e = Clamd::new(&socket).start().err().expect("no socket");
        assert_eq!(
            e.to_string(),
            format!(
                "could not connect to {}: No such file or directory",
                socket.display()
            )
        );
    }

    #[test]
    fn ping_expects_pong() {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("ping.sock");
        let listener = UnixListener::bind(&socket).expect("bind");
        let server = thread::spawn(move || {
            for reply in [&b"PONG\0"[..], b"UNKNOWN COMMAND\0"] {
                let (mut stream, _) = listener.accept().expect("accept");
                let mut command = [0u8; 6];
                stream.read_exact(&mut command).expect("command");
                assert_eq!(&command, b"zPING\0");
                stream.write_all(reply).expect("reply");
            }
        });
        let clamd = Clamd::new(&socket);
        clamd.ping().expect("pong");
        let e = clamd.ping().expect_err("not pong");
        assert!(e.to_string().contains("UNKNOWN COMMAND"), "{e}");
        server.join().expect("server");
    }

    /// A scanner in memory: counts sessions and fails where told to.
    struct FakeScanner {
        starts: Arc<AtomicUsize>,
        fail_start: bool,
        fail_write: bool,
        verdict: Verdict,
    }

    impl FakeScanner {
        fn new(verdict: Verdict) -> Self {
            Self {
                starts: Arc::new(AtomicUsize::new(0)),
                fail_start: false,
                fail_write: false,
                verdict,
            }
        }
    }

    struct FakeSession {
        fail_write: bool,
        verdict: Verdict,
    }

    impl Scanner for FakeScanner {
        fn start(&self) -> io::Result<Box<dyn ScanSession>> {
            self.starts.fetch_add(1, Ordering::SeqCst);
            if self.fail_start {
                return Err(io::Error::other("could not connect to the fake"));
            }
            Ok(Box::new(FakeSession {
                fail_write: self.fail_write,
                verdict: self.verdict.clone(),
            }))
        }

        fn name(&self) -> &str {
            "fake"
        }
    }

    impl ScanSession for FakeSession {
        fn write(&mut self, _bytes: &[u8]) -> io::Result<()> {
            if self.fail_write {
                Err(io::Error::other("lost the connection to the fake"))
            } else {
                Ok(())
            }
        }

        fn finish(self: Box<Self>) -> io::Result<Verdict> {
            Ok(self.verdict)
        }
    }

    fn run(scanner: Option<&dyn Scanner>, policy: ScanPolicy) -> Result<ScanOutcome> {
        let mut scan = PolicyScan::start(scanner, policy)?;
        scan.write(b"part one")?;
        scan.write(b"part two")?;
        scan.finish()
    }

    #[test]
    fn policy_with_a_working_scanner() {
        let clean = FakeScanner::new(Verdict::Clean);
        let infected = FakeScanner::new(Verdict::Infected {
            signature: "Test.Sig".to_owned(),
        });
        for policy in [ScanPolicy::Required, ScanPolicy::Optional] {
            assert_eq!(
                run(Some(&clean), policy).expect("clean"),
                ScanOutcome::Clean
            );
            match run(Some(&infected), policy) {
                Err(Error::Infected { signature }) => assert_eq!(signature, "Test.Sig"),
                other => panic!("{policy}: expected Infected, got {other:?}"),
            }
        }
        assert_eq!(clean.starts.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn policy_off_never_starts_the_scanner() {
        let scanner = FakeScanner::new(Verdict::Infected {
            signature: "Test.Sig".to_owned(),
        });
        assert_eq!(
            run(Some(&scanner), ScanPolicy::Off).expect("off"),
            ScanOutcome::NotScanned {
                reason: "scanning is turned off".to_owned()
            }
        );
        assert_eq!(
            run(None, ScanPolicy::Off).expect("off"),
            ScanOutcome::NotScanned {
                reason: "scanning is turned off".to_owned()
            }
        );
        assert_eq!(scanner.starts.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn policy_without_a_scanner() {
        match PolicyScan::start(None, ScanPolicy::Required) {
            Err(Error::ScannerUnavailable(reason)) => assert_eq!(reason, NO_SCANNER),
            other => panic!("expected ScannerUnavailable, got {other:?}"),
        }
        assert_eq!(
            run(None, ScanPolicy::Optional).expect("optional"),
            ScanOutcome::NotScanned {
                reason: NO_SCANNER.to_owned()
            }
        );
    }

    #[test]
    fn policy_when_the_scanner_cannot_start() {
        let mut scanner = FakeScanner::new(Verdict::Clean);
        scanner.fail_start = true;
        match PolicyScan::start(Some(&scanner), ScanPolicy::Required) {
            Err(Error::ScannerUnavailable(reason)) => {
                assert_eq!(reason, "could not connect to the fake");
            }
            other => panic!("expected ScannerUnavailable, got {other:?}"),
        }
        assert_eq!(
            run(Some(&scanner), ScanPolicy::Optional).expect("optional"),
            ScanOutcome::NotScanned {
                reason: "could not connect to the fake".to_owned()
            }
        );
    }

    #[test]
    fn policy_when_a_write_fails() {
        let mut scanner = FakeScanner::new(Verdict::Clean);
        scanner.fail_write = true;

        let mut scan = PolicyScan::start(Some(&scanner), ScanPolicy::Required).expect("start");
        match scan.write(b"data") {
            Err(Error::ScannerUnavailable(reason)) => {
                assert_eq!(reason, "lost the connection to the fake");
            }
            other => panic!("expected ScannerUnavailable, got {other:?}"),
        }
        assert!(matches!(
            scan.write(b"more"),
            Err(Error::ScannerUnavailable(_))
        ));
        assert!(matches!(scan.finish(), Err(Error::ScannerUnavailable(_))));

        assert_eq!(
            run(Some(&scanner), ScanPolicy::Optional).expect("optional"),
            ScanOutcome::NotScanned {
                reason: "lost the connection to the fake".to_owned()
            }
        );
    }
}
