"""cocotb bench: the hot-plug flows (firmware/hotplug.py) on mirrorswap_top, by button."""

import os

import cocotb
from cocotbext.axi import AxiResp

from mirrorswap.firmware.hotplug import HotPlug
from mirrorswap.regmap import Led, Mode
from mirrorswap.sim.memory import inject_faults
from mirrorswap.sim.checks import check_all
from mirrorswap.sim.scoreboard import ReferenceMemory, Scoreboard
from mirrorswap.sim.tb import TopTB
from mirrorswap.sim.traffic import HostTraffic

SEED = int(os.environ.get("MS_SEED", "1"))
WINDOW = 2000


async def setup(dut, capacities=(12, 12, 12, 13), traffic_load=None):
    tb = TopTB(dut, capacities_log2=capacities, seed=SEED)
    faults = [inject_faults(mem) for mem in tb.mems]
    await tb.reset()
    mm = await tb.bios.boot()
    sb = Scoreboard(ReferenceMemory(mm.total_lines))
    for r in mm.ranges:
        data = tb.rng.randbytes(r.size_lines * 8)
        tb.mems[mm.owners[r]].write(0, data)
        sb.memory.write(r.base_line * 8, data)
    hp = HotPlug(tb.bios, abort_window_cycles=WINDOW, chunk_lines=1024)
    cocotb.start_soon(hp.run())
    while not hp.listening:
        await tb.cycles(10)
    traffic = None
    if traffic_load:
        traffic = HostTraffic(tb, sb, mm, seed=SEED, load=traffic_load)
        traffic.start()
    return tb, hp, mm, sb, traffic, faults


async def press(tb, hp, slot):
    """Press a slot's button like a person; return the record of the flow it started."""
    before = len(hp.history)
    await tb.slots[slot].press_button()
    for _ in range(200):
        mine = [r for r in hp.history[before:] if r.slot == slot]
        if mine:
            return mine[0]
        await tb.cycles(20)
    raise AssertionError(f"press on slot {slot} started nothing")


async def leds(tb, slot):
    s = await tb.bios.hw.slot(slot)
    return Led(s["power_led"]), Led(s["attn_led"]), s["power_en"]


async def finish(tb, hp, sb, mm, traffic):
    await hp.wait_idle()
    if traffic is not None:
        await traffic.stop()
    assert await check_all(tb, sb, mm, sample=16, rng=tb.rng, what="after flow") == 0
    assert not sb.mismatches, str(sb.mismatches[0])


@cocotb.test()
async def hot_remove_moves_the_module_out(dut):
    tb, hp, mm, sb, traffic, _ = await setup(dut, traffic_load=0.5)
    published = mm.published()
    rec = await press(tb, hp, 1)
    assert rec.kind == "remove"
    assert await leds(tb, 1) == (Led.BLINK, Led.BLINK, 1), "command received, flow running"
    await finish(tb, hp, sb, mm, traffic)
    assert rec.outcome == "done" and rec.moved_to == 3, rec
    assert rec.progress[-1] == (4096, 4096)
    assert await leds(tb, 1) == (Led.OFF, Led.OFF, 0)
    assert (await tb.bios.hw.status(1)).mode == Mode.OFF
    assert (await tb.bios.hw.status(3)).mode == Mode.ACTIVE
    assert mm.published() == published


@cocotb.test()
async def second_press_in_the_abort_window_cancels(dut):
    tb, hp, mm, sb, traffic, _ = await setup(dut)
    rec = await press(tb, hp, 2)
    await tb.cycles(WINDOW // 4)
    await tb.slots[2].press_button()
    await hp.wait_idle()
    assert rec.outcome == "cancelled"
    assert await leds(tb, 2) == (Led.ON, Led.OFF, 1)
    assert (await tb.bios.hw.status(2)).mode == Mode.ACTIVE
    assert (await tb.bios.hw.status(3)).mode == Mode.IDLE
    assert len(hp.history) == 1


@cocotb.test()
async def presses_during_a_running_flow_are_ignored(dut):
    tb, hp, mm, sb, traffic, _ = await setup(dut, traffic_load=0.3)
    rec = await press(tb, hp, 0)
    await tb.cycles(WINDOW + 300)     # past the window: the migration is running
    await tb.slots[0].press_button()
    await finish(tb, hp, sb, mm, traffic)
    assert rec.outcome == "done" and len(hp.history) == 1


@cocotb.test()
async def no_spare_is_refused_and_shown(dut):
    tb, hp, mm, sb, traffic, _ = await setup(dut)
    first = await press(tb, hp, 0)
    await hp.wait_idle()
    assert first.outcome == "done"
    before = await tb.snapshot()
    rec = await press(tb, hp, 1)       # the only spare is in use now
    await hp.wait_idle()
    assert rec.outcome == "refused" and "no IDLE module" in rec.detail
    assert await leds(tb, 1) == (Led.ON, Led.ON, 1), "the user is told"
    after = await tb.snapshot()
    after[(1, "SLOT_CTRL")] = before[(1, "SLOT_CTRL")]
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"a refused hot remove changed {changed}"
    await finish(tb, hp, sb, mm, None)


@cocotb.test()
async def hot_add_then_remove_the_spare(dut):
    tb, hp, mm, sb, traffic, _ = await setup(dut, capacities=(12, 12, 13, None))
    tb.slots[3].insert(13)
    await tb.cycles(50)
    assert (await tb.bios.hw.status(3)).mode == Mode.OFF
    rec = await press(tb, hp, 3)
    assert rec.kind == "add"
    await hp.wait_idle()
    assert rec.outcome == "done"
    assert await leds(tb, 3) == (Led.ON, Led.OFF, 1)
    assert (await tb.bios.hw.status(3)).mode == Mode.IDLE
    assert await tb.bios.hw.read_reg(3, "CAPACITY") == 8192
    assert mm.published() == tuple((r.base_line, r.size_lines) for r in mm.ranges)
    rec = await press(tb, hp, 3)
    assert rec.kind == "remove-spare"
    await hp.wait_idle()
    assert await leds(tb, 3) == (Led.OFF, Led.OFF, 0)
    assert (await tb.bios.hw.status(3)).mode == Mode.OFF


@cocotb.test()
async def failed_migration_keeps_the_module(dut):
    tb, hp, mm, sb, traffic, faults = await setup(dut)
    faults[1].read_lines.add(3000)
    rec = await press(tb, hp, 1)
    await hp.wait_idle()
    assert rec.outcome == "failed" and "MEM_ERROR" in rec.detail, rec
    assert await leds(tb, 1) == (Led.ON, Led.ON, 1)
    assert (await tb.bios.hw.status(1)).mode == Mode.ACTIVE
    assert (await tb.bios.hw.status(3)).mode == Mode.IDLE
    faults[1].clear()
    await finish(tb, hp, sb, mm, None)


@cocotb.test()
async def two_presses_two_migrations_at_once(dut):
    tb, hp, mm, sb, traffic, _ = await setup(dut, capacities=(12, 12, 12, None),
                                             traffic_load=0.4)
    tb.slots[3].insert(12)
    add = await press(tb, hp, 3)
    await hp.wait_idle()
    assert add.outcome == "done"          # now two spares: 0 (from boot) and 3
    a = cocotb.start_soon(press(tb, hp, 1))
    b = cocotb.start_soon(press(tb, hp, 2))
    ra, rb = await a, await b
    await finish(tb, hp, sb, mm, traffic)
    assert ra.outcome == rb.outcome == "done"
    assert {ra.moved_to, rb.moved_to} == {0, 3}


@cocotb.test()
async def spare_losing_power_aborts_cleanly(dut):
    """The spare's module is pulled mid-migration: the pair aborts, the master keeps
    serving every line, the user is told."""
    tb, hp, mm, sb, traffic, _ = await setup(dut, traffic_load=0.3)
    rec = await press(tb, hp, 2)
    await tb.cycles(WINDOW + 800)
    assert (await tb.bios.hw.status(2)).mode == Mode.MIRROR_MASTER
    tb.slots[3].remove()
    await finish(tb, hp, sb, mm, traffic)
    assert rec.outcome == "failed", rec
    assert (await tb.bios.hw.status(2)).mode == Mode.ACTIVE
    assert (await tb.bios.hw.status(3)).mode == Mode.OFF
    assert await leds(tb, 2) == (Led.ON, Led.ON, 1)


@cocotb.test()
async def active_module_pulled_answers_errors(dut):
    """The one case that loses data: accesses to the pulled module's range end with an
    error (never OKAY with garbage) and never hang; the other ranges are untouched."""
    tb, hp, mm, sb, traffic, _ = await setup(dut)
    lost = mm.range_of(1)
    pending = [cocotb.start_soon(tb.host.read(lost.base_line * 8 + i * 64, 64))
               for i in range(8)]
    tb.slots[1].remove()
    for p in pending:
        r = await p
        assert r.resp in (AxiResp.OKAY, AxiResp.SLVERR, AxiResp.DECERR)
    await tb.cycles(50)
    for line in (lost.base_line, lost.end_line - 1):
        r = await tb.host.read(line * 8, 8)
        assert r.resp != AxiResp.OKAY, "a pulled module answered OKAY"
        w = await tb.host.write(line * 8, b"\x01" * 8)
        assert w.resp != AxiResp.OKAY
    assert (await tb.bios.hw.status(1)).mode == Mode.OFF
    for _ in range(100):       # the event loop reports it when it handles the event
        if hp.lost:
            break
        await tb.cycles(20)
    assert hp.lost == [(1, lost)], "the firmware reports the loss"
    for r in mm.ranges:
        if r != lost:
            got = await tb.host.read(r.base_line * 8, 64)
            assert got.resp == AxiResp.OKAY
            assert got.data == sb.expect(r.base_line * 8, 64)
