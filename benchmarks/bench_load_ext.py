"""`%load_ext claude_magic`: what loading the extension adds to a fresh IPython, against `python -c pass`.

Fresh interpreters, interleaved round by round so load swings hit every side alike:
- `python -c pass` (the interpreter's own start, the baseline printed for scale);
- `python -c` that starts an IPython shell (`start_ipython`);
- the same plus `%load_ext claude_magic`.
The extension's cost is the third minus the second (wall time of whole processes), and, measured inside the
third process, the `load_ext` call alone (`perf_counter` around it: less noise). Min and median over N runs.

Bytecode is cached (in a temporary `PYTHONPYCACHEPREFIX`, warmed by one run first) as in an installed
package, whatever `PYTHONDONTWRITEBYTECODE` says in this shell (`--no-bytecode-cache`: every start compiles
claude-magic's modules, as in a checkout run with PYTHONDONTWRITEBYTECODE=1). Target: <= 20 ms.

`python benchmarks/bench_load_ext.py [--runs 20] [--no-bytecode-cache]`
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = 0.020

SHELL = "from IPython.testing.globalipapp import start_ipython\nshell = start_ipython()\n"
LOAD = ("import time\nstarted, cpu = time.perf_counter(), time.process_time()\n"
        "shell.run_line_magic('load_ext', 'claude_magic')\n"
        "print(time.perf_counter() - started, time.process_time() - cpu)\n")
SIDES = {"python -c pass": "pass", "IPython shell": SHELL, "IPython shell + %load_ext": SHELL + LOAD}


def run_once(code: str, env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of one fresh interpreter running `code`, and what it printed."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout


def describe(values: list[float]) -> str:
    return f"min {min(values) * 1000:7.1f} ms   median {statistics.median(values) * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="compile every module on each start (PYTHONDONTWRITEBYTECODE=1, as some shells set)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        if arguments.no_bytecode_cache:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        for code in SIDES.values():          # compile and cache the bytecode once
            run_once(code, env)
        walls: dict[str, list[float]] = {name: [] for name in SIDES}
        inside: list[float] = []
        inside_cpu: list[float] = []
        for _ in range(arguments.runs):
            for name, code in SIDES.items():
                wall, printed = run_once(code, env)
                walls[name].append(wall)
                if code.endswith(LOAD):
                    wall_inside, cpu_inside = printed.split()[-2:]
                    inside.append(float(wall_inside))
                    inside_cpu.append(float(cpu_inside))
    for name, values in walls.items():
        print(f"{name:28s} {describe(values)}")
    added = [loaded - shell for loaded, shell in zip(walls["IPython shell + %load_ext"], walls["IPython shell"], strict=True)]
    print(f"{'claude-magic (wall diff)':28s} {describe(added)}   (per-round differences)")
    print(f"{'claude-magic (min - min)':28s} "
          f"{(min(walls['IPython shell + %load_ext']) - min(walls['IPython shell'])) * 1000:7.1f} ms")
    print(f"{'load_ext call (in process)':28s} {describe(inside)}   target <= {TARGET * 1000:.0f} ms")
    print(f"{'load_ext call, CPU time':28s} {describe(inside_cpu)}")


if __name__ == "__main__":
    main()
