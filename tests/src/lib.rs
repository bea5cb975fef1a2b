//! Helpers shared by the end-to-end suites: finding the built binaries,
//! and starting the real processes a suite needs (a virtual X display and
//! `tauri-driver`), each stopped when its guard is dropped.
//!
//! The suites drive binaries that `scripts/test.sh` builds first. A missing
//! binary or tool is a failure with a message saying how to get it, never a
//! skipped test.

#![forbid(unsafe_code)]

pub mod workload;

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_default()
}

/// Where suites write screenshots and other artifacts (not committed).
pub fn artifact_dir() -> Result<PathBuf> {
    let dir = workspace_root().join("test-artifacts");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A binary built in the same profile as the running test, such as
/// `satchel-app`. Test executables live in `<target>/<profile>/deps/`.
pub fn built_binary(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the test executable")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("the test executable is not inside a cargo target directory")?;
    let path = profile_dir.join(name);
    if !path.is_file() {
        bail!(
            "{} is missing; build it first with `scripts/build-ui.sh && cargo build --workspace --bins` \
             (scripts/test.sh does both)",
            path.display()
        );
    }
    Ok(path)
}

/// A tool installed on the machine, from `PATH` or cargo's bin directory.
pub fn tool(name: &str, hint: &str) -> Result<PathBuf> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin"));
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .into_iter()
        .chain(cargo_bin)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("{name} is not installed; {hint}"))
}

/// A port on loopback that nothing listens on right now.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, within: Duration, child: &mut Child, what: &str) -> Result<()> {
    let deadline = Instant::now() + within;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited before it was ready ({status})");
        }
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{what} did not listen on port {port} within {within:?}")
}

/// A child process in a process group of its own. Dropping the guard kills
/// the whole group, so whatever the child started (WebKitWebDriver and the
/// app, under tauri-driver) goes with it.
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
}

impl ChildGuard {
    /// Spawns `command` as the leader of a new process group.
    pub fn spawn(command: &mut Command, what: &str) -> Result<Self> {
        let child = command
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {what}"))?;
        Ok(Self { child })
    }

    /// The guarded process.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // The group id is the leader's pid, since it was spawned with
        // process_group(0).
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// A private X display from Xvfb, so window tests never depend on (or
/// disturb) a desktop session.
#[derive(Debug)]
pub struct VirtualDisplay {
    name: String,
    _server: ChildGuard,
}

impl VirtualDisplay {
    /// Starts Xvfb on the first free display number from 90 on, with a
    /// 1280x800 screen.
    pub fn start() -> Result<Self> {
        let xvfb = tool(
            "Xvfb",
            "install Debian's xvfb package (scripts/test.sh does)",
        )?;
        for number in 90..140 {
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
            let lock = PathBuf::from(format!("/tmp/.X{number}-lock"));
            if socket.exists() || lock.exists() {
                continue;
            }
            let name = format!(":{number}");
            let mut server = ChildGuard::spawn(
                Command::new(&xvfb)
                    .args([&name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
                "Xvfb",
            )?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if server.child().try_wait()?.is_some() {
                    break; // Lost a race for this number; try the next.
                }
                if socket.exists() {
                    return Ok(Self {
                        name,
                        _server: server,
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        bail!("could not start Xvfb on any display from :90 to :139")
    }

    /// The value for `DISPLAY`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// `tauri-driver` in front of WebKitGTK's WebDriver, on free loopback ports.
#[derive(Debug)]
pub struct TauriDriver {
    port: u16,
    _process: ChildGuard,
}

impl TauriDriver {
    /// Starts `tauri-driver` with `env` added to its environment; the app it
    /// launches inherits that environment.
    pub fn start(display: &VirtualDisplay, env: &[(&str, &Path)]) -> Result<Self> {
        let driver = tool(
            "tauri-driver",
            "run `cargo install tauri-driver --version '^2' --locked`",
        )?;
        let native = Path::new("/usr/bin/WebKitWebDriver");
        if !native.is_file() {
            bail!(
                "{} is missing; install Debian's webkit2gtk-driver package",
                native.display()
            );
        }
        let port = free_port()?;
        let native_port = free_port()?;
        let mut command = Command::new(driver);
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .arg("--native-driver")
            .arg(native)
            .env("DISPLAY", display.name())
            .stdin(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut process = ChildGuard::spawn(&mut command, "tauri-driver")?;
        let patience = Duration::from_secs(20);
        wait_for_port(port, patience, process.child(), "tauri-driver")?;
        // tauri-driver listens at once, but forwards every request to the
        // WebKitWebDriver it started, which may not be listening yet on a
        // busy machine; a session requested before then fails.
        wait_for_port(native_port, patience, process.child(), "WebKitWebDriver")?;
        Ok(Self {
            port,
            _process: process,
        })
    }

    /// The WebDriver endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
