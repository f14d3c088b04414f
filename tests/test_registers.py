"""Runs the ControlRegisters bench (tests/cocotb_registers.py) in Icarus."""

import os
from pathlib import Path

from cocotb_tools.runner import get_runner, get_results

from rtl.gen import to_verilog
from rtl.registers import ControlRegisters

import cocotb_registers as bench

ROOT = Path(__file__).resolve().parent.parent


def test_registers():
    build = ROOT / "build" / "sim" / "registers"
    build.mkdir(parents=True, exist_ok=True)
    src = build / "control_registers.v"
    src.write_text(to_verilog(ControlRegisters(agents=bench.AGENTS, config=bench.CONFIG),
                              "control_registers"))
    waves = os.environ.get("WAVES") == "1"
    runner = get_runner("icarus")
    runner.build(verilog_sources=[src], hdl_toplevel="control_registers", build_dir=build,
                 timescale=("1ns", "1ps"), waves=waves, always=True)
    results = runner.test(hdl_toplevel="control_registers", test_module="cocotb_registers",
                          build_dir=build, test_dir=Path(__file__).parent, waves=waves,
                          results_xml=build / "results.xml")
    tests, failed = get_results(results)
    assert tests > 0 and failed == 0, f"{failed} of {tests} cocotb tests failed"
