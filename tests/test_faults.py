"""Runs the memory-fault bench (tests/cocotb_faults.py) in Icarus."""

from pathlib import Path

from mirrorswap.sim.runner import BUILD, run_bench, shared_top


def test_memory_faults():
    build = BUILD / "faults"
    src = shared_top()
    run_bench([src], "mirrorswap_top", "cocotb_faults", build_dir=build,
              test_dir=Path(__file__).parent)
