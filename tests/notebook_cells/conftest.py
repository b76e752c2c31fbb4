"""The browser fixtures (JupyterLab with claude-magic's extension, Chromium) for the notebook-cell tests."""

from ..browser.conftest import lab, page  # noqa: F401 - fixtures
