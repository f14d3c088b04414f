"""HotPlug (firmware/hotplug.py): the hot-plug flows of SPEC section 6 on mirrorswap_top.

One file per unit: :class:`HotPlugTB` and the cocotb tests run inside the simulator, with
the BIOS event loop driving the generated RTL through its AXI4-Lite port and the slot
buttons pressed like a person would; the pytest entry at the bottom runs each cocotb test
in its own Icarus build (``pytest tests/test_hotplug.py``; ``MS_SEED`` picks the seed).

Failures are provoked in the hardware, never by mocking it: a memory model that answers
SLVERR (:func:`sim.memory.inject_faults`), a module pulled mid-flow, or a second register
master (:class:`RacingBus`) that changes a slot's state between the firmware's decision
and its command, so that the RTL itself refuses the command.
"""

import os

import cocotb
import pytest
from cocotb import regression
from cocotbext.axi import AxiResp

from mirrorswap.firmware.bios import Bios
from mirrorswap.firmware.hotplug import HotPlug
from mirrorswap.firmware.regbus import RegisterBus
from mirrorswap.regmap import Led, Mode, Op, agent_offset, agent_reg
from mirrorswap.sim.checks import check_all
from mirrorswap.sim.memory import inject_faults
from mirrorswap.sim.runner import run_tests, shared_top
from mirrorswap.sim.scoreboard import ReferenceMemory, Scoreboard
from mirrorswap.sim.tb import TopTB
from mirrorswap.sim.traffic import HostTraffic

SEED = int(os.environ.get("MS_SEED", "1"))
WINDOW = 2000          # abort window, in cycles (5 s on a board)
LINES = 2048           # lines of a module in a default slot; the last slot holds twice that
_CMD = agent_reg("CMD")
_SLOT_CTRL = agent_reg("SLOT_CTRL")


class RacingBus(RegisterBus):
    """The bench's register bus, with a second master that acts just before one write.

    ``before(offset, match, action)``: the first write to ``offset`` whose value satisfies
    ``match(value)`` waits for ``action()`` (which reaches the RTL through the bench's own
    bus, as the OS or another CPU would) and only then goes out. This is how a race between
    the firmware's decision and its command is made to happen every time.
    """

    def __init__(self, bus):
        self.inner = bus
        self.hooks = []

    def before(self, offset, match, action):
        self.hooks.append((offset, match, action))

    async def read32(self, offset):
        return await self.inner.read32(offset)

    async def write32(self, offset, value):
        for hook in self.hooks:
            if hook[0] == offset and hook[1](value):
                self.hooks.remove(hook)
                await hook[2]()
                break
        await self.inner.write32(offset, value)

    async def pause(self, cycles):
        await self.inner.pause(cycles)

    def spawn(self, coro):
        return self.inner.spawn(coro)

    async def wait_irq(self, cycles):
        await self.inner.wait_irq(cycles)


class HotPlugTB:
    """A booted ``mirrorswap_top`` with known data in every published range and the
    hot-plug event loop running.

    Members
    -------
    top : sim.tb.TopTB
        The RTL bench (clock, host master, slot models, RAMs).
    bus : RacingBus
        The register bus of the event loop's BIOS.
    hp : firmware.hotplug.HotPlug
    mm : firmware.memmap.MemoryMap
        What boot published.
    sb : sim.scoreboard.Scoreboard
        The reference for every published line.
    faults : list of sim.memory.Faults
        One per slot's RAM.
    traffic : sim.traffic.HostTraffic or None
    """

    def __init__(self, dut, capacities=(11, 11, 11, 12)):
        self.top = TopTB(dut, capacities_log2=capacities, seed=SEED)
        self.faults = [inject_faults(mem) for mem in self.top.mems]
        self.bus = RacingBus(self.top.bus)
        self.hp = self.mm = self.sb = self.traffic = None

    async def start(self, traffic_load=None, **hotplug_args):
        top = self.top
        await top.reset()
        self.mm = await top.bios.boot()
        self.sb = Scoreboard(ReferenceMemory(self.mm.total_lines))
        for r in self.mm.ranges:
            data = top.rng.randbytes(r.size_lines * 8)
            top.mems[self.mm.owners[r]].write(0, data)
            self.sb.memory.write(r.base_line * 8, data)
        bios = Bios(self.bus)
        bios.memory_map = self.mm
        self.hp = HotPlug(bios, abort_window_cycles=WINDOW, chunk_lines=1024, **hotplug_args)
        cocotb.start_soon(self.hp.run())
        while not self.hp.listening:
            await top.cycles(10)
        if traffic_load:
            self.traffic = HostTraffic(top, self.sb, self.mm, seed=SEED, load=traffic_load)
            self.traffic.start()
        return self

    async def press(self, slot):
        """Press a slot's button like a person; return the record of the flow it started."""
        before = len(self.hp.history)
        await self.top.slots[slot].press_button()
        for _ in range(200):
            mine = [r for r in self.hp.history[before:] if r.slot == slot]
            if mine:
                return mine[0]
            await self.top.cycles(20)
        raise AssertionError(f"press on slot {slot} started nothing")

    async def leds(self, slot):
        """(power LED, attention LED, power_en) of ``slot`` as SLOT_CTRL reads."""
        s = await self.top.bios.hw.slot(slot)
        return Led(s["power_led"]), Led(s["attn_led"]), s["power_en"]

    async def mode(self, slot):
        return (await self.top.bios.hw.status(slot)).mode

    async def finish(self):
        """Wait for every flow, stop the traffic, and check every published line."""
        await self.hp.wait_idle()
        if self.traffic is not None:
            await self.traffic.stop()
        top = self.top
        assert await check_all(top, self.sb, self.mm, sample=16, rng=top.rng,
                               what="after flow") == 0
        assert not self.sb.mismatches, str(self.sb.mismatches[0])


@cocotb.test()
async def hot_remove_moves_the_module_out(dut):
    tb = await HotPlugTB(dut).start(traffic_load=0.5)
    published = tb.mm.published()
    rec = await tb.press(1)
    assert rec.kind == "remove"
    assert await tb.leds(1) == (Led.BLINK, Led.BLINK, 1), "command received, flow running"
    await tb.finish()
    assert rec.outcome == "done" and rec.moved_to == 3, rec
    assert rec.progress[-1] == (LINES, LINES)
    assert await tb.leds(1) == (Led.OFF, Led.OFF, 0)
    assert await tb.mode(1) == Mode.OFF
    assert await tb.mode(3) == Mode.ACTIVE
    assert tb.mm.published() == published


@cocotb.test()
async def second_press_in_the_abort_window_cancels(dut):
    tb = await HotPlugTB(dut).start()
    rec = await tb.press(2)
    await tb.top.cycles(WINDOW // 4)
    await tb.top.slots[2].press_button()
    await tb.hp.wait_idle()
    assert rec.outcome == "cancelled"
    assert await tb.leds(2) == (Led.ON, Led.OFF, 1)
    assert await tb.mode(2) == Mode.ACTIVE
    assert await tb.mode(3) == Mode.IDLE
    assert len(tb.hp.history) == 1


@cocotb.test()
async def presses_during_a_running_flow_are_ignored(dut):
    tb = await HotPlugTB(dut).start(traffic_load=0.3)
    rec = await tb.press(0)
    await tb.top.cycles(WINDOW + 300)     # past the window: the migration is running
    await tb.top.slots[0].press_button()
    await tb.finish()
    assert rec.outcome == "done" and len(tb.hp.history) == 1


@cocotb.test()
async def no_spare_is_refused_and_shown(dut):
    tb = await HotPlugTB(dut).start()
    first = await tb.press(0)
    await tb.hp.wait_idle()
    assert first.outcome == "done"
    before = await tb.top.snapshot()
    rec = await tb.press(1)       # the only spare is in use now
    await tb.hp.wait_idle()
    assert rec.outcome == "refused" and "no IDLE module" in rec.detail
    assert await tb.leds(1) == (Led.ON, Led.ON, 1), "the user is told"
    after = await tb.top.snapshot()
    after[(1, "SLOT_CTRL")] = before[(1, "SLOT_CTRL")]
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"a refused hot remove changed {changed}"
    await tb.finish()


@cocotb.test()
async def refused_establish_is_shown_and_changes_nothing(dut):
    """The spare is switched off by another master after the firmware picked it: the RTL
    refuses ESTABLISH (BAD_PEER), and the flow ends as every failure does (SPEC 6): power
    LED on, attention LED on, the module still serving its range."""
    tb = await HotPlugTB(dut).start()
    establish = _CMD.opcode.put(0, Op.ESTABLISH)
    hw = tb.top.bios.hw

    async def switch_the_spare_off():
        await hw.set_slot(3, power_en=0)
        while (await hw.status(3)).mode != Mode.OFF:
            await tb.top.cycles(10)

    tb.bus.before(agent_offset(1, "CMD"), lambda v: _CMD.opcode.get(v) == establish,
                  switch_the_spare_off)
    rec = await tb.press(1)
    await tb.hp.wait_idle()
    assert not tb.bus.hooks, "the flow never issued ESTABLISH"
    assert await tb.leds(1) == (Led.ON, Led.ON, 1), "the user is told"
    assert rec.outcome == "refused" and "ESTABLISH refused with BAD_PEER" in rec.detail, rec
    assert await tb.mode(1) == Mode.ACTIVE
    assert not tb.hp.flows and not tb.hp.reserved
    await tb.finish()


@cocotb.test()
async def spare_taken_before_power_off_is_shown(dut):
    """A spare is given a range by another master just before the firmware switches it
    off: the RTL refuses the power-off (err POWER, SPEC 4), the flow says so at once and
    lights the LEDs of a failure; the slot keeps its power."""
    tb = await HotPlugTB(dut).start()
    hw = tb.top.bios.hw

    async def assign_the_spare():
        await tb.top.assign(3, tb.mm.total_lines, LINES)

    tb.bus.before(agent_offset(3, "SLOT_CTRL"), lambda v: not _SLOT_CTRL.power_en.get(v),
                  assign_the_spare)
    rec = await tb.press(3)
    assert rec.kind == "remove-spare"
    await tb.hp.wait_idle()
    assert await tb.leds(3) == (Led.ON, Led.ON, 1)
    assert rec.outcome == "failed" and "POWER" in rec.detail, rec
    st = await hw.status(3)
    assert (st.mode, st.power_good) == (Mode.ACTIVE, True), st
    await tb.finish()


@cocotb.test()
async def hot_add_then_remove_the_spare(dut):
    tb = await HotPlugTB(dut, capacities=(12, 12, 13, None)).start()
    tb.top.slots[3].insert(13)
    await tb.top.cycles(50)
    assert await tb.mode(3) == Mode.OFF
    rec = await tb.press(3)
    assert rec.kind == "add"
    await tb.hp.wait_idle()
    assert rec.outcome == "done"
    assert await tb.leds(3) == (Led.ON, Led.OFF, 1)
    assert await tb.mode(3) == Mode.IDLE
    assert await tb.top.bios.hw.read_reg(3, "CAPACITY") == 8192
    assert tb.mm.published() == tuple((r.base_line, r.size_lines) for r in tb.mm.ranges)
    rec = await tb.press(3)
    assert rec.kind == "remove-spare"
    await tb.hp.wait_idle()
    assert await tb.leds(3) == (Led.OFF, Led.OFF, 0)
    assert await tb.mode(3) == Mode.OFF


@cocotb.test()
async def failed_migration_keeps_the_module(dut):
    tb = await HotPlugTB(dut).start()
    tb.faults[1].read_lines.add(LINES * 3 // 4)
    rec = await tb.press(1)
    await tb.hp.wait_idle()
    assert rec.outcome == "failed" and "MEM_ERROR" in rec.detail, rec
    assert await tb.leds(1) == (Led.ON, Led.ON, 1)
    assert await tb.mode(1) == Mode.ACTIVE
    assert await tb.mode(3) == Mode.IDLE
    tb.faults[1].clear()
    await tb.finish()


@cocotb.test()
async def two_presses_two_migrations_at_once(dut):
    tb = await HotPlugTB(dut, capacities=(11, 11, 11, None)).start(traffic_load=0.4)
    tb.top.slots[3].insert(11)
    add = await tb.press(3)
    await tb.hp.wait_idle()
    assert add.outcome == "done"          # now two spares: 0 (from boot) and 3
    a = cocotb.start_soon(tb.press(1))
    b = cocotb.start_soon(tb.press(2))
    ra, rb = await a, await b
    await tb.finish()
    assert ra.outcome == rb.outcome == "done"
    assert {ra.moved_to, rb.moved_to} == {0, 3}


@cocotb.test()
async def spare_losing_power_aborts_cleanly(dut):
    """The spare's module is pulled mid-migration: the pair aborts, the master keeps
    serving every line, the user is told."""
    tb = await HotPlugTB(dut).start(traffic_load=0.3)
    rec = await tb.press(2)
    await tb.top.cycles(WINDOW + 800)
    assert await tb.mode(2) == Mode.MIRROR_MASTER
    tb.top.slots[3].remove()
    await tb.finish()
    assert rec.outcome == "failed", rec
    assert await tb.mode(2) == Mode.ACTIVE
    assert await tb.mode(3) == Mode.OFF
    assert await tb.leds(2) == (Led.ON, Led.ON, 1)


@cocotb.test()
async def active_module_pulled_answers_errors(dut):
    """The one case that loses data: accesses to the pulled module's range end with an
    error (never OKAY with garbage) and never hang; the other ranges are untouched."""
    tb = await HotPlugTB(dut).start()
    top, mm = tb.top, tb.mm
    lost = mm.range_of(1)
    pending = [cocotb.start_soon(top.host.read(lost.base_line * 8 + i * 64, 64))
               for i in range(8)]
    top.slots[1].remove()
    for p in pending:
        r = await p
        assert r.resp in (AxiResp.OKAY, AxiResp.SLVERR, AxiResp.DECERR)
    await top.cycles(50)
    for line in (lost.base_line, lost.end_line - 1):
        r = await top.host.read(line * 8, 8)
        assert r.resp != AxiResp.OKAY, "a pulled module answered OKAY"
        w = await top.host.write(line * 8, b"\x01" * 8)
        assert w.resp != AxiResp.OKAY
    assert await tb.mode(1) == Mode.OFF
    for _ in range(100):       # the event loop reports it when it handles the event
        if tb.hp.lost:
            break
        await top.cycles(20)
    assert tb.hp.lost == [(1, lost)], "the firmware reports the loss"
    for r in mm.ranges:
        if r != lost:
            got = await top.host.read(r.base_line * 8, 64)
            assert got.resp == AxiResp.OKAY
            assert got.data == tb.sb.expect(r.base_line * 8, 64)


# ---- pytest entry -------------------------------------------------------------------------

#: The cocotb tests of this file, in the order they are written.
TESTS = [obj.name for obj in list(globals().values())
         if isinstance(obj, regression.TestGenerator)]


def test_every_cocotb_test_is_collected():
    assert len(TESTS) >= 11 and "refused_establish_is_shown_and_changes_nothing" in TESTS


@pytest.mark.parametrize("testcase", TESTS)
def test_hotplug(testcase):
    run_tests(__file__, "mirrorswap_top", sources=[shared_top()], testcase=testcase)
