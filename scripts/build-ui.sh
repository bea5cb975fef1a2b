#!/usr/bin/env bash
# Builds the Yew UI into ui/dist, which the desktop app embeds at compile
# time. Run it before building src-tauri. `--release` builds optimised wasm.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
profile=debug
cargo_flags=()
if [ "${1:-}" = "--release" ]; then
  profile=release
  cargo_flags=(--release)
fi

cd "$ROOT"
cargo build -p satchel-ui --target wasm32-unknown-unknown "${cargo_flags[@]}"

target_dir="$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
out="$ROOT/ui/dist"
staging="$(mktemp -d "$ROOT/ui/.dist-XXXXXX")"
trap 'rm -rf "$staging"' EXIT

wasm-bindgen --target web --no-typescript --out-name satchel_ui --out-dir "$staging" \
  "$target_dir/wasm32-unknown-unknown/$profile/satchel-ui.wasm"
cp "$ROOT"/ui/static/* "$staging/"

# Swap the new build in whole, so the app never embeds half of one; keep the
# old one when nothing changed, so the app is not rebuilt for nothing.
if diff -rq "$staging" "$out" >/dev/null 2>&1; then
  exit 0
fi
rm -rf "$out"
mv "$staging" "$out"
trap - EXIT
