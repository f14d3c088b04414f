"""Runs the per-component cocotb benches in Icarus, each on its own generated Verilog."""

import os
from pathlib import Path

import pytest
from cocotb_tools.runner import get_runner, get_results

from rtl.gen import to_verilog
from rtl.home_agent import HomeAgent
from rtl.slot import SlotController
from rtl.sweep import SweepEngine

ROOT = Path(__file__).resolve().parent.parent


def run_component(component, toplevel, module, name, env=None):
    build = ROOT / "build" / "sim" / name
    build.mkdir(parents=True, exist_ok=True)
    src = build / f"{toplevel}.v"
    src.write_text(to_verilog(component, toplevel))
    waves = os.environ.get("WAVES") == "1"
    runner = get_runner("icarus")
    runner.build(verilog_sources=[src], hdl_toplevel=toplevel, build_dir=build,
                 timescale=("1ns", "1ps"), waves=waves, always=True)
    results = runner.test(hdl_toplevel=toplevel, test_module=module, build_dir=build,
                          test_dir=Path(__file__).parent, waves=waves, extra_env=env or {},
                          results_xml=build / "results.xml")
    tests, failed = get_results(results)
    assert tests > 0 and failed == 0, f"{failed} of {tests} cocotb tests failed"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_home_agent(seed):
    run_component(HomeAgent(), "home_agent", "cocotb_home_agent", f"home_agent_{seed}",
                  {"SEED": str(seed)})


@pytest.mark.parametrize("seed", [1, 2])
def test_sweep_engine(seed):
    run_component(SweepEngine(agent=2), "sweep_engine", "cocotb_sweep", f"sweep_{seed}",
                  {"SEED": str(seed)})


def test_slot_controller():
    run_component(SlotController(), "slot_controller", "cocotb_slot", "slot_controller")
