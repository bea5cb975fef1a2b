//! Where a device's data directory is, shared by the desktop app and the CLI
//! so both always open the same vault.

use std::path::PathBuf;

/// The variable that overrides the data directory.
pub const DATA_DIR_VAR: &str = "SATCHEL_DATA_DIR";

/// The data directory to use when none is given on the command line:
/// `$SATCHEL_DATA_DIR`, else `$XDG_DATA_HOME/satchel`, else
/// `~/.local/share/satchel`. `None` when not even a home directory is known.
pub fn default_data_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty(DATA_DIR_VAR) {
        return Some(PathBuf::from(dir));
    }
    if let Some(xdg) = non_empty("XDG_DATA_HOME") {
        return Some(PathBuf::from(xdg).join("satchel"));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".local/share/satchel"))
}
