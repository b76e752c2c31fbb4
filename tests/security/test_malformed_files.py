"""Hostile and broken files: deep, huge and wrong-typed stores and load files give one line and are set aside;
the store's writer survives anything; two kernels on one store hear about it; settings are checked when set;
unencodable prompts give one line; save and export never overwrite a notebook, nor a file without --force."""

from __future__ import annotations

import json
import logging
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from traitlets import TraitError

from claude_magic import session as session_module
from claude_magic.commands import run_command
from claude_magic.core.errors import ClaudeMagicError, ConfigurationError
from claude_magic.core.json_file import MAX_FILE_BYTES
from claude_magic.core.settings import Settings
from claude_magic.session import Session
from claude_magic.store import STORE_FORMAT, attach_store
from claude_magic.testing import LocalServer, Reply, text

from ..helpers import local_settings

# -- files -----------------------------------------------------------------------------------------------


def good_entry(prompt: str = "Hello?") -> dict[str, Any]:
    return {"format": "claude-magic-conversation", "version": 1, "name": "",
            "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]},
                         {"role": "assistant", "content": [{"type": "text", "text": "Hi."}]}],
            "turns": [{"id": "t1", "prompt": prompt, "model": "claude-sonnet-5-5", "start": 0, "end": 2,
                       "status": "complete", "usage": {"input_tokens": 3, "output_tokens": 2}}]}


def store_text(entry: Any) -> str:
    return json.dumps({"format": STORE_FORMAT, "version": 1, "notebook": "", "conversations": {"": entry}})


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def with_content(value: Any) -> dict[str, Any]:
    entry = good_entry()
    entry["messages"][1]["content"] = value
    return entry


def with_turn(**changes: Any) -> dict[str, Any]:
    entry = good_entry()
    entry["turns"][0].update(changes)
    return entry


WRONG_TYPES = {
    "content is a number": with_content(5),
    "a block is a string": with_content(["hello"]),
    "text is a number": with_content([{"type": "text", "text": 5}]),
    "tool input is a list": with_content([{"type": "tool_use", "id": "a", "name": "run_python", "input": []}]),
    "prompt is a number": with_turn(prompt=5),
    "usage is text": with_turn(usage={"input_tokens": "many"}),
    "turn end past the messages": with_turn(end=9),
    "cost is text": with_turn(cost="free"),
}
BROKEN_STORES = {
    **{name: store_text(entry) for name, entry in WRONG_TYPES.items()},
    "nested past the parser": store_text(None).replace("null", deep(100_000)),
    "nested past the schema": store_text(with_content([{"type": "text", "text": "x", "extra": json.loads(deep(300))}])),
}


def session_with_store(tmp_path: Path, server: LocalServer) -> Session:
    session = Session(local_settings(server))
    attach_store(session, None, str(tmp_path / "store.json"))
    return session


def one_line(text_: str) -> str:
    lines = [line for line in text_.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    return lines[0]


@pytest.mark.parametrize("name", list(BROKEN_STORES))
def test_a_broken_store_gives_one_line_and_is_set_aside(name: str, tmp_path: Path, claude_server: LocalServer,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "store.json"
    path.write_text(BROKEN_STORES[name])
    session = session_with_store(tmp_path, claude_server)
    line = one_line(capsys.readouterr().err)
    assert "not a usable store" in line and "kept as store.json.corrupt-" in line
    assert not path.exists() and len(list(tmp_path.glob("store.json.corrupt-*"))) == 1
    claude_server.queue(Reply(text("Fresh.")))
    assert session.ask("A new question.").ok                   # the session works, and its turn is saved
    assert session.store.flush(10)
    assert json.loads(path.read_text())["conversations"][""]["turns"][0]["prompt"] == "A new question."


def test_a_store_above_the_size_cap_is_not_read(tmp_path: Path, claude_server: LocalServer,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "store.json"
    with open(path, "wb") as handle:                        # sparse: one byte past the cap, no disk used
        handle.truncate(MAX_FILE_BYTES + 1)
    tracemalloc.start()
    try:
        session_with_store(tmp_path, claude_server)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    line = one_line(capsys.readouterr().err)
    assert "MB" in line and "kept as store.json.corrupt-" in line
    assert peak < 10 * 2**20, f"{peak / 2**20:.0f} MB read for a file that is refused by its size"


@pytest.mark.parametrize("name", list(WRONG_TYPES))
def test_load_checks_every_message_block_and_turn(name: str, tmp_path: Path, claude_server: LocalServer) -> None:
    session = Session(local_settings(claude_server))
    claude_server.queue(Reply(text("Kept.")))
    assert session.ask("Keep me.").ok
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(WRONG_TYPES[name]))
    with pytest.raises(ClaudeMagicError, match="is not a claude-magic conversation file") as refused:
        run_command(session, ["load", str(path)])
    assert "\n" not in str(refused.value)
    assert [record.prompt for record in session.conversation().turns] == ["Keep me."]
    for command in ("history", "usage", "chats"):
        run_command(session, [command])


@pytest.mark.parametrize("content", [deep(100_000), deep(300)], ids=["past the parser", "past the schema"])
def test_load_refuses_deep_files_in_one_line(content: str, tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    entry = json.dumps(good_entry()).replace('"Hi."', content)
    path.write_text(entry)
    with pytest.raises(ClaudeMagicError, match="nested") as refused:
        run_command(Session(Settings()), ["load", str(path)])
    assert "\n" not in str(refused.value)


def test_load_refuses_a_file_above_the_cap_unread(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    with open(path, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ClaudeMagicError, match="MB"):
        run_command(Session(Settings()), ["load", str(path)])


def test_a_good_file_still_loads_and_continues(tmp_path: Path, claude_server: LocalServer) -> None:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(good_entry()))
    session = Session(local_settings(claude_server))
    assert "Loaded 1 turns" in run_command(session, ["load", str(path)])
    claude_server.queue(Reply(text("Go on.")))
    assert session.ask("And then?").ok


# -- the writer thread ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("poison", [{1, 2}, "deep"], ids=["not JSON", "too deep to serialize"])
def test_the_writer_survives_any_error_and_reports_it_once(poison: Any, tmp_path: Path, claude_server: LocalServer,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    session = session_with_store(tmp_path, claude_server)
    broken = session.conversation("broken")
    value: Any = poison
    if poison == "deep":
        value = []
        for _ in range(5_000):
            value = [value]
    broken.messages.append({"role": "user", "content": [{"type": "text", "text": "x", "odd": value}]})
    for number in range(3):
        claude_server.queue(Reply(text(f"Answer {number}.")))
        assert session.ask(f"Question {number}.").ok
        session.store.save_soon()
        assert session.store.flush(10), "the writer thread died: later turns are never saved"
    session.store.report_problems()
    line = one_line(capsys.readouterr().err)
    assert "conversation broken cannot be saved" in line
    saved = json.loads((tmp_path / "store.json").read_text())["conversations"]
    assert [turn["prompt"] for turn in saved[""]["turns"]] == ["Question 0.", "Question 1.", "Question 2."]
    assert "broken" not in saved


def test_the_earlier_writer_hears_when_another_kernel_replaced_its_conversation(
        tmp_path: Path, claude_server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = session_with_store(tmp_path, claude_server), session_with_store(tmp_path, claude_server)
    claude_server.queue(Reply(text("One.")), Reply(text("Two.")), Reply(text("Three.")))
    assert first.ask("From the first kernel.").ok
    assert first.store.flush(10)
    assert second.ask("From the second kernel.").ok             # it never read the first kernel's turn
    assert second.store.flush(10)
    assert first.ask("The first kernel again.").ok
    assert first.store.flush(10)
    capsys.readouterr()
    first.store.report_problems()
    line = one_line(capsys.readouterr().err)
    assert "another kernel saved the default conversation" in line and "over this kernel's turns" in line
    second.store.report_problems()
    assert capsys.readouterr().err == ""                       # the second kernel lost nothing it had saved... yet


# -- settings, prompts, save and export ---------------------------------------------------------------------


@pytest.fixture
def magic(ipython_shell: Any, claude_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    session_module._session = None
    magic = ipython_shell.magics_manager.registry["ClaudeMagic"]
    yield magic
    session_module._session = None


BAD_SETTINGS = [("timeout", -1), ("timeout", 0), ("timeout", float("nan")), ("tool_result_budget", 0),
                ("max_steps", 0), ("tool_timeout", -1), ("max_tokens", 0), ("max_retries", -1),
                ("map_confirm_above", -0.5)]


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS, ids=[f"{name}={value}" for name, value in BAD_SETTINGS])
def test_settings_are_checked_when_assigned(magic: Any, name: str, value: Any, caplog: pytest.LogCaptureFixture) -> None:
    saved = getattr(magic, name)
    with pytest.raises(TraitError, match=f"ClaudeMagic.{name} must be"):
        setattr(magic, name, value)
    assert getattr(magic, name) == saved
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        magic.shell.run_cell(f"%config ClaudeMagic.{name} = {value!r}".replace("nan", "float('nan')"),
                             store_history=False)
    assert getattr(magic, name) == saved
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert errors and all(f"ClaudeMagic.{name} must be" in message and "\n" not in message for message in errors)
    magic.shell.config.ClaudeMagic.pop(name, None)
    if name != "map_confirm_above":
        with pytest.raises(ConfigurationError, match=f"{name} must be"):
            Settings(**{name: value})                            # the Python API: the same rule


def test_a_lone_surrogate_in_a_prompt_gives_one_line(magic: Any, claude_server: LocalServer,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    outcome = magic.shell.run_cell("%%claude\nWhat is \ud800 this?", store_history=False)
    captured = capsys.readouterr()
    assert not outcome.success
    line = one_line(captured.out + captured.err)
    assert "cannot be sent" in line and "U+D800" in line
    assert claude_server.message_requests == []
    with pytest.raises(ClaudeMagicError, match="cannot be sent"):
        Session(local_settings(claude_server)).ask([{"type": "text", "text": "a \udcff b"}])


@pytest.fixture
def talked(claude_server: LocalServer) -> Session:
    session = Session(local_settings(claude_server))
    claude_server.queue(Reply(text("Saved answer.")))
    assert session.ask("Save me.").ok
    return session


@pytest.mark.parametrize("command", ["save", "export"])
def test_save_and_export_never_write_a_notebook(talked: Session, tmp_path: Path, command: str) -> None:
    notebook = tmp_path / "analysis.ipynb"
    notebook.write_text('{"cells": []}')
    for arguments in ([str(notebook)], [str(notebook), "--force"], [str(tmp_path / "new.IPYNB")]):
        with pytest.raises(ClaudeMagicError, match="notebook"):
            run_command(talked, [command, *arguments])
    assert notebook.read_text() == '{"cells": []}'
    assert not (tmp_path / "new.IPYNB").exists()


@pytest.mark.parametrize("command", ["save", "export"])
def test_save_and_export_overwrite_only_with_force(talked: Session, tmp_path: Path, command: str) -> None:
    path = tmp_path / ("chat.json" if command == "save" else "chat.md")
    path.write_text("mine")
    with pytest.raises(ClaudeMagicError, match="already exists: add --force"):
        run_command(talked, [command, str(path)])
    assert path.read_text() == "mine"
    run_command(talked, [command, str(path), "--force"])
    assert "Save me." in path.read_text()
    fresh = tmp_path / ("new.json" if command == "save" else "new.md")
    run_command(talked, [command, str(fresh)])
    assert fresh.exists() and os.path.getsize(fresh) > 0
