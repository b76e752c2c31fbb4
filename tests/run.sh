#!/usr/bin/env bash
# The README's test command: install everything the suite needs and run it twice, each time in a virtual
# environment of its own (never the system Python's packages):
#   1. .venv         the newest releases of every dependency (what a new user gets today);
#   2. .venv-oldest  every dependency pinned at the minimum pyproject.toml declares
#                    (constraints from tests/oldest_versions.py), browser tests excluded.
# Arguments go to both pytest runs. CLAUDE_MAGIC_PASSES="newest" (or "oldest") runs one pass only;
# CLAUDE_MAGIC_WORKERS (default 2, one per CPU here; 0: none) is pytest-xdist's worker count, tests of a file
# kept together (most tests wait on kernels, servers and the CLI, so two workers use both CPUs).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
PASSES="${CLAUDE_MAGIC_PASSES:-newest oldest}"
PYTEST_WORKERS=(-n "${CLAUDE_MAGIC_WORKERS:-2}" --dist loadfile)
EXTRAS="test"

if ! command -v chromium >/dev/null 2>&1; then            # the JupyterLab browser tests drive Debian's chromium
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
    else
        echo "chromium is needed for the browser tests: install your distribution's chromium package" >&2
        exit 1
    fi
fi

make_venv() {   # make_venv DIR: a fresh-enough venv with a current pip
    if [ ! -x "$1/bin/python" ]; then
        "$PYTHON" -m venv "$1"
    fi
    "$1/bin/python" -m pip install -q --upgrade pip
}

status=0
for pass in $PASSES; do
    case "$pass" in
        newest)
            make_venv .venv
            .venv/bin/python -m pip install -q --upgrade --upgrade-strategy eager -e ".[$EXTRAS]"
            echo "== newest releases: $(.venv/bin/python -m pip list 2>/dev/null | grep -iE '^(ipython|anthropic|ipykernel|jupyterlab|pandas|claude-agent-sdk|mcp) ' | tr -s ' ' | tr '\n' ';')"
            .venv/bin/python -m pytest "${PYTEST_WORKERS[@]}" "$@" || status=$?
            ;;
        oldest)
            make_venv .venv-oldest
            .venv-oldest/bin/python tests/oldest_versions.py > .venv-oldest/constraints.txt
            .venv-oldest/bin/python -m pip install -q -c .venv-oldest/constraints.txt -e ".[$EXTRAS]"
            echo "== declared minimums: $(tr '\n' ' ' < .venv-oldest/constraints.txt)"
            PIP_CONSTRAINT="$PWD/.venv-oldest/constraints.txt" \
                .venv-oldest/bin/python -m pytest "${PYTEST_WORKERS[@]}" -m "not browser" "$@" || status=$?   # the wheel test too
            ;;
        *)
            echo "unknown pass '$pass' in CLAUDE_MAGIC_PASSES (use newest and/or oldest)" >&2
            exit 2
            ;;
    esac
done
exit "$status"
