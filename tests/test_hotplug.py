"""Runs the hot-plug bench (tests/cocotb_hotplug.py) in Icarus, one build per test."""

from pathlib import Path

import pytest

from mirrorswap.sim.runner import BUILD, run_bench, shared_top

TESTS = ["hot_remove_moves_the_module_out", "second_press_in_the_abort_window_cancels",
         "presses_during_a_running_flow_are_ignored", "no_spare_is_refused_and_shown",
         "hot_add_then_remove_the_spare", "failed_migration_keeps_the_module",
         "two_presses_two_migrations_at_once", "spare_losing_power_aborts_cleanly",
         "active_module_pulled_answers_errors"]


@pytest.mark.parametrize("testcase", TESTS)
def test_hotplug(testcase):
    build = BUILD / f"hotplug_{testcase}"
    src = shared_top()
    run_bench([src], "mirrorswap_top", "cocotb_hotplug", build_dir=build, testcase=testcase,
              test_dir=Path(__file__).parent)
