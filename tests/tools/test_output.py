"""What Claude gets from a tool's return value: conversions, the budget, never an empty result."""

from __future__ import annotations

import json

from claude_magic.tools.output import EMPTY_OUTPUT, MAX_IMAGES, ToolOutput, content_text, fit_to_budget, to_output

IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}


def test_conversions() -> None:
    assert to_output("text").content == "text"
    assert json.loads(to_output({"a": [1, 2.5, None, True]}).content) == {"a": [1, 2.5, None, True]}
    assert to_output((1, "two")).content == '[1, "two"]'
    assert to_output(None).content == "null"
    assert to_output([{"type": "text", "text": "hi"}, IMAGE]).content == [{"type": "text", "text": "hi"}, IMAGE]
    assert to_output([{"not": "a block"}]).content == '[{"not": "a block"}]'
    output = ToolOutput("x", ("shown",), is_error=True)
    assert to_output(output) is output


def test_circular_structures_fall_back_to_repr() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert to_output(loop).content == "[[...]]"


def test_short_content_is_unchanged_and_empty_content_says_so() -> None:
    assert fit_to_budget("abc", 10) == ("abc", False)
    assert fit_to_budget("", 10) == (EMPTY_OUTPUT, False)
    assert fit_to_budget("  \n", 10) == (EMPTY_OUTPUT, False)
    assert fit_to_budget([{"type": "text", "text": ""}], 10) == (EMPTY_OUTPUT, False)
    assert fit_to_budget([{"type": "text", "text": ""}, IMAGE], 10) == ([IMAGE], False)


def test_long_text_keeps_head_and_tail_with_a_note() -> None:
    text = "".join(f"{number:05d}\n" for number in range(5_000))  # 30,000 characters
    cut, was_cut = fit_to_budget(text, 600)
    assert was_cut and isinstance(cut, str)
    assert cut.startswith("00000\n") and cut.endswith("04999\n")
    assert "29,400 characters left out here: the result was 30,000 characters, over the 600-character budget" in cut
    assert len(cut) < 600 + 200


def test_budget_is_shared_by_text_blocks_and_images_are_capped() -> None:
    blocks = [{"type": "text", "text": "a" * 400}, IMAGE, {"type": "text", "text": "b" * 400}] + [IMAGE] * MAX_IMAGES
    cut, was_cut = fit_to_budget(blocks, 500)
    assert was_cut and isinstance(cut, list)
    assert cut[0]["text"] == "a" * 400
    assert cut[2]["text"].startswith("b" * 66) and "left out here" in cut[2]["text"]
    assert sum(1 for block in cut if block["type"] == "image") == MAX_IMAGES
    assert cut[-1] == {"type": "text", "text": "[1 more image(s) not sent; the user sees them all]"}


def test_content_text_marks_images() -> None:
    assert content_text([{"type": "text", "text": "plot:"}, IMAGE]) == "plot:\n[image]"
