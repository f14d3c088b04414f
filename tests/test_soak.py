"""A short soak (scenarios/soak.py) in the regression: seeds, the RAS faults of SPEC
section 7 one after another, and exact reproduction from a seed. The soak is a program;
its cocotb test, imported here, is this file's cocotb test."""

import pytest

from mirrorswap.scenarios import soak
from mirrorswap.scenarios.soak import soak as soak_test  # noqa: F401  (the cocotb test)
from mirrorswap.sim.runner import run_tests, shared_top


def _soak(seed, episodes, summary, faults=(), **top):
    env = {"MS_SUMMARY": summary}
    if faults:
        env["MS_FAULTS"] = ",".join(faults)
    run_tests(__file__, "mirrorswap_top", sources=[shared_top(**top)],
              params={"seed": seed, "episodes": episodes, **top,
                      **({"faults": "ras"} if faults else {})}, env=env)
    return summary.read_text()


@pytest.mark.parametrize("seed, top", [(2, {}), pytest.param(5, {}, marks=pytest.mark.slow),
                                       pytest.param(6, {"data_width": 512},
                                                    marks=pytest.mark.slow)],
                         ids=["2", "5", "512-bit-6"])
def test_short_soak(seed, top, tmp_path):
    text = _soak(seed, 10, tmp_path / "summary.txt", **top)
    assert ", 0 mismatches" in text and "10 episodes" in text


def test_short_soak_ras_faults(tmp_path):
    """Each RAS fault once: bad lines with and without poison copy, read failover, master
    failover with and without a write storm; each survived (memories equal to the
    reference after it), CE_COUNT/UE_COUNT checked where exact, no mismatch."""
    text = _soak(7, len(soak.RAS_FAULTS), tmp_path / "summary.txt", faults=soak.RAS_FAULTS)
    assert ", 0 mismatches" in text and "every line checked at the end: 0 mismatches" in text
    for kind in soak.RAS_FAULTS:
        assert f"{kind} 1/1" in text, kind
    assert "failovers: 2" in text
    assert f"counter checks: {len(soak.RAS_FAULTS)}" in text


def test_soak_reproduces_from_its_seed(tmp_path):
    first = _soak(3, 3, tmp_path / "a.txt")
    second = _soak(3, 3, tmp_path / "b.txt")
    assert first == second


def test_totals_add_up_over_seeds():
    """The long soak's totals: counts added, a coverage bin hit when any seed hit it."""
    def run(seed, transactions, hit):
        return {"seed": seed, "failure": None, "episodes": 2, "transactions": transactions,
                "mismatches": 0, "stats": {"migrations": 1}, "injected": {"read failover": 1},
                "survived": {"read failover": 1}, "host": {"read": transactions},
                "scoreboard": {"reads": transactions},
                "coverage": {"soak.ras.outcome": {"corrected read": hit, "master failed over": 0}}}
    total = soak.add_totals([run(1, 10, 0), run(2, 5, 3)])
    assert total["seeds"] == [1, 2] and total["transactions"] == 15
    assert total["stats"] == {"migrations": 2} and total["injected"] == {"read failover": 2}
    assert total["coverage"]["soak.ras.outcome"] == {"corrected read": 3, "master failed over": 0}
    text = soak.format_totals(total)
    assert "15 checked host transactions, 0 mismatches" in text
    assert "not hit: master failed over" in text
    assert soak._seeds("11-13,20") == [11, 12, 13, 20]
    assert soak._seeds_text([11, 12, 13, 20]) == "11-13,20"


@pytest.mark.parametrize("argv, message", [
    (["--minutes", "0"], "argument --minutes: must be positive, not 0.0"),
    (["--seed", "x"], "argument --seed: invalid int value: 'x'"),
    (["--episodes", "0"], "argument --episodes: must be at least 1, not 0"),
    (["--load", "2"], "argument --load: must be in (0, 1], not 2.0"),
    (["--seeds", "3,3"], "argument --seeds: invalid _seeds value: '3,3'"),
    (["--sim", "xsim"], "argument --sim: invalid choice: 'xsim'"),
])
def test_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        soak.main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err
