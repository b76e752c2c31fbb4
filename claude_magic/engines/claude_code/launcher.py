"""Starting the CLI in a process group of its own, so a kernel interrupt (SIGINT to the kernel's process group) or
a terminal's Ctrl-C (SIGINT to the terminal's foreground group) does not kill it: the engine interrupts the turn
itself, through the control protocol.

The Agent SDK starts the CLI as a plain child; jupyter_client interrupts a kernel by signalling its whole
process group, which would include the CLI. The SDK starts whatever `cli_path` names, so the engine names a
tiny launcher that calls `setpgid(0, 0)` and then `exec`s the real CLI (same PID, same arguments, same pipes).
A new group is enough and stays in the kernel's session: a new session (`setsid`) would also put the CLI in a
scheduler autogroup of its own on Linux, which made every turn's first token ~25 ms later on a busy machine.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import sys
import tempfile
import threading

__all__ = ["Launchers", "launch_raced"]

_SCRIPT = """#!{python} -S
import os, sys
try:
    os.setpgid(0, 0)
except OSError:
    pass
os.execv({cli!r}, [{cli!r}] + sys.argv[1:])
"""


class Launchers:
    """Launcher scripts, one per real CLI, in a private temporary folder removed by `close`."""

    def __init__(self) -> None:
        self._folder: str | None = None
        self._paths: dict[str, str] = {}
        self._lock = threading.Lock()

    def cli_path(self, cli: str | None) -> str | None:
        """What to pass as `cli_path`: a launcher for `cli` (or the bundled CLI), or `cli` itself when there is
        nothing to launch (not found: the SDK's own error names it) or no process groups (Windows)."""
        from .auth import bundled_cli

        real = cli or bundled_cli()
        if os.name != "posix" or not real or not os.path.isfile(real) or not os.access(real, os.X_OK) \
                or " " in sys.executable or len(sys.executable) > 120:      # what a `#!` line can hold
            return cli
        real = os.path.abspath(real)
        with self._lock:
            path = self._paths.get(real)
            if path is None or not os.path.exists(path):
                path = self._paths[real] = self._write(real)
            return path

    def _write(self, real: str) -> str:
        if self._folder is None or not os.path.isdir(self._folder):
            self._folder = tempfile.mkdtemp(prefix="claude-magic-cli-")      # 0700: only this user
        path = os.path.join(self._folder, f"claude-{len(self._paths)}")
        with open(path, "w", encoding="utf-8") as script:
            script.write(_SCRIPT.format(python=sys.executable, cli=real))
        os.chmod(path, stat.S_IRWXU)
        return path

    def close(self) -> None:
        with self._lock:
            folder, self._folder, self._paths = self._folder, None, {}
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def launch_raced(error: BaseException) -> bool:
    """Whether starting the CLI failed with "Text file busy": a process forked elsewhere in the kernel (another
    thread starting `claude auth status`, user code) between our writing a launcher and its exec still held the
    file open for writing. The window is milliseconds; starting again works."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno == errno.ETXTBSY:
            return True
        seen = seen.__cause__ or seen.__context__
    return False
