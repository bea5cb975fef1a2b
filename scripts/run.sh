#!/usr/bin/env bash
# Run Satchel: install what is missing, build, and start the desktop app.
# With no display it says so and runs the same first steps headless through
# the `satchel` command instead.
#
#   scripts/run.sh             debug build, quick to rebuild
#   scripts/run.sh --release   optimised build
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

profile_flag=()
profile_dir=debug
if [ "${1:-}" = "--release" ]; then
  profile_flag=(--release)
  profile_dir=release
fi

ensure_packages "${RUN_PACKAGES[@]}"
ensure_rust
ensure_wasm_bindgen

step "Building the UI"
build_ui "${profile_flag[@]}"
step "Building the desktop app and the satchel command"
cd "$ROOT"
cargo build -p satchel-app -p satchel-cli "${profile_flag[@]}"

target_dir="$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target_dir/$profile_dir"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  step "No display found (neither DISPLAY nor WAYLAND_DISPLAY is set): running headless"
  exec "$bin/satchel" demo
fi

data_dir="${SATCHEL_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/satchel}"
step "Starting Satchel (data in $data_dir)"
exec "$bin/satchel-app"
