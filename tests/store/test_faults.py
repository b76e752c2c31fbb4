"""Store faults in real kernels: a corrupt store, one from a newer version, a read-only folder, two kernels at once."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

from claude_magic.store import STORE_FORMAT
from claude_magic.testing import LocalServer

from ..kernel.kernel_driver import running_kernel, texts
from .notebooks import NOTEBOOK, claude_cells, claude_notebook, provenance, run_notebook, stream_text

PROMPTS = ["First question.", "Second question.", "Third question."]


def store_file(folder: Path) -> Path:
    return folder / ".claude_magic" / f"{NOTEBOOK}.json"


def stored_prompts(folder: Path, conversation: str = "") -> list[str]:
    document = json.loads(store_file(folder).read_text())
    assert document["format"] == STORE_FORMAT and document["version"] == 1
    return [turn["prompt"] for turn in document["conversations"][conversation]["turns"]]


def test_a_corrupt_store_gives_one_line_is_kept_aside_and_nothing_else_is_lost(claude_server: LocalServer,
                                                                               tmp_path: Path) -> None:
    garbage = '{"format": "claude-magic-notebook-store", "version": 1, "conversations": {"": {"messages": '
    store_file(tmp_path).parent.mkdir()
    store_file(tmp_path).write_text(garbage)
    ran = run_notebook(claude_notebook(*PROMPTS), tmp_path, claude_server)
    cells = claude_cells(ran)
    warning = stream_text(cells[0])
    assert warning.count("\n") == 1 and "is not a usable store: not JSON" in warning and "kept as" in warning
    assert all(stream_text(cell) == "" for cell in cells[1:])
    aside = [path for path in store_file(tmp_path).parent.iterdir() if ".corrupt-" in path.name]
    assert len(aside) == 1 and aside[0].read_text() == garbage and aside[0].name in warning
    assert len(claude_server.message_requests) == 3 and not any(provenance(cell)["replayed"] for cell in cells)
    assert stored_prompts(tmp_path) == PROMPTS                       # a fresh, valid store took its place


def test_a_store_from_a_newer_version_is_kept_aside(claude_server: LocalServer, tmp_path: Path) -> None:
    newer = json.dumps({"format": STORE_FORMAT, "version": 99, "conversations": {"": {"future": True}}})
    store_file(tmp_path).parent.mkdir()
    store_file(tmp_path).write_text(newer)
    ran = run_notebook(claude_notebook(*PROMPTS), tmp_path, claude_server)
    warning = stream_text(claude_cells(ran)[0])
    assert warning.count("\n") == 1 and "written by a newer claude-magic (store version 99; this one reads 1)" \
        in warning
    aside = [path for path in store_file(tmp_path).parent.iterdir() if ".newer-" in path.name]
    assert len(aside) == 1 and aside[0].read_text() == newer
    assert stored_prompts(tmp_path) == PROMPTS


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` cannot be written: a read-only bind mount as root (root ignores permissions), else chmod."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True, capture_output=True)


def test_a_read_only_folder_gives_one_line_and_the_session_goes_on(claude_server: LocalServer,
                                                                   tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    with read_only(folder):
        assert not os.access(folder, os.W_OK) or _cannot_create(folder)
        ran = run_notebook(claude_notebook(*PROMPTS), folder, claude_server, save=False)
    cells = claude_cells(ran)
    warning = stream_text(cells[0])
    assert warning.count("\n") == 1 and f"cannot save conversations in {folder / '.claude_magic'}" in warning
    assert "goes on without persisting" in warning
    assert all(stream_text(cell) == "" for cell in cells[1:])
    assert [provenance(cell)["status"] for cell in cells] == ["complete"] * 3
    assert len(claude_server.message_requests) == 3 and not (folder / ".claude_magic").exists()


def _cannot_create(folder: Path) -> bool:
    try:
        (folder / "probe").touch()
    except OSError:
        return True
    (folder / "probe").unlink()
    return False


def test_two_kernels_on_one_notebook_never_corrupt_it(claude_server: LocalServer, tmp_path: Path) -> None:
    notebook = str(tmp_path / NOTEBOOK)
    turns = 8
    failures: list[str] = []

    def drive(name: str) -> None:
        try:
            with running_kernel(ANTHROPIC_BASE_URL=claude_server.base_url, JPY_SESSION_NAME=notebook) as kernel:
                assert "Error" not in texts(kernel.execute("%load_ext claude_magic"))
                for number in range(turns):
                    for chat in (f"--chat {name}", ""):
                        shown = texts(kernel.execute(f"%%claude {chat}\n{name} turn {number}"))
                        assert "Error" not in shown, shown
                flushed = texts(kernel.execute("import claude_magic\nprint(claude_magic.get_session().store.flush())"))
                assert "True" in flushed, flushed
        except BaseException as error:  # noqa: BLE001 - reported by the test thread
            failures.append(f"{name}: {error!r}")

    threads = [threading.Thread(target=drive, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert failures == []
    assert stored_prompts(tmp_path, "left") == [f"left turn {number}" for number in range(turns)]
    assert stored_prompts(tmp_path, "right") == [f"right turn {number}" for number in range(turns)]
    default = stored_prompts(tmp_path)          # both wrote it: the last writer's, whole
    assert default in ([f"left turn {number}" for number in range(turns)],
                       [f"right turn {number}" for number in range(turns)])
    leftovers = [path.name for path in store_file(tmp_path).parent.iterdir() if path.name.endswith(".tmp")]
    assert leftovers == []
