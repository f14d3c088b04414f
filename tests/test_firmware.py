"""Runs the firmware-on-RTL bench (tests/cocotb_firmware.py) in Icarus, one run per test.

The test names are read from the bench itself, so a new ``@cocotb.test()`` there is run
here without being listed twice. All runs share the default ``mirrorswap_top.v``
(the ``top_verilog`` fixture); ``WAVES=1`` writes waveforms into each run's folder.
"""

import ast
from pathlib import Path

import pytest

from mirrorswap.sim.runner import bench_dir, run_bench

BENCH = Path(__file__).with_name("cocotb_firmware.py")


def _cocotb_tests(path):
    def is_cocotb_test(decorator):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return ast.unparse(target) == "cocotb.test"
    return [node.name for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.AsyncFunctionDef)
            and any(is_cocotb_test(d) for d in node.decorator_list)]


TESTS = _cocotb_tests(BENCH)


def test_the_bench_has_tests():
    assert "migrate_slot_1_to_the_spare" in TESTS and len(TESTS) >= 5, TESTS


@pytest.mark.parametrize("testcase", TESTS)
def test_firmware(testcase, top_verilog):
    run_bench([top_verilog], "mirrorswap_top", BENCH.stem,
              build_dir=bench_dir(f"firmware_{testcase}"), testcase=testcase,
              test_dir=BENCH.parent)
