"""``make bench``'s fast paths, as correctness tests (not timed measurements).

- the lost-update race: the patent's literal firmware copy loses a concurrent host write,
  the hardware SWEEP under the same interleaving does not (bench/cocotb_race.py);
- ``python -m mirrorswap.bench.run --quick`` produces results.md and the plot with sane numbers.
"""

import json

import mirrorswap.bench.run as bench_run
# the cocotb tests the simulator finds in this module
from mirrorswap.bench.cocotb_race import (  # noqa: F401
    literal_copy_loses_a_host_write, sweep_keeps_the_host_write)
from mirrorswap.sim.runner import run_tests, shared_top


def test_literal_copy_loses_a_write_and_sweep_does_not():
    assert run_tests(__file__, "mirrorswap_top", sources=[shared_top()],
                     env={"COCOTB_LOG_LEVEL": "WARNING"}) == 2


def test_quick_bench_writes_sane_results(tmp_path):
    assert bench_run.main(["--quick", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "results.md").read_text()
    png = tmp_path / "bench.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20000
    for heading in ("Sweep rate", "Host read latency", "Mirrored versus plain",
                    "literal firmware copy", "Simulator speed", "Memory model"):
        assert heading in md, heading
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    kinds = {r["kind"] for r in rows}
    assert kinds == {"sweep", "sweep_big", "read_latency", "write_latency", "copy_method",
                     "sim_speed"}
    sweeps = [r for r in rows if r["kind"] == "sweep"]
    assert {(r["latency"], r["load"]) for r in sweeps} == \
        {(lat, load) for lat in (1, 20, 60) for load in (0, 0.25, 0.5, 0.75)}
    for r in rows:
        if "lines_per_cycle" in r:
            assert 0 < r["lines_per_cycle"] <= 1, r
        if "p50" in r:
            assert 0 < r["p50"] <= r["p99"] <= r["max"] < 10000, r
        if "cycles_per_s" in r:
            assert r["cycles_per_s"] > 0, r
    # the sweep outruns firmware copying through the host port by far
    copy = {r["method"]: r["lines_per_cycle"] for r in rows if r["kind"] == "copy_method"}
    assert copy["hardware SWEEP"] > 5 * copy["literal, line by line"]
    # no load: the sweep goes faster than under 75 % host load
    at20 = {r["load"]: r["lines_per_cycle"] for r in sweeps if r["latency"] == 20}
    assert at20[0.0] > at20[0.75]
    # the host goes first: at half load it keeps most of what it gets without a sweep,
    # and the sweep still gets a fair part of the rest
    half = next(r for r in sweeps if r["latency"] == 20 and r["load"] == 0.5)
    assert half["host_read"] >= 0.8 * half["alone_read"], half
    assert half["host_write"] >= 0.8 * half["alone_write"], half
    assert half["lines_per_cycle"] >= 0.3, half
