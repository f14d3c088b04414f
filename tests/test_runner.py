"""sim/runner.py and the command line of scenarios/run.py, without running a simulation."""

import os

import pytest

from mirrorswap.scenarios import run
from mirrorswap.sim import runner


# ---- mirrorswap.scenarios.run: argument validation ----------------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["--slot", "3"], "argument --slot: invalid choice: 3"),
    (["--slot", "-1"], "argument --slot: invalid choice: -1"),
    (["--load", "-0.5"], "argument --load: must be between 0 and 1, not -0.5"),
    (["--load", "2"], "argument --load: must be between 0 and 1, not 2"),
    (["--load", "half"], "argument --load: must be a number between 0 and 1, not 'half'"),
    (["--lines", "511"], "argument --lines: must be a power of two from 512 to 32768, not 511"),
    (["--lines", "65536"], "must be a power of two from 512 to 32768, not 65536"),
    (["--lines", "0"], "must be a power of two from 512 to 32768, not 0"),
    (["--lines", "4k"], "argument --lines: must be a power of two from 512 to 32768, not 4k"),
    (["--seed", "1.5"], "argument --seed: invalid int value: '1.5'"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        run.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("usage: make sim")


@pytest.mark.parametrize("argv, key, value", [
    (["--lines", "512"], "lines", 512),
    (["--lines", "0x8000"], "lines", 32768),
    (["--load", "1"], "load", 1.0),
    (["--slot", "0"], "slot", 0),
    (["--backpressure", "0"], "backpressure", 0.0),
    ([], "seed", 1),
])
def test_edge_values_are_accepted(argv, key, value):
    assert getattr(run.parser().parse_args(argv), key) == value


# ---- sim.runner: build folders, generation, results ----------------------------------------
def test_bench_dir_one_folder_per_parameter_set():
    assert runner.bench_dir("top") == runner.BUILD / "top"
    assert runner.bench_dir("top", agents=8, id_width=6) == runner.BUILD / "top_agents-8_id_width-6"
    with pytest.raises(ValueError, match="plain folder name, not '../x'"):
        runner.bench_dir("../x")


class _Counter:
    """A component factory that counts elaborations."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        from mirrorswap.rtl.decoder import AddressDecoder
        self.calls += 1
        return AddressDecoder(agents=2, line_addr_width=17)


def test_generate_component_only_when_out_of_date(tmp_path):
    factory = _Counter()
    path = runner.generate_component(factory, "dec", tmp_path, key="a")
    assert "module dec(" in path.read_text() and factory.calls == 1
    assert not list(tmp_path.glob("*.tmp")), "temporary file left behind"
    runner.generate_component(factory, "dec", tmp_path, key="a")
    assert factory.calls == 1                       # up to date: not elaborated again
    runner.generate_component(factory, "dec", tmp_path, key="b")
    assert factory.calls == 2                       # other parameters
    old = runner._rtl_mtime() - 3600                 # older than the newest RTL source,
    os.utime(path, (old, old))                      # however long ago it was checked out
    runner.generate_component(factory, "dec", tmp_path, key="b")
    assert factory.calls == 3 and path.stat().st_mtime > old


def _results(path, cases):
    body = "".join(
        f'<testcase classname="m" name="{name}" time="0.1">'
        + (f'<failure message="{msg}" />' if msg else "") + "</testcase>"
        for name, msg in cases)
    failures = sum(1 for _, msg in cases if msg)
    path.write_text("<?xml version='1.0' encoding='utf-8'?><testsuites name=\"cocotb tests\">"
                    f'<testsuite name="m" errors="0" failures="{failures}" skipped="0" '
                    f'tests="{len(cases)}">{body}</testsuite></testsuites>')
    return path


def test_failed_tests_names_each_failure(tmp_path):
    xml = _results(tmp_path / "results.xml",
                   [("boots", None), ("migrates", "AssertionError: byte 0x10 expected 0x01&#10;"
                                                  "traceback")])
    assert runner.failed_tests(xml) == ["migrates: AssertionError: byte 0x10 expected 0x01"]
    assert runner.failed_tests(_results(tmp_path / "ok.xml", [("boots", None)])) == []


def test_bench_failed_is_an_assertion():
    # pytest then reports a failing bench as a failed test with the message
    assert issubclass(runner.BenchFailed, AssertionError)


def test_default_top_is_generated_once_and_shared(top_verilog):
    text = top_verilog.read_text()
    assert "\nmodule mirrorswap_top(" in text
    for port in ("s_axi_awaddr", "s_axil_araddr", "m_axi_mem3_rdata", "slot3_capacity_log2",
                 "slot0_power_good", "irq"):
        assert port in text, port
    before = top_verilog.stat().st_mtime_ns
    assert runner.generate_top(top_verilog.parent) == top_verilog
    assert top_verilog.stat().st_mtime_ns == before        # up to date: left alone


def test_run_passes_the_options_to_the_scenario_and_reports_failure(monkeypatch, tmp_path,
                                                                    capsys):
    seen = {}

    def fake_run_bench(sources, toplevel, module, **kwargs):
        seen.update(kwargs, sources=sources, toplevel=toplevel, module=module)
        raise runner.BenchFailed("1 of 1 cocotb tests failed in mirrorswap.scenarios.scenario: "
                                 "migrate_under_traffic: 3 mismatches")

    monkeypatch.setattr(run, "shared_top", lambda: tmp_path / "mirrorswap_top.v")
    monkeypatch.setattr(run, "run_bench", fake_run_bench)
    status = run.main(["--seed", "7", "--slot", "2", "--load", "0.25", "--lines", "1024",
                       "--waves"])
    assert status == 1
    assert "make sim: FAILED: 1 of 1 cocotb tests failed" in capsys.readouterr().err
    assert (seen["module"], seen["toplevel"], seen["testcase"]) == \
        ("mirrorswap.scenarios.scenario", "mirrorswap_top", "migrate_under_traffic")
    assert seen["waves"] is True and seen["build_dir"] == runner.bench_dir("make_sim")
    env = seen["env"]
    assert (env["MS_SEED"], env["MS_SLOT"], env["MS_LOAD"], env["MS_LINES"]) == (7, 2, 0.25, 1024)
