"""``make bench``'s fast paths, as correctness tests (not timed measurements).

- the lost-update race: the patent's literal firmware copy loses a concurrent host write,
  the hardware SWEEP under the same interleaving does not (bench/cocotb_race.py);
- the side-by-side comparison at tiny sizes: the pass-through against itself gives a ratio
  of exactly 1 everywhere (two separate simulations of the same traffic), and the design
  against the pass-through gives every row of the report, the plot and sane numbers.
"""

import json

import pytest

import mirrorswap.bench.run as bench_run
# the cocotb tests the simulator finds in this module
from mirrorswap.bench.cocotb_race import (  # noqa: F401
    literal_copy_loses_a_host_write, sweep_keeps_the_host_write)
from mirrorswap.sim.runner import run_tests, shared_top

PNG = b"\x89PNG\r\n\x1a\n"


def test_literal_copy_loses_a_write_and_sweep_does_not():
    assert run_tests(__file__, "mirrorswap_top", sources=[shared_top()],
                     env={"COCOTB_LOG_LEVEL": "WARNING"}) == 2


def results(out):
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return rows, bench_run.comparison(rows), (out / "results.md").read_text()


def test_passthrough_against_itself_is_one(tmp_path):
    assert bench_run.main(["--tiny", "--design", "passthrough", "--out", str(tmp_path)]) == 0
    rows, cmp, md = results(tmp_path)
    # both sides ran as separate simulations
    assert {r["dut"] for r in rows} == {"design", "passthrough"}
    kinds = {(r["traffic"], r["latency"]) for r in cmp["traffic"]}
    assert kinds == {(k, lat) for k in bench_run.TRAFFIC_NAMES if k != "mirrored16"
                     for lat in (1, 20)}
    for r in cmp["traffic"]:
        assert r["design"] > 0 and r["ratio"] == pytest.approx(1), r
        assert r["met"], r
    assert [r["latency"] for r in cmp["latency"]] == [1, 20]
    for r in cmp["latency"]:
        assert r["p50_ratio"] == pytest.approx(1) and r["p99_ratio"] == pytest.approx(1), r
        # the limit's read latency is the memory's own plus the handshake cycle
        assert r["passthrough"]["p50"] == r["latency"] + 1, r
    assert cmp["sweep"] == []          # the pass-through has no sweep
    assert "| 1-beat reads | 1 | 1.000 | 1.000 | **1.00** |" in md


def test_design_against_passthrough_report(tmp_path):
    assert bench_run.main(["--tiny", "--out", str(tmp_path)]) == 0
    rows, cmp, md = results(tmp_path)
    assert {(r["traffic"], r["latency"]) for r in cmp["traffic"]} == \
        {(k, lat) for k in bench_run.TRAFFIC_NAMES for lat in (1, 20)}
    for r in cmp["traffic"]:
        # the design cannot beat a wire by more than the window's rounding
        assert 0 < r["ratio"] <= 1.15, r
        assert r["reference_name"] == ("design's plain 16-beat writes"
                                       if r["traffic"] == "mirrored16" else "pass-through")
    # the host port takes a burst per cycle (rtl/host_front.py): 8 workers with one
    # 1-beat burst each are bound by the round trip, no longer by the engines (a burst
    # every 4 cycles gave 0.25 and 0.33 here)
    short = {(r["traffic"], r["latency"]): r["ratio"] for r in cmp["traffic"]}
    assert short[("read1", 1)] >= 0.8 and short[("write1", 1)] >= 0.45, short
    for r in cmp["latency"]:
        assert r["idle"]["p50"] >= r["passthrough"]["p50"], r
        assert r["sweep"]["n"] > 0 and r["sweep"]["p99"] >= r["sweep"]["p50"], r
        assert r["target"] == r["idle"]["p99"] + bench_run.LATENCY_SLACK
    assert [r["latency"] for r in cmp["sweep"]] == [1, 20]
    for r in cmp["sweep"]:
        assert 0 < r["alone"] <= 1 and 0 < r["light"] <= 1, r
    for heading in ("## 64-bit data (8-byte lines)", "### Throughput, side by side",
                    "### Host read latency", "### The sweep's rate", "Targets met:",
                    "**Memory model.**", "<!-- make bench: data_width=64 -->"):
        assert heading in md, heading
    png = tmp_path / "bench.png"
    assert png.read_bytes()[:8] == PNG and png.stat().st_size > 20000


def test_page_keeps_the_other_widths(tmp_path):
    page = tmp_path / "performance.md"
    bench_run.write_page(page, 512, ["## 512-bit data", "STALE-512"], keep_others=True)
    bench_run.write_page(page, 64, ["## 64-bit data", "new 64"], keep_others=True)
    bench_run.write_page(page, 512, ["## 512-bit data", "new 512"], keep_others=True)
    text = page.read_text()
    assert text.startswith("# Performance")
    assert "STALE-512" not in text and text.index("new 64") < text.index("new 512")
    assert set(bench_run.sections_of(text)) == {64, 512}
