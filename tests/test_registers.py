"""Runs the ControlRegisters bench (tests/cocotb_registers.py) in Icarus."""

from pathlib import Path

from mirrorswap.rtl.registers import ControlRegisters
from mirrorswap.sim.runner import BUILD, run_bench, write_verilog

import cocotb_registers as bench


def test_registers():
    build = BUILD / "registers"
    src = write_verilog(ControlRegisters(agents=bench.AGENTS, config=bench.CONFIG),
                        "control_registers", build)
    run_bench([src], "control_registers", "cocotb_registers", build_dir=build,
              test_dir=Path(__file__).parent)
