# amaranth: UnusedElaboratable=no
"""HostWriteEngine (rtl/host_write.py), on its generated Verilog.

A cocotbext-axi ``AxiMasterWrite`` on the host side ``s`` and an ``AxiRamWrite`` on every
``mem<i>`` port, under random layouts of the route table (ACTIVE agents, mirror pairs,
OFF and IDLE agents that keep a range, slaves that are never routed to). A reference of
the route table (:func:`owner`, :func:`targets`) says which agents and which module-local
address each write must reach; the bench checks every memory AW against it, the RAMs'
contents at the end (writes applied in the order the engine accepted them), the response
of every write, B in order per ID, no more bursts open than the engine's pipeline holds
(``outstanding`` awaiting responses, ``w_ahead`` awaiting their data, four decoded, one
answered), ``idle``, and that the engine publishes a claim over every memory AW and B of
a forwarded write (to a mirror master and its slave).

Then: writes to unowned lines answer DECERR and write nothing; bursts that are not INCR,
wider than the bus or crossing 4 KiB answer SLVERR and write nothing; memory errors at a
master answer SLVERR and pulse ``wr_err``, at a slave pulse ``fwd_err`` only; a forwarded
write waits while its lines overlap the master's sweep claim and goes once the claim has
moved; ``hold`` stops new bursts. Run over seeds, 1, 2 and 4 agents, and without the
hazard check.

The route-table reference is :mod:`mirrorswap.sim.routes`.
"""

import collections
import itertools
import os
import random

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, ReadWrite, RisingEdge
from cocotbext.axi import AxiBurstType, AxiMasterWrite, AxiRamWrite, AxiResp, AxiWriteBus

from mirrorswap.regmap import LINE_BYTES, Mode, RANGE_ALIGN
from mirrorswap.rtl.host_write import HostWriteEngine
from mirrorswap.rtl.signatures import HOST_CLAIMS
from mirrorswap.rtl.sweep import SweepEngine
from mirrorswap.sim.memory import inject_faults
from mirrorswap.sim.routes import (PAGE, RAM_BYTES, Route, local, owner, pack_routes,
                                   random_access, random_layout, targets, unowned_pages)
from mirrorswap.sim.runner import run_tests
from mirrorswap.sim.tb import pauses, reset_dut

AGENTS = int(os.environ.get("MS_AGENTS", "2"))
OUTSTANDING = int(os.environ.get("MS_OUTSTANDING", "8"))
SEED = int(os.environ.get("MS_SEED", "1"))
HAZARD_CHECK = os.environ.get("MS_HAZARD_CHECK", "1") == "1"
#: Bursts the engine holds at most: ``outstanding`` awaiting responses, ``w_ahead`` (4)
#: whose AW went out before their data, four in the request front, one answered.
OPEN_MAX = OUTSTANDING + 4 + 4 + 1

# ---- the bench -----------------------------------------------------------------------------

class WriteEngineTB:
    """Clock, reset, the host master, one ``AxiRamWrite`` per agent and the monitors.

    ``pause``: probability that each RAM channel end and the host's W and B pause in a
    cycle. ``master=False`` leaves the host port to :meth:`raw_write` (for bursts the
    cocotbext-axi master will not make). The monitors keep, per cycle:

    - ``expect``: for every accepted host AW, the memory AWs it must cause and its
      response, from the route table (:meth:`expect_write` registers the data; not
      with ``master=False``, whose tests check by hand);
    - ``aws[i]`` / ``want_aws[i]``: the memory AWs seen / due on ``mem<i>``, and
      ``w_beats[i]`` / ``want_w_beats[i]``;
    - ``models[i]``: the bytes module i must hold, written in the order the engine
      accepted the writes;
    - ``reports``: ``(kind, agent, line)`` of every ``fwd_err`` / ``wr_err`` pulse;
    - ``errors``: every broken rule, with the cycle (asserted empty by :meth:`check`).
    """

    def __init__(self, dut, pause=0.0, master=True):
        self.dut = dut
        self.rng = random.Random(SEED)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.host = None
        if master:
            self.host = AxiMasterWrite(AxiWriteBus.from_prefix(dut, "s"), dut.clk, dut.rst)
        else:
            for name in ("awvalid", "wvalid", "bready", "awid", "awaddr", "awlen", "awsize",
                         "awburst", "awlock", "awcache", "awprot", "awqos", "wdata",
                         "wstrb", "wlast"):
                getattr(dut, f"s_{name}").value = 0
        self.mems = [AxiRamWrite(AxiWriteBus.from_prefix(dut, f"mem{i}"), dut.clk, dut.rst,
                                 size=RAM_BYTES) for i in range(AGENTS)]
        if pause:
            chans = [c for ram in self.mems
                     for c in (ram.aw_channel, ram.w_channel, ram.b_channel)]
            if self.host:
                chans += [self.host.w_channel, self.host.b_channel]
            for ch in chans:
                ch.set_pause_generator(pauses(random.Random(self.rng.random()), pause))
        dut.hold.value = 0
        for i in range(AGENTS):
            self.set_claim(i, False)
        self.routes = [Route(Mode.OFF, 0, 0, 0)] * AGENTS
        dut.routes.value = 0
        dut.mirror.value = 0             # no agent may fail over
        self.cycle = 0
        self.pending = collections.defaultdict(dict)       # awid -> {addr: data}
        self.expect = collections.defaultdict(collections.deque)   # awid -> responses due
        self.aws = [[] for _ in range(AGENTS)]
        self.want_aws = [[] for _ in range(AGENTS)]
        self.w_beats = [0] * AGENTS
        self.want_w_beats = [0] * AGENTS
        self.models = [bytearray(RAM_BYTES) for _ in range(AGENTS)]
        self.reports = []
        self.errors = []
        self.open = 0
        self.peak_open = 0
        self.parked = False      # a test parks a write (memory AWs out of accept order)
        cocotb.start_soon(self._monitor())

    async def reset(self):
        await reset_dut(self.dut)

    def set_routes(self, routes):
        """Load a route table (only while nothing is in flight, as the controller does)."""
        self.routes = list(routes)
        self.dut.routes.value = pack_routes(routes)

    def set_claim(self, agent, active, lo=0, hi=0):
        """Drive sweep engine ``agent``'s claim: lines ``[lo, hi)``."""
        for name, v in (("active", int(active)), ("lo", lo), ("hi", hi)):
            getattr(self.dut, f"sweep_claim{agent}_{name}").value = v

    def expect_write(self, awid, addr, data, resp=None):
        """Register a host write about to be issued: its data, for the models, and the
        response it must get if not the route table's (a memory error's SLVERR)."""
        assert addr not in self.pending[awid], "one write per address and ID at a time"
        self.pending[awid][addr] = (bytes(data), resp)

    def want_resp(self, addr):
        return AxiResp.OKAY if owner(self.routes, addr) is not None else AxiResp.DECERR

    def _host_aw(self, awid, addr, awlen, size):
        """A host AW was accepted: what it must cause, from the route table."""
        if addr not in self.pending[awid]:
            self.errors.append(f"cycle {self.cycle}: unexpected host AW {awid}/{addr:#x}")
            return
        data, resp = self.pending[awid].pop(addr)
        agent = owner(self.routes, addr)
        self.expect[awid].append(resp or self.want_resp(addr))
        if agent is None:
            return
        at = local(self.routes, agent, addr)
        for t in targets(self.routes, agent):
            self.want_aws[t].append((at, awlen, size))
            self.want_w_beats[t] += awlen + 1
            self.models[t][at:at + len(data)] = data

    def _mirrored(self, agent):
        """``agent``'s module takes only forwarded writes: it is a mirror master or the
        slave of one."""
        return any(r.mode == Mode.MIRROR_MASTER and (i == agent or r.peer == agent)
                   for i, r in enumerate(self.routes))

    def _sample(self, name):
        return int(getattr(self.dut, name).value)

    async def _monitor(self):
        dut, s = self.dut, (lambda name: self._sample(f"s_{name}"))
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            self.cycle += 1
            if self._sample("rst"):
                continue
            if self._sample("idle") != (self.open == 0):
                self.errors.append(f"cycle {self.cycle}: idle is {self._sample('idle')} "
                                   f"with {self.open} bursts open")
            claims = [(self._sample(f"claim{k}_agent"), self._sample(f"claim{k}_lo"),
                       self._sample(f"claim{k}_hi")) for k in range(HOST_CLAIMS)
                      if self._sample(f"claim{k}_active")]
            if self.open == 0 and claims:
                self.errors.append(f"cycle {self.cycle}: claim active with nothing open")
            for i in range(AGENTS):
                m = lambda name: self._sample(f"mem{i}_{name}")   # noqa: E731
                if m("awvalid") and m("awready"):
                    aw = (m("awaddr"), m("awlen"), m("awsize"))
                    self.aws[i].append(aw)
                    if m("awburst") != AxiBurstType.INCR:
                        self.errors.append(f"cycle {self.cycle}: mem{i} AW not INCR")
                    last = (aw[0] + (aw[1] << aw[2]) - aw[0] % (1 << aw[2])) // LINE_BYTES
                    want = (aw[0] // LINE_BYTES, last)
                    if self._mirrored(i) and want not in [c[1:] for c in claims]:
                        self.errors.append(f"cycle {self.cycle}: mem{i} AW {aw} under "
                                           f"claims {claims}, want {want}")
                if m("wvalid") and m("wready"):
                    self.w_beats[i] += 1
                if m("bvalid") and m("bready") and self._mirrored(i) and not claims:
                    self.errors.append(f"cycle {self.cycle}: mem{i} B outside the claim")
            for kind in ("fwd_err", "wr_err"):
                if self._sample(f"{kind}_valid"):
                    self.reports.append((kind, self._sample(f"{kind}_agent"),
                                         self._sample(f"{kind}_line")))
            if s("awvalid") and s("awready"):
                self.open += 1
                if self.host:
                    self._host_aw(s("awid"), s("awaddr"), s("awlen"), s("awsize"))
            if s("bvalid") and s("bready"):
                self.open -= 1
                if not self.host:
                    continue
                bid, bresp = s("bid"), s("bresp")
                if not self.expect[bid]:
                    self.errors.append(f"cycle {self.cycle}: B for ID {bid} with none due")
                else:
                    want = self.expect[bid].popleft()
                    if bresp != want:
                        self.errors.append(f"cycle {self.cycle}: B for ID {bid} is "
                                           f"{AxiResp(bresp).name}, want {want.name} "
                                           f"(B out of order within the ID?)")
            self.peak_open = max(self.peak_open, self.open)
            if self.open > OPEN_MAX:
                self.errors.append(f"cycle {self.cycle}: {self.open} host bursts open")

    def check(self, memories=True):
        """Every rule held, every memory AW and W beat was due and came, and (with
        ``memories``) every module holds what the route table says it must."""
        assert not self.errors, "\n".join(self.errors[:10])
        assert self.open == 0 and not any(self.expect.values()), "writes left unanswered"
        for i in range(AGENTS):
            # a parked write reaches its modules after writes accepted later
            order = sorted if self.parked else list
            assert order(self.aws[i]) == order(self.want_aws[i]), \
                f"mem{i}: AWs {self.aws[i][:8]}..., want {self.want_aws[i][:8]}..."
            assert self.w_beats[i] == self.want_w_beats[i], f"mem{i}: W beats"
            if memories:
                assert self.mems[i].read(0, RAM_BYTES) == bytes(self.models[i]), \
                    f"module {i} holds other data than its writes"

    async def write(self, addr, data, awid=0, size=3, resp=None):
        """One host write through the master; checks the response against the table
        (or against ``resp``)."""
        self.expect_write(awid, addr, data, resp)
        want = resp or self.want_resp(addr)
        resp = await self.host.write(addr, data, awid=awid, size=size)
        assert resp.resp == want, f"write {addr:#x}: {resp.resp.name}, want {want.name}"
        return resp

    async def raw_write(self, addr, awlen, size=3, burst=AxiBurstType.INCR, awid=0,
                        data=0x0123456789ABCDEF):
        """One burst driven by hand (``master=False``), any geometry: AW, ``awlen`` + 1 W
        beats of ``data``, then B. Returns ``(bid, bresp)``."""
        dut = self.dut
        await ReadWrite()
        for name, v in (("awid", awid), ("awaddr", addr), ("awlen", awlen),
                        ("awsize", size), ("awburst", burst), ("awvalid", 1)):
            getattr(dut, f"s_{name}").value = int(v)
        await self._handshake("aw")
        dut.s_awvalid.value = 0
        for k in range(awlen + 1):
            dut.s_wdata.value = data
            dut.s_wstrb.value = 0xFF
            dut.s_wlast.value = int(k == awlen)
            dut.s_wvalid.value = 1
            await self._handshake("w")
        dut.s_wvalid.value = 0
        dut.s_bready.value = 1
        await self._handshake("b")
        dut.s_bready.value = 0
        return int(dut.s_bid.value), int(dut.s_bresp.value)

    async def _handshake(self, ch):
        """Wait for the clock edge that completes a handshake on host channel ``ch``
        (valid and ready both high in the cycle before it), then for the moment the
        next cycle's inputs may be driven."""
        while True:
            await ReadOnly()
            done = self._sample(f"s_{ch}valid") and self._sample(f"s_{ch}ready")
            await RisingEdge(self.dut.clk)
            if done:
                break
        await ReadWrite()


async def make(dut, pause=0.0, master=True, mirrors=True):
    """A reset :class:`WriteEngineTB` with a random route table."""
    tb = WriteEngineTB(dut, pause, master)
    await tb.reset()
    tb.set_routes(random_layout(tb.rng, AGENTS, mirrors))
    return tb


async def _traffic(tb, workers, writes, max_beats):
    """``workers`` concurrent writers, each on its own ID with up to three writes of it
    in flight, ``writes`` random writes each."""
    async def writer(wid):
        rng = random.Random(tb.rng.random())
        done = 0
        while done < writes:
            batch, addrs = [], set()
            for _ in range(min(rng.randint(1, 3), writes - done)):
                addr, length, size = random_access(rng, tb.routes, max_beats)
                if addr in addrs:
                    continue
                addrs.add(addr)
                batch.append(cocotb.start_soon(
                    tb.write(addr, rng.randbytes(length), awid=wid, size=size)))
            for task in batch:
                await task
            done += len(batch)

    tasks = [cocotb.start_soon(writer(w)) for w in range(workers)]
    for t in tasks:
        await t


@cocotb.test(timeout_time=500, timeout_unit="us")
async def random_writes_reach_their_modules(dut):
    """Concurrent random writes of every size and alignment, under back-pressure."""
    tb = await make(dut, pause=0.3)
    await _traffic(tb, workers=4, writes=25, max_beats=16)
    tb.check()
    assert tb.peak_open > 1, "the engine never had two bursts open"
    assert any(tb.want_aws), "no write reached a module"
    if any(r.mode == Mode.MIRROR_MASTER for r in tb.routes):
        assert any(tb.want_aws[r.peer] for r in tb.routes if r.mode == Mode.MIRROR_MASTER)


@cocotb.test(timeout_time=500, timeout_unit="us")
async def long_bursts(dut):
    """Bursts of up to 256 beats, mirrored where the layout has a pair, with pauses."""
    tb = await make(dut, pause=0.2)
    await _traffic(tb, workers=2, writes=4, max_beats=256)
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us")
async def mirrored_write_reaches_both_modules(dut):
    """With every agent paired, each write lands at the same local address in the master
    and its slave; the slave's own range answers DECERR."""
    if AGENTS < 2:
        await _single_agent_writes(dut)
        return
    tb = await make(dut, pause=0.3)
    half = AGENTS // 2
    routes = []
    for i in range(AGENTS):
        base = (4 * i + 1) * RANGE_ALIGN
        routes.append(Route(Mode.MIRROR_MASTER, i + half, base, RANGE_ALIGN) if i < half
                      else Route(Mode.MIRROR_SLAVE, i - half, base, RANGE_ALIGN))
    tb.set_routes(routes)
    rng = random.Random(tb.rng.random())
    for i in range(AGENTS):      # the slaves' own ranges answer DECERR (tb.write checks)
        addr = routes[i].base * LINE_BYTES + rng.randrange(0, PAGE - 64, 8)
        await tb.write(addr, rng.randbytes(64), awid=i)
    tb.check()
    for i in range(half):
        assert len(tb.aws[i]) == 1 and tb.aws[i] == tb.aws[i + half]
        assert tb.mems[i].read(0, RAM_BYTES) == tb.mems[i + half].read(0, RAM_BYTES)
        assert any(tb.mems[i].read(0, RAM_BYTES))


async def _single_agent_writes(dut):
    """One agent cannot be mirrored: its writes reach its module alone."""
    tb = await make(dut, pause=0.3)
    tb.set_routes([Route(Mode.ACTIVE, 0, RANGE_ALIGN, RANGE_ALIGN)])
    await tb.write(RANGE_ALIGN * LINE_BYTES + 8, bytes(range(64)))
    tb.check()
    assert tb.aws[0] == [(8, 7, 3)]


@cocotb.test(timeout_time=500, timeout_unit="us")
async def unowned_writes_answer_decerr(dut):
    """Writes to unowned lines, to an OFF or IDLE agent's range and to a slave's range
    are answered DECERR, their W beats taken, and nothing is written anywhere."""
    tb = await make(dut, pause=0.3)
    rng = random.Random(tb.rng.random())
    routes = tb.routes
    gaps = unowned_pages(routes)
    addrs = [p * PAGE + rng.randrange(PAGE - 256) for p in rng.sample(gaps, min(4, len(gaps)))]
    addrs += [r.base * LINE_BYTES + rng.randrange(PAGE - 256) for r in routes if not r.routed]
    for k, addr in enumerate(addrs):
        assert owner(routes, addr) is None
        await tb.write(addr, rng.randbytes(rng.randint(1, 256)), awid=k % 16)
    tb.check()
    assert not any(tb.aws) and not any(tb.w_beats)
    assert all(not any(ram.read(0, RAM_BYTES)) for ram in tb.mems)


@cocotb.test(timeout_time=500, timeout_unit="us")
async def bad_bursts_answer_slverr(dut):
    """A burst that is not INCR, has beats wider than the bus or crosses 4 KiB is
    answered SLVERR, all its W beats taken, nothing written; an unowned one DECERR even
    when long; a good burst after them is served."""
    tb = await make(dut, master=False)
    routes = [Route(Mode.ACTIVE, 0, RANGE_ALIGN, 2 * RANGE_ALIGN)] + [
        Route(Mode.OFF, 0, 0, 0)] * (AGENTS - 1)
    tb.set_routes(routes)
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
    for k, (addr, awlen, size, burst, want) in enumerate(cases):
        bid, bresp = await tb.raw_write(addr, awlen, size, burst, awid=k)
        assert (bid, bresp) == (k, want), f"case {k}: B {bid}/{AxiResp(bresp).name}"
    assert tb.aws[0] == [(PAGE - 16, 1, 3)] and tb.w_beats[0] == 2
    assert not any(tb.aws[1:])
    assert tb.mems[0].read(PAGE - 16, 16) == (0x0123456789ABCDEF).to_bytes(8, "little") * 2
    assert not any(tb.mems[0].read(0, PAGE - 16)) and not any(tb.mems[0].read(PAGE, PAGE))
    assert not tb.errors, "\n".join(tb.errors)


@cocotb.test(timeout_time=500, timeout_unit="us")
async def memory_errors_are_reported(dut):
    """A failed write at a master answers SLVERR and pulses ``wr_err``; one at its slave
    leaves the host's OKAY (SLVERR while the master may fail over) and pulses ``fwd_err``;
    both name the master and the burst's first local line. (One agent: its own module's
    errors only.)"""
    tb = await make(dut)
    pair = AGENTS >= 2
    routes = [Route(Mode.MIRROR_MASTER if pair else Mode.ACTIVE, 1 if pair else 0,
                    RANGE_ALIGN, RANGE_ALIGN)]
    routes += [Route(Mode.MIRROR_SLAVE, 0, 2 * RANGE_ALIGN, RANGE_ALIGN)] if pair else []
    routes += [Route(Mode.OFF, 0, 0, 0)] * (AGENTS - len(routes))
    tb.set_routes(routes)
    faults = [inject_faults(ram) for ram in tb.mems]
    base = RANGE_ALIGN * LINE_BYTES
    faults[0].write_lines.add(21)
    await tb.write(base + 20 * 8, bytes(32), awid=0, resp=AxiResp.SLVERR)
    assert tb.reports == [("wr_err", 0, 20)]
    faults[0].clear()
    tb.reports.clear()
    if pair:
        faults[1].write_lines.add(40)
        await tb.write(base + 38 * 8, bytes(range(24)), awid=1)      # OKAY for the host
        assert tb.reports == [("fwd_err", 0, 38)]
        tb.reports.clear()
        # while the master may fail over (SPEC section 7), the slave must hold every write
        # answered OKAY: one it missed answers SLVERR (the master has it all the same)
        dut.mirror.value = 1             # agent 0: failover
        await tb.write(base + 38 * 8, bytes(range(24)), awid=1, resp=AxiResp.SLVERR)
        assert tb.reports == [("fwd_err", 0, 38)]
        dut.mirror.value = 0
        faults[1].clear()
        tb.reports.clear()
    await tb.write(base + 60 * 8, bytes(range(16)), awid=2)
    assert tb.reports == [], "an error reported for a write that succeeded"
    tb.check(memories=False)      # the failed beats were not written


@cocotb.test(timeout_time=500, timeout_unit="us")
async def forwarded_write_waits_for_the_sweep_claim(dut):
    """A write to a master whose lines overlap its sweep engine's claim ``[lo, hi)`` does
    not reach either module, nor claim its own lines, until the claim has moved past
    them; writes next to the claim, to a plain ACTIVE agent under its own engine's claim,
    or to a master under another engine's claim go at once. (Without the hazard check,
    and with one agent, which cannot be a master, nothing waits.)"""
    tb = await make(dut)
    pair = AGENTS >= 2
    routes = [Route(Mode.MIRROR_MASTER if pair else Mode.ACTIVE, 1 if pair else 0,
                    RANGE_ALIGN, RANGE_ALIGN)]
    routes += [Route(Mode.MIRROR_SLAVE, 0, 2 * RANGE_ALIGN, RANGE_ALIGN)] if pair else []
    routes += [Route(Mode.ACTIVE, 0, 4 * RANGE_ALIGN, RANGE_ALIGN)] if AGENTS > 2 else []
    routes += [Route(Mode.OFF, 0, 0, 0)] * (AGENTS - len(routes))
    tb.set_routes(routes)

    async def start(first_line, lines, agent=0):
        """Issue a write of ``lines`` lines from local line ``first_line`` of ``agent``;
        returns its task once it has reached the memory, or None if it has not within 60
        cycles (then it is still waiting, in :data:`waiting`)."""
        nonlocal waiting
        addr = routes[agent].base * LINE_BYTES + first_line * LINE_BYTES
        seen = sum(map(len, tb.aws))
        task = cocotb.start_soon(tb.write(addr, bytes([first_line]) * lines * LINE_BYTES))
        for _ in range(60):
            await RisingEdge(dut.clk)
            if sum(map(len, tb.aws)) > seen:
                await task
                return task
        waiting = task
        return None

    waiting = None
    held = pair and HAZARD_CHECK
    tb.set_claim(0, True, 100, 200)
    # lines [96, 99] and [200, 203] are outside [100, 200): no wait
    assert await start(96, 4) and await start(200, 4)
    # overlapping at the low end, inside, at the high end
    for first, lines in ((97, 4), (150, 2), (199, 1)):
        if not held:
            assert await start(first, lines), f"write to lines {first}+{lines} waited"
            continue
        assert not await start(first, lines), f"write to lines {first}+{lines} did not wait"
        assert not any(getattr(dut, f"claim{k}_active").value for k in range(HOST_CLAIMS)), \
            "a waiting write claims its lines"
        tb.set_claim(0, True, first + lines, first + lines + 100)   # the sweep moves on
        await waiting
        assert tb.aws[0][-1] == (first * LINE_BYTES, lines - 1, 3)
        tb.set_claim(0, True, 100, 200)
    if pair:
        # another engine's claim over the same local lines does not hold agent 0's writes
        tb.set_claim(0, False)
        tb.set_claim(1, True, 0, RANGE_ALIGN)
        assert await start(150, 2)
    if AGENTS > 2:
        # an ACTIVE agent's writes are not forwarded, so never checked
        tb.set_claim(2, True, 0, RANGE_ALIGN)
        assert await start(150, 2, agent=2)
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2 or not HAZARD_CHECK)
async def a_write_held_on_the_claim_waits_alone(dut):
    """A forwarded write whose lines meet its master's sweep claim is parked: it reaches
    neither module while the claim covers them, and meanwhile writes to other lines of
    the same master, and to another agent, complete. A write with the parked write's ID
    (B in order per ID) and one to lines that meet its lines (the modules keep the order
    of overlapping writes) wait behind it. Once the claim has moved on, the parked write
    goes first; the modules hold every write, in order."""
    tb = await make(dut)
    routes = [Route(Mode.MIRROR_MASTER, 1, RANGE_ALIGN, RANGE_ALIGN),
              Route(Mode.MIRROR_SLAVE, 0, 2 * RANGE_ALIGN, RANGE_ALIGN)]
    routes += [Route(Mode.ACTIVE, 0, 4 * RANGE_ALIGN, RANGE_ALIGN)] if AGENTS > 2 else []
    routes += [Route(Mode.OFF, 0, 0, 0)] * (AGENTS - len(routes))
    tb.set_routes(routes)

    def write(agent, line, lines, awid):
        addr = (routes[agent].base + line) * LINE_BYTES
        return cocotb.start_soon(tb.write(addr, bytes([line % 256, awid]) * 4 * lines,
                                          awid=awid))

    tb.parked = True
    tb.set_claim(0, True, 100, 200)
    held = write(0, 150, 4, awid=1)
    await ClockCycles(dut.clk, 20)
    assert not held.done() and not any(tb.aws), "the held write reached a module"
    others = [write(0, 40, 2, awid=2), write(0, 300, 16, awid=3)]
    if AGENTS > 2:
        others.append(write(2, 150, 4, awid=4))
    behind = [write(0, 500, 1, awid=1), write(0, 153, 2, awid=5)]
    for _ in range(100):
        await RisingEdge(dut.clk)
        if all(task.done() for task in others):
            break
    assert all(task.done() for task in others), "writes waited behind the held one"
    await ClockCycles(dut.clk, 20)
    assert not held.done() and not any(task.done() for task in behind)
    tb.set_claim(0, True, 600, 700)      # the sweep moves on
    await held
    for task in behind:
        await task
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us")
async def short_writes_pipeline(dut):
    """Back-to-back one-beat writes to ACTIVE agents with slow B responses: the engine
    keeps its ``outstanding`` bursts waiting for their responses and goes on, a burst
    every few cycles, instead of one at a time."""
    tb = await make(dut, mirrors=False)
    for ram in tb.mems:
        ram.b_channel.set_pause_generator(itertools.cycle([1] * 30 + [0]))
    rng = random.Random(7)
    lines = [(r.base + k) * LINE_BYTES for r in tb.routes if r.routed for k in range(16)]
    rng.shuffle(lines)
    start = tb.cycle
    tasks = [cocotb.start_soon(tb.write(addr, rng.randbytes(LINE_BYTES), awid=k % 4))
             for k, addr in enumerate(lines[:24])]
    for task in tasks:
        await task
    tb.check()
    assert tb.peak_open >= min(OUTSTANDING, 4), tb.peak_open
    dut._log.info("24 one-beat writes in %d cycles, up to %d open", tb.cycle - start,
                  tb.peak_open)


@cocotb.test(timeout_time=500, timeout_unit="us")
async def hold_stops_new_bursts(dut):
    """While ``hold`` is high no AW is taken and ``idle`` stays high; once it falls the
    waiting write is served."""
    tb = await make(dut)
    r = next(r for r in tb.routes if r.routed)
    addr = r.base * LINE_BYTES + 128
    dut.hold.value = 1
    task = cocotb.start_soon(tb.write(addr, bytes(range(40)), awid=3))
    await ClockCycles(dut.clk, 30)
    await ReadOnly()
    assert not task.done() and tb.open == 0 and dut.s_awready.value == 0
    assert dut.idle.value == 1
    await RisingEdge(dut.clk)
    dut.hold.value = 0
    await task
    tb.check()


# ---- pytest --------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("agents", [1, 2, 4])
def test_host_write_engine(seed, agents):
    run_tests(__file__, "host_write_engine", component=HostWriteEngine(agents=agents),
              params={"seed": seed, "agents": agents})


def test_host_write_engine_without_hazard_check():
    """``hazard_check=False`` (a test-only variant): writes never wait for a claim."""
    run_tests(__file__, "host_write_engine",
              component=HostWriteEngine(agents=2, hazard_check=False),
              params={"seed": 1, "agents": 2, "hazard_check": 0},
              testcase="forwarded_write_waits_for_the_sweep_claim")


@pytest.mark.parametrize("bits, message", [
    (0, "Claim bits must be an integer of at least 1, not 0"),
    (33, "Claim bits must be at most 32, not 33"),
    (True, "Claim bits must be an integer of at least 1, not True"),
])
def test_claim_bits_refused(bits, message):
    """Both ends of the claim check refuse a width that is not 1..32."""
    for build in (lambda: SweepEngine(agent=0, claim_bits=bits),
                  lambda: HostWriteEngine(agents=4, claim_bits=bits)):
        with pytest.raises(ValueError, match=message):
            build()


# ---- ``pending``: the agents a burst in flight may touch (self-contained) -------------------

def _aw_targets(routes, addr, awlen, size, burst):
    """The agents the engine names in ``pending`` for a host AW once decoded: its owner and
    the owner's slave; none for an unowned address or a bad burst (answered here)."""
    agent = owner(routes, addr)
    aligned = addr & ~((1 << size) - 1)
    last = aligned + ((awlen + 1) << size) - 1
    if agent is None or size > 3 or burst != AxiBurstType.INCR or last // 4096 != addr // 4096:
        return set()
    return set(targets(routes, agent))


async def _watch_pending(tb, stop):
    """Every cycle: ``pending`` names every target of every burst accepted and not yet
    answered (never under-counts), and is 0 while none is in flight (no count leaks).
    Returns the number of cycles checked with some burst in flight."""
    dut = tb.dut
    flight = collections.defaultdict(collections.deque)    # awid -> targets, in order
    busy_cycles = 0
    while not stop():
        await RisingEdge(dut.clk)
        await ReadOnly()
        pending = int(dut.pending.value)
        due = set().union(*(t for q in flight.values() for t in q))
        missing = [i for i in due if not pending >> i & 1]
        assert not missing, f"cycle {tb.cycle}: pending {pending:#x} misses agents {missing}"
        if not any(flight.values()):
            assert pending == 0, f"cycle {tb.cycle}: nothing in flight, pending {pending:#x}"
        else:
            busy_cycles += 1
        if int(dut.s_awvalid.value) and int(dut.s_awready.value):
            flight[int(dut.s_awid.value)].append(_aw_targets(
                tb.routes, int(dut.s_awaddr.value), int(dut.s_awlen.value),
                int(dut.s_awsize.value), int(dut.s_awburst.value)))
        if int(dut.s_bvalid.value) and int(dut.s_bready.value):
            flight[int(dut.s_bid.value)].popleft()
    return busy_cycles


@cocotb.test(timeout_time=500, timeout_unit="us")
async def pending_names_the_agents_of_the_bursts_in_flight(dut):
    """``pending`` under random traffic (back-pressure, mirrors, unowned lines) covers the
    targets of every burst in flight and drops to 0 between."""
    tb = await make(dut, pause=0.3)
    done = False
    watch = cocotb.start_soon(_watch_pending(tb, lambda: done))
    await _traffic(tb, workers=4, writes=15, max_beats=16)
    await ClockCycles(dut.clk, 5)
    done = True
    assert await watch > 50, "the check saw hardly any burst in flight"
    tb.check()


@cocotb.test(timeout_time=500, timeout_unit="us", skip=AGENTS < 2 or not HAZARD_CHECK)
async def pending_of_a_parked_write(dut):
    """With a write parked on its master's sweep claim and the others answered,
    ``pending`` names exactly that write's master and slave: the controller may change
    the routes of every other agent meanwhile."""
    tb = await make(dut)
    routes = [Route(Mode.MIRROR_MASTER, 1, RANGE_ALIGN, RANGE_ALIGN),
              Route(Mode.MIRROR_SLAVE, 0, 2 * RANGE_ALIGN, RANGE_ALIGN)]
    routes += [Route(Mode.ACTIVE, 0, 4 * RANGE_ALIGN, RANGE_ALIGN)] * (AGENTS > 2)
    routes += [Route(Mode.OFF, 0, 0, 0)] * (AGENTS - len(routes))
    tb.set_routes(routes)
    tb.parked = True
    tb.set_claim(0, True, 100, 200)
    line = (routes[0].base + 150) * LINE_BYTES
    held = cocotb.start_soon(tb.write(line, bytes(4 * LINE_BYTES), awid=1))
    if AGENTS > 2:
        await tb.write((routes[2].base + 7) * LINE_BYTES, bytes(LINE_BYTES), awid=2)
    await ClockCycles(dut.clk, 20)
    await ReadOnly()
    assert not held.done() and int(dut.pending.value) == 0b11, int(dut.pending.value)
    await RisingEdge(dut.clk)
    tb.set_claim(0, True, 600, 700)
    await held
    await ClockCycles(dut.clk, 2)
    await ReadOnly()
    assert int(dut.pending.value) == 0
    tb.check()
