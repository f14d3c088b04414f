"""``make bench``: performance of the whole mirrorswap_top, in one run.

    python -m mirrorswap.bench.run [--sim icarus|verilator] [--quick] [--no-other-sim] [--out DIR]

Runs the cocotb benches of ``bench/cocotb_bench.py`` on the generated top level (SPEC
defaults) under ``--sim`` (default ``$SIM``, else Icarus), then the simulator-speed bench
alone under the other simulator (unless ``--no-other-sim``; ``--quick`` implies it), and
writes ``<out>/results.md`` (tables) and ``<out>/bench.png`` (plots); default out:
``build/bench``. ``--quick`` shrinks every size for a smoke run of a minute or so.
Exit status 0 when every bench ran (whether or not each performance target is met; the
tables say), 1 when a bench failed, 2 on bad arguments.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

from mirrorswap.paths import build_root
from mirrorswap.sim.runner import BUILD, SIMULATORS, BenchFailed, run_bench, shared_top

DEFAULT_OUT = build_root() / "bench"
MODULE = "mirrorswap.bench.cocotb_bench"
TESTS = ["sweep_rate", "read_latency", "write_latency", "literal_vs_sweep", "sim_speed"]

MEMORY_MODEL = (
    "`sim.memory.PipelinedMemory` on cocotbext-axi's `AxiRam` (one per slot): AR, AW and W "
    "accepted every cycle, one R beat and one W beat per cycle per port, bursts pipelined. "
    "*Memory latency L* = the first R beat of a burst is valid L cycles after its AR "
    "handshake, and a B response L cycles after the last W beat, without stalling the next "
    "request (L = 1 is the plain `AxiRam`'s timing). Both latencies are L in every table "
    "unless stated. Throughput: 1 beat (= 1 line) per cycle per channel, at any L.")


def run_sim(sim, out_jsonl, quick, tests, log):
    """Run ``tests`` of the bench module under ``sim``; results appended to out_jsonl.
    Returns the wall time in seconds."""
    top = shared_top()
    env = {"MS_BENCH_OUT": str(out_jsonl), "MS_BENCH_QUICK": "1" if quick else "0",
           "COCOTB_LOG_LEVEL": "WARNING"}
    t = time.perf_counter()
    run_bench([top], "mirrorswap_top", MODULE, build_dir=BUILD / f"bench_{sim}",
              testcase=tests, env=env, quiet=True, sim=sim)
    wall = time.perf_counter() - t
    log(f"bench: {sim}: {', '.join(tests)} in {wall:.0f} s")
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


def targets(rows):
    """(target, measured, met) for each performance target."""
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


def write_markdown(rows, path, *, command, sims_run, walls, quick, png):
    by = lambda kind: [r for r in rows if r["kind"] == kind]  # noqa: E731
    primary = sims_run[0]
    prim = [r for r in rows if r["sim"] == primary]
    L = []
    L.append("# mirrorswap benchmark\n")
    L.append(f"Made by `{command}`; "
             f"{'QUICK (smoke) sizes; ' if quick else ''}measurements under **{primary}**"
             + (f", simulator speed also under {', '.join(sims_run[1:])}" if sims_run[1:] else "")
             + f". Plot: `{png}`.\n")
    L.append("Design: `MirrorswapTop()` with its defaults (4 agents, 64-bit lines, 2^16-line "
             "slots), driven only through its ports: host traffic on `s_axi` (cocotbext-axi "
             "`AxiMaster`), commands through `s_axil`. Slot 0 (2^16 lines, ACTIVE on "
             "[0, 65536)) is the master, slot 1 (2^16 lines) the spare; slot 2 is ACTIVE on "
             "[65536, 69632) (the plain range). Clock cycles are counted from the SWEEP "
             "command's AXI4-Lite write response to `irq` (cmd_done).\n")
    L.append(f"**Memory model.** {MEMORY_MODEL}\n")
    L.append("**Host load** L: the host reads the migrating range in 16-line bursts at L "
             "beats/cycle and writes it (mirrored) in 16-line bursts at L beats/cycle, open "
             "loop (a burst every 16/L cycles, up to 8 outstanding per direction), so it asks "
             "for L of the master module's read bandwidth and L of the spare's write "
             "bandwidth. In parentheses: what the host got (read/write beats per cycle) "
             "while the sweep ran, *of* what it got in the same traffic without a sweep "
             "(the mirror established). The host's own ports cap it below its offer in "
             "places: the host write engine serves one burst at a time and waits for both "
             "B responses before it takes the next, and the host read engine keeps up to 8 "
             "bursts in flight.\n")

    sweeps = [r for r in prim if r["kind"] == "sweep"]
    if sweeps:
        loads = sorted({r["load"] for r in sweeps})
        lats = sorted({r["latency"] for r in sweeps})
        L.append(f"## Sweep rate (lines/cycle, THROTTLE 0, {sweeps[0]['lines']} lines per "
                 f"point)\n")
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
        L.append("## Host read latency (cycles, 1-line reads, memory latency 20)\n")
        L.append("Measured on the `s_axi` wires: AR handshake to the R beat, one probe read "
                 "at a time with 4-12 idle cycles between, random lines of the migrating "
                 "range, while a SWEEP of that range runs at the given THROTTLE.\n")
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
        L.append("## Mirrored versus plain host write latency (cycles)\n")
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
        L.append("## The patent's literal firmware copy versus the hardware SWEEP "
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

    sp = by("sim_speed")
    if sp:
        L.append("## Simulator speed (simulated cycles of the full design per wall-clock "
                 "second, cocotb 2.1 benches included)\n")
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
    for s, w in walls.items():
        L.append(f"- wall time under {s}: {w:.0f} s" +
                 (" (includes the Verilator compile, about 80 s, when not cached)"
                  if s == "verilator" else ""))
    L.append("")

    tg = targets(prim)
    if tg:
        L.append("## Targets\n")
        L.append("| target | measured | met |")
        L.append("|---|---|---|")
        for what, got, ok in tg:
            L.append(f"| {what} | {got} | {'yes' if ok else '**no**'} |")
        L.append("")
    Path(path).write_text("\n".join(L) + "\n")


def plot(rows, path, primary):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    prim = [r for r in rows if r["sim"] == primary]
    fig, ax = plt.subplots(2, 2, figsize=(12, 9))
    a = ax[0][0]
    sweeps = [r for r in prim if r["kind"] == "sweep"]
    for lat in sorted({r["latency"] for r in sweeps}):
        pts = sorted((r["load"], r["lines_per_cycle"]) for r in sweeps if r["latency"] == lat)
        a.plot([p[0] * 100 for p in pts], [p[1] for p in pts], "o-",
               label=f"memory latency {lat}")
    xs = [0, 25, 50, 75]
    a.plot(xs, [0.9 * (1 - x / 100) for x in xs], "k--", label="target 0.9 x (1 - load)")
    a.plot(xs, [1 - x / 100 for x in xs], ":", color="grey", label="limit 1 - load")
    a.set_xlabel("host load (% of a channel, read and write)")
    a.set_ylabel("sweep lines / cycle")
    a.set_ylim(0, 1.05)
    a.set_title("Sweep rate vs host load (THROTTLE 0)")
    a.legend(fontsize=8)
    a.grid(alpha=0.3)

    a = ax[0][1]
    rl = [r for r in prim if r["kind"] == "read_latency" and r["throttle"] is not None]
    idle = next((r for r in prim if r["kind"] == "read_latency" and r["throttle"] is None), None)
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
        a.legend(fontsize=8, loc="upper right")
        a.set_title("THROTTLE vs foreground read latency (memory latency 20)")
        a.grid(alpha=0.3)

    a = ax[1][0]
    wl = [r for r in prim if r["kind"] == "write_latency"]
    if wl:
        labels = [f"{r['mode']}\n{r['beats']}L, " +
                  (f"{r['plain_latency']}" if r["mode"] == "plain"
                   else f"{r['master_latency']}/{r['slave_latency']}") for r in wl]
        a.bar(range(len(wl)), [r["p50"] for r in wl],
              color=["tab:blue" if r["mode"] == "plain" else "tab:orange" for r in wl])
        a.set_xticks(range(len(wl)))
        a.set_xticklabels(labels, fontsize=7)
        a.set_ylabel("write latency p50 (cycles)")
        a.set_title("Mirrored vs plain host writes (module latencies)")
        a.grid(alpha=0.3, axis="y")

    a = ax[1][1]
    cm = [r for r in prim if r["kind"] == "copy_method"]
    if cm:
        a.bar([r["method"].replace(", ", "\n") for r in cm], [r["lines_per_cycle"] for r in cm],
              color=["tab:red", "tab:purple", "tab:green"][:len(cm)])
        a.set_yscale("log")
        a.set_ylabel("lines / cycle (log)")
        a.set_title("Firmware copy through the host port vs hardware SWEEP")
        for i, r in enumerate(cm):
            a.text(i, r["lines_per_cycle"], f"{r['lines_per_cycle']:.3f}", ha="center",
                   va="bottom", fontsize=8)
        a.grid(alpha=0.3, axis="y")
    fig.suptitle(f"mirrorswap bench ({primary})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mirrorswap.bench.run", description=__doc__.split("\n")[0])
    ap.add_argument("--sim", choices=SIMULATORS, default=None,
                    help="simulator of the measurements (default: $SIM, else icarus)")
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--no-other-sim", action="store_true",
                    help="do not also measure the other simulator's speed")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = ap.parse_args(argv)
    sim = args.sim or (os.environ.get("SIM") or "icarus").lower()
    if sim not in SIMULATORS:
        ap.error(f"SIM must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    jsonl = out / "results.jsonl"
    jsonl.unlink(missing_ok=True)
    log = lambda text: print(text, flush=True)  # noqa: E731
    command = "python -m mirrorswap.bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    walls = {}
    sims_run = [sim]
    status = 0
    t0 = time.perf_counter()
    try:
        walls[sim] = run_sim(sim, jsonl, args.quick, TESTS, log)
    except BenchFailed as e:
        log(f"bench: FAILED under {sim}: {e}")
        status = 1
    if not (args.quick or args.no_other_sim):
        other = next(s for s in SIMULATORS if s != sim)
        try:
            walls[other] = run_sim(other, jsonl, args.quick, ["sim_speed"], log)
            sims_run.append(other)
        except BenchFailed as e:
            log(f"bench: the speed bench under {other} failed ({e}); its column is left out")
    rows = load(jsonl)
    png = out / "bench.png"
    md = out / "results.md"
    rel = lambda p: p.relative_to(Path.cwd()) if p.is_relative_to(Path.cwd()) else p  # noqa: E731
    write_markdown(rows, md, command=command.strip(), sims_run=sims_run, walls=walls,
                   quick=args.quick, png=rel(png))
    plot(rows, png, sim)
    log(md.read_text())
    log(f"bench: {rel(md)} and {rel(png)} written in {time.perf_counter() - t0:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
