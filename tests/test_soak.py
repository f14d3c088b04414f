"""A short soak (scenarios/soak.py) in the regression: seeds, and exact reproduction from a seed."""

import pytest

from mirrorswap.scenarios import soak
from mirrorswap.sim.runner import BUILD, run_bench, shared_top


def _soak(name, seed, episodes, summary):
    build = BUILD / name
    src = shared_top()
    run_bench([src], "mirrorswap_top", "mirrorswap.scenarios.soak", build_dir=build,
              env={"MS_SEED": seed, "MS_EPISODES": episodes, "MS_SUMMARY": summary})
    return summary.read_text()


@pytest.mark.parametrize("seed", [2, 5])
def test_short_soak(seed, tmp_path):
    text = _soak(f"soak_{seed}", seed, 10, tmp_path / "summary.txt")
    assert ", 0 mismatches" in text and "10 episodes" in text


def test_soak_reproduces_from_its_seed(tmp_path):
    first = _soak("soak_repro_a", 3, 3, tmp_path / "a.txt")
    second = _soak("soak_repro_b", 3, 3, tmp_path / "b.txt")
    assert first == second


@pytest.mark.parametrize("argv, message", [
    (["--minutes", "0"], "argument --minutes: must be positive, not 0.0"),
    (["--seed", "x"], "argument --seed: invalid int value: 'x'"),
])
def test_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        soak.main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err
