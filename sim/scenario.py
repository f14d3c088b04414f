"""The main scenario of ``make sim``: a module migrates to the spare under host traffic.

Environment (prefixed, because LINES and the like are set by terminals): MS_SEED, MS_SLOT (the
module to migrate), MS_LOAD (host load 0..1), MS_LINES (lines per module; the spare has
twice that), MS_BACKPRESSURE (0..1 pause probability on every memory channel).
"""

import os
import sys

import cocotb
from cocotb.utils import get_sim_time

from rtl.regmap import Led, Mode
from sim.scoreboard import ReferenceMemory, Scoreboard
from sim.tb import TopTB
from sim.traffic import HostTraffic
from firmware.bios import format_slot_table


def _env(name, default, kind=int):
    return kind(os.environ.get(name, default))


def _say(text="", end="\n"):
    sys.stdout.write(text + end)
    sys.stdout.flush()


class ProgressBar:
    def __init__(self, width=40):
        self.width = width

    def __call__(self, done, total):
        filled = self.width * done // total
        _say(f"\r  sweep [{'#' * filled}{'.' * (self.width - filled)}] "
             f"{100 * done // total:3d}%  {done}/{total} lines", end="")
        if done >= total:
            _say()


async def check_all(tb, sb, memory_map, *, sample, rng, what):
    """Every published line through the backdoor of its current module, and ``sample``
    random bursts through the host port."""
    bad = 0
    for r in memory_map.ranges:
        slot = memory_map.owners[r]
        got = tb.mems[slot].read(0, r.size_lines * 8)
        want = sb.memory.read(r.base_line * 8, r.size_lines * 8)
        if got != want:
            for i in range(0, len(want), 8):
                if got[i:i + 8] != want[i:i + 8]:
                    sb.check(r.base_line * 8 + i, want[i:i + 8], got[i:i + 8],
                             f"{what}: slot {slot} backdoor")
                    bad += 1
    for _ in range(sample):
        r = rng.choice(memory_map.ranges)
        line = rng.randrange(r.base_line, r.end_line - 8)
        line -= line % 8
        resp = await tb.host.read(line * 8, 64, arid=rng.randrange(16))
        if not sb.check(line * 8, sb.expect(line * 8, 64), resp.data, f"{what}: host read"):
            bad += 1
    return bad


@cocotb.test()
async def migrate_under_traffic(dut):
    seed = _env("MS_SEED", 1)
    slot = _env("MS_SLOT", 1)
    load = _env("MS_LOAD", 0.5, float)
    lines_log2 = _env("MS_LINES", 4096).bit_length() - 1
    backpressure = _env("MS_BACKPRESSURE", 0.1, float)
    capacities = (lines_log2, lines_log2, lines_log2, lines_log2 + 1)
    tb = TopTB(dut, capacities_log2=capacities, seed=seed)
    tb.set_backpressure(backpressure)
    bios = tb.bios
    rng = tb.rng
    await tb.reset()

    _say(f"\nmirrorswap: seed {seed}, 4 slots of {1 << lines_log2} lines (slot 3: "
         f"{2 << lines_log2}), host load {load}, memory back-pressure {backpressure}")
    mm = await bios.boot()
    published = mm.published()
    _say("\nboot: memory map published to the OS")
    _say(mm.e820())
    _say("\n" + format_slot_table(await bios.slot_table()))

    sb = Scoreboard(ReferenceMemory(mm.total_lines))
    for r in mm.ranges:   # known contents everywhere, through the backdoor
        data = rng.randbytes(r.size_lines * 8)
        tb.mems[mm.owners[r]].write(0, data)
        sb.memory.write(r.base_line * 8, data)

    traffic = HostTraffic(tb, sb, mm, seed=seed, load=load)
    traffic.start()
    await tb.cycles(500)
    size = await bios.hw.read_reg(slot, "SIZE")
    _say(f"\nmigrating slot {slot} ({size} lines) to the spare while the host runs")
    t0 = get_sim_time("ns")
    spare = await bios.migrate(slot, progress=ProgressBar())
    cycles = int((get_sim_time("ns") - t0) / 10)
    await tb.cycles(500)
    await traffic.stop()
    _say(f"  released to slot {spare} after {cycles} cycles "
         f"({size / cycles:.3f} lines/cycle, sweep and all commands)")

    bad = await check_all(tb, sb, mm, sample=64, rng=rng, what="after release")
    _say(f"\nchecked every line after release: {bad} mismatches")

    await bios.hw.set_slot(slot, power_en=0, power_led=Led.OFF, attn_led=Led.OFF)
    while (await bios.hw.status(slot)).mode != Mode.OFF:
        await tb.cycles(10)
    _say(f"slot {slot} powered off (its module forgets everything)")
    bad += await check_all(tb, sb, mm, sample=64, rng=rng, what="old module off")
    _say(f"checked every line with the old module off: {bad} mismatches in all")

    _say("\n" + format_slot_table(await bios.slot_table()))
    assert mm.published() == published, "the published memory map changed"
    kinds = ", ".join(f"{v} {k}" for k, v in traffic.by_kind.items())
    _say(f"\nsummary: seed {seed}; migration {cycles} cycles for {size} lines "
         f"({size / cycles:.3f} lines/cycle); host traffic: {kinds}; "
         f"scoreboard: {sb.summary()}")
    assert not sb.mismatches, str(sb.mismatches[0])
    _say("PASS: no data lost\n")


@cocotb.test()
async def hot_swap_walkthrough(dut):
    """The patent's walk-through, by buttons: modules 1-3 run in slots 0-2, module 4 in
    slot 3 is the spare. Module 3's button: its data moves to module 4 under traffic, its
    slot powers off, it is pulled, module 5 is plugged in and added as the spare. Then
    module 1 is replaced the same way (its data moves to module 5)."""
    from firmware.hotplug import HotPlug
    from sim.timeline import Timeline

    seed = _env("MS_SEED", 1)
    load = _env("MS_LOAD", 0.5, float)
    lines_log2 = _env("MS_LINES", 4096).bit_length() - 1
    window = _env("MS_ABORT_WINDOW", 2000)
    png = os.environ.get("MS_PNG")
    tb = TopTB(dut, capacities_log2=(lines_log2,) * 3 + (lines_log2 + 1,), seed=seed)
    tb.set_backpressure(_env("MS_BACKPRESSURE", 0.1, float))
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
    sb = Scoreboard(ReferenceMemory(mm.total_lines))
    for r in mm.ranges:
        data = tb.rng.randbytes(r.size_lines * 8)
        tb.mems[mm.owners[r]].write(0, data)
        sb.memory.write(r.base_line * 8, data)
    traffic = HostTraffic(tb, sb, mm, seed=seed, load=load)
    traffic.start()

    last = {}

    def progress(slot, done, total):
        pct = 100 * done // total
        if pct // 25 != last.get(slot, -1):
            last[slot] = pct // 25
            timeline.note(f"sweep {pct}%", slot)
            _say(f"  slot {slot}: sweep {pct}%")

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
