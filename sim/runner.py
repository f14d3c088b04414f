"""Build and run cocotb benches in Icarus on generated Verilog."""

import os
import tempfile
from pathlib import Path

from cocotb_tools.runner import get_results, get_runner

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "sim"

__all__ = ["ROOT", "BUILD", "write_verilog", "generate_top", "run_bench"]


def write_verilog(component, name, build_dir):
    """Write ``component`` as ``<build_dir>/<name>.v``, only when its text changed.

    Written to a temporary file and renamed, so that parallel pytest workers never see
    half a file.
    """
    from rtl.gen import to_verilog
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    path = build_dir / f"{name}.v"
    text = to_verilog(component, name)
    if not path.exists() or path.read_text() != text:
        with tempfile.NamedTemporaryFile("w", dir=build_dir, delete=False, suffix=".tmp") as f:
            f.write(text)
        os.replace(f.name, path)
    return path


def generate_top(build_dir, **params):
    """The ``mirrorswap_top`` Verilog for ``params`` (MirrorswapTop keyword arguments)."""
    from rtl.top import MirrorswapTop
    return write_verilog(MirrorswapTop(**params), "mirrorswap_top", build_dir)


def run_bench(sources, toplevel, test_module, *, build_dir, testcase=None, env=None,
              waves=None, test_dir=None, quiet=False):
    """Build ``sources`` and run the cocotb ``test_module`` on ``toplevel`` in Icarus.

    ``waves`` (or ``WAVES=1`` in the environment) writes an FST file into ``build_dir``.
    Raises AssertionError unless at least one cocotb test ran and none failed.
    """
    if waves is None:
        waves = os.environ.get("WAVES") == "1"
    build_dir = Path(build_dir)
    runner = get_runner("icarus")
    runner.build(verilog_sources=[str(s) for s in sources], hdl_toplevel=toplevel,
                 build_dir=build_dir, timescale=("1ns", "1ps"), waves=waves, always=True,
                 log_file=build_dir / "build.log" if quiet else None)
    # cocotbext-axi 0.1.28 on cocotb 2.1 warns about deprecated fields on every access
    extra_env = {"PYTHONWARNINGS": "ignore::DeprecationWarning"}
    extra_env.update({k: str(v) for k, v in (env or {}).items()})
    results = runner.test(hdl_toplevel=toplevel, test_module=test_module, testcase=testcase,
                          build_dir=build_dir, test_dir=test_dir or build_dir, waves=waves,
                          extra_env=extra_env, results_xml=build_dir / "results.xml")
    if waves:
        for fst in sorted(build_dir.glob("*.fst")):
            print(f"waveform: {fst}")
    tests, failed = get_results(results)
    assert tests > 0, f"no cocotb test ran in {test_module}"
    assert failed == 0, f"{failed} of {tests} cocotb tests failed in {test_module}"
    return tests
