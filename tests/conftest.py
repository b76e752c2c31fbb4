"""Suite-wide set-up: a canary API key that must never leak, and the local server fixtures."""

from __future__ import annotations

import os

CANARY_KEY = "sk-ant-canary-0123456789abcdefghij-DO-NOT-LEAK"

os.environ["ANTHROPIC_API_KEY"] = CANARY_KEY
os.environ.pop("ANTHROPIC_AUTH_TOKEN", None)
os.environ.pop("ANTHROPIC_BASE_URL", None)
os.environ.pop("ANTHROPIC_MODEL", None)

pytest_plugins = ["claude_magic.testing.pytest_plugin"]


def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Fail any test whose captured output or logs contain the canary key (checked across the suite)."""
    if call.when != "call":
        return
    captured = []
    for attribute in ("capsys", "capfd", "caplog"):
        fixture = item.funcargs.get(attribute) if hasattr(item, "funcargs") else None
        if fixture is not None and attribute == "caplog":
            captured.append(fixture.text)
    sections = getattr(item, "_report_sections", [])
    captured += [content for _when, _key, content in sections]
    if any(CANARY_KEY in text for text in captured):
        raise AssertionError("the API key appeared in captured output or logs")
