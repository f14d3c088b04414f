"""Runs the mirrorswap_top bench (tests/cocotb_top.py) in Icarus."""

import os
from pathlib import Path

import pytest
from cocotb_tools.runner import get_runner, get_results

from rtl.gen import to_verilog
from rtl.top import MirrorswapTop

ROOT = Path(__file__).resolve().parent.parent


def _run(name, top_kwargs, testcase=None, env=None):
    build = ROOT / "build" / "sim" / name
    build.mkdir(parents=True, exist_ok=True)
    src = build / "mirrorswap_top.v"
    src.write_text(to_verilog(MirrorswapTop(**top_kwargs), "mirrorswap_top"))
    waves = os.environ.get("WAVES") == "1"
    runner = get_runner("icarus")
    runner.build(verilog_sources=[src], hdl_toplevel="mirrorswap_top", build_dir=build,
                 timescale=("1ns", "1ps"), waves=waves, always=True)
    results = runner.test(hdl_toplevel="mirrorswap_top", test_module="cocotb_top",
                          testcase=testcase, build_dir=build, test_dir=Path(__file__).parent,
                          waves=waves, extra_env=env or {}, results_xml=build / "results.xml")
    tests, failed = get_results(results)
    assert tests > 0 and failed == 0, f"{failed} of {tests} cocotb tests failed"


@pytest.mark.parametrize("testcase", ["no_output_x_after_reset", "refused_commands_change_nothing",
                                      "concurrent_reads_and_writes_across_agents",
                                      "unowned_and_bad_bursts"])
def test_top(testcase):
    _run(f"top_{testcase}", {}, testcase)


@pytest.mark.parametrize("seed", [1, 2])
def test_sweep_race(seed):
    _run(f"race_{seed}", {}, "sweep_race_with_host_writes", {"SEED": str(seed)})


def test_sweep_race_detected_without_hazard_check():
    """The race test is not vacuous: the broken variant loses an update and is caught."""
    _run("race_broken", {"hazard_check": False}, "sweep_race_with_host_writes",
         {"EXPECT_RACE": "1", "SEED": "1"})
