"""The main scenario of ``make sim``: a module migrates to the spare under host traffic.

Knobs (``MS_`` variables, read with :func:`mirrorswap.sim.tb.knob`): MS_SEED, MS_SLOT
(the module to migrate), MS_LOAD (host load 0..1), MS_LINES (lines per module; the spare
has twice that), MS_BACKPRESSURE (0..1 pause probability on every AXI channel),
MS_LATENCY (row-miss read latency of the modules in cycles, default 4); for the
walk-through also MS_ABORT_WINDOW (cycles) and MS_PNG (where to draw its timeline).

What it proves (SPEC section 5, guarantees 1 and 2): every host read under random traffic
before, during and after the migration returns the last completed write; after RELEASE
every published line reads the same through the host port and sits in the new module;
with the old module powered off and its contents gone, nothing changes.
"""

import sys

import cocotb
from cocotb.utils import get_sim_time

from mirrorswap.firmware import cli
from mirrorswap.firmware.bios import format_slot_table
from mirrorswap.regmap import Led, Mode
from mirrorswap.sim.checks import check_all, preload
from mirrorswap.sim.scoreboard import ReferenceMemory, Scoreboard
from mirrorswap.sim.tb import TopTB, knob
from mirrorswap.sim.traffic import HostTraffic

CLOCK_NS = 10


def _say(text="", end="\n"):
    # the scenario's report is the product of make sim: straight to stdout, unbuffered
    sys.stdout.write(text + end)
    sys.stdout.flush()


def _cycle():
    return int(get_sim_time("ns")) // CLOCK_NS


class ProgressBar(cli.ProgressBar):
    """The CLI's progress bar, labelled with the line count, that also keeps the time of
    every call, from which the sweep rate is computed."""

    def __init__(self):
        super().__init__()
        self.calls = []        # (cycle, lines done)

    def text(self, done, total):
        return f"  sweep {super().text(done, total)}  {done}/{total} lines"

    def __call__(self, done, total):
        self.calls.append((_cycle(), done))
        super().__call__(done, total)


@cocotb.test()
async def migrate_under_traffic(dut):
    """Boot, preload, random traffic, migrate MS_SLOT to the spare, check everything,
    power the old module off, check everything again."""
    seed = knob("seed", 1)
    slot = knob("slot", 1)
    load = knob("load", 0.5, float)
    lines_log2 = knob("lines", 4096).bit_length() - 1
    backpressure = knob("backpressure", 0.1, float)
    latency = knob("latency", 4)
    capacities = (lines_log2,) * 3 + (lines_log2 + 1,)
    tb = TopTB(dut, capacities_log2=capacities, seed=seed)
    tb.set_backpressure(backpressure)
    tb.set_memory_latency(latency)
    bios = tb.bios
    rng = tb.rng
    await tb.reset()

    _say(f"\nmirrorswap: seed {seed}, 4 slots of {1 << lines_log2} lines (slot 3: "
         f"{2 << lines_log2}), host load {load}, back-pressure {backpressure} on every AXI "
         f"channel, memory read latency {latency} cycles")
    mm = await bios.boot()
    published = mm.published()
    _say("\nboot: memory map published to the OS")
    _say(mm.e820())
    _say("\n" + format_slot_table(await bios.slot_table()))

    sb = Scoreboard(ReferenceMemory(mm.total_lines, tb.geometry.line_bytes), owned=mm.ranges)
    preload(tb, sb, mm)   # known contents everywhere, through the backdoor

    traffic = HostTraffic(tb, sb, mm, seed=seed, load=load)
    traffic.start()
    await tb.cycles(1000)
    size = await bios.hw.read_reg(slot, "SIZE")
    _say(f"\nmigrating slot {slot} ({size} lines) to the spare while the host runs")
    bar = ProgressBar()
    before = dict(traffic.by_kind)
    t0 = _cycle()
    spare = await bios.migrate(slot, chunk_lines=max(size // 16, 64), progress=bar)
    cycles = _cycle() - t0
    sweep_cycles = bar.calls[-1][0] - t0
    during = {key: value - before[key] for key, value in traffic.by_kind.items()}
    _say(f"  released to slot {spare}: {cycles} cycles from ESTABLISH to RELEASE done; "
         f"sweep {sweep_cycles} cycles, {size / sweep_cycles:.3f} lines/cycle")
    await tb.cycles(1000)          # traffic goes on against the new owner
    await traffic.stop()

    bad = await check_all(tb, sb, mm, sample=0, rng=rng, what="after release", full=True)
    _say(f"\nafter release: every line checked through the host port and in slot {spare}'s "
         f"module: {bad} mismatches")

    await bios.hw.set_slot(slot, power_en=0, power_led=Led.OFF, attn_led=Led.OFF)
    while (await bios.hw.status(slot)).mode != Mode.OFF:
        await tb.cycles(10)
    assert not tb.slots[slot].pins["power_good"].value, "supply still up"
    _say(f"slot {slot} powered off: its module now holds garbage")
    traffic.start()
    await tb.cycles(1000)
    await traffic.stop()
    bad += await check_all(tb, sb, mm, sample=0, rng=rng, what="old module off", full=True)
    _say(f"old module off, more traffic, every line checked again: {bad} mismatches in all")

    _say("\n" + format_slot_table(await bios.slot_table()))
    _say("\nmemory map published to the OS, unchanged:\n" + mm.e820())
    assert mm.published() == published, "the published memory map changed"
    k = traffic.by_kind
    _say(f"\nsummary (seed {seed}, slot {slot}, load {load}, {size} lines per module):\n"
         f"  migration        {cycles} cycles ESTABLISH..RELEASE; sweep {sweep_cycles} cycles "
         f"= {size / sweep_cycles:.3f} lines/cycle under load\n"
         f"  host traffic     {k['read']} reads, {k['write']} writes, {k['narrow']} narrow "
         f"writes, {k['unowned']} unowned (DECERR), {k['expected read error']} read errors; "
         f"{during['read'] + during['write'] + during['narrow']} of them during the "
         f"migration\n"
         f"  checks           {sb.reads} reads checked, {sb.writes} writes applied, "
         f"{sb.decerrs} DECERR as expected, every line read back twice\n"
         f"  mismatches       {len(sb.mismatches)}")
    violations = tb.capacity_violations()
    assert not violations, "; ".join(violations)
    assert not sb.mismatches, f"{len(sb.mismatches)} mismatches; first: {sb.mismatches[0]}"
    _say("PASS: no data lost\n")


@cocotb.test()
async def hot_swap_walkthrough(dut):
    """The patent's walk-through, by buttons: modules 1-3 run in slots 0-2, module 4 in
    slot 3 is the spare. Module 3's button: its data moves to module 4 under traffic, its
    slot powers off, it is pulled, module 5 is plugged in and added as the spare. Then
    module 1 is replaced the same way (its data moves to module 5)."""
    from mirrorswap.firmware.hotplug import HotPlug
    from mirrorswap.scenarios.timeline import Timeline

    seed = knob("seed", 1)
    load = knob("load", 0.5, float)
    lines_log2 = knob("lines", 4096).bit_length() - 1
    window = knob("abort_window", 2000)
    png = knob("png", None, str)
    tb = TopTB(dut, capacities_log2=(lines_log2,) * 3 + (lines_log2 + 1,), seed=seed)
    tb.set_backpressure(knob("backpressure", 0.1, float))
    bios = tb.bios
    await tb.reset()
    timeline = Timeline(tb)
    timeline.start()
    _say(f"\nmirrorswap hot-swap walk-through: seed {seed}, host load {load}, abort window "
         f"{window} cycles")
    mm = await bios.boot()
    published = mm.published()
    timeline.note("boot done: modules 1-3 in slots 0-2 running, module 4 in slot 3 spare")
    _say(mm.e820())
    sb = Scoreboard(ReferenceMemory(mm.total_lines, tb.geometry.line_bytes), owned=mm.ranges)
    preload(tb, sb, mm)
    traffic = HostTraffic(tb, sb, mm, seed=seed, load=load)
    traffic.start()

    progress = timeline.sweep_progress(_say)
    hp = HotPlug(bios, abort_window_cycles=window, chunk_lines=1024, on_progress=progress)
    cocotb.start_soon(hp.run())

    async def press(slot, what):
        timeline.note(f"button: {what}", slot)
        _say(f"press slot {slot}'s button: {what}")
        before = len(hp.history)
        await tb.slots[slot].press_button()
        while not [r for r in hp.history[before:] if r.slot == slot]:
            await tb.cycles(20)
        await hp.wait_idle()
        rec = [r for r in hp.history[before:] if r.slot == slot][0]
        _say(f"  -> {rec.kind} {rec.outcome}"
             + (f", data now in slot {rec.moved_to}" if rec.moved_to is not None else ""))
        assert rec.outcome == "done", rec
        return rec

    for slot, new_module in ((2, 5), (0, 6)):
        await press(slot, f"take module {slot + 1 if slot < 3 else slot} out")
        timeline.note("module pulled", slot)
        tb.slots[slot].remove()
        await tb.cycles(300)
        tb.slots[slot].insert(lines_log2)
        timeline.note(f"module {new_module} plugged in", slot)
        await tb.cycles(300)
        await press(slot, f"add module {new_module} as the spare")
    await tb.cycles(500)
    await traffic.stop()
    hp.stop()
    bad = await check_all(tb, sb, mm, sample=32, rng=tb.rng, what="walk-through")
    timeline.stop()
    _say("\ntimeline (cycle, slot, what changed):")
    _say(timeline.text())
    if png:
        timeline.save_png(png)
        _say(f"\ntimeline picture: {png}")
    _say("\n" + format_slot_table(await bios.slot_table()))
    assert mm.published() == published, "the published memory map changed"
    _say(f"\nsummary: seed {seed}; host traffic: "
         + ", ".join(f"{v} {k}" for k, v in traffic.by_kind.items())
         + f"; scoreboard: {sb.summary()}; every line checked at the end: {bad} mismatches")
    assert not sb.mismatches and bad == 0, str(sb.mismatches[0]) if sb.mismatches else bad
    _say("PASS: two modules replaced, no data lost, memory map unchanged\n")
