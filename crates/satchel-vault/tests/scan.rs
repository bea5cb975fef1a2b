//! Malware scanning against a real clamd.
//!
//! Each test starts its own clamd (Debian's `clamav-daemon` package) with a
//! database holding only the EICAR test signature; see `support/clamd.rs`.
//! Without clamd and sigtool installed these tests fail and say to run
//! `scripts/test.sh`.

#[path = "support/clamd.rs"]
mod clamd;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use satchel_vault::Error;
use satchel_vault::scan::{
    Clamd, PolicyScan, ScanOutcome, ScanPolicy, ScanSession, Scanner, Verdict,
};

use clamd::{ClamdFixture, STREAM_LIMIT, eicar};

/// A small file that looks like a PDF.
const PDF_LIKE: &[u8] = b"%PDF-1.4\n\
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n\
trailer << /Root 1 0 R >>\n\
%%EOF\n";

fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len);
    File::open("/dev/urandom")
        .expect("open /dev/urandom")
        .take(len as u64)
        .read_to_end(&mut bytes)
        .expect("read /dev/urandom");
    bytes
}

/// Scans `parts` in one session, one write per part.
fn scan_parts<'a>(
    scanner: &dyn Scanner,
    parts: impl IntoIterator<Item = &'a [u8]>,
) -> io::Result<Verdict> {
    let mut session = scanner.start()?;
    for part in parts {
        session.write(part)?;
    }
    session.finish()
}

fn scan(scanner: &dyn Scanner, bytes: &[u8]) -> io::Result<Verdict> {
    scan_parts(scanner, [bytes])
}

/// Runs a whole file through [`PolicyScan`] in parts of `part` bytes.
fn policy_scan(
    scanner: Option<&dyn Scanner>,
    policy: ScanPolicy,
    bytes: &[u8],
    part: usize,
) -> satchel_vault::Result<ScanOutcome> {
    let mut scan = PolicyScan::start(scanner, policy)?;
    for chunk in bytes.chunks(part) {
        scan.write(chunk)?;
    }
    scan.finish()
}

fn assert_eicar_name(signature: &str) {
    assert!(
        signature.starts_with("eicar.com"),
        "expected the EICAR signature from the test database, got {signature:?}"
    );
}

fn assert_unavailable_naming(result: satchel_vault::Result<ScanOutcome>, socket: &Path) {
    match result {
        Err(e @ Error::ScannerUnavailable(_)) => {
            let text = e.to_string();
            assert!(
                text.contains(&socket.display().to_string()),
                "the message names the socket: {text}"
            );
            assert!(
                text.starts_with("the file was not attached: the virus scanner is not running ("),
                "{text}"
            );
        }
        other => panic!("expected ScannerUnavailable, got {other:?}"),
    }
}

#[test]
fn eicar_is_infected_and_named() {
    let fixture = ClamdFixture::start();
    let clamd = Clamd::new(fixture.socket());
    assert_eq!(clamd.name(), "clamd");
    clamd.ping().expect("clamd answers PING");

    match scan(&clamd, &eicar()).expect("scan") {
        Verdict::Infected { signature } => assert_eicar_name(&signature),
        Verdict::Clean => panic!("the EICAR file was reported clean"),
    }

    // The policy never lets an infected file through, and says what it is.
    for policy in [ScanPolicy::Required, ScanPolicy::Optional] {
        let e = policy_scan(Some(&clamd), policy, &eicar(), 68).expect_err("infected");
        let Error::Infected { signature } = &e else {
            panic!("{policy}: expected Infected, got {e:?}");
        };
        assert_eicar_name(signature);
        let text = e.to_string();
        assert!(text.contains(signature.as_str()), "{text}");
        assert!(text.starts_with("the file was not attached"), "{text}");
    }
}

#[test]
fn clean_files_are_clean() {
    let fixture = ClamdFixture::start();
    let clamd = Clamd::new(fixture.socket());

    assert_eq!(
        scan(&clamd, &random_bytes(4096)).expect("scan"),
        Verdict::Clean
    );
    assert_eq!(scan(&clamd, PDF_LIKE).expect("scan"), Verdict::Clean);
    assert_eq!(
        scan(&clamd, b"").expect("scan an empty file"),
        Verdict::Clean
    );

    // One byte short of the EICAR file is not the EICAR file.
    let eicar = eicar();
    assert_eq!(scan(&clamd, &eicar[..67]).expect("scan"), Verdict::Clean);

    assert_eq!(
        policy_scan(Some(&clamd), ScanPolicy::Required, PDF_LIKE, 16).expect("required"),
        ScanOutcome::Clean
    );
    assert_eq!(
        policy_scan(Some(&clamd), ScanPolicy::Optional, PDF_LIKE, 16).expect("optional"),
        ScanOutcome::Clean
    );
}

#[test]
fn files_arrive_in_many_small_writes_or_one_large_one() {
    let fixture = ClamdFixture::start();
    let clamd = Clamd::new(fixture.socket());

    // The EICAR file one byte at a time: clamd sees the whole file.
    let eicar = eicar();
    match scan_parts(&clamd, eicar.chunks(1)).expect("scan") {
        Verdict::Infected { signature } => assert_eicar_name(&signature),
        Verdict::Clean => panic!("the EICAR file in one-byte writes was reported clean"),
    }

    // 3 MiB in one write, cut into 64 KiB chunks on the way.
    let large = random_bytes(3 * 1024 * 1024);
    assert_eq!(
        scan(&clamd, &large).expect("one large write"),
        Verdict::Clean
    );

    // The same in uneven writes of 1 byte to 8 KiB.
    let mut parts = Vec::new();
    let mut rest = &large[..];
    let mut size = 1;
    while !rest.is_empty() {
        let (part, tail) = rest.split_at(size.min(rest.len()));
        parts.push(part);
        rest = tail;
        size = (size * 7 + 13) % 8192 + 1;
    }
    assert!(parts.len() > 100, "many writes: {}", parts.len());
    assert_eq!(
        scan_parts(&clamd, parts.iter().copied()).expect("many writes"),
        Verdict::Clean
    );

    assert_eq!(
        policy_scan(Some(&clamd), ScanPolicy::Required, &large, 8 * 1024).expect("required"),
        ScanOutcome::Clean
    );
}

#[test]
fn files_over_the_scanners_limit_are_never_clean() {
    let fixture = ClamdFixture::start();
    let clamd = Clamd::new(fixture.socket());
    let too_large = random_bytes(STREAM_LIMIT + 1024 * 1024);

    let e = scan(&clamd, &too_large).expect_err("over clamd's StreamMaxLength");
    assert_eq!(e.kind(), io::ErrorKind::FileTooLarge, "{e}");

    match policy_scan(Some(&clamd), ScanPolicy::Required, &too_large, 100_000) {
        Err(Error::ScannerUnavailable(reason)) => {
            assert!(reason.contains("larger than"), "{reason}");
        }
        other => panic!("expected ScannerUnavailable, got {other:?}"),
    }
    match policy_scan(Some(&clamd), ScanPolicy::Optional, &too_large, 100_000) {
        Ok(ScanOutcome::NotScanned { reason }) => {
            assert!(reason.contains("larger than"), "{reason}");
        }
        other => panic!("expected NotScanned, got {other:?}"),
    }

    // clamd is still serving afterwards.
    assert_eq!(scan(&clamd, PDF_LIKE).expect("scan"), Verdict::Clean);
}

#[test]
fn a_socket_that_does_not_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("no-clamd-here.sock");
    let clamd = Clamd::new(&socket);

    assert_unavailable_naming(
        policy_scan(Some(&clamd), ScanPolicy::Required, PDF_LIKE, 16),
        &socket,
    );
    match policy_scan(Some(&clamd), ScanPolicy::Optional, PDF_LIKE, 16) {
        Ok(ScanOutcome::NotScanned { reason }) => {
            assert_eq!(
                reason,
                format!(
                    "could not connect to {}: No such file or directory",
                    socket.display()
                )
            );
        }
        other => panic!("expected NotScanned, got {other:?}"),
    }
    assert_eq!(
        policy_scan(Some(&clamd), ScanPolicy::Off, PDF_LIKE, 16).expect("off"),
        ScanOutcome::NotScanned {
            reason: "scanning is turned off".to_owned()
        }
    );
}

/// Counts how often a scan is started.
struct Counting<'a> {
    inner: &'a dyn Scanner,
    starts: AtomicUsize,
}

impl Scanner for Counting<'_> {
    fn start(&self) -> io::Result<Box<dyn ScanSession>> {
        self.starts.fetch_add(1, Ordering::SeqCst);
        self.inner.start()
    }

    fn name(&self) -> &str {
        self.inner.name()
    }
}

#[test]
fn off_never_contacts_the_scanner() {
    let fixture = ClamdFixture::start();
    let clamd = Clamd::new(fixture.socket());
    let counting = Counting {
        inner: &clamd,
        starts: AtomicUsize::new(0),
    };

    // Even the EICAR file goes through unscanned when scanning is off.
    assert_eq!(
        policy_scan(Some(&counting), ScanPolicy::Off, &eicar(), 7).expect("off"),
        ScanOutcome::NotScanned {
            reason: "scanning is turned off".to_owned()
        }
    );
    assert_eq!(counting.starts.load(Ordering::SeqCst), 0);

    // The same wrapper does reach clamd when scanning is on.
    assert!(matches!(
        policy_scan(Some(&counting), ScanPolicy::Required, &eicar(), 7),
        Err(Error::Infected { .. })
    ));
    assert_eq!(counting.starts.load(Ordering::SeqCst), 1);
}

#[test]
fn a_clamd_that_stops_is_refused() {
    let mut fixture = ClamdFixture::start();
    let socket = fixture.socket().to_path_buf();
    let clamd = Clamd::new(&socket);

    // A scan under way when clamd dies does not pass.
    let mut required = PolicyScan::start(Some(&clamd), ScanPolicy::Required).expect("start");
    let mut optional = PolicyScan::start(Some(&clamd), ScanPolicy::Optional).expect("start");
    required.write(PDF_LIKE).expect("write");
    optional.write(PDF_LIKE).expect("write");

    fixture.stop();

    let big = random_bytes(1024 * 1024);
    let outcome = required.write(&big).and_then(|()| required.finish());
    assert!(
        matches!(outcome, Err(Error::ScannerUnavailable(_))),
        "{outcome:?}"
    );
    let outcome = optional.write(&big).and_then(|()| optional.finish());
    assert!(
        matches!(outcome, Ok(ScanOutcome::NotScanned { .. })),
        "{outcome:?}"
    );

    // New scans are refused, naming the socket clamd left behind.
    assert_unavailable_naming(
        policy_scan(Some(&clamd), ScanPolicy::Required, PDF_LIKE, 16),
        &socket,
    );
    assert!(matches!(
        policy_scan(Some(&clamd), ScanPolicy::Optional, PDF_LIKE, 16),
        Ok(ScanOutcome::NotScanned { .. })
    ));
    assert!(clamd.ping().is_err());
}
