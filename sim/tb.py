"""The bench for ``mirrorswap_top``: clock, reset, bus models, memory slots.

In the habit of the verilog-axi / taxi benches: one :class:`TopTB` owns the clock, the
reset, every bus model and the back-pressure generators; tests are coroutines that take a
``TopTB`` and drive it. The small helpers every bench shares live here too: :func:`knob`
(the ``MS_`` knobs of ``sim.runner.run_tests``), :func:`reset_dut`, :func:`pauses`,
:func:`agents_of` and :class:`WriteCreditWatch`.
"""

import os
import random
import re

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Edge, Event, First, ReadOnly, ReadWrite, RisingEdge
from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster, AxiMaster, AxiProt, AxiRam, AxiResp

from mirrorswap import regmap
from mirrorswap.geometry import Geometry
from mirrorswap.regmap import Err, Mode, Op, agent_offset, agent_reg
from mirrorswap.sim.memory import (PipelinedMemory, add_read_latency, check_capacity,
                                   store_poison)

__all__ = ["SECURE", "SlotModel", "TopTB", "WriteCreditWatch", "pauses", "agents_of", "knob",
           "reset_dut"]

_STATUS = agent_reg("STATUS")
_CMD = agent_reg("CMD")
#: AxPROT of a secure, unprivileged data access (cocotbext-axi's default is non-secure)
SECURE = AxiProt(0)


def pauses(rng, probability):
    """A cocotbext-axi pause generator: pause each cycle with ``probability``."""
    while True:
        yield rng.random() < probability


def agents_of(dut):
    """Number of agents of a ``mirrorswap_top``, or of a board top around one: its
    ``slot<i>_present`` pins, one per memory slot."""
    found = {int(m.group(1)) for name in dir(dut)
             if (m := re.fullmatch(r"slot(\d+)_present", name))}
    if not found or found != set(range(len(found))):
        raise ValueError(f"{dut._name} has no consecutive slot<i>_present pins: "
                         f"{sorted(found)}")
    return len(found)


def knob(name, default, kind=int):
    """A bench's knob: ``$MS_<NAME>`` converted by ``kind``, else ``default``.

    ``sim.runner.run_tests(params={"seed": 2})`` reaches the bench as ``MS_SEED=2``; the
    prefix keeps generic names (LINES, SEED) clear of what terminals and tools set.
    """
    text = os.environ.get(f"MS_{name.upper()}")
    return default if text is None else kind(text)


class WriteCreditWatch:
    """Watches an AXI write port (its cocotbext-axi ``aw`` and ``b`` buses) every cycle.

    Asserts that an AW shown without READY stays, with the same address and length,
    until accepted, and that no source has more than ``limit`` write bursts unanswered;
    ``peak`` holds the most each reached. ``ids``: the AW IDs to count apart (each a
    source); ``None`` counts every burst as one source, ``0``.
    """

    def __init__(self, clk, aw, b, limit, ids=None):
        self._clk, self._aw, self._b, self._limit = clk, aw, b, limit
        self._by_id = ids is not None
        self.open = dict.fromkeys(ids if self._by_id else (0,), 0)
        self.peak = dict(self.open)
        cocotb.start_soon(self._run())

    async def _run(self):
        aw, b = self._aw, self._b
        held = None
        while True:
            await RisingEdge(self._clk)
            await ReadOnly()
            valid, ready = int(aw.awvalid.value), int(aw.awready.value)
            shown = (int(aw.awaddr.value), int(aw.awlen.value),
                     int(aw.awid.value) if self._by_id else 0)
            if held is not None:
                assert valid and shown == held, "AW changed or withdrawn before its READY"
            held = shown if valid and not ready else None
            if valid and ready:
                self.open[shown[2]] += 1
            if int(b.bvalid.value) and int(b.bready.value):
                self.open[int(b.bid.value) if self._by_id else 0] -= 1
            for source, n in self.open.items():
                assert n <= self._limit, f"source {source}: {n} write bursts unanswered"
                self.peak[source] = max(self.peak[source], n)


async def reset_dut(dut, cycles=3):
    """Hold the synchronous ``rst`` of any bench's DUT for ``cycles``, then as long idle."""
    dut.rst.value = 1
    await ClockCycles(dut.clk, cycles)
    dut.rst.value = 0
    await ClockCycles(dut.clk, cycles)


class SlotModel:
    """One memory slot: a module (present, capacity), its supply, its button, its RAM.

    The supply raises ``power_good`` ``power_good_delay`` cycles after ``power_en`` while a
    module is seated, and drops it at once when either goes. A module loses its contents
    when its power drops, and a freshly inserted one holds random garbage. The RAM model
    (the module and its memory controller) is held in reset while the slot has no power:
    it answers nothing and forgets what it had in flight.

    The RAM is sized for the largest module the slot takes (``max_log2``), because modules
    of different sizes come and go while the AxiRam stays bound to the port;
    :attr:`capacity` records any access past the seated module's end (the RTL must make
    none) and :attr:`latency` adds row-miss read latency (0 cycles by default).

    With ``pipelined`` the RAM serves its port through :class:`sim.memory.PipelinedMemory`
    (one beat per cycle on every channel at any latency, :attr:`pipeline`), for the
    performance benches; :attr:`latency` then stays 0.

    The memory stores poison (:class:`sim.memory.Poison`, :attr:`poison`: ``wuser``
    marks a line, ``ruser`` reports it) unless ``poison`` is False (a memory without
    poison support: ``ruser`` tied 0, ``wuser`` ignored). Storing it is harmless where no
    bench asks for it: only a W beat with ``wuser`` = 1 or :meth:`Poison.poison` makes a
    line poisoned, and with RAS_CTRL = 0 the design never writes ``wuser`` = 1. A module
    forgets its poison with its data when its power drops or it is replaced.

    :meth:`power_fail` makes the supply fail (``power_good`` drops with ``power_en`` and
    the module still there) until :meth:`power_restore`.

    Members: ``ram`` (the AxiRam; backdoor ``ram.read/write`` at module-local byte
    addresses), ``pins``, ``lines`` (0 when no module is seated), ``capacity``,
    ``latency``, ``pipeline`` (None unless ``pipelined``), ``poison``.
    """

    def __init__(self, tb, index, capacity_log2, rng, power_good_delay=20, max_log2=16,
                 pipelined=False, poison=True):
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
                          size=(1 << max_log2) * tb.geometry.line_bytes)
        # first: poison sits next to the storage, under every other wrapper
        self.poison = store_poison(self.ram, supported=poison)
        self.supply_failed = False
        self._supply_changed = Event()
        self.capacity = check_capacity(self.ram, lambda: self.lines)
        self.latency = add_read_latency(self.ram, dut.clk)
        self.pipeline = PipelinedMemory(self.ram, dut.clk) if pipelined else None
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
        """Seat a fresh module of 2**capacity_log2 lines: it holds random garbage."""
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
        """What DRAM holds after power-up, and what an unpowered module keeps: noise
        (and no poison)."""
        self.poison.clear()
        if self.lines:
            self.ram.write(0, self.rng.randbytes(self.lines * self.tb.geometry.line_bytes))

    def power_fail(self):
        """The supply fails now: ``power_good`` drops (the module loses its contents)
        although ``power_en`` is on and the module seated, and stays low until
        :meth:`power_restore`."""
        self.supply_failed = True
        if int(self.pins["power_good"].value):
            self.pins["power_good"].value = 0
            self.garbage()

    def power_restore(self):
        """The supply works again: ``power_good`` follows ``power_en`` as usual."""
        self.supply_failed = False
        self._supply_changed.set()      # the supply process sleeps until something changes

    async def _supply(self):
        clk = self.tb.dut.clk
        en, good, present = self.pins["power_en"], self.pins["power_good"], self.pins["present"]
        while True:
            await RisingEdge(clk)
            on = int(en.value) and int(present.value) and not self.supply_failed
            if on and not int(good.value):
                await ClockCycles(clk, self.power_good_delay)
                if int(en.value) and int(present.value) and not self.supply_failed:
                    good.value = 1
            elif not on and int(good.value):
                good.value = 0
                self.garbage()   # DRAM without power forgets
            else:
                # stable: nothing to do until one of the three pins changes (checked again
                # at the next rising edge, as before); sleeping here instead of waking on
                # every edge makes the whole bench about a quarter faster
                self._supply_changed.clear()
                await First(Edge(en), Edge(present), Edge(good), self._supply_changed.wait())

    async def press_button(self, hold=200, bounces=3, settle=100):
        """A human press: ``bounces`` short random pulses (contact bounce, 0 for a clean
        edge), a hold of ``hold`` cycles, bounce again on release, and the button left
        alone for ``settle`` cycles (longer than DEBOUNCE: a finger is not faster)."""
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

    Starts a 10 ns clock on ``clk`` and binds: ``host`` (AxiMaster on ``s_axi``), ``regs``
    (AxiLiteMaster on ``s_axil``), ``slots`` (a :class:`SlotModel` per agent, i.e. per
    ``m_axi_mem<i>`` port of the DUT) and ``mems`` (their RAMs), and, when the firmware
    package is importable, ``bus`` (``firmware.regbus.AxiLiteBus`` on ``regs``, seeing
    ``irq``) and ``bios`` (``firmware.bios.Bios`` on it); otherwise both are None.
    ``agents``, ``ids`` (how many AXI IDs the host port takes) and ``geometry`` (the
    line size, :class:`mirrorswap.geometry.Geometry`) are read from the DUT's ports, so
    one bench runs at any elaboration parameters. Register accesses of the
    helpers below and of ``bus`` are secure (``AxPROT[1]`` = 0), as firmware's are
    (SPEC section 8), so they work whether or not LOCK is set; a bench of the refusal of
    non-secure writes passes ``secure=False``.

    Parameters
    ----------
    capacities_log2 : sequence of (int or None), optional
        Module per slot (None: empty slot). Default: 2^12 lines in every slot but the
        last, which holds 2^13 (the BIOS makes the largest module the spare).
    seed : int
        Seeds :attr:`rng`, from which every random choice of the bench is drawn
        (garbage, bounce, back-pressure), so a run reproduces from its seed.
    power_good_delay : int
        Cycles from ``power_en`` to ``power_good``.
    max_capacity_log2 : int
        Largest module a slot takes (the RTL's elaboration parameter).
    memory : str
        ``"axiram"`` (default): cocotbext-axi's ``AxiRam`` with the row-miss
        :class:`sim.memory.ReadLatency`; ``"pipelined"``: the same RAM served through
        :class:`sim.memory.PipelinedMemory` (one beat per cycle per channel, fixed read
        and write-response latency), what the performance bench uses.
    poison : bool or sequence of bool
        Whether each slot's memory stores poison (:attr:`SlotModel.poison`); one value for
        every slot or one per slot. Default True: harmless where unused (see
        :class:`SlotModel`).
    """

    def __init__(self, dut, capacities_log2=None, seed=1, power_good_delay=20,
                 max_capacity_log2=16, memory="axiram", poison=True):
        if memory not in ("axiram", "pipelined"):
            raise ValueError(f"Memory model must be 'axiram' or 'pipelined', not {memory!r}")
        self.dut = dut
        self.rng = random.Random(seed)
        self.agents = agents_of(dut)
        self.ids = 1 << len(dut.s_axi_awid)
        self.geometry = Geometry(len(dut.s_axi_wdata))
        if capacities_log2 is None:
            capacities_log2 = (12,) * (self.agents - 1) + (13,)
        if len(capacities_log2) != self.agents:
            raise ValueError(f"{self.agents} slots need {self.agents} capacities, not "
                             f"{len(capacities_log2)}: {tuple(capacities_log2)}")
        poison = ((bool(poison),) * self.agents if isinstance(poison, (bool, int))
                  else tuple(map(bool, poison)))
        if len(poison) != self.agents:
            raise ValueError(f"{self.agents} slots need {self.agents} poison flags, not "
                             f"{len(poison)}")
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.host = AxiMaster(AxiBus.from_prefix(dut, "s_axi"), dut.clk, dut.rst)
        self.regs = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        self.slots = [SlotModel(self, i, c, random.Random(self.rng.random()), power_good_delay,
                                max_capacity_log2, pipelined=memory == "pipelined",
                                poison=poison[i])
                      for i, c in enumerate(capacities_log2)]
        self.mems = [s.ram for s in self.slots]
        try:
            from mirrorswap.firmware.bios import Bios
            from mirrorswap.firmware.regbus import AxiLiteBus as RegBus
        except ImportError:      # benches of the bare RTL need no firmware
            self.bus = self.bios = None
        else:
            self.bus = RegBus(self.regs, dut.clk, dut.irq)
            self.bios = Bios(self.bus)

    # ---- back-pressure and latency --------------------------------------------------------
    def _channels(self, host=True):
        for mem in self.mems:
            yield from (mem.read_if.ar_channel, mem.read_if.r_channel,
                        mem.write_if.aw_channel, mem.write_if.w_channel,
                        mem.write_if.b_channel)
        if host:
            # on the master's own request channels a pause is an idle cycle between
            # transfers; on R and B it is the host not ready
            yield from (self.host.write_if.aw_channel, self.host.write_if.w_channel,
                        self.host.read_if.ar_channel, self.host.read_if.r_channel,
                        self.host.write_if.b_channel)

    def set_backpressure(self, pattern, seed=None, host=True):
        """Pauses on every AXI channel of every memory port and (``host``) of the host port.

        ``pattern`` is a pause probability per cycle (0 or None: none), each channel
        drawing from its own generator seeded from ``seed`` (default: the bench's rng);
        or a callable returning a fresh pause iterator per channel, for fixed patterns such
        as ``lambda: itertools.cycle([1, 1, 1, 0])``.
        """
        rng = random.Random(seed if seed is not None else self.rng.random())
        for ch in self._channels(host):
            if not pattern:
                ch.set_pause_generator(None)
            elif callable(pattern):
                ch.set_pause_generator(pattern())
            else:
                ch.set_pause_generator(pauses(random.Random(rng.random()), pattern))

    def set_memory_latency(self, cycles, write_cycles=None):
        """Row-miss read latency of every module (see :class:`sim.memory.ReadLatency`);
        with the pipelined memory, its read latency (``cycles``, at least 1) and write
        response latency (``write_cycles``, default: unchanged)."""
        for slot in self.slots:
            if slot.pipeline is None:
                slot.latency.cycles = cycles
            else:
                slot.pipeline.read_latency = max(1, cycles)
                if write_cycles is not None:
                    slot.pipeline.write_latency = max(1, write_cycles)

    def capacity_violations(self):
        """Text of every slot whose module saw an access past its end (empty: none)."""
        return [f"slot {s.index}: {s.capacity}" for s in self.slots if s.capacity.violations]

    async def reset(self):
        """Hold ``rst`` for 4 cycles (the SPEC needs one), then let 4 cycles pass."""
        await reset_dut(self.dut, cycles=4)

    async def cycles(self, n):
        await ClockCycles(self.dut.clk, n)

    # ---- raw register access, for benches that test the registers themselves -------------
    async def read_offset(self, offset, *, secure=True):
        """(value, resp) of a read of the register at byte ``offset``."""
        r = await self.regs.read(offset, 4, prot=SECURE if secure else AxiProt.NONSECURE)
        return int.from_bytes(r.data, "little"), r.resp

    async def write_offset(self, offset, value, *, secure=True):
        """Write ``value`` to the register at byte ``offset``; returns the response."""
        r = await self.regs.write(offset, int(value).to_bytes(4, "little"),
                                  prot=SECURE if secure else AxiProt.NONSECURE)
        return r.resp

    async def read(self, agent, name):
        value, resp = await self.read_offset(agent_offset(agent, name))
        assert resp == AxiResp.OKAY, (agent, name, resp)
        return value

    async def write(self, agent, name, value, *, secure=True):
        return await self.write_offset(agent_offset(agent, name), value, secure=secure)

    async def read_global(self, name):
        value, resp = await self.read_offset(regmap.global_reg(name).offset)
        assert resp == AxiResp.OKAY, (name, resp)
        return value

    async def write_global(self, name, value, *, secure=True):
        return await self.write_offset(regmap.global_reg(name).offset, value, secure=secure)

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
