"""``make sim``: build the top level and run the main scenario in Icarus.

python -m sim.run [--seed N] [--slot N] [--load X] [--lines N] [--backpressure X] [--waves]
"""

import argparse
import os
import sys

from sim.runner import BUILD, generate_top, run_bench


def _fraction(text):
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def _load(text):
    value = _fraction(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be above 0 (some host traffic is needed)")
    return value


def _lines(text):
    value = int(text, 0)
    if value < 512 or value & (value - 1) or value > 1 << 15:
        raise argparse.ArgumentTypeError(
            f"must be a power of two from 512 to 32768, not {text}")
    return value


def parser():
    p = argparse.ArgumentParser(prog="make sim", description=(
        "Boot four memory slots, run random host traffic, migrate one module to the spare "
        "while the traffic runs, check every address, power the old module off, check "
        "again."))
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--slot", type=int, choices=range(3), default=1,
                   help="module to migrate, 0-2 (slot 3 is the spare; default 1)")
    p.add_argument("--load", type=_load, default=0.5,
                   help="host load, above 0 up to 1 (default 0.5)")
    p.add_argument("--lines", type=_lines, default=4096,
                   help="lines per module, a power of two (default 4096; the spare has twice)")
    p.add_argument("--backpressure", type=_fraction, default=0.1,
                   help="pause probability on every memory channel (default 0.1)")
    p.add_argument("--scenario", choices=("migrate", "swap"), default="migrate",
                   help="migrate: one migration by firmware call (default); swap: the "
                        "hot-plug walk-through by buttons, with a timeline and its picture")
    p.add_argument("--abort-window", type=int, default=2000,
                   help="hot-remove abort window in cycles, for --scenario swap")
    p.add_argument("--waves", action="store_true", help="write an FST waveform")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    if args.abort_window < 0:
        parser().error(f"argument --abort-window: must be non-negative, not {args.abort_window}")
    build = BUILD / ("make_sim" if args.scenario == "migrate" else "make_sim_swap")
    src = generate_top(build)
    testcase = {"migrate": "migrate_under_traffic", "swap": "hot_swap_walkthrough"}[args.scenario]
    os.environ.setdefault("COCOTB_LOG_LEVEL", "WARNING")
    try:
        run_bench([src], "mirrorswap_top", "sim.scenario", build_dir=build, waves=args.waves,
                  testcase=testcase,
                  env={"MS_SEED": args.seed, "MS_SLOT": args.slot, "MS_LOAD": args.load,
                       "MS_LINES": args.lines, "MS_BACKPRESSURE": args.backpressure,
                       "MS_ABORT_WINDOW": args.abort_window,
                       "MS_PNG": build / "timeline.png",
                       "COCOTB_LOG_LEVEL": os.environ["COCOTB_LOG_LEVEL"]},
                  quiet=True)
    except AssertionError as e:
        print(f"make sim: FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
