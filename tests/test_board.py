"""Runs the example FPGA top's bench (tests/cocotb_board.py) in Icarus."""

from pathlib import Path

from mirrorswap.example.board import ExampleBoardTop
from mirrorswap.sim.runner import BUILD, run_bench, write_verilog


def test_example_board_top():
    build = BUILD / "board"
    src = write_verilog(ExampleBoardTop(), "example_board_top", build)
    run_bench([src], "example_board_top", "cocotb_board", build_dir=build,
              test_dir=Path(__file__).parent)
