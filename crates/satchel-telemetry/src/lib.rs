//! Tracing set-up shared by the `satchel` CLI and the desktop app.
//!
//! Logs go to standard error. `SATCHEL_LOG` takes an env-filter directive
//! (`info` when unset, for example `satchel_vault=debug`), and
//! `SATCHEL_LOG_FORMAT=json` switches to one JSON object per line for
//! machines. Libraries log ids, counts and durations, never content.

#![forbid(unsafe_code)]

use tracing_subscriber::EnvFilter;

/// The variable holding the filter directive.
pub const FILTER_VAR: &str = "SATCHEL_LOG";
/// The variable selecting the output format.
pub const FORMAT_VAR: &str = "SATCHEL_LOG_FORMAT";

/// Installs the global subscriber. `default` is the directive used when
/// `SATCHEL_LOG` is unset or unparsable. Calling it twice is harmless.
pub fn init(default: &str) {
    let filter = EnvFilter::try_from_env(FILTER_VAR).unwrap_or_else(|_| EnvFilter::new(default));
    let json = std::env::var(FORMAT_VAR).is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init` fails only when a subscriber is already installed.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
