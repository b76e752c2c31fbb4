"""Shift+Enter / Ctrl+Enter sends: a tiny page script marks the text, the kernel sees the mark in the value.

ipywidgets' Textarea swallows key events (its view stops their propagation) and sends no key
information to the kernel, so the keys are caught in the page instead: a capture-phase listener on
`window` (installed once per page, by a `Javascript` output that `ChatPanel` displays) appends an
invisible SEND mark to the text of any `.claude-magic-input` textarea and fires its `input` event.
The mark travels with the text in the same widget state update, so the kernel can never see the send
request before the last keystrokes (a separate button click could overtake a throttled value update).
"""

from __future__ import annotations

__all__ = ["SEND_MARK", "KEYS_JS", "split_send"]

SEND_MARK = "\u2063"   # INVISIBLE SEPARATOR: never typed by hand

KEYS_JS = """
(() => {
  if (window.claudeMagicSendKeys) { return; }
  window.claudeMagicSendKeys = true;
  window.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) { return; }
    if (!(event.shiftKey || event.ctrlKey || event.metaKey) || event.altKey) { return; }
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.closest(".claude-magic-input")) { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    box.value += "\\u2063";
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }, true);
})();
"""


def split_send(value: str) -> tuple[str, str] | None:
    """(text to send, text left in the box) when `value` carries the mark, else None."""
    if SEND_MARK not in value:
        return None
    before, _, after = value.partition(SEND_MARK)
    return before, after.replace(SEND_MARK, "")
