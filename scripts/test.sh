#!/usr/bin/env bash
# The test suite: installs Debian's chromium for the headless browser test
# (crates/cli/tests/html_browser.rs) when /usr/bin/chromium is missing, then runs every test.
# Arguments are passed to cargo test. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ASTROLABE_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
    echo "== installing chromium (Debian package) for the browser test"
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
cargo test --workspace --locked "$@"
