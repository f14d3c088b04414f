# amaranth: UnusedElaboratable=no
"""HostReadEngine (rtl/host_port.py), on its generated Verilog.

A cocotbext-axi ``AxiMasterRead`` on the host side ``s`` and an ``AxiRamRead`` holding
random data on every ``mem<i>`` port, under random layouts of the route table (the
reference of tests/test_host_write_engine.py says which agent and module-local address
each read must reach). The bench checks every memory AR against it, the data and the
response of every beat, that bursts come back whole and in the order the engine
accepted them (so in order per ID), that no more than ``outstanding`` bursts are in
flight at the memories and that this many are reached when memories are slow, and
``idle``.

Then: reads of unowned lines answer DECERR on every beat and reach no memory; bursts that
are not INCR, wider than the bus or crossing 4 KiB answer SLVERR on every beat; a memory
error answers its beat SLVERR and pulses ``rd_err`` with its line; a burst from a fast
agent waits behind an older one from a slow agent; ``hold`` stops new bursts. Run over
seeds, 1, 2 and 4 agents, and the smallest queue.
"""

import collections
import os
import random
from types import SimpleNamespace

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, ReadWrite, RisingEdge
from cocotbext.axi import AxiBurstType, AxiMasterRead, AxiRamRead, AxiReadBus, AxiResp

from mirrorswap.regmap import LINE_BYTES, Mode, RANGE_ALIGN
from mirrorswap.rtl.host_port import HostReadEngine
from mirrorswap.sim.memory import add_read_latency, inject_faults
from mirrorswap.sim.routes import (PAGE, RAM_BYTES, Route, local, owner, pack_routes,
                                   random_access, random_layout, unowned_pages)
from mirrorswap.sim.runner import run_tests
from mirrorswap.sim.tb import pauses, reset_dut

AGENTS = int(os.environ.get("MS_AGENTS", "2"))
SEED = int(os.environ.get("MS_SEED", "1"))
OUTSTANDING = int(os.environ.get("MS_OUTSTANDING", "8"))


def beat_addresses(addr, arlen, size):
    """Byte address of every beat of an INCR burst (the first one unaligned)."""
    nb = 1 << size
    aligned = addr - addr % nb
    return [addr] + [aligned + k * nb for k in range(1, arlen + 1)]


class ReadEngineTB:
    """Clock, reset, the host master, one ``AxiRamRead`` of random data per agent, and
    the monitors.

    ``pause``: probability that each RAM channel end and the host's R pause in a cycle.
    ``master=False`` leaves the host port to :meth:`raw_read`. ``faults[i]`` (from
    :func:`sim.memory.inject_faults`) and ``latency[i]`` (:func:`add_read_latency`) act
    on module i. The monitors keep, per cycle:

    - ``bursts``: the host bursts accepted and not yet answered, oldest first, each with
      the response every beat must carry (from the route table and the faults);
    - ``ars[i]`` / ``want_ars[i]``: the memory ARs seen / due on ``mem<i>``;
    - ``in_flight`` / ``peak``: bursts issued to the memories and not yet answered;
    - ``reports``: ``(agent, line)`` of every ``rd_err`` pulse;
    - ``errors``: every broken rule, with the cycle (asserted empty by :meth:`check`).
    """

    def __init__(self, dut, pause=0.0, master=True):
        self.dut = dut
        self.rng = random.Random(SEED)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.host = None
        if master:
            self.host = AxiMasterRead(AxiReadBus.from_prefix(dut, "s"), dut.clk, dut.rst)
        else:
            for name in ("arvalid", "rready", "arid", "araddr", "arlen", "arsize",
                         "arburst", "arlock", "arcache", "arprot", "arqos"):
                getattr(dut, f"s_{name}").value = 0
        self.mems = [AxiRamRead(AxiReadBus.from_prefix(dut, f"mem{i}"), dut.clk, dut.rst,
                                size=RAM_BYTES) for i in range(AGENTS)]
        for ram in self.mems:
            ram.write(0, self.rng.randbytes(RAM_BYTES))
        self.faults = [inject_faults(ram, random.Random(self.rng.random()))
                       for ram in self.mems]
        self.latency = [add_read_latency(SimpleNamespace(read_if=ram), dut.clk)
                        for ram in self.mems]
        if pause:
            chans = [c for ram in self.mems for c in (ram.ar_channel, ram.r_channel)]
            if self.host:
                chans.append(self.host.r_channel)
            for ch in chans:
                ch.set_pause_generator(pauses(random.Random(self.rng.random()), pause))
        dut.hold.value = 0
        self.routes = [Route(Mode.OFF, 0, 0, 0)] * AGENTS
        dut.routes.value = 0
        self.cycle = 0
        self.bursts = collections.deque()      # [id, expected beat responses, beats seen]
        self.ars = [[] for _ in range(AGENTS)]
        self.want_ars = [[] for _ in range(AGENTS)]
        self.in_flight = self.peak = 0
        self.reports = []
        self.errors = []
        self.answered = []                      # IDs of the answered bursts, in order
        cocotb.start_soon(self._monitor())

    async def reset(self):
        await reset_dut(self.dut)

    def set_routes(self, routes):
        """Load a route table (only while nothing is in flight, as the controller does)."""
        self.routes = list(routes)
        self.dut.routes.value = pack_routes(routes)

    def _host_ar(self, arid, addr, arlen, size, burst):
        """A host AR was accepted: the memory AR it must cause, the response of each beat."""
        agent = owner(self.routes, addr)
        bad = (burst != AxiBurstType.INCR or size > 3 or
               (addr - addr % (1 << size)) % PAGE + ((arlen + 1) << size) > PAGE)
        if bad:
            resps = [AxiResp.SLVERR] * (arlen + 1)
        elif agent is None:
            resps = [AxiResp.DECERR] * (arlen + 1)
        else:
            at = local(self.routes, agent, addr)
            self.want_ars[agent].append((at, arlen, size))
            failing = self.faults[agent].read_lines
            resps = [AxiResp.SLVERR if a // LINE_BYTES in failing else AxiResp.OKAY
                     for a in beat_addresses(at, arlen, size)]
        self.bursts.append([arid, resps, 0])

    def _sample(self, name):
        return int(getattr(self.dut, name).value)

    async def _monitor(self):
        s = lambda name: self._sample(f"s_{name}")     # noqa: E731
        while True:
            await RisingEdge(self.dut.clk)
            await ReadOnly()
            self.cycle += 1
            if self._sample("rst"):
                continue
            open_ = len(self.bursts)
            if self._sample("idle") != (open_ == 0):
                self.errors.append(f"cycle {self.cycle}: idle is {self._sample('idle')} "
                                   f"with {open_} bursts open")
            if open_ > OUTSTANDING + 1:
                self.errors.append(f"cycle {self.cycle}: {open_} host bursts open")
            for i in range(AGENTS):
                m = lambda name: self._sample(f"mem{i}_{name}")   # noqa: E731
                if m("arvalid") and m("arready"):
                    self.ars[i].append((m("araddr"), m("arlen"), m("arsize")))
                    if m("arburst") != AxiBurstType.INCR:
                        self.errors.append(f"cycle {self.cycle}: mem{i} AR not INCR")
                    self.in_flight += 1
                    self.peak = max(self.peak, self.in_flight)
                    if self.in_flight > OUTSTANDING:
                        self.errors.append(f"cycle {self.cycle}: {self.in_flight} bursts "
                                           f"at the memories, more than {OUTSTANDING}")
                if m("rvalid") and m("rready") and m("rlast"):
                    self.in_flight -= 1
            if self._sample("rd_err_valid"):
                self.reports.append((self._sample("rd_err_agent"),
                                     self._sample("rd_err_line")))
            if s("rvalid") and s("rready"):
                self._host_r(s("rid"), s("rresp"), s("rlast"))
            if s("arvalid") and s("arready"):
                self._host_ar(s("arid"), s("araddr"), s("arlen"), s("arsize"), s("arburst"))

    def _host_r(self, rid, rresp, rlast):
        """A host R beat: it must belong to the oldest open burst, in its place."""
        if not self.bursts:
            self.errors.append(f"cycle {self.cycle}: R beat with no burst open")
            return
        burst = self.bursts[0]
        arid, resps, k = burst
        where = f"cycle {self.cycle}: beat {k} of the burst of ID {arid}"
        if rid != arid:
            self.errors.append(f"{where} came with ID {rid} (out of order)")
        if k < len(resps) and rresp != resps[k]:
            self.errors.append(f"{where} is {AxiResp(rresp).name}, want {resps[k].name}")
        if rlast != (k == len(resps) - 1):
            self.errors.append(f"{where} of {len(resps)}: RLAST {rlast}")
        burst[2] += 1
        if rlast or burst[2] >= len(resps):
            self.bursts.popleft()
            self.answered.append(arid)

    def check(self):
        """Every rule held and every memory AR was due and came."""
        assert not self.errors, "\n".join(self.errors[:10])
        assert not self.bursts and self.in_flight == 0, "reads left unanswered"
        for i in range(AGENTS):
            assert self.ars[i] == self.want_ars[i], \
                f"mem{i}: ARs {self.ars[i][:8]}..., want {self.want_ars[i][:8]}..."

    def want_data(self, addr, length):
        """What a read must return: the owner's bytes (None when it has no owner)."""
        agent = owner(self.routes, addr)
        if agent is None:
            return None
        at = local(self.routes, agent, addr)
        return self.mems[agent].read(at, length)

    async def read(self, addr, length, arid=0, size=3):
        """One host read through the master; checks data and response (beat by beat the
        monitor checks too)."""
        resp = await self.host.read(addr, length, arid=arid, size=size)
        want = self.want_data(addr, length)
        if want is None:
            assert resp.resp == AxiResp.DECERR, f"read {addr:#x}: {resp.resp.name}"
        else:
            assert resp.data == want, f"read {addr:#x}+{length}: wrong data"
        return resp

    async def raw_read(self, addr, arlen, size=3, burst=AxiBurstType.INCR, arid=0):
        """One burst driven by hand (``master=False``), any geometry; returns the
        ``(rid, rresp, rlast)`` of every beat up to the first RLAST."""
        dut = self.dut
        await ReadWrite()
        for name, v in (("arid", arid), ("araddr", addr), ("arlen", arlen),
                        ("arsize", size), ("arburst", burst), ("arvalid", 1)):
            getattr(dut, f"s_{name}").value = int(v)
        await self._handshake("ar")
        dut.s_arvalid.value = 0
        dut.s_rready.value = 1
        got = []
        while not got or not got[-1][2]:
            await self._handshake("r")
            got.append(self._last_r)
        dut.s_rready.value = 0
        return got

    async def _handshake(self, ch):
        """Wait for the clock edge that completes a handshake on host channel ``ch``
        (keeping an R beat in ``_last_r``), then for the moment the next cycle's inputs
        may be driven."""
        while True:
            await ReadOnly()
            done = self._sample(f"s_{ch}valid") and self._sample(f"s_{ch}ready")
            if done and ch == "r":
                self._last_r = (self._sample("s_rid"), self._sample("s_rresp"),
                                self._sample("s_rlast"))
            await RisingEdge(self.dut.clk)
            if done:
                break
        await ReadWrite()


async def make(dut, pause=0.0, master=True, mirrors=True):
    """A reset :class:`ReadEngineTB` with a random route table."""
    tb = ReadEngineTB(dut, pause, master)
    await tb.reset()
    tb.set_routes(random_layout(tb.rng, AGENTS, mirrors))
    return tb


def _routes(*head):
    """``head`` for the first agents, OFF for the rest."""
    return list(head)[:AGENTS] + [Route(Mode.OFF, 0, 0, 0)] * (AGENTS - len(head[:AGENTS]))


@cocotb.test(timeout_time=500, timeout_unit="us")
async def random_reads_from_their_owners(dut):
    """Concurrent random reads of every size and alignment, several of each ID in
    flight, under back-pressure."""
    tb = await make(dut, pause=0.3)

    async def reader(rid):
        rng = random.Random(tb.rng.random())
        for _ in range(8):
            batch = []
            for _ in range(rng.randint(1, 3)):
                addr, length, size = random_access(rng, tb.routes, 16)
                batch.append(cocotb.start_soon(tb.read(addr, length, arid=rid, size=size)))
            for task in batch:
                await task

    tasks = [cocotb.start_soon(reader(r)) for r in range(4)]
    for t in tasks:
        await t
    tb.check()
    assert any(tb.ars), "no read reached a module"
    assert len(set(tb.answered)) == 4


@cocotb.test(timeout_time=500, timeout_unit="us")
async def long_bursts(dut):
    """Bursts of up to 256 beats, with pauses."""
    tb = await make(dut, pause=0.2)
    rng = random.Random(tb.rng.random())
    tasks = []
    for k in range(6):
        addr, length, size = random_access(rng, tb.routes, 256)
        tasks.append(cocotb.start_soon(tb.read(addr, length, arid=k % 2, size=size)))
    for t in tasks:
        await t
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us")
async def reads_in_flight(dut):
    """With slow memories, ``outstanding`` bursts are at the memories at once, never
    more, and they come back in order, whole."""
    tb = await make(dut)
    for ram, lat in zip(tb.mems, tb.latency):
        ram.ar_channel.queue_occupancy_limit = -1     # a memory that queues every AR
        lat.cycles = 40
    rng = random.Random(tb.rng.random())
    tasks = []
    routed = [r for r in tb.routes if r.routed]
    for k in range(2 * OUTSTANDING + 2):
        r = routed[k % len(routed)]
        addr = r.base * LINE_BYTES + rng.randrange(0, r.size * LINE_BYTES - 64, 8)
        tasks.append(cocotb.start_soon(tb.read(addr, 64, arid=k % 16)))
    for t in tasks:
        await t
    tb.check()
    assert tb.peak == OUTSTANDING, f"at most {tb.peak} bursts were in flight"


@cocotb.test(timeout_time=500, timeout_unit="us")
async def older_burst_of_a_slow_agent_goes_first(dut):
    """A burst from a fast agent, accepted after one from a slow agent, waits for it:
    data returns in the order the bursts were accepted, across agents. (One agent: two
    bursts of different IDs from one slow module.)"""
    tb = await make(dut)
    two = AGENTS >= 2
    tb.set_routes(_routes(Route(Mode.ACTIVE, 0, RANGE_ALIGN, RANGE_ALIGN),
                          Route(Mode.ACTIVE, 0, 4 * RANGE_ALIGN, RANGE_ALIGN)))
    tb.latency[0].cycles = 60
    slow = cocotb.start_soon(tb.read(RANGE_ALIGN * LINE_BYTES, 128, arid=1))
    await ClockCycles(dut.clk, 8)
    fast_addr = (4 if two else 1) * RANGE_ALIGN * LINE_BYTES + 1024
    fast = cocotb.start_soon(tb.read(fast_addr, 128, arid=2))
    await ClockCycles(dut.clk, 30)
    assert not slow.done() and not fast.done()
    await slow
    await fast
    tb.check()
    assert tb.answered == [1, 2]


@cocotb.test(timeout_time=500, timeout_unit="us")
async def unowned_reads_answer_decerr(dut):
    """Reads of unowned lines, of an OFF or IDLE agent's range and of a slave's range
    answer DECERR on every beat and reach no memory."""
    tb = await make(dut, pause=0.3)
    rng = random.Random(tb.rng.random())
    gaps = unowned_pages(tb.routes)
    addrs = [p * PAGE + rng.randrange(PAGE - 256) for p in rng.sample(gaps, min(4, len(gaps)))]
    addrs += [r.base * LINE_BYTES + rng.randrange(PAGE - 256)
              for r in tb.routes if not r.routed]
    for k, addr in enumerate(addrs):
        assert owner(tb.routes, addr) is None
        await tb.read(addr, rng.randint(1, 256), arid=k % 16)
    tb.check()
    assert not any(tb.ars)


@cocotb.test(timeout_time=500, timeout_unit="us")
async def bad_bursts_answer_slverr(dut):
    """A burst that is not INCR, has beats wider than the bus or crosses 4 KiB answers
    SLVERR on each of its beats, RLAST on the last; an unowned one DECERR; none reaches
    a memory; a good burst after them is served."""
    tb = await make(dut, master=False)
    tb.set_routes(_routes(Route(Mode.ACTIVE, 0, RANGE_ALIGN, 2 * RANGE_ALIGN)))
    base = RANGE_ALIGN * LINE_BYTES
    cases = [
        (base + 64, 3, 3, AxiBurstType.FIXED, AxiResp.SLVERR),
        (base + 64, 3, 3, AxiBurstType.WRAP, AxiResp.SLVERR),
        (base + 64, 3, 4, AxiBurstType.INCR, AxiResp.SLVERR),       # 16-byte beats
        (base + PAGE - 16, 2, 3, AxiBurstType.INCR, AxiResp.SLVERR),  # crosses 4 KiB
        (base + PAGE - 8, 255, 0, AxiBurstType.INCR, AxiResp.SLVERR),
        (0, 255, 3, AxiBurstType.INCR, AxiResp.DECERR),             # unowned, long
        (base + PAGE - 16, 1, 3, AxiBurstType.INCR, AxiResp.OKAY),  # ends at the page
    ]
    for k, (addr, arlen, size, burst, want) in enumerate(cases):
        got = await tb.raw_read(addr, arlen, size, burst, arid=k)
        assert got == [(k, want, int(b == arlen)) for b in range(arlen + 1)], f"case {k}"
    assert tb.ars[0] == [(PAGE - 16, 1, 3)] and not any(tb.ars[1:])
    assert not tb.errors, "\n".join(tb.errors)


@cocotb.test(timeout_time=500, timeout_unit="us")
async def memory_errors_are_reported(dut):
    """A failing line answers its beat SLVERR (the others of the burst OKAY) and pulses
    ``rd_err`` with the agent and that module-local line."""
    tb = await make(dut)
    agent = AGENTS - 1
    tb.set_routes([Route(Mode.ACTIVE if i == agent else Mode.OFF, 0,
                         2 * RANGE_ALIGN if i == agent else 0,
                         RANGE_ALIGN if i == agent else 0) for i in range(AGENTS)])
    base = 2 * RANGE_ALIGN * LINE_BYTES
    tb.faults[agent].read_lines.add(22)
    resp = await tb.host.read(base + 20 * LINE_BYTES, 4 * LINE_BYTES, arid=5)
    assert resp.resp == AxiResp.SLVERR
    assert tb.reports == [(agent, 22)]
    tb.faults[agent].clear()
    tb.reports.clear()
    await tb.read(base + 28 * LINE_BYTES, 4 * LINE_BYTES, arid=6)
    assert tb.reports == [], "an error reported for a read that succeeded"
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us")
async def hold_stops_new_bursts(dut):
    """While ``hold`` is high no AR is taken and ``idle`` stays high; once it falls the
    waiting read is served."""
    tb = await make(dut)
    r = next(r for r in tb.routes if r.routed)
    dut.hold.value = 1
    task = cocotb.start_soon(tb.read(r.base * LINE_BYTES + 128, 40, arid=3))
    await ClockCycles(dut.clk, 30)
    await ReadOnly()
    assert not task.done() and not tb.bursts and dut.s_arready.value == 0
    assert dut.idle.value == 1
    await RisingEdge(dut.clk)
    dut.hold.value = 0
    await task
    tb.check()


# ---- pytest --------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("agents", [1, 2, 4])
def test_host_read_engine(seed, agents):
    run_tests(__file__, "host_read_engine", component=HostReadEngine(agents=agents),
              params={"seed": seed, "agents": agents})


def test_host_read_engine_smallest_queue():
    """``outstanding=2``: the head and one queued burst."""
    run_tests(__file__, "host_read_engine", component=HostReadEngine(agents=2, outstanding=2),
              params={"seed": 1, "agents": 2, "outstanding": 2})


@pytest.mark.parametrize("outstanding, message", [
    (1, "Outstanding bursts must be an integer of at least 2, not 1"),
    (2.0, "Outstanding bursts must be an integer of at least 2, not 2.0"),
])
def test_outstanding_refused(outstanding, message):
    with pytest.raises(ValueError, match=message):
        HostReadEngine(agents=2, outstanding=outstanding)
