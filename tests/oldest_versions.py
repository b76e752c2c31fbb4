"""Print a pip constraints file pinning every declared dependency at its declared minimum.

`tests/run.sh` runs the suite a second time in a venv built with these constraints, so the minimums in
`pyproject.toml` are the versions the suite has actually passed on. Usage: `python tests/oldest_versions.py`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: pip vendors a TOML reader
    from pip._vendor import tomli as tomllib  # type: ignore[no-redef]

PROJECT = "claude-magic"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
_MINIMUM = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*>=\s*([^,;\s]+)")


def declared_requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """Every requirement string of the project: core dependencies and every extra (self-references skipped)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return [requirement for requirement in requirements
            if not requirement.replace("_", "-").lower().startswith(f"{PROJECT}[")]


def minimum_pins(requirements: list[str]) -> list[str]:
    """`name==minimum` for each requirement; a requirement without a `>=` minimum is an error."""
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = _MINIMUM.match(requirement)
        if match is None:
            raise ValueError(f"{requirement!r} declares no minimum version (name>=X.Y)")
        name = match.group(1).lower().replace("_", "-")
        version = match.group(2)
        if name in pins and pins[name] != version:
            raise ValueError(f"{name} is declared with two minimums: {pins[name]} and {version}")
        pins[name] = version
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def main() -> int:
    try:
        print("\n".join(minimum_pins(declared_requirements())))
    except ValueError as error:
        print(f"pyproject.toml: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
