"""Runs the memory-fault bench (tests/cocotb_faults.py) in Icarus."""

from pathlib import Path

from sim.runner import BUILD, generate_top, run_bench


def test_memory_faults():
    build = BUILD / "faults"
    src = generate_top(build)
    run_bench([src], "mirrorswap_top", "cocotb_faults", build_dir=build,
              test_dir=Path(__file__).parent)
