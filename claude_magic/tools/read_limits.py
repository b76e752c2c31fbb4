"""What the read-only tools never look at: private names, modules, environments, the kernel, credentials.

`inspect_variable`, `describe_dataframe`, `current_figure` and `list_variables` run without asking, so a
prompt injection (text in a DataFrame, a fetched page) can make Claude call them on anything it can name.
They follow a dotted path only through public, non-credential names and ordinary values; each refusal is
one line saying why. Whatever they do return still passes the secret scrubber (`claude_magic.core.redaction`).
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import types
from typing import Any

__all__ = ["ReadRefused", "check_name", "check_value", "withheld_reason", "is_credential_name"]

# Names whose values are credentials, matched anywhere in a path component, any case.
_CREDENTIAL_NAME = re.compile(r"key|token|secret|passw(?:or)?d|credential|auth", re.IGNORECASE)
# The shell's own names: input/output history and the handle on the shell itself.
_SHELL_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit"})
# Classes of the IPython shell, the kernel, its session (the HMAC key) and its comm and history managers.
_KERNEL_CLASSES = (
    ("IPython.core.interactiveshell", "InteractiveShell"), ("IPython.core.history", "HistoryManager"),
    ("ipykernel.kernelbase", "Kernel"), ("jupyter_client.session", "Session"),
    ("comm.base_comm", "CommManager"), ("ipykernel.comm.manager", "CommManager"),
    ("zmq.sugar.context", "Context"), ("zmq.sugar.socket", "Socket"),
)


class ReadRefused(LookupError):
    """A read the tools never make; the message says why in one line."""


def is_credential_name(name: str) -> bool:
    """Whether a variable or attribute name looks like it holds a credential (`api_key`, `authToken`, ...)."""
    return bool(_CREDENTIAL_NAME.search(name))


def check_name(name: str, path: str, *, top_level: bool) -> None:
    """Refuse a path component that is private, credential-like, or (at the top) one of the shell's own."""
    if name.startswith("_"):
        raise ReadRefused(f"Not read: {path!r} goes through the private name {name!r} (read tools only follow "
                          "public names).")
    if is_credential_name(name):
        raise ReadRefused(f"Not read: {name!r} looks like a credential (key, token, secret, password, auth); "
                          "read tools never return those.")
    if top_level and name in _SHELL_NAMES:
        raise ReadRefused(f"Not read: {name!r} belongs to the IPython shell, not to the user's data.")


def check_value(value: Any, path: str) -> None:
    """Refuse to read a module, an environment mapping or a shell/kernel object reached by `path`."""
    reason = withheld_reason(value)
    if reason is not None:
        raise ReadRefused(f"Not read: {path!r} is {reason}; read tools never look into it.")


def withheld_reason(value: Any) -> str | None:
    """Why `value` is never shown or followed (a module, an environment, the shell or kernel), else None."""
    if isinstance(value, types.ModuleType):
        return "a module"
    if isinstance(value, os._Environ) or _is_environment_copy(value):
        return "the process environment (it holds credentials)"
    owner = getattr(value, "__self__", None) if isinstance(value, (types.MethodType, types.BuiltinMethodType)) else None
    for item in (value, owner):
        if item is not None and not isinstance(item, type) and _is_kernel_object(item):
            return "part of the IPython shell or the kernel"
    return None


def _is_environment_copy(value: Any) -> bool:
    """Whether `value` is a plain mapping that copies the process environment (`dict(os.environ)`): at least half
    of its first 20 items, and 3 or more, are the environment's own."""
    if not isinstance(value, dict) or len(value) < 3:
        return False
    sample = list(itertools.islice(value.items(), 20))
    shared = sum(1 for name, item in sample if isinstance(name, str) and _environment_value(name) == item)
    return shared >= 3 and shared * 2 >= len(sample)


def _environment_value(name: str) -> str | None:
    try:
        return os.environ.get(name)
    except (UnicodeError, ValueError):          # a name no environment can hold
        return None


def _is_kernel_object(value: Any) -> bool:
    for module_name, class_name in _KERNEL_CLASSES:
        module = sys.modules.get(module_name)
        cls = getattr(module, class_name, None) if module is not None else None
        if isinstance(cls, type) and isinstance(value, cls):
            return True
    return False
