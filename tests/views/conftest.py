"""Fixtures for the view tests: a real IPython shell whose display outputs are captured."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher


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
