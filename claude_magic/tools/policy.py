"""Tool policies (ask, allow, deny) and the names and globs they are configured for."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Literal

from ..core.errors import ConfigurationError

__all__ = ["Policy", "POLICIES", "check_policy", "is_pattern", "configured_policy", "NamePatterns"]

Policy = Literal["ask", "allow", "deny"]
POLICIES: tuple[str, ...] = ("ask", "allow", "deny")


def check_policy(policy: str, name: str = "") -> Policy:
    """`policy` if valid, else a `ConfigurationError` naming the choices."""
    if policy not in POLICIES:
        where = f" for tool {name!r}" if name else ""
        raise ConfigurationError(f"tool policy{where} must be one of {', '.join(POLICIES)}, not {policy!r}")
    return policy  # type: ignore[return-value]


def is_pattern(name: str) -> bool:
    """Whether a configured name is a glob (`mcp__git__*`, `*`): tool names never hold `*`, `?` or `[`."""
    return any(char in name for char in "*?[")


def configured_policy(name: str, policies: Mapping[str, Policy]) -> Policy | None:
    """The policy configured for `name`: its exact entry, else the longest glob that matches it, else None.

    Globs of equal length: the one configured first wins. `"*"` is the shortest glob, so it applies last.
    """
    exact = policies.get(name)
    if exact is not None:
        return exact
    best: tuple[int, Policy] | None = None
    for pattern, policy in policies.items():
        if is_pattern(pattern) and fnmatch.fnmatchcase(name, pattern) and (best is None or len(pattern) > best[0]):
            best = (len(pattern), policy)
    return best[1] if best else None


class NamePatterns(frozenset):  # type: ignore[type-arg]
    """A set of tool names and globs: `name in patterns` is true for an entry or a glob that matches it."""

    def __contains__(self, name: object) -> bool:
        if frozenset.__contains__(self, name):
            return True
        return isinstance(name, str) and any(is_pattern(item) and fnmatch.fnmatchcase(name, item) for item in self)
