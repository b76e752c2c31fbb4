"""`%load_ext claude_magic` stays cheap: no SDK, widgets or Markdown until first use."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
shell.run_line_magic("load_ext", "claude_magic")
heavy = [name for name in ("anthropic", "ipywidgets", "markdown", "nh3", "pygments.lexers", "httpx2")
         if name in sys.modules]
print(",".join(heavy))
"""


def test_load_ext_imports_no_heavy_module() -> None:
    baseline = subprocess.run([sys.executable, "-c", CODE.replace('shell.run_line_magic("load_ext", "claude_magic")', "")],
                              capture_output=True, text=True, check=True).stdout.strip()
    loaded = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == baseline
