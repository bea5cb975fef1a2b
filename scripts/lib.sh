# Shared set-up for scripts/run.sh and scripts/test.sh. Sourced, not run.
#
# Everything here is idempotent and quick when nothing is missing: each step
# checks first and installs only what is absent. Only Debian's packages and
# crates.io are used; nothing downloads a prebuilt binary.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# The Debian packages the desktop app builds and runs with: WebKitGTK and
# GTK for the Tauri window, OpenSSL's libcrypto for SQLCipher, and the tools
# the build needs.
RUN_PACKAGES=(
  build-essential pkg-config file binutils
  libwebkit2gtk-4.1-dev libgtk-3-dev libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev
)
# Added for the test suite: the WebKit WebDriver, a virtual display, the
# stock age tool that envelopes must stay compatible with, and ClamAV's
# daemon (clamd) and sigtool (in clamav), with which the attachment scanning
# tests run a private clamd whose only signature is the EICAR test file; no
# signatures are downloaded.
TEST_PACKAGES=(webkit2gtk-driver xvfb xauth age clamav-daemon clamav)

step() { printf '\n==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "error: installing system packages needs root; run as root or install sudo" >&2
    exit 1
  fi
}

ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    step "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"
  fi
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found; install Rust with rustup (https://rustup.rs) and run again" >&2
    exit 1
  fi
  local component
  for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
      step "Adding the $component component"
      rustup component add "$component"
    fi
  done
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

# The version of a package as Cargo.lock records it.
locked_version() {
  awk -v name="$1" '
    $0 == "name = \"" name "\"" { found = 1; next }
    found && /^version = / { gsub(/"/, "", $3); print $3; exit }
  ' "$ROOT/Cargo.lock"
}

# `cargo install` only when the tool is missing or at another version.
ensure_cargo_tool() {
  local crate="$1" binary="$2" want="$3"; shift 3
  local have
  have="$("$binary" --version 2>/dev/null | awk '{print $2}' || true)"
  if [ "$have" != "$want" ]; then
    step "Installing $crate $want from crates.io"
    cargo install "$crate" --version "$want" "$@"
  fi
}

ensure_wasm_bindgen() {
  [ -f "$ROOT/Cargo.lock" ] || (cd "$ROOT" && cargo generate-lockfile)
  local version
  version="$(locked_version wasm-bindgen)"
  # Not --locked: the CLI's own lockfile pins a crate version crates.io no
  # longer serves.
  ensure_cargo_tool wasm-bindgen-cli wasm-bindgen "$version"
}

ensure_tauri_driver() {
  if ! cargo install --list | grep -q '^tauri-driver v2\.'; then
    step "Installing tauri-driver (major version 2) from crates.io"
    cargo install tauri-driver --version '^2' --locked
  fi
}

ensure_cargo_deny() {
  ensure_cargo_tool cargo-deny cargo-deny 0.20.2 --locked
}

build_ui() {
  "$ROOT/scripts/build-ui.sh" "$@"
}

# cargo-deny reads advisories from <db-path>/<name>-<hash of the URL>, and
# tells the database's age from git. The RustSec snapshot beside the checkout
# is a plain directory, so it is committed into a throwaway repository, dated
# to the snapshot's own date, where cargo-deny looks for the default database
# (https://github.com/rustsec/advisory-db).
ADVISORY_DB_DIR="$ROOT/target/advisory-dbs/advisory-db-3157b0e258782691"

prepare_advisory_db() {
  local snapshot="$ROOT/../shared/advisory-db"
  if [ ! -d "$snapshot/crates" ]; then
    echo "error: no RustSec advisory snapshot at $snapshot" >&2
    exit 1
  fi
  local source marker="$ADVISORY_DB_DIR.source"
  source="$(cat "$snapshot/SOURCE")"
  if [ -d "$ADVISORY_DB_DIR/.git" ] && [ "$(cat "$marker" 2>/dev/null)" = "$source" ]; then
    return
  fi

  step "Preparing the advisory database from $snapshot"
  local date
  date="$(grep -oE '[0-9]{4}-[0-9]{2}-[0-9]{2}' <<<"$source" | tail -n 1)"
  rm -rf "$ADVISORY_DB_DIR" "$marker"
  mkdir -p "$ADVISORY_DB_DIR"
  cp -R "$snapshot/." "$ADVISORY_DB_DIR/"
  chmod -R u+w "$ADVISORY_DB_DIR"
  (
    cd "$ADVISORY_DB_DIR"
    git init -q -b main
    git add -A
    GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z" \
      git -c user.name="advisory snapshot" -c user.email="snapshot@localhost" \
      -c commit.gpgsign=false commit -q -m "RustSec snapshot: $source"
  )
  printf '%s\n' "$source" >"$marker"
}
