"""Displayable MIME bundles: what a tool shows the user, ready for IPython's `display()`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MimeBundle"]


@dataclass(frozen=True)
class MimeBundle:
    """Rich output captured from a tool (`display(bundle)` shows it in any front end).

    `kind` tells a view where it came from: stdout, stderr, display, result, error, figure or text.
    """

    data: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    kind: str = "display"

    @classmethod
    def text(cls, text: str, kind: str = "text") -> MimeBundle:
        """A plain-text bundle."""
        return cls({"text/plain": text}, {}, kind)

    @property
    def plain(self) -> str:
        """The text/plain rendering ('' if there is none)."""
        value = self.data.get("text/plain", "")
        return value if isinstance(value, str) else "".join(value)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        return dict(self.data), dict(self.metadata)

    def __repr__(self) -> str:
        kinds = ", ".join(sorted(self.data))
        return f"<MimeBundle {self.kind}: {kinds}>"
