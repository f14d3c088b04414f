"""A short soak (scenarios/soak.py) in the regression: seeds, and exact reproduction from a
seed. The soak is a program; its cocotb test, imported here, is this file's cocotb test."""

import pytest

from mirrorswap.scenarios import soak
from mirrorswap.scenarios.soak import soak as soak_test  # noqa: F401  (the cocotb test)
from mirrorswap.sim.runner import run_tests, shared_top


def _soak(seed, episodes, summary, **top):
    run_tests(__file__, "mirrorswap_top", sources=[shared_top(**top)],
              params={"seed": seed, "episodes": episodes, **top}, env={"MS_SUMMARY": summary})
    return summary.read_text()


@pytest.mark.parametrize("seed, top", [(2, {}), (5, {}),
                                       pytest.param(6, {"data_width": 512},
                                                    marks=pytest.mark.slow)],
                         ids=["2", "5", "512-bit-6"])
def test_short_soak(seed, top, tmp_path):
    text = _soak(seed, 10, tmp_path / "summary.txt", **top)
    assert ", 0 mismatches" in text and "10 episodes" in text


def test_soak_reproduces_from_its_seed(tmp_path):
    first = _soak(3, 3, tmp_path / "a.txt")
    second = _soak(3, 3, tmp_path / "b.txt")
    assert first == second


@pytest.mark.parametrize("argv, message", [
    (["--minutes", "0"], "argument --minutes: must be positive, not 0.0"),
    (["--seed", "x"], "argument --seed: invalid int value: 'x'"),
])
def test_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        soak.main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err
