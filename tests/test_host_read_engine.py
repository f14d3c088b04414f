# amaranth: UnusedElaboratable=no
"""HostReadEngine (rtl/host_read.py), on its generated Verilog.

A cocotbext-axi ``AxiMasterRead`` on the host side ``s`` and an ``AxiRamRead`` holding
random data on every ``mem<i>`` port, under random layouts of the route table (the
reference of tests/test_host_write_engine.py says which agent and module-local address
each read must reach). The bench checks every memory AR against it, the data and the
response of every beat, that bursts come back whole and in the order the engine
accepted them (so in order per ID), that no more than ``outstanding`` bursts are in
flight at the memories (and the request front's four more being decoded) and that this
many are reached when memories are slow, and ``idle``.

Then: reads of unowned lines answer DECERR on every beat and reach no memory; bursts that
are not INCR, wider than the bus or crossing 4 KiB answer SLVERR on every beat; a memory
error answers its beat SLVERR and pulses ``rd_err`` with its line; a burst from a fast
agent waits behind an older one from a slow agent; ``hold`` stops new bursts. Run over
seeds, 1, 2 and 4 agents, and the smallest queue.

RAS (SPEC section 7): the RAMs also report poison (``ruser``, :func:`report_poison`; it
is left undriven, so X, until a RAM's first beat, which the engine must ignore while
``rvalid`` is low). A poisoned beat answers SLVERR and is reported like a memory error.
With ``mirror[A].failover`` set, a bad beat of master A's line below ``swept_upto`` is
read again from the slave: one full-line AR there, the slave's data with OKAY (``rd_err``
``corrected``) or SLVERR if the slave's line is bad too. The reference
(:meth:`ReadEngineTB.serve`) says per beat, from the route table, the mirror state, the
faults and the poison as they are when the beat is answered, which module serves it, so
the same checks (memory ARs, also the re-reads at the slaves, at most one at a time;
responses, reports, data, order) cover single beats, beats in the middle of long bursts,
bursts over several bad lines, narrow beats, bad slaves, lines at and above
``swept_upto``, failover off, the order of the bursts behind a failover, a
``swept_upto`` that moves while a beat is on its way, and random mixes of it all.
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
from mirrorswap.rtl.host_read import HostReadEngine
from mirrorswap.rtl.signatures import MIRROR_LAYOUT
from mirrorswap.sim.memory import add_read_latency, inject_faults
from mirrorswap.sim.routes import (PAGE, RAM_BYTES, Route, local, owner, pack_routes,
                                   random_access, random_layout, unowned_pages, beats)
from mirrorswap.sim.runner import run_tests
from mirrorswap.sim.tb import pauses, reset_dut

AGENTS = int(os.environ.get("MS_AGENTS", "2"))
SEED = int(os.environ.get("MS_SEED", "1"))
OUTSTANDING = int(os.environ.get("MS_OUTSTANDING", "8"))
#: Bursts the request front holds while decoding them (rtl/host_front.py: three stages
#: and the skid register of the last).
FRONT = 4
LINE_SHIFT = LINE_BYTES.bit_length() - 1    # arsize of a whole line


#: One agent's ``mirror`` entry (SPEC section 7): read failover on, lines valid at the slave.
Mirror = collections.namedtuple("Mirror", "failover swept_upto")
NO_MIRROR = Mirror(0, 0)


def pack_mirror(mirror):
    """The ``mirror`` port's value: ``ArrayLayout(MIRROR_LAYOUT, agents)``."""
    value, width = 0, MIRROR_LAYOUT.size
    for i, entry in enumerate(mirror):
        for name in Mirror._fields:
            value |= int(getattr(entry, name)) << (i * width + MIRROR_LAYOUT[name].offset)
    return value


def report_poison(ram):
    """Poison on an ``AxiRamRead``: every R beat of a module-local line in the returned set
    carries ``ruser`` = 1, with the stored data and its response as usual (a memory that
    found an uncorrectable error in it). Hooks where the RAM makes an R beat and fills it,
    so it stacks on the other wrappers of :mod:`sim.memory`; ``ruser`` is left undriven
    until the RAM's first beat."""
    lines = set()
    make_r, read = ram.r_channel._transaction_obj, ram._read
    beat = {}

    def new_r():
        beat["r"] = r = make_r()
        return r

    async def poisoned_read(address, length):
        beat["r"].ruser = int(address // ram.byte_lanes in lines)
        return await read(address, length)

    ram.r_channel._transaction_obj = new_r
    ram._read = poisoned_read
    return lines


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
    :func:`sim.memory.inject_faults`), ``poison[i]`` (:func:`report_poison`) and
    ``latency[i]`` (:func:`add_read_latency`) act on module i; ``mirror`` is what the
    ``mirror`` port shows (:meth:`set_mirror`). The monitors keep, per cycle:

    - ``bursts``: the host bursts accepted and not yet answered, oldest first: for an
      error answer the response of every beat, for a burst that reaches a memory its
      agent and the module-local address of every beat (what each beat must be is
      decided by :meth:`serve` when it is answered);
    - ``ars[i]`` / ``want_ars[i]``: the memory ARs seen / due on ``mem<i>``, failover
      re-reads at a slave included;
    - ``in_flight`` / ``peak``: bursts issued to the memories and not yet answered;
      ``rereads``: failover re-reads at the slaves not yet answered (at most one);
    - ``reports`` / ``want_reports``: ``(agent, line, corrected)`` of every ``rd_err``
      pulse, seen / due;
    - ``events``: ``(cycle, what, port)`` of every AR and R handshake, for timing checks;
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
        self.poison = [report_poison(ram) for ram in self.mems]
        if pause:
            chans = [c for ram in self.mems for c in (ram.ar_channel, ram.r_channel)]
            if self.host:
                chans.append(self.host.r_channel)
            for ch in chans:
                ch.set_pause_generator(pauses(random.Random(self.rng.random()), pause))
        dut.hold.value = 0
        self.routes = [Route(Mode.OFF, 0, 0, 0)] * AGENTS
        dut.routes.value = 0
        self.mirror = [NO_MIRROR] * AGENTS
        dut.mirror.value = 0
        self.cycle = 0
        self.bursts = collections.deque()
        self.ars = [[] for _ in range(AGENTS)]
        self.want_ars = [[] for _ in range(AGENTS)]
        self.in_flight = self.peak = self.rereads = 0
        self.reports = []
        self.want_reports = []
        self.events = []
        self.errors = []
        self.answered = []                      # IDs of the answered bursts, in order
        cocotb.start_soon(self._monitor())

    async def reset(self):
        await reset_dut(self.dut)

    def set_routes(self, routes):
        """Load a route table (only while nothing is in flight, as the controller does)."""
        self.routes = list(routes)
        self.dut.routes.value = pack_routes(routes)

    def set_mirror(self, mirror):
        """Show ``mirror`` (a :class:`Mirror` per agent) on the port, as the controller
        does: at any time, ``failover`` only for a MIRROR_MASTER."""
        self.mirror = list(mirror) + [NO_MIRROR] * (AGENTS - len(mirror))
        self.dut.mirror.value = pack_mirror(self.mirror)

    def bad(self, agent, line):
        """Module ``agent`` answers ``line`` with an error or with poison."""
        return line in self.faults[agent].read_lines or line in self.poison[agent]

    def serve(self, agent, line):
        """How a beat of ``agent``'s burst at module-local ``line`` must be answered, as
        things stand: ``(resp, source, reread)``, where ``source`` is the module whose
        data the host gets (None for an error) and ``reread`` the slave read again."""
        if not self.bad(agent, line):
            return AxiResp.OKAY, agent, None
        route, mirror = self.routes[agent], self.mirror[agent]
        peer = route.peer
        if (route.mode == Mode.MIRROR_MASTER and mirror.failover and
                line < mirror.swept_upto and self.routes[peer].mode == Mode.MIRROR_SLAVE):
            if self.bad(peer, line):
                return AxiResp.SLVERR, None, peer
            return AxiResp.OKAY, peer, peer
        return AxiResp.SLVERR, None, None

    def _host_ar(self, arid, addr, arlen, size, burst):
        """A host AR was accepted: the memory AR it must cause, and what its beats are."""
        agent = owner(self.routes, addr)
        bad = (burst != AxiBurstType.INCR or size > 3 or
               (addr - addr % (1 << size)) % PAGE + ((arlen + 1) << size) > PAGE)
        entry = SimpleNamespace(id=arid, beats=arlen + 1, resp=None, agent=agent, at=None, k=0)
        if bad:
            entry.resp = AxiResp.SLVERR
        elif agent is None:
            entry.resp = AxiResp.DECERR
        else:
            at = local(self.routes, agent, addr)
            self.want_ars[agent].append((at, arlen, size))
            entry.at = beat_addresses(at, arlen, size)
        self.bursts.append(entry)

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
            if open_ > OUTSTANDING + FRONT:
                self.errors.append(f"cycle {self.cycle}: {open_} host bursts open")
            for i in range(AGENTS):
                self._mem(i)
            if self._sample("rd_err_valid"):
                self.reports.append((self._sample("rd_err_agent"),
                                     self._sample("rd_err_line"),
                                     self._sample("rd_err_corrected")))
            if s("rvalid") and s("rready"):
                self.events.append((self.cycle, "r", "s"))
                self._host_r(s("rid"), s("rresp"), s("rlast"))
            if s("arvalid") and s("arready"):
                self.events.append((self.cycle, "ar", "s"))
                self._host_ar(s("arid"), s("araddr"), s("arlen"), s("arsize"), s("arburst"))

    def _mem(self, i):
        """Handshakes on ``mem<i>``: a slave's are failover re-reads, counted apart."""
        m = lambda name: self._sample(f"mem{i}_{name}")   # noqa: E731
        slave = self.routes[i].mode == Mode.MIRROR_SLAVE
        if m("arvalid") and m("arready"):
            self.events.append((self.cycle, "ar", i))
            self.ars[i].append((m("araddr"), m("arlen"), m("arsize")))
            if m("arburst") != AxiBurstType.INCR:
                self.errors.append(f"cycle {self.cycle}: mem{i} AR not INCR")
            if slave:
                self.rereads += 1
                if self.rereads > 1:
                    self.errors.append(f"cycle {self.cycle}: {self.rereads} re-reads open")
            else:
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                if self.in_flight > OUTSTANDING:
                    self.errors.append(f"cycle {self.cycle}: {self.in_flight} bursts "
                                       f"at the memories, more than {OUTSTANDING}")
        if m("rvalid") and m("rready"):
            self.events.append((self.cycle, "r", i))
            if m("rlast"):
                if slave:
                    self.rereads -= 1
                else:
                    self.in_flight -= 1

    def _host_r(self, rid, rresp, rlast):
        """A host R beat: it must belong to the oldest open burst, in its place, and be
        answered as :meth:`serve` says (its re-read and its report are due then)."""
        if not self.bursts:
            self.errors.append(f"cycle {self.cycle}: R beat with no burst open")
            return
        burst = self.bursts[0]
        k = burst.k
        where = f"cycle {self.cycle}: beat {k} of the burst of ID {burst.id}"
        if rid != burst.id:
            self.errors.append(f"{where} came with ID {rid} (out of order)")
        want = burst.resp
        if want is None and k < burst.beats:
            at = burst.at[k]
            line = at // LINE_BYTES
            want, _, reread = self.serve(burst.agent, line)
            if reread is not None:
                self.want_ars[reread].append((line * LINE_BYTES, 0, LINE_SHIFT))
            if want != AxiResp.OKAY or reread is not None:
                self.want_reports.append((burst.agent, line, int(want == AxiResp.OKAY)))
        if rresp != want:
            self.errors.append(f"{where} is {AxiResp(rresp).name}, want {want.name}")
        if rlast != (k == burst.beats - 1):
            self.errors.append(f"{where} of {burst.beats}: RLAST {rlast}")
        burst.k += 1
        if rlast or burst.k >= burst.beats:
            self.bursts.popleft()
            self.answered.append(burst.id)

    def check(self):
        """Every rule held, every memory AR was due and came, every report was due."""
        assert not self.errors, "\n".join(self.errors[:10])
        assert not self.bursts and self.in_flight == 0 and self.rereads == 0, \
            "reads left unanswered"
        for i in range(AGENTS):
            assert self.ars[i] == self.want_ars[i], \
                f"mem{i}: ARs {self.ars[i][:8]}..., want {self.want_ars[i][:8]}..."
        assert self.reports == self.want_reports, \
            f"reports {self.reports[:8]}..., want {self.want_reports[:8]}..."

    def want_data(self, addr, length):
        """What a read must return, byte by byte: the bytes of the module that serves
        each line (:meth:`serve`), None for a byte of a beat answered with an error (not
        checked); None altogether when the address has no owner."""
        agent = owner(self.routes, addr)
        if agent is None:
            return None
        at = local(self.routes, agent, addr)
        want = []
        for b in range(at, at + length):
            source = self.serve(agent, b // LINE_BYTES)[1]
            want.append(None if source is None else self.mems[source].read(b, 1)[0])
        return want

    async def read(self, addr, length, arid=0, size=3):
        """One host read through the master; checks data and response (beat by beat the
        monitor checks too)."""
        resp = await self.host.read(addr, length, arid=arid, size=size)
        want = self.want_data(addr, length)
        if want is None:
            assert resp.resp == AxiResp.DECERR, f"read {addr:#x}: {resp.resp.name}"
        else:
            wrong = [k for k, (g, w) in enumerate(zip(resp.data, want))
                     if w is not None and g != w]
            assert len(resp.data) == length and not wrong, \
                f"read {addr:#x}+{length}: wrong data at bytes {wrong[:8]}"
            if None not in want:
                assert resp.resp == AxiResp.OKAY, f"read {addr:#x}: {resp.resp.name}"
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


async def random_readers(tb, readers=4, rounds=8):
    """``readers`` concurrent readers, each on its own ID with one to three random reads
    (every size and alignment) of it in flight, ``rounds`` times."""
    async def reader(rid):
        rng = random.Random(tb.rng.random())
        for _ in range(rounds):
            batch = []
            for _ in range(rng.randint(1, 3)):
                addr, length, size = random_access(rng, tb.routes, 16)
                batch.append(cocotb.start_soon(tb.read(addr, length, arid=rid, size=size)))
            for task in batch:
                await task

    for task in [cocotb.start_soon(reader(r)) for r in range(readers)]:
        await task


@cocotb.test(timeout_time=500, timeout_unit="us")
async def random_reads_from_their_owners(dut):
    """Concurrent random reads of every size and alignment, several of each ID in
    flight, under back-pressure."""
    tb = await make(dut, pause=0.3)
    await random_readers(tb)
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
    assert tb.reports == [(agent, 22, 0)]
    tb.faults[agent].clear()
    await tb.read(base + 28 * LINE_BYTES, 4 * LINE_BYTES, arid=6)
    assert tb.reports == [(agent, 22, 0)], "an error reported for a read that succeeded"
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


# ---- RAS: poison and read failover (SPEC section 7) -----------------------------------------

#: The failover benches' pair: agent 0 a MIRROR_MASTER of host lines
#: [PAIR_BASE, PAIR_BASE + RANGE_ALIGN), agent 1 its slave.
PAIR_BASE = RANGE_ALIGN


def host_addr(line, offset=0):
    """Host byte address of the pair's module-local ``line``, plus ``offset`` bytes."""
    return (PAIR_BASE + line) * LINE_BYTES + offset


def reread(line):
    """The memory AR of a failover re-read of module-local ``line``."""
    return (line * LINE_BYTES, 0, LINE_SHIFT)


async def make_pair(dut, swept_upto, failover=1, pause=0.0):
    """A reset bench with the pair (agents beyond the second ACTIVE elsewhere) and the
    master's mirror state."""
    tb = await make(dut, pause)
    others = [Route(Mode.ACTIVE, 0, (4 + 2 * i) * RANGE_ALIGN, RANGE_ALIGN)
              for i in range(2, AGENTS)]
    tb.set_routes([Route(Mode.MIRROR_MASTER, 1, PAIR_BASE, RANGE_ALIGN),
                   Route(Mode.MIRROR_SLAVE, 0, PAIR_BASE, RANGE_ALIGN)] + others)
    tb.set_mirror([Mirror(failover, swept_upto)])
    return tb


@cocotb.test(timeout_time=500, timeout_unit="us")
async def poison_answers_slverr(dut):
    """A poisoned beat (``ruser``) answers SLVERR like a failing one, never OKAY, and is
    reported with ``corrected`` low; the other beats of the burst are served. Narrow
    beats of a poisoned line likewise, each of them."""
    tb = await make(dut, pause=0.3)
    agent = AGENTS - 1
    tb.set_routes([Route(Mode.ACTIVE if i == agent else Mode.OFF, 0,
                         2 * RANGE_ALIGN if i == agent else 0,
                         RANGE_ALIGN if i == agent else 0) for i in range(AGENTS)])
    base = 2 * RANGE_ALIGN * LINE_BYTES
    tb.poison[agent].update({5, 9})
    tb.faults[agent].read_lines.add(7)
    resp = await tb.read(base, 16 * LINE_BYTES, arid=1)
    assert resp.resp == AxiResp.SLVERR
    assert tb.reports == [(agent, 5, 0), (agent, 7, 0), (agent, 9, 0)]
    resp = await tb.read(base + 5 * LINE_BYTES + 1, 6, arid=2, size=1)
    assert resp.resp == AxiResp.SLVERR
    assert tb.reports[3:] == [(agent, 5, 0)] * beats(base + 5 * LINE_BYTES + 1, 6, 1)
    tb.check()
    assert not any(tb.ars[:agent])


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2)
async def failover_of_a_single_beat(dut):
    """A one-beat read of a failing line below ``swept_upto`` of a master with failover
    on: the line is read at the slave (one beat, INCR, the whole line), the host gets the
    slave's data with OKAY, and ``rd_err`` reports the master's line as corrected."""
    tb = await make_pair(dut, swept_upto=100)
    tb.faults[0].read_lines.add(30)
    slave_line = tb.mems[1].read(30 * LINE_BYTES, LINE_BYTES)
    assert slave_line != tb.mems[0].read(30 * LINE_BYTES, LINE_BYTES)
    resp = await tb.read(host_addr(30), LINE_BYTES, arid=3)
    assert resp.resp == AxiResp.OKAY and resp.data == slave_line
    assert tb.ars[0] == [(30 * LINE_BYTES, 0, 3)] and tb.ars[1] == [reread(30)]
    assert tb.reports == [(0, 30, 1)]
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2)
async def failover_in_the_middle_of_a_long_burst(dut):
    """A poisoned beat in the middle of a 16-beat burst, under back-pressure: the beats
    around it come from the master, that one from the slave, all OKAY, RLAST on the
    16th only."""
    tb = await make_pair(dut, swept_upto=RANGE_ALIGN, pause=0.3)
    tb.poison[0].add(47)
    resp = await tb.read(host_addr(40), 16 * LINE_BYTES, arid=4)
    assert resp.resp == AxiResp.OKAY
    assert tb.ars[0] == [(40 * LINE_BYTES, 15, 3)] and tb.ars[1] == [reread(47)]
    assert tb.reports == [(0, 47, 1)]
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2)
async def failover_over_several_bad_lines(dut):
    """A burst over two bad lines, the second its last beat (RLAST comes from the
    master's beat that was taken), and one whose first beat is bad: each bad beat is
    read again, the bursts are served whole."""
    tb = await make_pair(dut, swept_upto=RANGE_ALIGN, pause=0.2)
    tb.faults[0].read_lines.update({66, 96})
    tb.poison[0].add(79)
    resp = await tb.read(host_addr(64), 16 * LINE_BYTES, arid=5)
    assert resp.resp == AxiResp.OKAY
    resp = await tb.read(host_addr(96), 4 * LINE_BYTES, arid=6)
    assert resp.resp == AxiResp.OKAY
    assert tb.ars[1] == [reread(66), reread(79), reread(96)]
    assert tb.reports == [(0, 66, 1), (0, 79, 1), (0, 96, 1)]
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2)
async def failover_of_narrow_reads(dut):
    """Narrow beats (2, 1 and 4 bytes, unaligned starts) of bad lines: each beat is read
    again as the whole line and the host finds its lanes in it; of a narrow burst over a
    good and a bad line only the bad line's beats are read again."""
    tb = await make_pair(dut, swept_upto=RANGE_ALIGN, pause=0.2)
    tb.faults[0].read_lines.add(90)
    tb.poison[0].add(93)
    cases = [(host_addr(90, 1), 6, 1), (host_addr(90, 3), 9, 0), (host_addr(92, 4), 8, 2)]
    for k, (addr, length, size) in enumerate(cases):
        resp = await tb.read(addr, length, arid=k, size=size)
        assert resp.resp == AxiResp.OKAY, f"case {k}: {resp.resp.name}"
    # 4 two-byte beats in line 90; 5 one-byte beats in line 90, 4 in line 91; one
    # four-byte beat in line 92, one in line 93
    assert tb.ars[1] == [reread(90)] * 9 + [reread(93)]
    assert tb.reports == [(0, 90, 1)] * 9 + [(0, 93, 1)]
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2)
async def slave_also_bad_answers_slverr(dut):
    """When the slave's line is bad too (failing, or poisoned), the beat answers SLVERR
    and is reported not corrected; the beats around it are served."""
    tb = await make_pair(dut, swept_upto=RANGE_ALIGN)
    tb.faults[0].read_lines.update({20, 21})
    tb.faults[1].read_lines.add(20)
    tb.poison[1].add(21)
    resp = await tb.read(host_addr(19), 4 * LINE_BYTES, arid=7)
    assert resp.resp == AxiResp.SLVERR
    assert tb.ars[1] == [reread(20), reread(21)]
    assert tb.reports == [(0, 20, 0), (0, 21, 0)]
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2)
async def no_failover_at_or_above_swept_upto(dut):
    """Only lines below ``swept_upto`` are valid at the slave: a bad line just below it
    fails over, the bad lines at and above it answer SLVERR without a re-read; with
    ``swept_upto`` 0 none does."""
    tb = await make_pair(dut, swept_upto=50)
    tb.faults[0].read_lines.update({49, 50})
    tb.poison[0].add(51)
    resp = await tb.read(host_addr(48), 5 * LINE_BYTES, arid=1)
    assert resp.resp == AxiResp.SLVERR
    assert tb.ars[1] == [reread(49)]
    assert tb.reports == [(0, 49, 1), (0, 50, 0), (0, 51, 0)]
    tb.set_mirror([Mirror(1, 0)])
    resp = await tb.read(host_addr(49), LINE_BYTES, arid=2)
    assert resp.resp == AxiResp.SLVERR and tb.ars[1] == [reread(49)]
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2)
async def failover_off_changes_nothing(dut):
    """With ``failover`` low (or no line below ``swept_upto``) a master's bad beats answer
    SLVERR, nothing reaches the slave, and every beat comes in the same cycle as with no
    mirror state at all."""
    tb = await make_pair(dut, swept_upto=0, failover=0)
    tb.faults[0].read_lines.update({11, 13})
    tb.poison[0].add(14)
    timings = []
    for k, mirror in enumerate([NO_MIRROR, Mirror(0, RANGE_ALIGN), Mirror(1, 0)]):
        tb.set_mirror([mirror])
        start = len(tb.events)
        resp = await tb.read(host_addr(8), 8 * LINE_BYTES, arid=k)
        assert resp.resp == AxiResp.SLVERR
        events = tb.events[start:]
        timings.append([(c - events[0][0], what, port) for c, what, port in events])
        await ClockCycles(dut.clk, 4)
    assert timings[1] == timings[0] and timings[2] == timings[0]
    assert not tb.ars[1]
    assert tb.reports == [(0, 11, 0), (0, 13, 0), (0, 14, 0)] * 3
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2)
async def no_reread_once_the_pair_is_gone(dut):
    """The re-read goes out only while the pair stands as things are then: with failover
    cleared, or the slave made ACTIVE (the master failed over to it), in the cycle after
    the master's bad beat was taken, the beat answers SLVERR, not corrected, and the
    slave sees no AR."""
    tb = await make_pair(dut, swept_upto=RANGE_ALIGN)
    tb.faults[0].read_lines.update({5, 6})

    async def when_taken(action):
        """``action()`` right after the clock edge that takes the master's bad beat."""
        while True:
            await ReadOnly()
            if (int(dut.mem0_rvalid.value) and int(dut.mem0_rready.value) and
                    not int(dut.s_rvalid.value)):
                break
            await RisingEdge(dut.clk)
        await RisingEdge(dut.clk)
        action()

    waiter = cocotb.start_soon(when_taken(lambda: tb.set_mirror([Mirror(0, RANGE_ALIGN)])))
    resp = await tb.read(host_addr(5), LINE_BYTES, arid=1)
    await waiter
    assert resp.resp == AxiResp.SLVERR
    tb.set_mirror([Mirror(1, RANGE_ALIGN)])
    routes = list(tb.routes)
    routes[1] = Route(Mode.ACTIVE, 0, PAIR_BASE, RANGE_ALIGN)
    waiter = cocotb.start_soon(when_taken(lambda: tb.set_routes(routes)))
    resp = await tb.read(host_addr(6), LINE_BYTES, arid=2)
    await waiter
    assert resp.resp == AxiResp.SLVERR
    assert not tb.ars[1]
    assert tb.reports == [(0, 5, 0), (0, 6, 0)]
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2)
async def bursts_behind_a_failover_keep_their_order(dut):
    """Bursts accepted after one with a failed-over beat, from its agent and from others,
    wait for it however slow the slave is, and come back in the order accepted; a second
    failover follows the first."""
    tb = await make_pair(dut, swept_upto=RANGE_ALIGN)
    tb.latency[1].cycles = 40
    tb.faults[0].read_lines.update({10, 200})
    reads = [(host_addr(8), 8 * LINE_BYTES), (host_addr(100), 4 * LINE_BYTES)]
    if AGENTS > 2:
        reads.append((8 * RANGE_ALIGN * LINE_BYTES + 256, 16 * LINE_BYTES))
    reads += [(host_addr(199), 2 * LINE_BYTES), (host_addr(300), LINE_BYTES)]
    tasks = [cocotb.start_soon(tb.read(addr, length, arid=k + 1))
             for k, (addr, length) in enumerate(reads)]
    for t in tasks:
        await t
    assert tb.answered == list(range(1, len(reads) + 1))
    assert tb.ars[1] == [reread(10), reread(200)]
    assert tb.reports == [(0, 10, 1), (0, 200, 1)]
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2)
async def swept_upto_as_the_beat_comes(dut):
    """What counts is ``swept_upto`` when the bad beat comes, not when its burst was
    accepted: a line swept while its read waits at a slow master fails over; a line whose
    SWEPT_UPTO is cleared (a failed forwarded write) while its read waits does not."""
    tb = await make_pair(dut, swept_upto=0)
    tb.latency[0].cycles = 60
    tb.faults[0].read_lines.update({33, 40})
    task = cocotb.start_soon(tb.host.read(host_addr(33), LINE_BYTES, arid=1))
    await ClockCycles(dut.clk, 20)
    assert not task.done() and not tb.ars[1]
    tb.set_mirror([Mirror(1, 34)])
    resp = await task
    assert resp.resp == AxiResp.OKAY
    assert resp.data == tb.mems[1].read(33 * LINE_BYTES, LINE_BYTES)
    tb.set_mirror([Mirror(1, RANGE_ALIGN)])
    task = cocotb.start_soon(tb.host.read(host_addr(40), LINE_BYTES, arid=2))
    await ClockCycles(dut.clk, 20)
    assert not task.done()
    tb.set_mirror([Mirror(1, 0)])
    resp = await task
    assert resp.resp == AxiResp.SLVERR
    assert tb.ars[1] == [reread(33)]
    assert tb.reports == [(0, 33, 1), (0, 40, 0)]
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2)
async def failover_cost(dut):
    """A failed-over beat takes the master's beat in the cycle it comes and shows the
    slave's AR in the next: it reaches the host 1 + Ls cycles after it would have gone
    through, Ls being the slave's cycles from AR handshake to R."""
    tb = await make_pair(dut, swept_upto=RANGE_ALIGN)

    async def timed(line):
        start = len(tb.events)
        await tb.host.read(host_addr(line), LINE_BYTES)
        events = tb.events[start:]
        at = {(what, port): c for c, what, port in events}
        return at[("r", "s")] - at[("ar", "s")], at

    good, _ = await timed(60)
    tb.faults[0].read_lines.add(70)
    bad, at = await timed(70)
    slave_latency = at[("r", 1)] - at[("ar", 1)]
    assert at[("ar", 1)] == at[("r", 0)] + 1
    assert bad - good == 1 + slave_latency, (good, bad, slave_latency)
    tb.check()


@cocotb.test(timeout_time=1000, timeout_unit="us")
async def random_failover_reads(dut):
    """Random reads of mirror pairs (and of an ACTIVE agent) with random failing and
    poisoned lines at masters and slaves, random ``swept_upto`` and failover flags,
    several IDs in flight, back-pressure and slow slaves: every beat, re-read, report
    and byte as :meth:`ReadEngineTB.serve` says."""
    tb = await make(dut, pause=0.3)
    rng = random.Random(tb.rng.random())
    routes, mirror = [], []
    for k in range(AGENTS // 2):
        base, size = (1 + 4 * k) * RANGE_ALIGN, rng.choice([1, 2]) * RANGE_ALIGN
        routes += [Route(Mode.MIRROR_MASTER, 2 * k + 1, base, size),
                   Route(Mode.MIRROR_SLAVE, 2 * k, base, size)]
        mirror += [Mirror(int(k == 0 or rng.random() < 0.8), rng.randint(size // 2, size)),
                   NO_MIRROR]
        tb.latency[2 * k + 1].cycles = rng.choice([0, 12])
    if AGENTS % 2:
        routes.append(Route(Mode.ACTIVE, 0, (1 + 4 * (AGENTS // 2)) * RANGE_ALIGN,
                            RANGE_ALIGN))
    tb.set_routes(routes)
    tb.set_mirror(mirror)
    for i in range(AGENTS):
        for line in rng.sample(range(2 * RANGE_ALIGN), 2 * RANGE_ALIGN // 20):
            (tb.faults[i].read_lines if rng.random() < 0.5 else tb.poison[i]).add(line)

    async def reader(rid):
        rng_r = random.Random(tb.rng.random())
        for _ in range(10):
            batch = []
            for _ in range(rng_r.randint(1, 3)):
                addr, length, size = random_access(rng_r, tb.routes, 16, owned=0.95)
                batch.append(cocotb.start_soon(tb.read(addr, length, arid=rid, size=size)))
            for task in batch:
                await task

    tasks = [cocotb.start_soon(reader(r)) for r in range(4)]
    for t in tasks:
        await t
    tb.check()
    corrected = sum(c for _, _, c in tb.reports)
    assert tb.reports and (corrected or AGENTS < 2), "no failover happened"


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


# ---- ``pending``: the agents a read in flight may touch (self-contained) --------------------

def _ar_agents(routes, addr, arlen, size, burst):
    """The agents the engine names in ``pending`` for a host AR once decoded: its owner
    and, for a mirror master, its slave (a failover re-read reads there); none for an
    unowned address or a bad burst (answered here)."""
    agent = owner(routes, addr)
    aligned = addr & ~((1 << size) - 1)
    last = aligned + ((arlen + 1) << size) - 1
    if (agent is None or size > LINE_SHIFT or burst != AxiBurstType.INCR or
            last // 4096 != addr // 4096):
        return set()
    r = routes[agent]
    return {agent, r.peer} if r.mode == Mode.MIRROR_MASTER else {agent}


@cocotb.test(timeout_time=1000, timeout_unit="us")
async def pending_names_the_agents_of_the_reads_in_flight(dut):
    """Random reads of mirror pairs with failing lines (so failover re-reads at the
    slaves) and of an ACTIVE agent, back-pressure: every cycle ``pending`` names the
    agents of every read accepted and not answered (its last beat), never fewer, and it
    is 0 while none is in flight."""
    tb = await make(dut, pause=0.3)
    rng = random.Random(tb.rng.random())
    routes, mirror = [], []
    for k in range(AGENTS // 2):
        base = (1 + 4 * k) * RANGE_ALIGN
        routes += [Route(Mode.MIRROR_MASTER, 2 * k + 1, base, RANGE_ALIGN),
                   Route(Mode.MIRROR_SLAVE, 2 * k, base, RANGE_ALIGN)]
        mirror += [Mirror(1, RANGE_ALIGN), NO_MIRROR]
        tb.latency[2 * k + 1].cycles = 12
    if AGENTS % 2:
        routes.append(Route(Mode.ACTIVE, 0, (1 + 4 * (AGENTS // 2)) * RANGE_ALIGN,
                            RANGE_ALIGN))
    tb.set_routes(routes)
    tb.set_mirror(mirror)
    for i in range(0, AGENTS - AGENTS % 2, 2):
        tb.faults[i].read_lines.update(rng.sample(range(RANGE_ALIGN), RANGE_ALIGN // 10))
    flight = collections.defaultdict(collections.deque)    # arid -> agents, in order
    stats = {"busy": 0, "slave": 0}
    done = False

    async def watch():
        while not done:
            await RisingEdge(dut.clk)
            await ReadOnly()
            pending = int(dut.pending.value)
            due = set().union(*(a for q in flight.values() for a in q))
            missing = [i for i in due if not pending >> i & 1]
            assert not missing, f"pending {pending:#x} misses agents {missing}"
            if any(flight.values()):
                stats["busy"] += 1
            else:
                assert pending == 0, f"nothing in flight, pending {pending:#x}"
            for i in range(1, AGENTS, 2):          # a re-read at a slave
                if int(getattr(dut, f"mem{i}_arvalid").value):
                    stats["slave"] += 1
            if int(dut.s_arvalid.value) and int(dut.s_arready.value):
                flight[int(dut.s_arid.value)].append(_ar_agents(
                    tb.routes, int(dut.s_araddr.value), int(dut.s_arlen.value),
                    int(dut.s_arsize.value), int(dut.s_arburst.value)))
            if int(dut.s_rvalid.value) and int(dut.s_rready.value) and \
                    int(dut.s_rlast.value):
                flight[int(dut.s_rid.value)].popleft()

    watcher = cocotb.start_soon(watch())

    await random_readers(tb)
    await ClockCycles(dut.clk, 5)
    done = True
    await watcher
    tb.check()
    assert stats["busy"] > 50, "the check saw hardly any read in flight"
    assert stats["slave"] or AGENTS < 2, "no failover re-read happened"
