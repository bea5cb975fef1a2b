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
    let (_dir, socket, server) = fake_clamd(Fake::Answer(b"stream: Can't allocate memory ERROR\0"));
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
