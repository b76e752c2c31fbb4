"""Where the layers below the front door find the kernel's session: the front door provides it, they ask for it.

`claude_magic.chat()` and `claude_magic.map()` live in `panel/` and `rows/`, below the magic and the Python API that
configure the session; they call `current_session()` instead of importing them. The package root registers the
provider when it is imported (it always is first), so this works with or without IPython.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["provide_session", "current_session"]


_provider: Callable[[], Any] | None = None


def provide_session(provider: Callable[[], Any]) -> None:
    """Register how to get the kernel's configured session (the package root does, at import)."""
    global _provider
    _provider = provider


def current_session() -> Any:
    """The kernel's session (an `engines.base.KernelSession`) with the front end's configuration applied (`%config ClaudeMagic...` when loaded)."""
    if _provider is None:
        raise RuntimeError("no session provider: import claude_magic (its root registers one)")
    return _provider()
