"""Render a migration from a simulation's FST waveform as a PNG (what README shows).

``python -m mirrorswap.scenarios.waves build/sim/make_sim/mirrorswap_top.fst [--slot 1 --spare 3] -o x.png``
reads the FST that ``make sim WAVES=1`` writes (with pywellen), finds the migration of
``slot`` (its mode going MIRROR_MASTER, then IDLE) and draws two panels: the whole
migration, and a zoom on RELEASE (the host port held, both modes switching in one cycle).
Rows are top-level ports and the controller's hold, modes, SWEPT_UPTO and busy.
"""

import argparse
import sys
from pathlib import Path

from mirrorswap.regmap import Mode

__all__ = ["Trace", "migration_picture", "main"]

CLOCK_PS = 10_000   # the benches' 10 ns clock


class Trace:
    """One row: a label and the FST variable it shows (``None``: not in this file)."""

    def __init__(self, label, path, names=None):
        self.label = label
        self.path = path
        self.names = names   # value -> text, for a bus shown as named states


def _open(fst):
    import pywellen
    wave = pywellen.Waveform(str(fst))
    return wave, {v.full_name: v for v in wave.all_vars()}


def _sample(var, times):
    signal = var.signal
    return [signal.value_at(t) or 0 for t in times]


def _find(values, times, predicate, start=0):
    for t, v in zip(times[start:], values[start:]):
        if predicate(v):
            return t
    return None


def agent_reg(agent, field):
    """The waveform name of a field of the controller's ``regs[agent]`` port (the names
    Amaranth gives a submodule's array members)."""
    return f"mirrorswap_top.ctrl.regs__{agent}__{field}"


def migration_window(wave, variables, slot, *, scan_ps=200_000_000):
    """(start, release) times in ps of the migration of ``slot``."""
    mode = variables[agent_reg(slot, "mode")]
    times = list(range(0, scan_ps, CLOCK_PS * 4))
    values = _sample(mode, times)
    start = _find(values, times, lambda v: v == Mode.MIRROR_MASTER)
    if start is None:
        raise ValueError(f"slot {slot} never became MIRROR_MASTER in this waveform")
    release = _find(values, times, lambda v: v != Mode.MIRROR_MASTER, times.index(start))
    if release is None:
        raise ValueError(f"slot {slot} stayed MIRROR_MASTER to the end of this waveform")

    def exact(t, was_master):
        # the scan steps 4 cycles: walk back to the first sample of the new mode
        signal = mode.signal
        while t > 0 and ((signal.value_at(t - CLOCK_PS) == Mode.MIRROR_MASTER) != was_master):
            t -= CLOCK_PS
        return t
    return exact(start, False), exact(release, True)


def default_traces(slot, spare):
    modes = {int(m): m.name for m in Mode}
    return [
        Trace("host AW valid", "mirrorswap_top.s_axi_awvalid"),
        Trace("host AR valid", "mirrorswap_top.s_axi_arvalid"),
        Trace("register write", "mirrorswap_top.s_axil_awvalid"),
        Trace("hold (sequencer)", "mirrorswap_top.ctrl.hold"),
        Trace(f"mode of agent {slot}", agent_reg(slot, "mode"), modes),
        Trace(f"mode of agent {spare}", agent_reg(spare, "mode"), modes),
        Trace(f"SWEPT_UPTO {slot}", agent_reg(slot, "swept_upto")),
        Trace(f"mem{slot} AR valid (reads)", f"mirrorswap_top.m_axi_mem{slot}_arvalid"),
        Trace(f"mem{spare} W valid (writes)", f"mirrorswap_top.m_axi_mem{spare}_wvalid"),
        Trace(f"busy of agent {slot}", agent_reg(slot, "busy")),
    ]


def _draw(ax, traces, variables, t0, t1, step):
    times = list(range(t0, t1, step))
    cycles = [(t - t0) / CLOCK_PS for t in times]
    for row, trace in enumerate(traces):
        y = len(traces) - 1 - row
        var = variables.get(trace.path)
        if var is None:
            continue
        values = _sample(var, times)
        if var.bitwidth == 1:
            ax.fill_between(cycles, y + 0.1, [y + 0.1 + 0.7 * bool(v) for v in values],
                            step="post", color="tab:blue", linewidth=0)
            continue
        # a bus: one box per stretch of equal value, labelled when wide enough
        edges = [0] + [k for k in range(1, len(values)) if values[k] != values[k - 1]]
        edges.append(len(values))
        for a, b in zip(edges, edges[1:]):
            x0, x1 = cycles[a], cycles[b - 1] + step / CLOCK_PS
            ax.fill_between([x0, x1], y + 0.1, y + 0.8, color="tab:green", alpha=0.25,
                            linewidth=0.5, edgecolor="tab:green")
            text = trace.names.get(values[a], str(values[a])) if trace.names else \
                str(values[a])
            if (x1 - x0) > len(text) * (cycles[-1] + 1) / 120:
                ax.text((x0 + x1) / 2, y + 0.45, text, ha="center", va="center", fontsize=7)
    ax.set_yticks([len(traces) - 1 - r + 0.45 for r in range(len(traces))])
    ax.set_yticklabels([t.label for t in traces], fontsize=8)
    ax.set_ylim(-0.1, len(traces))
    ax.set_xlim(0, (t1 - t0) / CLOCK_PS)
    ax.set_xlabel("cycles", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)


def migration_picture(fst, png, *, slot=1, spare=3, zoom_cycles=48):
    """Draw the migration of ``slot`` to ``spare`` found in ``fst`` into ``png``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wave, variables = _open(fst)
    start, release = migration_window(wave, variables, slot)
    traces = default_traces(slot, spare)
    margin = 40 * CLOCK_PS
    t0, t1 = max(0, start - margin), release + margin
    fig, (whole, zoom) = plt.subplots(2, 1, figsize=(12, 8), height_ratios=[1, 1])
    _draw(whole, traces, variables, t0, t1, max(CLOCK_PS, (t1 - t0) // 2000 // CLOCK_PS *
                                                 CLOCK_PS))
    whole.set_title(f"Migration of agent {slot} to agent {spare}: ESTABLISH, SWEEP under host "
                    f"traffic, RELEASE (cycle 0 = {t0 // 1000} ns)", fontsize=10)
    # the zoom starts a little before the sequencer took the host port for RELEASE
    hold = variables["mirrorswap_top.ctrl.hold"].signal
    rise = release
    while rise > release - 1000 * CLOCK_PS and hold.value_at(rise - CLOCK_PS):
        rise -= CLOCK_PS
    z0 = max(0, min(rise - 8 * CLOCK_PS, release - zoom_cycles * 3 // 4 * CLOCK_PS))
    _draw(zoom, traces, variables, z0, release + zoom_cycles // 4 * CLOCK_PS, CLOCK_PS)
    zoom.set_title(f"RELEASE, cycle by cycle: the host port is held, the modes switch in one "
                   f"cycle (cycle 0 = {z0 // 1000} ns)", fontsize=10)
    fig.tight_layout()
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return Path(png)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m mirrorswap.scenarios.waves", description=__doc__.split("\n")[0])
    p.add_argument("fst", type=Path, help="FST written by make sim WAVES=1")
    p.add_argument("--slot", type=int, default=1, help="the migrated agent (default 1)")
    p.add_argument("--spare", type=int, default=3, help="the agent it moved to (default 3)")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="PNG to write (default: next to the FST, migration.png)")
    args = p.parse_args(argv)
    if not args.fst.is_file():
        p.error(f"no such waveform: {args.fst}")
    out = args.output or args.fst.with_name("migration.png")
    try:
        print(f"waves: {migration_picture(args.fst, out, slot=args.slot, spare=args.spare)}")
    except ValueError as e:
        p.error(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
