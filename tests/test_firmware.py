"""Runs the firmware-on-RTL bench (tests/cocotb_firmware.py) in Icarus."""

from pathlib import Path

import pytest

from sim.runner import BUILD, generate_top, run_bench

TESTS = ["boot_builds_the_memory_map", "refused_commands_raise_their_exception",
         "chained_migrations_under_traffic", "two_pairs_migrate_at_once",
         "migrate_without_fitting_spare_changes_nothing"]


@pytest.mark.parametrize("testcase", TESTS)
def test_firmware(testcase):
    build = BUILD / f"firmware_{testcase}"
    src = generate_top(build)
    run_bench([src], "mirrorswap_top", "cocotb_firmware", build_dir=build, testcase=testcase,
              test_dir=Path(__file__).parent)
