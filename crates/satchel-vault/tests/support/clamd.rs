//! A private clamd for tests.
//!
//! Starts Debian's clamd in a temporary directory under /tmp with a
//! signature database that holds only the EICAR test file's checksum, made
//! with `sigtool`, so no signatures are downloaded. The daemon is killed
//! when the fixture is dropped.

use std::env;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long clamd may take to load its database and answer `PING`.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// The largest stream the test clamd accepts; larger ones are refused.
pub const STREAM_LIMIT: usize = 4 * 1024 * 1024;

/// Unix socket paths must fit in 108 bytes.
const MAX_SOCKET_PATH: usize = 100;

/// The 68-byte EICAR test file. Built from two halves so that this source
/// file does not itself contain the signature.
pub fn eicar() -> Vec<u8> {
    let first = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
    let second = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    let eicar = [first, second].concat().into_bytes();
    assert_eq!(eicar.len(), 68, "the EICAR test file is 68 bytes");
    eicar
}

/// A running clamd with the EICAR-only database.
pub struct ClamdFixture {
    dir: TempDir,
    socket: PathBuf,
    child: Option<Child>,
}

impl ClamdFixture {
    /// Starts clamd and waits until it answers `PING`.
    ///
    /// Panics, with what to do, when clamd or sigtool is not installed or
    /// clamd does not come up.
    pub fn start() -> Self {
        let clamd = find_program("clamd", "clamav-daemon");
        let sigtool = find_program("sigtool", "clamav");

        let dir = clamd_tempdir();
        let root = dir.path();
        let db = root.join("db");
        fs::create_dir(&db).expect("create the database directory");

        fs::write(root.join("eicar.com"), eicar()).expect("write the EICAR file");
        let output = Command::new(&sigtool)
            .args(["--md5", "eicar.com"])
            .current_dir(root)
            .output()
            .expect("run sigtool");
        assert!(
            output.status.success() && !output.stdout.is_empty(),
            "sigtool --md5 failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        fs::write(db.join("eicar.hdb"), &output.stdout).expect("write eicar.hdb");

        let socket = root.join("clamd.sock");
        let conf = root.join("clamd.conf");
        let config = format!(
            "LocalSocket {socket}\n\
             DatabaseDirectory {db}\n\
             Foreground yes\n\
             PidFile {root}/clamd.pid\n\
             TemporaryDirectory {root}\n\
             LogFile {root}/clamd.log\n\
             LogTime yes\n\
             StreamMaxLength {limit}\n\
             MaxThreads 4\n",
            socket = socket.display(),
            db = db.display(),
            root = root.display(),
            limit = STREAM_LIMIT,
        );
        fs::write(&conf, config).expect("write clamd.conf");

        let output = File::create(root.join("clamd.out")).expect("create clamd.out");
        let errors = output.try_clone().expect("clone clamd.out");
        let began = Instant::now();
        let child = Command::new(&clamd)
            .arg(format!("--config-file={}", conf.display()))
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .spawn()
            .expect("start clamd");

        let mut fixture = Self {
            dir,
            socket,
            child: Some(child),
        };
        fixture.wait_until_ready(began);
        eprintln!(
            "clamd answered PING {:.2} s after starting",
            began.elapsed().as_secs_f64()
        );
        fixture
    }

    /// The socket clamd listens on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Kills clamd and waits for it to exit. The socket file stays behind,
    /// as after a crash.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // It may have exited already; waiting reaps it either way.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn wait_until_ready(&mut self, began: Instant) {
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                panic!("clamd exited during startup ({status}):\n{}", self.logs());
            }
            if ping(&self.socket).is_ok() {
                return;
            }
            if began.elapsed() > STARTUP_LIMIT {
                self.stop();
                panic!(
                    "clamd did not answer PING within {} s:\n{}",
                    STARTUP_LIMIT.as_secs(),
                    self.logs()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// clamd's log and console output, for failure messages.
    fn logs(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!(
            "--- clamd.log ---\n{}\n--- output ---\n{}",
            read("clamd.log"),
            read("clamd.out")
        )
    }
}

impl Drop for ClamdFixture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends `zPING` and expects `PONG`.
fn ping(socket: &Path) -> io::Result<()> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"zPING\0")?;
    let mut reply = Vec::new();
    stream.take(64).read_to_end(&mut reply)?;
    if reply.starts_with(b"PONG") {
        Ok(())
    } else {
        Err(io::Error::other("no PONG"))
    }
}

/// Finds `name` on the PATH or in the sbin directories, which are not on
/// every user's PATH. Panics, saying how to install it, when it is missing.
fn find_program(name: &str, package: &str) -> PathBuf {
    let path = env::var_os("PATH").unwrap_or_default();
    let sbin = ["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from);
    env::split_paths(&path)
        .chain(sbin)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed: these tests need a real clamd. \
                 Run scripts/test.sh, which installs Debian's {package} package \
                 (or run: apt-get install clamav-daemon clamav)"
            )
        })
}

/// A temporary directory under /tmp, whatever TMPDIR says: Debian's
/// AppArmor profile for clamd lets it use files under /tmp and few other
/// places, and a path there leaves room for a Unix socket name.
fn clamd_tempdir() -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("satchel-clamd")
        .tempdir_in("/tmp")
        .expect("create a temporary directory in /tmp");
    assert!(
        dir.path().join("clamd.sock").as_os_str().len() <= MAX_SOCKET_PATH,
        "the socket path is too long: {}",
        dir.path().display()
    );
    dir
}
