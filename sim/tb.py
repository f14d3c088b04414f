"""The bench for ``mirrorswap_top``: clock, reset, bus models, memory slots."""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadWrite, RisingEdge
from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster, AxiMaster, AxiRam, AxiResp

from rtl import regmap
from rtl.regmap import Err, Mode, Op, agent_offset, agent_reg

__all__ = ["SlotModel", "TopTB", "pauses"]

_STATUS = agent_reg("STATUS")
_CMD = agent_reg("CMD")


def pauses(rng, probability):
    """A cocotbext-axi pause generator: pause each cycle with ``probability``."""
    while True:
        yield rng.random() < probability


class SlotModel:
    """One memory slot: a module (present, capacity), its supply, its button, its RAM.

    The supply raises ``power_good`` ``power_good_delay`` cycles after ``power_en`` while a
    module is seated, and drops it at once when either goes. A module loses its contents
    when its power drops, and a freshly inserted one holds random garbage. The RAM model
    (the module and its memory controller) is held in reset while the slot has no power:
    it answers nothing and forgets what it had in flight.
    """

    def __init__(self, tb, index, capacity_log2, rng, power_good_delay=20, max_log2=16):
        self.tb = tb
        self.index = index
        self.rng = rng
        self.power_good_delay = power_good_delay
        dut = tb.dut
        self.pins = {name: getattr(dut, f"slot{index}_{name}")
                     for name in ("present", "capacity_log2", "power_good", "button",
                                  "power_en", "power_led", "attn_led")}
        self.ram = AxiRam(AxiBus.from_prefix(dut, f"m_axi_mem{index}"), dut.clk,
                          self.pins["power_good"], reset_active_level=False,
                          size=(1 << max_log2) * 8)
        self.capacity_log2 = None
        self.pins["button"].value = 0
        self.pins["power_good"].value = 0
        self.pins["present"].value = 0
        self.pins["capacity_log2"].value = 0
        if capacity_log2 is not None:
            self.insert(capacity_log2)
        cocotb.start_soon(self._supply())

    @property
    def lines(self):
        return 0 if self.capacity_log2 is None else 1 << self.capacity_log2

    def insert(self, capacity_log2):
        self.capacity_log2 = capacity_log2
        self.garbage()
        self.pins["capacity_log2"].value = capacity_log2
        self.pins["present"].value = 1

    def remove(self):
        """Pull the module out (even while powered)."""
        self.pins["present"].value = 0
        self.pins["power_good"].value = 0
        self.capacity_log2 = None

    def garbage(self):
        if self.lines:
            self.ram.write(0, self.rng.randbytes(self.lines * 8))

    async def _supply(self):
        clk = self.tb.dut.clk
        en, good, present = self.pins["power_en"], self.pins["power_good"], self.pins["present"]
        while True:
            await RisingEdge(clk)
            on = int(en.value) and int(present.value)
            if on and not int(good.value):
                await ClockCycles(clk, self.power_good_delay)
                if int(en.value) and int(present.value):
                    good.value = 1
            elif not on and int(good.value):
                good.value = 0
                self.garbage()   # DRAM without power forgets

    async def press_button(self, hold=200, bounces=3, settle=100):
        """A human press: contact bounce, a hold, bounce again on release, and the button
        left alone for ``settle`` cycles (longer than DEBOUNCE: a finger is not faster)."""
        clk = self.tb.dut.clk
        button = self.pins["button"]
        for level, cycles in ([(1, self.rng.randint(1, 4)), (0, self.rng.randint(1, 3))] *
                              bounces + [(1, hold)] +
                              [(0, self.rng.randint(1, 3)), (1, self.rng.randint(1, 3))] *
                              bounces + [(0, settle)]):
            await ReadWrite()
            button.value = level
            await ClockCycles(clk, cycles)


class TopTB:
    """Everything a ``mirrorswap_top`` bench needs.

    Members: ``host`` (AxiMaster on ``s_axi``), ``regs`` (AxiLiteMaster on ``s_axil``),
    ``slots`` (:class:`SlotModel` per agent), ``mems`` (their RAMs), ``bus`` and ``bios``
    (the firmware on the register port).
    """

    def __init__(self, dut, capacities_log2=(13, 12, 12, 13), seed=1, power_good_delay=20):
        self.dut = dut
        self.rng = random.Random(seed)
        self.agents = len(capacities_log2)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.host = AxiMaster(AxiBus.from_prefix(dut, "s_axi"), dut.clk, dut.rst)
        self.regs = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        self.slots = [SlotModel(self, i, c, random.Random(self.rng.random()), power_good_delay)
                      for i, c in enumerate(capacities_log2)]
        self.mems = [s.ram for s in self.slots]
        from firmware.bios import Bios
        from firmware.regbus import AxiLiteBus as RegBus
        self.bus = RegBus(self.regs, dut.clk, dut.irq)
        self.bios = Bios(self.bus)

    def set_backpressure(self, probability, seed=None):
        """Random pauses on every channel of every memory port and on the host's R and B."""
        rng = random.Random(seed if seed is not None else self.rng.random())
        for mem in self.mems:
            for ch in (mem.read_if.ar_channel, mem.read_if.r_channel,
                       mem.write_if.aw_channel, mem.write_if.w_channel,
                       mem.write_if.b_channel):
                ch.set_pause_generator(pauses(rng, probability) if probability else None)
        for ch in (self.host.read_if.r_channel, self.host.write_if.b_channel):
            ch.set_pause_generator(pauses(rng, probability / 2) if probability else None)

    async def reset(self):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 4)
        self.dut.rst.value = 0
        await ClockCycles(self.dut.clk, 4)

    async def cycles(self, n):
        await ClockCycles(self.dut.clk, n)

    # ---- raw register access, for benches that test the registers themselves -------------
    async def read(self, agent, name):
        r = await self.regs.read(agent_offset(agent, name), 4)
        assert r.resp == AxiResp.OKAY, (agent, name, r.resp)
        return int.from_bytes(r.data, "little")

    async def write(self, agent, name, value):
        r = await self.regs.write(agent_offset(agent, name), int(value).to_bytes(4, "little"))
        return r.resp

    async def status(self, agent):
        value = await self.read(agent, "STATUS")
        return {f.name: f.get(value) for f in _STATUS.fields}

    async def command(self, agent, op, peer=0):
        """Issue a command, wait until it is no longer busy, return its err."""
        await self.write(agent, "CMD", _CMD.peer.put(_CMD.opcode.put(0, op), peer))
        while True:
            st = await self.status(agent)
            if not st["busy"]:
                return st["err"]

    async def power_up(self):
        for i in range(self.agents):
            await self.write(i, "SLOT_CTRL", agent_reg("SLOT_CTRL").power_en.put(0, 1))
        for i in range(self.agents):
            while (await self.status(i))["mode"] != Mode.IDLE:
                await ClockCycles(self.dut.clk, 10)

    async def assign(self, agent, base, size):
        await self.write(agent, "BASE", base)
        await self.write(agent, "SIZE", size)
        err = await self.command(agent, Op.ASSIGN)
        assert err == Err.OK, (agent, err)

    async def snapshot(self):
        """Every agent register but CMD, STATUS.err masked: what a refusal must not change."""
        snap = {}
        for i in range(self.agents):
            for reg in regmap.AGENT_REGS:
                if reg.access is regmap.Access.WO:
                    continue
                value = await self.read(i, reg.name)
                if reg.name == "STATUS":
                    value = _STATUS.err.put(value, 0)
                snap[(i, reg.name)] = value
        return snap
