"""Turn `--attach` specs (files, variables, the current figure) into API content blocks.

Each spec is one of, checked in this order:

- the word `figure`: the current matplotlib figure (only if `matplotlib.pyplot` is already imported;
  note that the inline backend closes a cell's figures when the cell ends, so in a later cell attach a
  Figure variable instead, e.g. `fig = plt.gcf()` in the plotting cell);
- a variable name or dotted path (`fig`, `results.chart`) found in the namespace: a matplotlib Figure
  or Axes or a PIL image becomes a PNG image block; bytes / bytearray / memoryview are sniffed like a
  file; a `pathlib.Path` (any `os.PathLike`) is read as a file; anything else is an `AttachmentError`;
- otherwise a file path (`~` expanded, relative to the kernel's working directory).

The content decides the block, never the file extension: PNG, JPEG, GIF and WebP (by magic bytes) →
base64 image block; PDF → base64 document block titled with the file name; anything else that has no
NUL byte in its first 8 KB is text → a text block headed by its name, in a Markdown fence. Text that is
not valid UTF-8 is decoded with U+FFFD replacements and the header says how many bytes were replaced.

Limits, checked before anything big is read or encoded: an image at most 5 MB as base64 (the API's
per-image limit is on the encoded size), a PDF at most 32 MB as base64 (the API's request limit), text
at most 1 MB. Every problem is an `AttachmentError` with a one-line message.
"""

from __future__ import annotations

import base64
import io
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.errors import ClaudeMagicError
from ..core.typenames import type_name

__all__ = [
    "attachment_blocks", "attachment_block", "sniff_media_type", "AttachmentError",
    "MAX_IMAGE_BASE64_BYTES", "MAX_PDF_BASE64_BYTES", "MAX_TEXT_BYTES",
]

MAX_IMAGE_BASE64_BYTES = 5 * 1024 * 1024
MAX_PDF_BASE64_BYTES = 32 * 1024 * 1024
MAX_TEXT_BYTES = 1024 * 1024
_SNIFF_BYTES = 8192

_UNSUPPORTED = "attach image files, PDFs, text files, figures, PIL images or bytes"


class AttachmentError(ClaudeMagicError):
    """An `--attach` spec that cannot be sent: missing, unsupported, or too large."""


def attachment_blocks(specs: Sequence[str], namespace: Mapping[str, Any], *, cite: bool = False) -> list[dict[str, Any]]:
    """One content block per spec, in order (the caller puts them before the prompt text). `cite` (`--cite`):
    PDFs and text become `document` blocks with citations on, so the answer can point at pages and passages
    (images cannot be cited and stay as they are)."""
    return [attachment_block(spec, namespace, cite=cite) for spec in specs]


def attachment_block(spec: str, namespace: Mapping[str, Any], *, cite: bool = False) -> dict[str, Any]:
    """The content block for one spec: the current figure, a variable or a file."""
    block = _attachment_block(spec, namespace)
    raw = block.pop("_raw_text", None)          # a text attachment's own text, for a cited document
    if not cite:
        return block
    if block.get("type") == "document":
        return {**block, "citations": {"enabled": True}}
    if raw is None:
        return block
    return {"type": "document", "title": Path(spec).name or spec, "citations": {"enabled": True},
            "source": {"type": "text", "media_type": "text/plain", "data": raw}}


def _attachment_block(spec: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    spec = spec.strip()
    if not spec:
        raise AttachmentError("empty attachment: give a file path, a variable name or `figure`")
    if spec == "figure":
        return _figure_block(spec, _current_figure())
    found, value = _lookup(spec, namespace)
    if found:
        return _value_block(spec, value)
    return _file_block(spec, Path(spec).expanduser())


def sniff_media_type(data: bytes) -> str | None:
    """The media type of an image the API accepts or of a PDF, from the first bytes; else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if b"%PDF-" in data[:1024]:
        return "application/pdf"
    return None


# --- what a spec names ------------------------------------------------------------------------------

def _lookup(spec: str, namespace: Mapping[str, Any]) -> tuple[bool, Any]:
    """(True, value) when `spec` is a variable or dotted attribute path in the namespace."""
    head, *attributes = spec.split(".")
    if not all(part.isidentifier() for part in (head, *attributes)) or head not in namespace:
        return False, None
    value = namespace[head]
    for attribute in attributes:
        try:
            value = getattr(value, attribute)
        except AttributeError:
            return False, None
    return True, value


def _current_figure() -> Any:
    if sys.modules.get("matplotlib.pyplot") is None:
        raise AttachmentError("attachment `figure`: matplotlib.pyplot is not imported, so there is no current figure")
    from matplotlib._pylab_helpers import Gcf

    manager = Gcf.get_active()
    if manager is None:
        raise AttachmentError("attachment `figure`: no open matplotlib figure (inline plots close when their cell "
                              "ends: keep `fig = plt.gcf()` in the plotting cell and attach `fig`)")
    return manager.canvas.figure


def _value_block(spec: str, value: Any) -> dict[str, Any]:
    figure = _as_figure(value)
    if figure is not None:
        return _figure_block(spec, figure)
    pil_image = sys.modules.get("PIL.Image")
    if pil_image is not None and isinstance(value, pil_image.Image):
        return _image_block(spec, _pil_png(value), "image/png")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _data_block(spec, f"variable `{spec}`", bytes(value))
    if isinstance(value, os.PathLike):
        return _file_block(spec, Path(os.fspath(value)).expanduser())
    raise AttachmentError(f"unsupported attachment {spec} (type {type_name(type(value))}): {_UNSUPPORTED}")


def _as_figure(value: Any) -> Any:
    """The matplotlib Figure of a Figure, SubFigure or Axes; None for anything else."""
    figure_module = sys.modules.get("matplotlib.figure")
    if figure_module is None:
        return None
    axes_module = sys.modules.get("matplotlib.axes")
    is_axes = axes_module is not None and isinstance(value, axes_module.Axes)
    if not (is_axes or isinstance(value, figure_module.FigureBase)):
        return None
    try:
        return value.get_figure(root=True)
    except TypeError:  # matplotlib < 3.10: no `root` argument; `.figure` is the root figure there
        return value.figure


# --- building blocks ---------------------------------------------------------------------------------

def _figure_block(spec: str, figure: Any) -> dict[str, Any]:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return _image_block(spec, buffer.getvalue(), "image/png")


def _pil_png(image: Any) -> bytes:
    if image.mode not in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _file_block(spec: str, path: Path) -> dict[str, Any]:
    if not path.exists():
        raise AttachmentError(f"attachment {spec!r}: no such file, and no variable of that name")
    if not path.is_file():
        raise AttachmentError(f"attachment {spec!r}: not a file (attach files one by one)")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            start = handle.read(_SNIFF_BYTES)
            media_type = sniff_media_type(start)
            _check_size(spec, media_type, size, start)
            data = start + handle.read()
    except OSError as error:
        raise AttachmentError(f"attachment {spec!r}: cannot read it ({error.strerror or error})") from None
    return _data_block(spec, f"file `{spec}`", data, media_type=media_type, title=path.name)


def _data_block(spec: str, label: str, data: bytes, *, media_type: str | None = None,
                title: str | None = None) -> dict[str, Any]:
    media_type = media_type or sniff_media_type(data[:_SNIFF_BYTES])
    _check_size(spec, media_type, len(data), data[:_SNIFF_BYTES])
    if media_type == "application/pdf":
        return {"type": "document", "title": title or spec,
                "source": {"type": "base64", "media_type": media_type, "data": _base64(data)}}
    if media_type is not None:
        return _image_block(spec, data, media_type)
    return {"type": "text", "text": _text_attachment(label, data), "_raw_text": _decoded(data)}


def _image_block(spec: str, data: bytes, media_type: str) -> dict[str, Any]:
    _check_size(spec, media_type, len(data), data[:_SNIFF_BYTES])
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": _base64(data)}}


def _check_size(spec: str, media_type: str | None, size: int, start: bytes) -> None:
    """Refuse what the API would refuse, and binary data that is neither an image nor a PDF."""
    encoded = _base64_size(size)
    if media_type == "application/pdf" and encoded > MAX_PDF_BASE64_BYTES:
        raise AttachmentError(f"attachment {spec!r}: the PDF is {_megabytes(size)} ({_megabytes(encoded)} as base64); "
                              f"a request may carry at most {_megabytes(MAX_PDF_BASE64_BYTES)}: split the PDF")
    if media_type is not None and media_type.startswith("image/") and encoded > MAX_IMAGE_BASE64_BYTES:
        raise AttachmentError(f"attachment {spec!r}: the image is {_megabytes(size)} ({_megabytes(encoded)} as "
                              f"base64); the API accepts at most {_megabytes(MAX_IMAGE_BASE64_BYTES)} per image as "
                              "base64: resize it (e.g. PIL's `image.thumbnail((1568, 1568))`) or save it as JPEG")
    if media_type is None:
        if b"\x00" in start:
            raise AttachmentError(f"unsupported attachment {spec} (binary data that is not a PNG, JPEG, GIF, WebP "
                                  f"or PDF): {_UNSUPPORTED}")
        if size > MAX_TEXT_BYTES:
            raise AttachmentError(f"attachment {spec!r}: the text is {_megabytes(size)}; at most "
                                  f"{_megabytes(MAX_TEXT_BYTES)} of text can be attached: attach an excerpt")


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace")


def _text_attachment(label: str, data: bytes) -> str:
    try:
        text, note = data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        replaced = text.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
        note = f", not valid UTF-8: {replaced:,} undecodable byte sequence(s) shown as \ufffd"
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"Attached {label} ({len(text):,} characters{note}):\n{fence}\n{body}{fence}"


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _base64_size(size: int) -> int:
    return 4 * ((size + 2) // 3)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
