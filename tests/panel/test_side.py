"""side.py in a real IPython shell: what the cell shows for each report of the page, and one side panel per kernel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher

from claude_magic.panel import ChatPanel
from claude_magic.panel.side import SIDE_MESSAGES, side_area
from claude_magic.session import Session

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def outputs() -> Iterator[list[dict[str, Any]]]:
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython() or get_ipython()
    saved, shell.display_pub = shell.display_pub, CapturingDisplayPublisher()
    try:
        yield shell.display_pub.outputs
    finally:
        shell.display_pub = saved


def opened(session: Session, key: tuple[Any, ...] = ("",)) -> Any:
    area = side_area(lambda: ChatPanel(session), key)
    area.panel.side = area
    return area


def report(placement: Any, where: str) -> None:
    placement._handle_custom_msg({"placed": where}, [])      # what ipywidgets calls for the page's send


@pytest.mark.parametrize("where", ["side", "cell", "none"])
def test_the_cell_says_where_the_panel_is(session: Session, outputs: list[dict[str, Any]], where: str) -> None:
    area = opened(session, (where,))
    try:
        area.panel._ipython_display_()
        note = outputs[0]
        assert WIDGET_MIME in note["data"] and note["data"]["text/plain"] == SIDE_MESSAGES["pending"]
        slot_id = outputs[1]["transient"]["display_id"]
        assert outputs[1]["data"] == {"text/plain": ""}
        assert area.sidecar is not None and area.target in area.panel.widget._dom_classes
        shown, placement = len(outputs), area.placement
        report(placement, where)
        report(placement, "side")                        # a second page's late report changes nothing
        updates = outputs[shown:]
        # the note's last update (a panel's transcript may be updated in between: another display id)
        line = [update for update in updates if update["transient"]["display_id"] == note["transient"]["display_id"]][-1]
        assert line["update"]
        assert line["data"]["text/plain"] == SIDE_MESSAGES[where] and WIDGET_MIME not in line["data"]
        slot = [update for update in updates if update["transient"]["display_id"] == slot_id]
        if where == "none":                              # not drawn anywhere: the cell's slot shows the panel
            assert slot and slot[0]["data"][WIDGET_MIME]["model_id"] == area.panel.widget.model_id
        else:
            assert not slot
        assert area.placed == where and area.placement is None          # the placement widget is closed
    finally:
        area.close()


def test_one_side_panel_per_kernel(session: Session, outputs: list[dict[str, Any]]) -> None:
    first = opened(session, ("a",))
    first.panel._ipython_display_()
    tab = first.sidecar
    again = opened(session, ("a",))
    assert again is first
    again.panel._ipython_display_()
    assert tab.comm is None and first.sidecar is not tab             # the old tab closed, a new one opened
    other = opened(session, ("b",))
    assert other is not first and first.panel.closed and not other.panel.closed
    other.close()
    assert other.panel.closed and other.sidecar is None


def test_chat_command_rejects_unknown_options(session: Session) -> None:
    from claude_magic.commands import chat
    from claude_magic.core.errors import ClaudeMagicError

    with pytest.raises(ClaudeMagicError, match="unknown option --sid"):
        chat(session, ["--sid"])
