"""The built wheel is complete: every sub-package listed, the notebooks shipped, the quick start runs from it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[2]


def _listed_packages() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]


def test_every_sub_package_is_listed_in_pyproject() -> None:
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "claude_magic").rglob("__init__.py")}
    assert sorted(found | {"claude_magic.notebooks"}) == sorted(_listed_packages())


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_a_wheel_in_a_fresh_venv_runs_the_quickstart_notebook(tmp_path: Path) -> None:
    """`python -m build`, install the wheel into a new venv, `python -m claude_magic.quickstart --run` elsewhere."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANTHROPIC_", "CLAUDE_", "VIRTUAL_ENV", "PYTHON", "JUPYTER", "JPY_"))}
    env["HOME"] = str(tmp_path / "home")           # no profile, no Claude Code login: the local server answers
    (tmp_path / "home").mkdir()
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], tmp_path, env)
    wheel = next(dist.glob("claude_magic-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "-q", f"{wheel}[notebook]"], tmp_path, env)   # honours PIP_CONSTRAINT

    where = _run([python, "-c", "import claude_magic.quickstart as q; print(q.__file__); print(q.notebook_path())"],
                 tmp_path, env).split()
    assert all(str(venv) in path for path in where), where          # the wheel's files, not the checkout's
    # the prebuilt JupyterLab extension (notebook cells) is installed with the wheel: no Node.js needed
    done = subprocess.run([str(venv / "bin" / "jupyter"), "labextension", "list"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    listed = done.stdout + done.stderr                                # the listing goes to stderr
    assert "claude-magic-cells" in listed and "enabled" in listed and "OK" in listed, listed
    assert (venv / "share" / "jupyter" / "labextensions" / "claude-magic-cells" / "package.json").is_file()
    output = _run([python, "-m", "claude_magic.quickstart", "--run"], tmp_path, env)
    assert "using the local test server" in output
    assert ">>> %load_ext claude_magic" in output
    assert "p-value" in output                                        # the local server's answer to the first cell
