#!/usr/bin/env bash
# Install everything the test suite needs (pip packages, Debian chromium for browser tests), then run it all.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
    else
        echo "chromium is needed for the browser tests: install your distribution's chromium package" >&2
        exit 1
    fi
fi
python -m pip install -q -e ".[test]"
python -m pytest "$@"
