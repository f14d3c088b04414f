"""Runs the mirrorswap_top bench (tests/cocotb_top.py) in Icarus."""

from pathlib import Path

import pytest

from mirrorswap.sim.runner import BUILD, run_bench, shared_top


def _run(name, top_kwargs, testcase=None, env=None):
    build = BUILD / name
    src = shared_top(**top_kwargs)
    run_bench([src], "mirrorswap_top", "cocotb_top", build_dir=build, testcase=testcase,
              env=env, test_dir=Path(__file__).parent)


@pytest.mark.parametrize("testcase", ["no_output_x_after_reset", "refused_commands_change_nothing",
                                      "concurrent_reads_and_writes_across_agents",
                                      "every_command_in_every_mode",
                                      "unowned_and_bad_bursts"])
def test_top(testcase):
    _run(f"top_{testcase}", {}, testcase)


@pytest.mark.parametrize("seed", [1, 2])
def test_sweep_race(seed):
    _run(f"race_{seed}", {}, "sweep_race_with_host_writes", {"MS_SEED": seed})


@pytest.mark.parametrize("seed", [1, 2])
def test_sweep_front_race(seed):
    """Host writes just ahead of the sweep, where its registered claim check matters."""
    _run(f"race_front_{seed}", {}, "sweep_race_with_host_writes",
         {"MS_SEED": seed, "RACE_AT": "front"})


def test_sweep_race_detected_without_hazard_check():
    """The race test is not vacuous: the broken variant loses an update and is caught."""
    _run("race_broken", {"hazard_check": False}, "sweep_race_with_host_writes",
         {"EXPECT_RACE": "1", "MS_SEED": 1})
