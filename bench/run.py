"""``make bench``: the design side by side with its limit, and its own performance, in one run.

    python -m mirrorswap.bench.run [--sim icarus|verilator] [--data-width 64|128|256|512]
        [--quick | --tiny] [--compare-only] [--no-other-sim] [--out DIR] [--docs DIR]
        [--design top|passthrough]

1. The comparison (``bench/cocotb_compare.py``): the same traffic through the generated
   ``mirrorswap_top`` and through a zero-logic pass-through (``bench/passthrough.py``),
   each on the same memory model, reported as ratios next to the targets of issue 22.
2. The design's own benches (``bench/cocotb_bench.py``: sweep rate under host load,
   THROTTLE, mirrored write latency, firmware copy against SWEEP, simulator speed),
   unless ``--compare-only`` or ``--tiny``.
3. The simulator-speed bench under the other simulator (unless ``--no-other-sim``;
   ``--quick`` and ``--tiny`` imply it).

Writes ``<out>/results.md``, ``<out>/results.jsonl`` (one JSON line per measurement) and
``<out>/bench.png``; default out ``build/bench/w<data width>``. With ``--docs DIR`` also
``DIR/performance.md`` (its section for this data width replaced, the other widths'
sections kept) and ``DIR/bench.png`` (``bench-<width>.png`` at other widths): what
``make bench`` does. ``--quick`` shrinks every size (a smoke run of a minute or two),
``--tiny`` more (the comparison only, for ``tests/test_bench.py``). ``--design
passthrough`` puts the pass-through in the design's place: every ratio must then be 1.

Exit status 0 when every bench ran (whether or not each target is met; the tables say),
1 when a bench failed, 2 on bad arguments.
"""

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from mirrorswap.bench import passthrough
from mirrorswap.geometry import DATA_WIDTHS, Geometry
from mirrorswap.paths import build_root
from mirrorswap.sim.runner import BUILD, SIMULATORS, BenchFailed, run_bench, shared_top

DESIGN_MODULE = "mirrorswap.bench.cocotb_bench"
COMPARE_MODULE = "mirrorswap.bench.cocotb_compare"
DESIGN_TESTS = ["sweep_rate", "read_latency", "write_latency", "literal_vs_sweep", "sim_speed"]
COMPARE_TESTS = ["throughput", "latency"]
DEFAULT_DATA_WIDTH = 64

#: traffic kind of the comparison: its name in the tables
TRAFFIC_NAMES = {
    "read1": "1-beat reads",
    "read16": "16-beat reads",
    "write1": "1-beat writes",
    "write16": "16-beat writes",
    "mixed": "reads and writes mixed",
    "mirrored16": "mirrored 16-beat writes",
}
#: ... and under its bar in the plot
PLOT_LABELS = {"read1": "1-beat\nreads", "read16": "16-beat\nreads", "write1": "1-beat\nwrites",
               "write16": "16-beat\nwrites", "mixed": "mixed", "mirrored16": "mirrored\n16-beat"}
# Targets of issue 22 (benchmarks, not timed tests)
RATIO_TARGET = 0.95          # host traffic against the pass-through
MIRROR_TARGET = 0.9          # mirrored writes against plain writes
LATENCY_SLACK = 16           # read p99 during a SWEEP <= idle p99 + this
SWEEP_ALONE_TARGET = 0.95    # lines/cycle, no host traffic
SWEEP_LIGHT_TARGET = 0.75    # lines/cycle beside light read traffic

MEMORY_MODEL = (
    "`sim.memory.PipelinedMemory` on cocotbext-axi's `AxiRam`: AR, AW and W accepted "
    "every cycle, one R beat and one W beat per cycle per port, bursts pipelined. *Memory "
    "latency L*: the first R beat of a burst is valid L cycles after its AR handshake, and "
    "a B response L cycles after the last W beat, without stalling the next request "
    "(L = 1 is the plain `AxiRam`'s timing). Both latencies are L in every table unless "
    "stated.")


# ---- running the benches ------------------------------------------------------------------
def top_params(data_width):
    """``shared_top`` parameters of the measured top (the defaults but the width)."""
    return {} if data_width == DEFAULT_DATA_WIDTH else {"data_width": data_width}


def run_one(label, sources, toplevel, module, tests, *, sim, jsonl, env, log):
    """Run ``tests`` of ``module`` on ``toplevel``; results appended to ``jsonl``.
    Returns the wall time in seconds."""
    env = {"MS_BENCH_OUT": str(jsonl), "COCOTB_LOG_LEVEL": "WARNING", **env}
    t = time.perf_counter()
    run_bench(sources, toplevel, module, build_dir=BUILD / f"bench_{label}_{sim}",
              testcase=tests, env=env, quiet=True, sim=sim)
    wall = time.perf_counter() - t
    log(f"bench: {sim}: {label}: {', '.join(tests)} in {wall:.0f} s")
    return wall


def load(path):
    rows = []
    if Path(path).exists():
        for line in Path(path).read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def _f(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def _met(ok):
    return "yes" if ok else "**no**"


# ---- the comparison -----------------------------------------------------------------------
def comparison(rows):
    """The side-by-side results: ``traffic``, ``latency`` and ``sweep`` lists of dicts,
    one per table row, each with its target and whether it is met. Raises ValueError when
    a measurement of one side is missing."""
    traffic = {(r["dut"], r["traffic"], r["latency"]): r["beats_per_cycle"]
               for r in rows if r["kind"] == "traffic"}
    out = {"traffic": [], "latency": [], "sweep": []}
    lats = sorted({k[2] for k in traffic})
    for lat in lats:
        for kind in TRAFFIC_NAMES:
            got = traffic.get(("design", kind, lat))
            if got is None:
                continue
            if kind == "mirrored16":
                ref_name, ref = "design's plain 16-beat writes", traffic.get(
                    ("design", "write16", lat))
                need = MIRROR_TARGET
            else:
                ref_name, ref = "pass-through", traffic.get(("passthrough", kind, lat))
                need = RATIO_TARGET
            if not ref:
                raise ValueError(f"no {ref_name} measurement for {kind} at latency {lat}")
            ratio = got / ref
            out["traffic"].append({"traffic": kind, "latency": lat, "design": got,
                                   "reference": ref, "reference_name": ref_name,
                                   "ratio": ratio, "target": need, "met": ratio >= need})
    idle = {(r["dut"], r["latency"]): r for r in rows if r["kind"] == "read_latency_idle"}
    during = {r["latency"]: r for r in rows if r["kind"] == "read_latency_sweep"}
    alone = {r["latency"]: r for r in rows if r["kind"] == "sweep_alone"}
    for lat in sorted({k[1] for k in idle}):
        d, p = idle.get(("design", lat)), idle.get(("passthrough", lat))
        if d is None or p is None:
            raise ValueError(f"no idle read latency of both sides at latency {lat}")
        s = during.get(lat)
        row = {"latency": lat, "passthrough": p, "idle": d, "sweep": s,
               "p50_ratio": d["p50"] / p["p50"], "p99_ratio": d["p99"] / p["p99"]}
        if s is not None:
            row["target"] = d["p99"] + LATENCY_SLACK
            row["met"] = s["p99"] <= row["target"]
        out["latency"].append(row)
        if lat in alone or s is not None:
            a = alone.get(lat)
            out["sweep"].append({
                "latency": lat,
                "alone": a and a["lines_per_cycle"], "alone_lines": a and a["lines"],
                "alone_met": a is not None and a["lines_per_cycle"] >= SWEEP_ALONE_TARGET,
                "light": s and s["lines_per_cycle"],
                "light_met": s is not None and s["lines_per_cycle"] >= SWEEP_LIGHT_TARGET,
                "light_reads": s and s["n"]})
    return out


def comparison_markdown(cmp, *, self_check=False):
    L = []
    design = "pass-through (self-check)" if self_check else "design"
    L.append("### Throughput, side by side\n")
    L.append("8 workers on AXI IDs 0..7, each keeping one burst in flight (closed loop) on "
             "random 16-line-aligned lines of one module's range; beats completed per cycle "
             "over the window after a warm-up. Mixed: each burst a 16-beat read or write at "
             "even odds (read and write channels together, so up to 2 beats/cycle). "
             "Mirrored: the mirror established, no sweep running; its ratio is against the "
             "design's own plain 16-beat writes at the same latency.\n")
    L.append(f"| traffic | memory latency | {design} beats/cycle | limit beats/cycle | ratio "
             "| target | met |")
    L.append("|---|---|---|---|---|---|---|")
    for r in cmp["traffic"]:
        limit = (f"{r['reference']:.3f}" if r["traffic"] != "mirrored16"
                 else f"{r['reference']:.3f} (plain writes)")
        L.append(f"| {TRAFFIC_NAMES[r['traffic']]} | {r['latency']} | {r['design']:.3f} | "
                 f"{limit} | **{r['ratio']:.2f}** | >= {r['target']} | {_met(r['met'])} |")
    L.append("")
    if cmp["latency"]:
        L.append("### Host read latency (cycles, 1-line reads)\n")
        L.append("Light read traffic: 1-line reads of random lines of the range, one "
                 "issued every 4-12 cycles (open loop: whether or not the earlier ones have "
                 "completed), AXI ID 15; their latency on the `s_axi` wires, AR handshake to "
                 "the R beat. *During SWEEP*: a SWEEP at THROTTLE 0 of the range's first "
                 f"lines runs meanwhile. Target: p99 during the SWEEP <= idle p99 + "
                 f"{LATENCY_SLACK}.\n")
        L.append(f"| memory latency | limit p50 / p99 | {design} idle p50 / p99 (ratio to "
                 "the limit) | during SWEEP: reads, p50 / p99 / max | target p99 | met |")
        L.append("|---|---|---|---|---|---|")
        for r in cmp["latency"]:
            p, d, s = r["passthrough"], r["idle"], r["sweep"]
            L.append(f"| {r['latency']} | {p['p50']} / {p['p99']} | {d['p50']} / {d['p99']} "
                     f"({r['p50_ratio']:.2f} / {r['p99_ratio']:.2f}) | "
                     + ("-" if s is None else f"{s['n']}: {s['p50']} / {s['p99']} / {s['max']}")
                     + f" | {r.get('target', '-')} | "
                     + ("-" if s is None else _met(r["met"])) + " |")
        L.append("")
    if cmp["sweep"]:
        L.append("### The sweep's rate (lines/cycle, THROTTLE 0)\n")
        L.append("Alone: no host traffic. Beside light reads: the light read traffic of "
                 "the latency table (a 1-line read every 4-12 cycles) during the SWEEP.\n")
        L.append("| memory latency | lines | alone | target | met | beside light reads "
                 "(reads) | target | met |")
        L.append("|---|---|---|---|---|---|---|---|")
        for r in cmp["sweep"]:
            L.append(f"| {r['latency']} | {r['alone_lines'] or '-'} | {_f(r['alone'])} | "
                     f">= {SWEEP_ALONE_TARGET} | {_met(r['alone_met'])} | {_f(r['light'])} "
                     f"({r['light_reads'] or '-'}) | >= {SWEEP_LIGHT_TARGET} | "
                     f"{_met(r['light_met'])} |")
        L.append("")
    checks = ([r["met"] for r in cmp["traffic"]] + [r["met"] for r in cmp["latency"]
                                                     if "met" in r]
              + [x for r in cmp["sweep"] for x in (r["alone_met"], r["light_met"])])
    L.append(f"Targets met: **{sum(checks)} of {len(checks)}**.\n")
    return L


# ---- the design's own benches -------------------------------------------------------------
def design_targets(rows):
    """(target, measured, met) for each target of the design's own benches."""
    out = []
    big = [r for r in rows if r["kind"] == "sweep_big"]
    if big:
        r = big[0]
        out.append((f"no host load, latency 20, {r['lines']} lines: >= 0.95 lines/cycle",
                    f"{r['lines_per_cycle']:.3f}", r["lines_per_cycle"] >= 0.95))
    for r in rows:
        if r["kind"] == "sweep" and r["load"] > 0:
            need = 0.9 * (1 - r["load"])
            out.append((f"{r['load']:.0%} host load, latency {r['latency']}, THROTTLE 0: >= "
                        f"0.9 x (1 - {r['load']}) = {need:.3f} lines/cycle",
                        f"{r['lines_per_cycle']:.3f}", r["lines_per_cycle"] >= need))
    for r in rows:
        if r["kind"] == "sweep" and r["load"] and r.get("alone_read"):
            share = min(r["host_read"] / r["alone_read"], r["host_write"] / r["alone_write"])
            out.append((f"{r['load']:.0%} host load, latency {r['latency']}: the sweep "
                        f"leaves the host >= 90 % of what it gets without a sweep",
                        f"read {r['host_read']:.2f} of {r['alone_read']:.2f}, write "
                        f"{r['host_write']:.2f} of {r['alone_write']:.2f} ({share:.0%})",
                        share >= 0.9))
    for r in rows:
        if r["kind"] == "read_latency" and r.get("throttle"):
            cap = 1 / (r["throttle"] + 1)
            got = r["sweep_lines_per_cycle"]
            out.append((f"THROTTLE {r['throttle']} caps the sweep at 1/(T+1) = {cap:.3f} "
                        f"lines/cycle",
                        f"{got:.3f} ({got / cap:.0%} of the cap"
                        + (": the sweep is slower than its THROTTLE allows)" if got < 0.9 * cap
                           else ")"),
                        got <= cap * 1.01))
    plain = {(r["beats"], r["plain_latency"]): r for r in rows
             if r["kind"] == "write_latency" and r["mode"] == "plain"}
    for r in rows:
        if r["kind"] == "write_latency" and r["mode"] == "mirrored":
            slower = plain.get((r["beats"], r["slave_latency"]))
            if slower:
                out.append((f"mirrored {r['beats']}-line write, module latencies "
                            f"{r['master_latency']}/{r['slave_latency']}: p50 <= plain write "
                            f"to the slower ({slower['p50']}) + 4 cycles",
                            f"{r['p50']} (sum would be about "
                            f"{slower['p50'] + r['master_latency']})",
                            r["p50"] <= slower["p50"] + 4))
    return out


def design_markdown(rows, sims_run):
    """Tables of the design's own benches (rows of the primary simulator, plus the speed
    rows of every simulator)."""
    primary = sims_run[0]
    prim = [r for r in rows if r["sim"] == primary]
    L = []
    sweeps = [r for r in prim if r["kind"] == "sweep"]
    if sweeps:
        loads = sorted({r["load"] for r in sweeps})
        lats = sorted({r["latency"] for r in sweeps})
        L.append(f"### Sweep rate under host load (lines/cycle, THROTTLE 0, "
                 f"{sweeps[0]['lines']} lines per point)\n")
        L.append("**Host load** L: the host reads the migrating range in 16-line bursts at L "
                 "beats/cycle and writes it (mirrored) in 16-line bursts at L beats/cycle, "
                 "open loop (a burst every 16/L cycles, up to 8 outstanding per direction). "
                 "In parentheses: what the host got (read/write beats per cycle) while the "
                 "sweep ran, *of* what it got in the same traffic without a sweep (the "
                 "mirror established).\n")
        L.append("| memory latency | " + " | ".join(f"load {x:.0%}" for x in loads) + " |")
        L.append("|---|" + "---|" * len(loads))
        for lat in lats:
            cells = []
            for ld in loads:
                r = next((r for r in sweeps if r["latency"] == lat and r["load"] == ld), None)
                cells.append("-" if r is None else
                             f"{r['lines_per_cycle']:.3f}" + ("" if ld == 0 else
                             f" ({r['host_read']:.2f}/{r['host_write']:.2f} of "
                             f"{_f(r.get('alone_read'), 2)}/{_f(r.get('alone_write'), 2)})"))
            L.append(f"| {lat} | " + " | ".join(cells) + " |")
        L.append("| target 0.9 x (1 - load) | " +
                 " | ".join(f"{0.9 * (1 - x):.3f}" for x in loads) + " |")
        L.append("")
    for r in (r for r in prim if r["kind"] == "sweep_big"):
        L.append(f"Large range: {r['lines']} lines, latency {r['latency']}, no host traffic: "
                 f"**{r['lines_per_cycle']:.3f} lines/cycle** ({r['cycles']} cycles; target "
                 f">= 0.95); afterwards the spare equals the master on every line.\n")

    rl = [r for r in prim if r["kind"] == "read_latency"]
    if rl:
        L.append("### Host read latency against THROTTLE (cycles, 1-line reads, memory "
                 "latency 20)\n")
        L.append("One 1-line read at a time with 4-12 idle cycles between (closed loop, "
                 "unlike the side-by-side table), at several THROTTLE values.\n")
        L.append("| condition | reads | p50 | p99 | max | sweep lines/cycle | "
                 "THROTTLE cap 1/(T+1) |")
        L.append("|---|---|---|---|---|---|---|")
        for r in rl:
            t = r["throttle"]
            cond = "idle (no sweep)" if t is None else f"during SWEEP, THROTTLE {t}"
            cap = "-" if not t else f"{1 / (t + 1):.3f}"
            L.append(f"| {cond} | {r['n']} | {r['p50']} | {r['p99']} | {r['max']} | "
                     f"{_f(r['sweep_lines_per_cycle'])} | {cap} |")
        L.append("")

    wl = [r for r in prim if r["kind"] == "write_latency"]
    if wl:
        L.append("### Mirrored versus plain host write latency (cycles)\n")
        L.append("On the `s_axi` wires: AW handshake to B, one write at a time. Plain: the "
                 "ACTIVE range of slot 2. Mirrored: the MIRROR_MASTER range (no sweep "
                 "running); the host's B waits for both modules.\n")
        L.append("| write | module write-response latency | p50 | p99 | max |")
        L.append("|---|---|---|---|---|")
        for r in wl:
            lat = (f"{r['plain_latency']}" if r["mode"] == "plain" else
                   f"master {r['master_latency']}, spare {r['slave_latency']}")
            L.append(f"| {r['mode']}, {r['beats']} line{'s' if r['beats'] > 1 else ''} | "
                     f"{lat} | {r['p50']} | {r['p99']} | {r['max']} |")
        L.append("")

    cm = [r for r in prim if r["kind"] == "copy_method"]
    if cm:
        L.append("### The patent's literal firmware copy versus the hardware SWEEP "
                 "(memory latency 20)\n")
        L.append("With the mirror established, firmware reads each line through the host "
                 "port and writes it back (the forwarded write copies it to the spare); "
                 "also with 16-line bursts. Same lines, same design. The literal method "
                 "also loses concurrent host writes (`tests/test_bench.py`).\n")
        L.append("| method | lines | cycles | lines/cycle | vs SWEEP |")
        L.append("|---|---|---|---|---|")
        hw = next((r for r in cm if r["method"] == "hardware SWEEP"), None)
        for r in cm:
            if hw is None:
                rel = "-"
            elif r is hw:
                rel = "1x"
            else:
                rel = f"{hw['lines_per_cycle'] / r['lines_per_cycle']:.1f}x slower"
            L.append(f"| {r['method']} | {r['lines']} | {r['cycles']} | "
                     f"{r['lines_per_cycle']:.4f} | {rel} |")
        L.append("")

    sp = [r for r in rows if r["kind"] == "sim_speed"]
    if sp:
        L.append("### Simulator speed (simulated cycles of the full design per wall-clock "
                 "second, cocotb benches included)\n")
        sims = [s for s in sims_run if any(r["sim"] == s for r in sp)]
        whats = list(dict.fromkeys(r["what"] for r in sp))
        L.append("| workload | " + " | ".join(sims) + " |")
        L.append("|---|" + "---|" * len(sims))
        for w in whats:
            cells = []
            for s in sims:
                r = next((r for r in sp if r["sim"] == s and r["what"] == w), None)
                cells.append("-" if r is None else f"{r['cycles_per_s']:.0f}")
            L.append(f"| {w} | " + " | ".join(cells) + " |")
        L.append("")

    tg = design_targets(prim)
    if tg:
        L.append("### Targets of the design's own benches\n")
        L.append("| target | measured | met |")
        L.append("|---|---|---|")
        for what, got, ok in tg:
            L.append(f"| {what} | {got} | {_met(ok)} |")
        L.append("")
    return L


# ---- the report ---------------------------------------------------------------------------
def header_markdown():
    """The page's part that does not depend on a run."""
    return [
        "# Performance\n",
        "Generated by `make bench` (`python -m mirrorswap.bench.run`); do not edit: run "
        "it again. Each data width has its own section, replaced when `make bench` runs "
        "at that width and kept otherwise.\n",
        "```sh",
        "make bench                   # 64-bit data: this page's first section, under Icarus",
        "make bench DATA_WIDTH=512    # the 512-bit section",
        "make bench SIM=verilator     # the measurements under Verilator",
        "make bench QUICK=1           # a smoke run with small sizes, into build/bench only",
        "```\n",
        "**What is compared.** The same traffic, from the same cocotb code "
        "(`bench/cocotb_compare.py`), runs through the whole generated `mirrorswap_top` "
        "and through `mirrorswap_passthrough` (`bench/passthrough.py`): the host port "
        "wired straight to one memory port, no logic at all. Both are served by the same "
        "memory model, so the pass-through is the limit any interconnect could reach with "
        "this memory and this traffic generator (cocotbext-axi's `AxiMaster`), and the "
        "design's results are given as ratios of it. The targets are those of issue 22: "
        f"host reads, writes and mixed traffic >= {RATIO_TARGET} of the pass-through, "
        f"mirrored writes >= {MIRROR_TARGET} of plain writes, host read p99 during a SWEEP "
        f"at THROTTLE 0 <= idle p99 + {LATENCY_SLACK} cycles, and the sweep >= "
        f"{SWEEP_ALONE_TARGET} lines/cycle alone and >= {SWEEP_LIGHT_TARGET} beside light "
        "read traffic.\n",
        "**The design.** `MirrorswapTop` with its defaults but the data width (4 agents, "
        "slots of up to 2^16 lines, one line per beat), driven only through its ports: "
        "host traffic on `s_axi`, commands through `s_axil`, a memory model on every "
        "`m_axi_mem<i>`. Slot 0 (2^16 lines, ACTIVE on lines [0, 65536)) is the master, "
        "slot 1 (2^16 lines) the spare, slot 2 ACTIVE on [65536, 69632) (a plain range). "
        "Host line L is line L of slot 0's module, as it is line L of the pass-through's "
        "memory. Sweep cycles are counted from the SWEEP command's AXI4-Lite write "
        "response to `irq` (cmd_done).\n",
        f"**Memory model.** {MEMORY_MODEL}\n",
    ]


def section_markdown(rows, *, data_width, command, sims_run, walls, size, png,
                     self_check=False):
    """This run's section: everything measured at ``data_width``."""
    g = Geometry(data_width)
    primary = sims_run[0]
    prim = [r for r in rows if r["sim"] == primary]
    L = [f"## {data_width}-bit data ({g.line_bytes}-byte lines)\n"]
    L.append(f"Made by `{command}`"
             + (f" ({size} sizes: a smoke run, not a measurement)" if size != "full" else "")
             + f"; measured under **{primary}**"
             + (f", simulator speed also under {', '.join(sims_run[1:])}" if sims_run[1:]
                else "")
             + ". Wall time: "
             + ", ".join(f"{w:.0f} s under {s}" for s, w in walls.items()) + ".\n")
    L.append(f"![make bench at {data_width} bits]({png})\n")
    cmp = comparison(prim)
    L += comparison_markdown(cmp, self_check=self_check)
    own = design_markdown(rows, sims_run)
    if own:
        L.append("### The design's own benches\n")
        L += [line.replace("### ", "#### ", 1) if line.startswith("### ") else line
              for line in own]
    return L


_BEGIN = "<!-- make bench: data_width={} -->"
_END = "<!-- end of make bench: data_width={} -->"


def sections_of(text):
    """{data width: the text of its section, markers included} of a page."""
    found = {}
    for m in re.finditer(r"<!-- make bench: data_width=(\d+) -->.*?"
                         r"<!-- end of make bench: data_width=\1 -->", text, re.S):
        found[int(m.group(1))] = m.group(0)
    return found


def write_page(path, data_width, section_lines, *, keep_others):
    """Write ``path``: the header and this width's section; with ``keep_others`` the
    other widths' sections of the page already there stay, in width order."""
    path = Path(path)
    sections = sections_of(path.read_text()) if keep_others and path.exists() else {}
    sections[data_width] = "\n".join([_BEGIN.format(data_width), *section_lines,
                                      _END.format(data_width)])
    text = "\n".join(header_markdown()) + "\n" + "\n\n".join(
        sections[w] for w in sorted(sections)) + "\n"
    path.write_text(text)


def plot(rows, path, primary, *, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    prim = [r for r in rows if r["sim"] == primary]
    cmp = comparison(prim)
    has_own = any(r["kind"] in ("sweep", "read_latency", "write_latency") for r in prim)
    fig, ax = plt.subplots(2 if has_own else 1, 3, figsize=(16, 9 if has_own else 4.8),
                           squeeze=False)

    a = ax[0][0]
    kinds = [k for k in TRAFFIC_NAMES if any(r["traffic"] == k for r in cmp["traffic"])]
    lats = sorted({r["latency"] for r in cmp["traffic"]})
    width = 0.8 / max(1, len(lats))
    for j, lat in enumerate(lats):
        vals = [next((r["ratio"] for r in cmp["traffic"]
                      if r["traffic"] == k and r["latency"] == lat), 0) for k in kinds]
        xs = [i + (j - (len(lats) - 1) / 2) * width for i in range(len(kinds))]
        a.bar(xs, vals, width, label=f"memory latency {lat}")
        for x, v in zip(xs, vals):
            a.text(x, v, f"{v:.2f}", ha="center", va="bottom", fontsize=6)
    for i, k in enumerate(kinds):
        need = MIRROR_TARGET if k == "mirrored16" else RATIO_TARGET
        a.plot([i - 0.45, i + 0.45], [need, need], "k--", lw=1,
               label="target" if i == 0 else None)
    a.set_xticks(range(len(kinds)))
    a.set_xticklabels([PLOT_LABELS[k] for k in kinds], fontsize=7)
    a.set_ylabel("design / pass-through (mirrored: / plain writes)")
    a.set_ylim(0, 1.35)
    a.set_title("Throughput ratio, 8 workers")
    a.legend(fontsize=7, loc="upper left", ncol=3)
    a.grid(alpha=0.3, axis="y")

    a = ax[0][1]
    if cmp["latency"]:
        labels, p50, p99 = [], [], []
        for r in cmp["latency"]:
            for name, s in (("limit", r["passthrough"]), ("idle", r["idle"]),
                            ("SWEEP", r["sweep"])):
                if s is not None:
                    labels.append(f"{name}\nL={r['latency']}")
                    p50.append(s["p50"])
                    p99.append(s["p99"])
        xs = range(len(labels))
        a.bar([x - 0.2 for x in xs], p50, 0.4, label="p50")
        a.bar([x + 0.2 for x in xs], p99, 0.4, label="p99")
        for r in cmp["latency"]:
            if "target" in r:
                i = labels.index(f"SWEEP\nL={r['latency']}")
                a.plot([i - 0.45, i + 0.45], [r["target"]] * 2, "k--", lw=1)
        a.set_xticks(list(xs))
        a.set_xticklabels(labels, fontsize=7)
        a.set_ylabel("1-line host read latency (cycles)")
        a.set_title(f"Read latency; dashed: target idle p99 + {LATENCY_SLACK}")
        a.legend(fontsize=7)
        a.grid(alpha=0.3, axis="y")

    a = ax[0][2]
    if cmp["sweep"]:
        labels, vals, need = [], [], []
        for r in cmp["sweep"]:
            for name, v, t in (("alone", r["alone"], SWEEP_ALONE_TARGET),
                               ("light reads", r["light"], SWEEP_LIGHT_TARGET)):
                if v is not None:
                    labels.append(f"{name}\nL={r['latency']}")
                    vals.append(v)
                    need.append(t)
        a.bar(range(len(vals)), vals, 0.6, color="tab:green")
        for i, t in enumerate(need):
            a.plot([i - 0.4, i + 0.4], [t, t], "k--", lw=1)
        a.set_xticks(range(len(vals)))
        a.set_xticklabels(labels, fontsize=7)
        a.set_ylim(0, 1.05)
        a.set_ylabel("sweep lines / cycle (THROTTLE 0)")
        a.set_title("Sweep rate; dashed: target")
        a.grid(alpha=0.3, axis="y")

    if has_own:
        a = ax[1][0]
        sweeps = [r for r in prim if r["kind"] == "sweep"]
        for lat in sorted({r["latency"] for r in sweeps}):
            pts = sorted((r["load"], r["lines_per_cycle"]) for r in sweeps
                         if r["latency"] == lat)
            a.plot([p[0] * 100 for p in pts], [p[1] for p in pts], "o-",
                   label=f"memory latency {lat}")
        xs = [0, 25, 50, 75]
        a.plot(xs, [0.9 * (1 - x / 100) for x in xs], "k--", label="target 0.9 x (1 - load)")
        a.plot(xs, [1 - x / 100 for x in xs], ":", color="grey", label="limit 1 - load")
        a.set_xlabel("host load (% of a channel, read and write)")
        a.set_ylabel("sweep lines / cycle")
        a.set_ylim(0, 1.05)
        a.set_title("Sweep rate vs host load (THROTTLE 0)")
        a.legend(fontsize=7)
        a.grid(alpha=0.3)

        a = ax[1][1]
        rl = [r for r in prim if r["kind"] == "read_latency" and r["throttle"] is not None]
        idle = next((r for r in prim if r["kind"] == "read_latency"
                     and r["throttle"] is None), None)
        if rl:
            labels = [str(r["throttle"]) for r in rl]
            a.plot(labels, [r["p50"] for r in rl], "o-", label="p50 during SWEEP")
            a.plot(labels, [r["p99"] for r in rl], "s-", label="p99 during SWEEP")
            if idle:
                a.axhline(idle["p99"], color="grey", ls="--", label=f"idle p99 ({idle['p99']})")
            a.set_xlabel("THROTTLE")
            a.set_ylabel("host read latency (cycles)")
            b = a.twinx()
            b.plot(labels, [r["sweep_lines_per_cycle"] for r in rl], "^:", color="tab:green",
                   label="sweep lines/cycle")
            b.set_ylabel("sweep lines / cycle", color="tab:green")
            b.set_ylim(0, 1.05)
            a.legend(fontsize=7, loc="upper right")
            a.set_title("THROTTLE vs read latency (memory latency 20)")
            a.grid(alpha=0.3)

        a = ax[1][2]
        wl = [r for r in prim if r["kind"] == "write_latency"]
        if wl:
            labels = [f"{r['mode']}\n{r['beats']}L, " +
                      (f"{r['plain_latency']}" if r["mode"] == "plain"
                       else f"{r['master_latency']}/{r['slave_latency']}") for r in wl]
            a.bar(range(len(wl)), [r["p50"] for r in wl],
                  color=["tab:blue" if r["mode"] == "plain" else "tab:orange" for r in wl])
            a.set_xticks(range(len(wl)))
            a.set_xticklabels(labels, fontsize=6)
            a.set_ylabel("write latency p50 (cycles)")
            a.set_title("Mirrored vs plain host writes (module latencies)")
            a.grid(alpha=0.3, axis="y")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# ---- command line -------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mirrorswap.bench.run",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--sim", choices=SIMULATORS, default=None,
                    help="simulator of the measurements (default: $SIM, else icarus)")
    ap.add_argument("--data-width", type=int, default=DEFAULT_DATA_WIDTH,
                    choices=DATA_WIDTHS, help="data width of the design and the limit")
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    size.add_argument("--tiny", action="store_true",
                      help="the comparison only, tiny sizes (tests/test_bench.py)")
    ap.add_argument("--compare-only", action="store_true",
                    help="only the side-by-side comparison, not the design's own benches")
    ap.add_argument("--no-other-sim", action="store_true",
                    help="do not also measure the other simulator's speed")
    ap.add_argument("--design", choices=("top", "passthrough"), default="top",
                    help="what stands in the design's place (passthrough: a self-check)")
    ap.add_argument("--out", type=Path, default=None,
                    help="output folder (default build/bench/w<data width>)")
    ap.add_argument("--docs", type=Path, default=None,
                    help="also write performance.md and the plot into this folder")
    args = ap.parse_args(argv)
    sim = args.sim or (os.environ.get("SIM") or "icarus").lower()
    if sim not in SIMULATORS:
        ap.error(f"SIM must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    width = args.data_width
    size = "tiny" if args.tiny else "quick" if args.quick else "full"
    compare_only = args.compare_only or args.tiny or args.design == "passthrough"
    out = args.out or build_root() / "bench" / f"w{width}"
    out.mkdir(parents=True, exist_ok=True)
    jsonl = out / "results.jsonl"
    jsonl.unlink(missing_ok=True)
    log = lambda text: print(text, flush=True)  # noqa: E731
    command = ("python -m mirrorswap.bench.run " + " ".join(
        argv if argv is not None else sys.argv[1:])).strip()
    if args.docs is not None and size == "full" and not args.compare_only \
            and args.design == "top" and not args.no_other_sim and args.out is None:
        # what the Makefile's recipe runs: name it as the reader would type it
        command = "make bench" + (f" DATA_WIDTH={width}" if width != DEFAULT_DATA_WIDTH
                                  else "") + (f" SIM={sim}" if sim != "icarus" else "")

    walls, sims_run, status = {}, [sim], 0
    t0 = time.perf_counter()
    sources = [shared_top(**top_params(width))]
    limit = [passthrough.generate(BUILD / "tops" / f"passthrough_w{width}", data_width=width)]
    compare_env = {"MS_BENCH_SIZE": size}
    if args.design == "top":
        runs = [("design", sources, "mirrorswap_top", "design")]
    else:
        runs = [("self", limit, passthrough.TOPLEVEL, "design")]
    runs.append(("limit", limit, passthrough.TOPLEVEL, "passthrough"))
    try:
        for label, srcs, top, as_dut in runs:
            dut = "design" if top == "mirrorswap_top" else "passthrough"
            walls[sim] = walls.get(sim, 0) + run_one(
                f"{label}_w{width}", srcs, top, COMPARE_MODULE, COMPARE_TESTS, sim=sim,
                jsonl=jsonl, log=log,
                env={**compare_env, "MS_BENCH_DUT": dut, "MS_BENCH_LABEL": as_dut})
        if not compare_only:
            walls[sim] += run_one(f"own_w{width}", sources, "mirrorswap_top", DESIGN_MODULE,
                                  DESIGN_TESTS, sim=sim, jsonl=jsonl, log=log,
                                  env={"MS_BENCH_QUICK": "1" if size != "full" else "0"})
    except BenchFailed as e:
        log(f"bench: FAILED under {sim}: {e}")
        status = 1
    if not (size != "full" or args.no_other_sim or compare_only or status):
        other = next(s for s in SIMULATORS if s != sim)
        try:
            walls[other] = run_one(f"own_w{width}", sources, "mirrorswap_top", DESIGN_MODULE,
                                   ["sim_speed"], sim=other, jsonl=jsonl, log=log,
                                   env={"MS_BENCH_QUICK": "0"})
            sims_run.append(other)
        except BenchFailed as e:
            log(f"bench: the speed bench under {other} failed ({e}); its column is left out")
    if status:
        return status
    rows = load(jsonl)
    rel = lambda p: p.relative_to(Path.cwd()) if p.is_relative_to(Path.cwd()) else p  # noqa: E731
    png_name = "bench.png" if width == DEFAULT_DATA_WIDTH else f"bench-{width}.png"
    title = (f"mirrorswap bench, {width}-bit data ({sim}"
             + (f", {size} sizes" if size != "full" else "") + ")")
    common = dict(data_width=width, command=command, sims_run=sims_run, walls=walls,
                  size=size, self_check=args.design == "passthrough")
    section = section_markdown(rows, png="bench.png", **common)
    md = out / "results.md"
    write_page(md, width, section, keep_others=False)
    plot(rows, out / "bench.png", sim, title=title)
    written = [rel(md), rel(out / "bench.png")]
    if args.docs is not None:
        args.docs.mkdir(parents=True, exist_ok=True)
        page = args.docs / "performance.md"
        write_page(page, width, section_markdown(rows, png=png_name, **common),
                   keep_others=True)
        plot(rows, args.docs / png_name, sim, title=title)
        written += [rel(page), rel(args.docs / png_name)]
    log(md.read_text())
    log(f"bench: {', '.join(map(str, written))} written in {time.perf_counter() - t0:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
