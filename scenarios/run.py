"""``make sim``: build the top level and run a scenario in Icarus: the main one
(scenarios/scenario.py), the RAS ones (scenarios/ras.py) or the SoC (scenarios/cpu.py).

python -m mirrorswap.scenarios.run [--seed N] [--slot N] [--load X] [--lines N] [--backpressure X]
                  [--scenario migrate|swap|failing|mirror|cpu] [--abort-window N]
                  [--threshold N] [--data-width W] [--ops N] [--waves]

The simulator's output streams to the terminal as it runs (the sweep's progress bar and
the summary are printed by the scenario). Exit status: 0 when the scenario passed, 1 when
it failed, 2 for bad arguments.
"""

import argparse
import logging
import os
import sys

from mirrorswap.geometry import DATA_WIDTHS
from mirrorswap.sim.runner import BenchFailed, bench_dir, run_bench, shared_top

__all__ = ["parser", "main"]

MIN_LINES, MAX_LINES = 512, 1 << 15


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, not {text!r}")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def _load(text):
    value = _fraction(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be above 0 (some host traffic is needed)")
    return value


def _lines(text):
    # 512 lines (4 KiB) is the range granularity; 2^15 keeps the spare (twice as large)
    # within the default 2^16-line slots
    try:
        value = int(text, 0)
    except ValueError:
        value = None
    if value is None or value < MIN_LINES or value & (value - 1) or value > MAX_LINES:
        raise argparse.ArgumentTypeError(
            f"must be a power of two from {MIN_LINES} to {MAX_LINES}, not {text}")
    return value


def _threshold(text):
    try:
        value = int(text, 0)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


#: --scenario: (build folder under build/sim, cocotb module, cocotb test); cpu runs apart
SCENARIOS = {
    "migrate": ("make_sim", "mirrorswap.scenarios.scenario", "migrate_under_traffic"),
    "swap": ("make_sim_swap", "mirrorswap.scenarios.scenario", "hot_swap_walkthrough"),
    "failing": ("make_sim_failing", "mirrorswap.scenarios.ras", "failing_module_replaced"),
    "mirror": ("make_sim_mirror", "mirrorswap.scenarios.ras", "mirror_failover"),
    "cpu": None,
}


def parser():
    p = argparse.ArgumentParser(prog="make sim", description=(
        "Boot four memory slots, run random host traffic, migrate one module to the spare "
        "while the traffic runs, check every address, power the old module off, check "
        "again."))
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--slot", type=int, choices=range(3), default=1,
                   help="module to migrate (or, for --scenario failing, the one that fails), "
                        "0-2 (the BIOS makes the largest module, slot 3, the spare, so it "
                        "owns nothing to migrate; default 1)")
    p.add_argument("--load", type=_load, default=0.5,
                   help="host load, above 0 up to 1 (default 0.5)")
    p.add_argument("--lines", type=_lines, default=4096,
                   help="lines per module, a power of two (default 4096; the spare has twice)")
    p.add_argument("--backpressure", type=_fraction, default=0.1,
                   help="pause probability on every AXI channel (default 0.1)")
    p.add_argument("--scenario", choices=tuple(SCENARIOS), default="migrate",
                   help="migrate: one migration by firmware call (default); swap: the "
                        "hot-plug walk-through by buttons, with a timeline and its picture; "
                        "failing: a module develops errors and the BIOS replaces it on its "
                        "own; mirror: mirror mode, the master dies, the slave takes over "
                        "(both with a timeline picture, docs/ras.md); "
                        "cpu: the PicoRV32 SoC runs the C BIOS and workload (scenarios/cpu.py)")
    p.add_argument("--abort-window", type=int, default=2000,
                   help="hot-remove abort window in cycles, for --scenario swap and cpu")
    p.add_argument("--threshold", type=_threshold, default=16,
                   help="errors (corrected + uncorrected) at which the BIOS replaces a "
                        "module, for --scenario failing (default 16)")
    p.add_argument("--ops", type=int, default=None,
                   help="workload operations, for --scenario cpu (default: the C build's)")
    p.add_argument("--data-width", type=int, choices=DATA_WIDTHS, default=64,
                   help="data bits of the host and memory ports: one line is one beat "
                        "(default 64; 512: 64-byte lines)")
    p.add_argument("--waves", action="store_true",
                   help="write an FST waveform (its path is printed at the end)")
    return p


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if args.abort_window < 0:
        p.error(f"argument --abort-window: must be non-negative, not {args.abort_window}")
    # show the waveform's path (logged by sim.runner at INFO) but not the INFO lines of
    # cocotb's runner (its commands), which sets its own logger to INFO
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("make sim: %(message)s"))
    handler.addFilter(lambda r: r.levelno >= logging.WARNING or r.name.startswith(("mirrorswap.sim.", "mirrorswap.scenarios.")))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    if args.scenario == "cpu":
        from .cpu import main_cpu
        return main_cpu(ops=args.ops, abort_window=args.abort_window,
                        data_width=args.data_width, waves=args.waves)
    params = {} if args.data_width == 64 else {"data_width": args.data_width}
    folder, module, testcase = SCENARIOS[args.scenario]
    build = bench_dir(folder, **params)
    src = shared_top(**params)
    # the scenario prints its own report; cocotb's and the GPI's INFO lines would drown it
    levels = {"COCOTB_LOG_LEVEL": os.environ.get("COCOTB_LOG_LEVEL", "WARNING"),
              "GPI_LOG_LEVEL": os.environ.get("GPI_LOG_LEVEL", "ERROR")}
    try:
        run_bench([src], "mirrorswap_top", module, build_dir=build, waves=args.waves,
                  testcase=testcase,
                  env={"MS_SEED": args.seed, "MS_SLOT": args.slot, "MS_LOAD": args.load,
                       "MS_LINES": args.lines, "MS_BACKPRESSURE": args.backpressure,
                       "MS_ABORT_WINDOW": args.abort_window, "MS_THRESHOLD": args.threshold,
                       "MS_PNG": build / "timeline.png", **levels},
                  quiet=True)
    except BenchFailed as e:
        print(f"make sim: FAILED: {e}", file=sys.stderr)
        return 1
    fst = build / "mirrorswap_top.fst"
    if args.waves and args.scenario == "migrate" and fst.is_file():
        from .waves import migration_picture
        png = migration_picture(fst, build / "migration.png", slot=args.slot, spare=3)
        print(f"make sim: waveform {fst}, rendered as {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
