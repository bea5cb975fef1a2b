//! The desktop app must keep SQLCipher's symbols to itself.
//!
//! WebKitGTK links the system libsqlite3, and GTK's link flags export the
//! executable's symbols. If the app exported the `sqlite3_*` functions of its
//! statically linked SQLCipher, WebKit's own SQLite calls would bind to them.
//! `src-tauri/build.rs` links with `--exclude-libs,ALL`; this checks the
//! result in the built binary.

use anyhow::{Context, Result, ensure};
use object::{Object, ObjectSymbol};
use satchel_e2e::built_binary;

#[test]
fn app_binary_exports_no_sqlite_symbols() -> Result<()> {
    let path = built_binary("satchel-app")?;
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let file = object::File::parse(&*bytes).context("parsing the app binary")?;

    // The check means something only if SQLCipher is really linked in:
    // its key function is in the full symbol table...
    let linked = file
        .symbols()
        .any(|s| s.name() == Ok("sqlite3_key") && s.is_definition());
    ensure!(
        linked,
        "sqlite3_key is not defined in the binary; is SQLCipher linked?"
    );

    // ...and the dynamic table is real, listing what the binary imports.
    let dynamic: Vec<_> = file.dynamic_symbols().collect();
    ensure!(
        dynamic.iter().any(|s| s.is_undefined()),
        "the dynamic symbol table is empty"
    );

    let exported: Vec<String> = dynamic
        .iter()
        .filter(|s| s.is_definition())
        .filter_map(|s| s.name().ok())
        .filter(|name| name.starts_with("sqlite3"))
        .map(str::to_owned)
        .collect();
    ensure!(
        exported.is_empty(),
        "the app exports {} SQLite symbols, for example {:?}",
        exported.len(),
        &exported[..exported.len().min(5)]
    );
    Ok(())
}
