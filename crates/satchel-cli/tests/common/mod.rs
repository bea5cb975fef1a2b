//! Running the `satchel` binary the way a script would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The passphrase every test vault is made with.
pub const PASSPHRASE: &str = "copper lantern river meadow";

/// The account every test vault is made with.
pub const ACCOUNT: &str = "Rosa Diaz";

/// Runs `satchel` with `args`, feeding `stdin` to it, with no data directory
/// or account inherited from the environment.
pub fn satchel(args: &[&str], stdin: &str) -> Output {
    satchel_with_env(args, stdin, &[])
}

/// Runs `satchel` as [`satchel`] does, with `env` added to its environment.
pub fn satchel_with_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_satchel"));
    command
        .args(args)
        .env_remove("SATCHEL_DATA_DIR")
        .env_remove("SATCHEL_ACCOUNT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start satchel");
    let mut input = child.stdin.take().expect("stdin");
    // A verb that reads no passphrase may exit before reading its input; a
    // broken pipe here is expected then, and the exit status tells the rest.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().expect("wait for satchel")
}
