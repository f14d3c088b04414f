"""``make synth``'s arguments and report rows (the flow itself takes minutes per block and
runs only in ``make synth``)."""

import argparse

import pytest

from mirrorswap.flows import synth

_CELLS = {"LUT4": 10, "TRELLIS_FF": 5, "DP16KD": 1, "CCU2C": 2}


@pytest.mark.parametrize("text, seeds", [("1", [1]), ("1,2,3,4", [1, 2, 3, 4]), ("7,3", [7, 3])])
def test_seed_list(text, seeds):
    assert synth._seed_list(text) == seeds


@pytest.mark.parametrize("text", ["", "1,,2", "a", "0", "-1", "1,1", "1.5"])
def test_seed_list_refuses(text):
    with pytest.raises(argparse.ArgumentTypeError) as info:
        synth._seed_list(text)
    assert "seeds" in str(info.value)


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "1,1"], "distinct positive integers"),
    (["--seed", "0"], "positive integer"),
    (["--seed", "2", "--seeds", "1,2"], "not allowed with"),
    (["--only", "nothing"], "no block 'nothing'"),
])
def test_bad_arguments_stop_before_any_run(argv, message, capsys, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("a block was synthesized despite bad arguments")
    monkeypatch.setattr(synth, "run_block", must_not_run)
    with pytest.raises(SystemExit) as info:
        synth.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_row_one_seed():
    row = synth._row("top", {"cells": _CELLS, "seeds": {"1": 132.35}, "placer": "static"})
    assert row == "| top | 10 | 5 | 1 | 2 | 132.3 | static 1 |"


def test_row_several_seeds_gives_the_lowest():
    result = {"cells": _CELLS, "seeds": {"1": 132.35, "2": 135.24, "4": 131.48},
              "placer": "static"}
    row = synth._row("top", result)
    assert "| 131.5 |" in row
    assert "lowest of seeds 1: 132.3, 2: 135.2, 4: 131.5" in row
    assert synth.worst_fmax(result) == 131.48


def test_row_combinational_and_older_results():
    assert synth._row("dec", {"cells": _CELLS, "seeds": {}, "placer": "static"}).endswith(
        "| comb. |  |")
    # a result written before seeds were recorded: one Fmax, heap placer, seed 1
    old = {"cells": _CELLS, "fmax": 84.6}
    assert synth._row("board", old).endswith("| 84.6 | heap 1 |")
    assert synth.worst_fmax(old) == 84.6
    assert synth.worst_fmax({"cells": _CELLS, "fmax": None, "seed": 1}) is None
