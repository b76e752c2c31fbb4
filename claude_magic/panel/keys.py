"""Shift+Enter / Ctrl+Enter sends: a tiny page script marks the text, the kernel sees the mark in the value.

ipywidgets' Textarea swallows key events (its view stops their propagation) and sends no key
information to the kernel, so the keys are caught in the page instead: a capture-phase listener on
`window` (installed once per page, by a `Javascript` output that `ChatPanel` displays) appends an
invisible SEND mark to the text of any `.claude-magic-input` textarea and fires its `input` event.
The mark travels with the text in the same widget state update, so the kernel can never see the send
request before the last keystrokes. A click on Send takes the same path: a Button click is a message of
its own, which overtakes the textarea's last value update while ipywidgets holds that update back (it
sends one state message at a time while the kernel is busy), and the kernel would send the text as it
was a few keystrokes earlier. Where page scripts do not run, the button's own click handler still sends.
"""

from __future__ import annotations

__all__ = ["SEND_MARK", "KEYS_JS", "split_send"]

SEND_MARK = "\u2063"   # INVISIBLE SEPARATOR: never typed by hand

KEYS_JS = """
(() => {
  if (window.claudeMagicSendKeys >= 2) { return; }     // version 2: Send clicks too
  window.claudeMagicSendKeys = 2;
  const mark = (box) => {
    box.value += "\\u2063";
    box.dispatchEvent(new Event("input", { bubbles: true }));
  };
  window.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) { return; }
    if (!(event.shiftKey || event.ctrlKey || event.metaKey) || event.altKey) { return; }
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.closest(".claude-magic-input")) { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    mark(box);
  }, true);
  window.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest(".claude-magic-send") : null;
    if (!button || button.disabled) { return; }
    const box = button.closest(".claude-magic-panel")?.querySelector(".claude-magic-input textarea");
    if (!box) { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    mark(box);
  }, true);
})();
"""


def split_send(value: str) -> tuple[str, str] | None:
    """(text to send, text left in the box) when `value` carries the mark, else None."""
    if SEND_MARK not in value:
        return None
    before, _, after = value.partition(SEND_MARK)
    return before, after.replace(SEND_MARK, "")
