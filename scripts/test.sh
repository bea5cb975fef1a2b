#!/usr/bin/env bash
# Test Satchel: the same set-up as scripts/run.sh plus WebKit's WebDriver,
# Xvfb, the stock age tool and ClamAV (clamd and sigtool) from Debian, and
# tauri-driver and cargo-deny from crates.io; then every check and the whole
# suite (unit, integration, and the end-to-end tests that drive the real app
# window, kill the vault mid-write and scan attachments with a real clamd).
# Stops at the first failure.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_packages "${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_rust
ensure_wasm_bindgen
ensure_tauri_driver
ensure_cargo_deny
cd "$ROOT"

step "Formatting"
cargo fmt --all -- --check

step "Building the UI (the app embeds it)"
build_ui

step "Lints"
cargo clippy --workspace --exclude satchel-ui --all-targets --locked -- -D warnings
cargo clippy -p satchel-ui --target wasm32-unknown-unknown --all-targets --locked -- -D warnings
cargo clippy -p satchel-interview --target wasm32-unknown-unknown --lib --locked -- -D warnings

step "Dependency licences and advisories (offline, against ../shared/advisory-db)"
prepare_advisory_db
# cargo-deny reads the dependency graph of every target offline, so every
# package in Cargo.lock must be downloaded first.
cargo fetch --locked
cargo deny --offline check

step "Building the binaries the end-to-end suites drive"
cargo build --workspace --exclude satchel-ui --bins --locked

step "The interview engine builds for wasm32, as the UI runs it there"
cargo build -p satchel-interview --target wasm32-unknown-unknown --locked

step "Tests"
cargo test --workspace --exclude satchel-ui --locked -- --show-output

step "Fuzz targets still build (running them is in docs/PERFORMANCE.md)"
cargo build --manifest-path fuzz/Cargo.toml --locked

step "Docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --exclude satchel-ui --no-deps --locked
RUSTDOCFLAGS="-D warnings" cargo doc -p satchel-ui --target wasm32-unknown-unknown --no-deps --locked

step "All checks passed"
