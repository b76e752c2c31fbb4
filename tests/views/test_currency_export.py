"""A notebook whose answer, usage and history mention money, run in a real kernel, saved, and exported by nbconvert:
no stray backslash before a `$`, money never typeset, math still typeset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbconvert import HTMLExporter, MarkdownExporter

from claude_magic.testing import LocalServer, Reply, text

from ..notebooks.runner import execute_notebook
from .helpers import typeset, visible

ANSWER = "The basic plan costs $5 per month and the pro plan costs $10; a range of $5-$10. Math: $x^2$."
PROMPT = "Plans at $5 and $10: which? And $x^2$?"


@pytest.fixture
def saved(claude_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", claude_server.base_url)
    claude_server.queue(Reply(text(ANSWER)))
    document = nbformat.v4.new_notebook()
    document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    document.cells = [nbformat.v4.new_code_cell(source) for source in (
        "%load_ext claude_magic", f"%%claude\n{PROMPT}", "%claude usage", "%claude history")]
    path = tmp_path / "money.ipynb"
    nbformat.write(document, path)
    workdir = tmp_path / "run"
    workdir.mkdir()
    return execute_notebook(path, workdir, timeout=120)


def outputs(notebook: Any, index: int) -> list[dict[str, Any]]:
    return [output["data"] for output in notebook.cells[index].outputs if output.get("output_type") == "display_data"]


def test_saved_outputs_and_nbconvert_html_have_no_stray_backslashes(saved: Any) -> None:
    (answer,) = outputs(saved, 1)
    (usage,) = outputs(saved, 2)
    (history,) = outputs(saved, 3)
    for bundle in (answer, usage, history):
        assert set(bundle) >= {"text/html", "text/markdown", "text/plain"}
        assert "\\" not in visible(bundle["text/html"]) and "\\" not in bundle["text/plain"]
    assert typeset(answer["text/html"]) == ["$x^2$"]
    assert ANSWER in " ".join(visible(answer["text/html"]).split())
    assert typeset(usage["text/html"]) == [] and "$0.0" in visible(usage["text/html"])
    assert typeset(history["text/html"]) == ["$x^2$"] and PROMPT in visible(history["text/html"])
    assert "\\$5 per month" in answer["text/markdown"] and "\\$0.0" in usage["text/markdown"]

    body, _resources = HTMLExporter().from_notebook_node(saved)
    assert "\\$" not in body
    start = body.index('<div class="claude-magic-output">')
    exported = body[start:]
    assert typeset(exported) == ["$x^2$", "$x^2$"]                  # the answer's, the history row's prompt
    assert ANSWER in " ".join(visible(exported).split())


def test_nbconvert_markdown_export_uses_the_html(saved: Any) -> None:
    body, _resources = MarkdownExporter().from_notebook_node(saved)
    assert "\\$" not in body and "tex2jax_ignore" in body           # money stays out of MathJax there too
