"""Suite-wide set-up: a canary API key that must never leak, and the local server fixtures."""

from __future__ import annotations

import os

CANARY_KEY = "sk-ant-canary-0123456789abcdefghij-DO-NOT-LEAK"

os.environ["ANTHROPIC_API_KEY"] = CANARY_KEY
os.environ.pop("ANTHROPIC_AUTH_TOKEN", None)
os.environ.pop("ANTHROPIC_BASE_URL", None)
os.environ.pop("ANTHROPIC_MODEL", None)

pytest_plugins = ["claude_magic.testing.pytest_plugin"]
