"""Upstream drift: claude-magic imports no private module of the SDKs it builds on, outside a documented list.

A private module (a dotted name with a part that starts with `_`) can change in any release: anthropic 2.17
swapped its transport within a week. Each exception below says why no public name does the job; the second
test imports each one, so the release that removes it fails here, by name and version, not somewhere deep.
"""

from __future__ import annotations

import ast
import importlib
from importlib import metadata
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "claude_magic"
WATCHED = {"anthropic": "anthropic", "httpx2": "httpx2", "httpcore2": "httpcore2", "mcp": "mcp",
           "claude_agent_sdk": "claude-agent-sdk"}

# (importing file, module, name) -> why no public name does it. Keep README "Private imports" in step.
DOCUMENTED = {
    ("transport/credentials.py", "anthropic._client", "static_credential_from_env"):
        "step 1 of the SDK's credential chain (ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN, with the constructor's "
        "own rules), so `%claude auth` names the credential the client will use without reading its value",
    ("transport/credentials.py", "anthropic.lib.credentials._constants", "_has_explicit_active_config"):
        "whether the SDK picked a profile because of an `active_config` file: `%claude auth` says why a profile "
        "was chosen; the public `default_credentials` returns the profile but not the reason",
}


def _private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split("."))


def imports_of_watched_packages() -> list[tuple[str, str, str]]:
    """(file relative to the package, module, imported name or '') for every import of a watched package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), relative)):
            if isinstance(node, ast.Import):
                found += [(relative, alias.name, "") for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found += [(relative, node.module, alias.name) for alias in node.names]
    return [item for item in found if item[1].split(".")[0] in WATCHED]


def _version(module: str) -> str:
    distribution = WATCHED[module.split(".")[0]]
    try:
        return f"{distribution} {metadata.version(distribution)}"
    except metadata.PackageNotFoundError:
        return f"{distribution} (not installed)"


def test_no_private_module_of_an_sdk_is_imported_outside_the_documented_list() -> None:
    private = [(file, module, name) for file, module, name in imports_of_watched_packages()
               if (_private(module) or name.startswith("_")) and (file, module, name) not in DOCUMENTED]
    assert not private, "private SDK imports (use a public name, or document the exception here and in the " \
        "README): " + "; ".join(f"{file}: from {module} import {name or '*'} ({_version(module)})"
                                for file, module, name in private)


def test_the_scan_sees_imports_inside_functions() -> None:
    """The check can fail: the documented exceptions are found, and they sit inside functions."""
    found = set(imports_of_watched_packages())
    assert set(DOCUMENTED) <= found


@pytest.mark.parametrize("key", sorted(DOCUMENTED), ids=lambda key: f"{key[1]}.{key[2]}")
def test_each_documented_private_name_still_exists(key: tuple[str, str, str]) -> None:
    _file, module, name = key
    try:
        imported = importlib.import_module(module)
    except ImportError as error:
        pytest.fail(f"{_version(module)} no longer has the private module {module} ({error}); "
                    f"it was used for: {DOCUMENTED[key]}")
    assert hasattr(imported, name), (f"{_version(module)} no longer has {module}.{name}; it was used for: "
                                     f"{DOCUMENTED[key]}")
