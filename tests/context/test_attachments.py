"""`--attach` specs become image, document and text blocks; everything else is a one-line error."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import anthropic  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from claude_magic.core.errors import ClaudeMagicError  # noqa: E402
from claude_magic.notebook.attachments import (  # noqa: E402
    MAX_IMAGE_BASE64_BYTES,
    AttachmentError,
    attachment_block,
    attachment_blocks,
    sniff_media_type,
)
from claude_magic.testing import Reply, text  # noqa: E402

UNSUPPORTED = "attach image files, PDFs, text files, figures, PIL images or bytes"


def image_bytes(kind: str, size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


def decoded(block: dict[str, Any]) -> bytes:
    return base64.b64decode(block["source"]["data"])


@pytest.mark.parametrize(("kind", "media_type"), [
    ("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp"),
])
def test_image_files_are_sniffed_by_content_not_extension(tmp_path: Path, kind: str, media_type: str) -> None:
    data = image_bytes(kind)
    path = tmp_path / "misleading.txt"
    path.write_bytes(data)
    block = attachment_block(str(path), {})
    assert block == {"type": "image", "source": {"type": "base64", "media_type": media_type,
                                                 "data": base64.b64encode(data).decode("ascii")}}


def test_pdf_file_is_a_document_block(tmp_path: Path) -> None:
    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    path = tmp_path / "report.bin"
    figure.savefig(path, format="pdf")
    plt.close(figure)
    block = attachment_block(str(path), {})
    assert block["type"] == "document" and block["title"] == "report.bin"
    assert block["source"]["media_type"] == "application/pdf"
    assert decoded(block) == path.read_bytes()


def test_text_file_has_its_name_and_a_fence_longer_than_its_backticks(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    content = "# Notes\n\n```python\nprint('hi')\n```\nnaïve {braces} <b>tag</b>"
    path.write_text(content, encoding="utf-8")
    block = attachment_block(str(path), {})
    assert block == {"type": "text", "text": f"Attached file `{path}` ({len(content)} characters):\n"
                                             f"````\n{content}\n````"}


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert attachment_block(str(path), {})["text"].endswith("(8 characters):\n```\na,b\n1,2\n```")


def test_non_utf8_text_is_decoded_with_replacements_and_a_note(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("café,crème\n".encode("latin-1"))
    block = attachment_block(str(path), {})
    assert "not valid UTF-8: 2 undecodable byte sequence(s) shown as \ufffd" in block["text"]
    assert "caf\ufffd,cr\ufffdme" in block["text"]


def test_binary_file_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "archive.zip"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(AttachmentError) as caught:
        attachment_block(str(path), {})
    assert str(caught.value) == (f"unsupported attachment {path} (binary data that is not a PNG, JPEG, GIF, WebP "
                                 f"or PDF): {UNSUPPORTED}")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match=r"^attachment 'nope\.png': no such file, and no variable of that name$"):
        attachment_block("nope.png", {})
    with pytest.raises(AttachmentError, match=r"not a file \(attach files one by one\)$"):
        attachment_block(str(tmp_path), {})


def test_size_limits(tmp_path: Path) -> None:
    big_image = tmp_path / "big.png"
    big_image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_IMAGE_BASE64_BYTES * 3 // 4))
    with pytest.raises(AttachmentError) as caught:
        attachment_block(str(big_image), {})
    assert "the image is 3.8 MB (5.0 MB as base64); the API accepts at most 5.0 MB per image as base64" in str(caught.value)

    big_pdf = tmp_path / "big.pdf"
    with big_pdf.open("wb") as handle:
        handle.write(b"%PDF-1.7\n")
        handle.truncate(25 * 1024 * 1024)
    with pytest.raises(AttachmentError, match=r"the PDF is 25\.0 MB \(33\.3 MB as base64\); a request may carry at "
                                              r"most 32\.0 MB: split the PDF$"):
        attachment_block(str(big_pdf), {})

    big_text = tmp_path / "big.log"
    big_text.write_text("line\n" * 300_000)
    with pytest.raises(AttachmentError, match=r"the text is 1\.4 MB; at most 1\.0 MB of text can be attached"):
        attachment_block(str(big_text), {})


def test_figure_axes_and_pil_variables_become_png() -> None:
    figure, axes = plt.subplots()
    axes.plot([3, 1, 2])
    namespace = {"fig": figure, "ax": axes, "photo": Image.new("CMYK", (4, 4)), "pal": Image.new("P", (4, 4))}
    try:
        blocks = attachment_blocks(["fig", "ax", "photo", "pal"], namespace)
    finally:
        plt.close(figure)
    for block in blocks:
        assert block["source"]["media_type"] == "image/png"
        assert decoded(block).startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(decoded(blocks[2]))).mode == "RGB"


def test_current_figure_word() -> None:
    plt.close("all")
    with pytest.raises(AttachmentError, match=r"^attachment `figure`: no open matplotlib figure"):
        attachment_block("figure", {})
    figure = plt.figure()
    plt.plot([1, 2])
    try:
        block = attachment_block("figure", {"figure": plt.figure})    # `from pyplot import figure` is common
    finally:
        plt.close(figure)
    assert decoded(block).startswith(b"\x89PNG")


def test_figure_word_without_pyplot_imported() -> None:
    script = ("from claude_magic.notebook.attachments import attachment_block, AttachmentError\n"
              "try:\n    attachment_block('figure', {})\nexcept AttachmentError as error:\n    print(error)\n")
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "attachment `figure`: matplotlib.pyplot is not imported, so there is no current figure"


def test_bytes_variables_are_sniffed(tmp_path: Path) -> None:
    png = image_bytes("PNG")
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    namespace = {"raw": png, "buffer": bytearray(b"%PDF-1.4 tiny"), "view": memoryview(b"plain text"),
                 "where": path, "blob": b"\x00\x01\x02"}
    image, document, plain, from_path = attachment_blocks(["raw", "buffer", "view", "where"], namespace)
    assert image["source"]["media_type"] == "image/png" and decoded(image) == png
    assert document["type"] == "document" and document["title"] == "buffer"
    assert plain == {"type": "text", "text": "Attached variable `view` (10 characters):\n```\nplain text\n```"}
    assert from_path["text"].endswith("```\nhello\n```")
    with pytest.raises(AttachmentError, match="^unsupported attachment blob"):
        attachment_block("blob", namespace)


def test_dotted_variable_and_order() -> None:
    class Holder:
        chart = b"GIF89a" + b"\0" * 10

    blocks = attachment_blocks(["holder.chart", "note"], {"holder": Holder(), "note": b"second"})
    assert [block["type"] for block in blocks] == ["image", "text"]
    assert blocks[0]["source"]["media_type"] == "image/gif"


@pytest.mark.parametrize(("value", "type_name"), [
    (42, "int"), ("a string", "str"), ([1, 2], "list"), (None, "NoneType"),
])
def test_unsupported_values(value: Any, type_name: str) -> None:
    with pytest.raises(AttachmentError) as caught:
        attachment_block("thing", {"thing": value})
    assert str(caught.value) == f"unsupported attachment thing (type {type_name}): {UNSUPPORTED}"
    assert isinstance(caught.value, ClaudeMagicError)


def test_dataframe_is_unsupported_with_its_module() -> None:
    import pandas as pd

    with pytest.raises(AttachmentError, match=r"\(type pandas\.DataFrame\)"):
        attachment_block("df", {"df": pd.DataFrame()})


def test_empty_spec() -> None:
    with pytest.raises(AttachmentError, match="^empty attachment"):
        attachment_block("  ", {})


def test_sniffing() -> None:
    assert sniff_media_type(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff_media_type(b"RIFF\0\0\0\0WAVEfmt ") is None
    assert sniff_media_type(b"\n%PDF-1.5") == "application/pdf"
    assert sniff_media_type(b"hello") is None


def test_blocks_pass_the_validating_server(claude_server: Any, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    figure, axes = plt.subplots()
    axes.plot([1, 2])
    try:
        blocks = attachment_blocks([str(path), "fig", "pdf"], {"fig": figure, "pdf": b"%PDF-1.4 tiny"})
    finally:
        plt.close(figure)
    claude_server.queue(Reply(text("Seen.")))
    client = anthropic.Anthropic(api_key="local-test-key", base_url=claude_server.base_url, max_retries=0)
    message = client.messages.create(model="claude-sonnet-5-5", max_tokens=100, messages=[
        {"role": "user", "content": [*blocks, {"type": "text", "text": "Describe these."}]}])
    assert message.content[0].text == "Seen."
    sent = claude_server.message_requests[-1]["messages"][0]["content"]
    assert [block["type"] for block in sent] == ["text", "image", "document", "text"]
    assert sent[:3] == blocks
