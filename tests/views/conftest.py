"""Fixtures for the view tests: a real IPython shell whose display outputs are captured."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher

from claude_magic.views.render import available_renderers, set_renderer


@pytest.fixture(scope="module", params=available_renderers())
def markdown_renderer(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each installed Markdown renderer in turn (cmark-gfm when installed, Python-Markdown always)."""
    set_renderer(request.param)
    try:
        yield request.param
    finally:
        set_renderer(None)


@pytest.fixture
def shell() -> Iterator[Any]:
    """The test IPython shell with a capturing display publisher (`shell.display_pub.outputs`)."""
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    ipython = start_ipython() or get_ipython()
    saved = ipython.display_pub
    ipython.display_pub = CapturingDisplayPublisher()
    try:
        yield ipython
    finally:
        ipython.display_pub = saved
