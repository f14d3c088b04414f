"""HomeAgent (rtl/home_agent.py), on its generated Verilog.

Two managers (host and sweep side) share one memory through the agent, each with reads and
writes in flight at once, with random back-pressure on every memory channel and on the
managers' response channels. Each manager owns its own half of the memory, so every read
must return exactly what that manager last wrote. Also: a module that vanishes mid-traffic,
write credits under withheld responses, the sweep's read bursts cut into pieces while
the host reads (whole again once it is quiet), and back-to-back 1-beat host writes at one
per cycle whether their W beats come with their AW, after it or before it. Run over seeds
at the default queue sizes, and at the smallest ones the formal proofs use. The read
latency the host sees beside a sweep is measured on the whole top
(tests/test_read_latency.py).
"""

import itertools
import os
import random

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, ReadOnly
from cocotbext.axi import (AxiBus, AxiMasterRead, AxiMasterWrite, AxiRam, AxiReadBus,
                           AxiResp, AxiWriteBus)

from mirrorswap.rtl.home_agent import (HOST_RECENT, MAX_READS, MAX_WRITES, SWEEP_PIECE,
                                       HomeAgent)
from mirrorswap.rtl.signatures import HOST_ID, SWEEP_ID
from mirrorswap.sim.runner import run_tests
from mirrorswap.sim.tb import WriteCreditWatch, pauses, reset_dut

MEM_BYTES = 1 << 16
#: The ``max_writes`` the bench's Verilog was elaborated with.
WRITES = int(os.environ.get("MS_MAX_WRITES", MAX_WRITES))


class HomeAgentTB:
    """Clock, an ``AxiRam`` on ``mem`` (held in reset while ``alive`` is low), and a read
    and a write master for each source (``sources["host"]``, ``sources["sweep"]``), with
    pauses of probability ``pause`` on every memory channel and half that on the
    managers' R and B; ``ids`` collects the AXI IDs seen on the memory's AR and AW.
    ``by_hand``: sources whose write channels the test drives itself (no write master:
    its ``sources`` entry holds ``None`` there)."""

    def __init__(self, dut, seed, pause, by_hand=()):
        self.dut = dut
        self.rng = random.Random(seed)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        # The memory controller goes with its module: it is held in reset while the module
        # is gone, which drops whatever it had in flight.
        self.ram = AxiRam(AxiBus.from_prefix(dut, "mem"), dut.clk, dut.alive,
                          reset_active_level=False, size=MEM_BYTES)
        self.sources = {}
        for name in ("host", "sweep"):
            rd = AxiMasterRead(AxiReadBus.from_prefix(dut, f"{name}_rd"), dut.clk, dut.rst)
            rd.r_channel.set_pause_generator(pauses(self.rng, pause / 2))
            wr = None
            if name not in by_hand:
                wr = AxiMasterWrite(AxiWriteBus.from_prefix(dut, f"{name}_wr"), dut.clk,
                                    dut.rst)
                wr.b_channel.set_pause_generator(pauses(self.rng, pause / 2))
            self.sources[name] = (rd, wr)
        for ch in (self.ram.write_if.aw_channel, self.ram.write_if.w_channel,
                   self.ram.write_if.b_channel, self.ram.read_if.ar_channel,
                   self.ram.read_if.r_channel):
            ch.set_pause_generator(pauses(self.rng, pause))
        dut.alive.value = 1
        self.ids = {"ar": set(), "aw": set()}
        cocotb.start_soon(self._watch_ids())

    async def _watch_ids(self):
        mem = self.ram.read_if.ar_channel.bus
        wmem = self.ram.write_if.aw_channel.bus
        while True:
            await RisingEdge(self.dut.clk)
            await ReadOnly()
            if int(mem.arvalid.value) and int(mem.arready.value):
                self.ids["ar"].add(int(mem.arid.value))
            if int(wmem.awvalid.value) and int(wmem.awready.value):
                self.ids["aw"].add(int(wmem.awid.value))

    async def reset(self):
        await reset_dut(self.dut)


async def _worker(tb, name, lo, hi, count, ref, tolerate=None):
    """Random reads and writes in lines [lo, hi); ``tolerate()`` true: SLVERR is fine."""
    rd, wr = tb.sources[name]
    rng = random.Random(f"{name}{tb.rng.random()}")
    errors = 0
    for _ in range(count):
        lines = rng.randint(1, 16)
        line = rng.randrange(lo, hi - lines)
        addr = line * 8
        if (addr % 4096) + lines * 8 > 4096:
            continue
        if rng.random() < 0.5:
            data = rng.randbytes(lines * 8)
            resp = await wr.write(addr, data, awid=0)
            if tolerate is not None:
                errors += resp.resp == AxiResp.SLVERR
                continue
            assert resp.resp == AxiResp.OKAY
            ref[addr:addr + len(data)] = data
        else:
            resp = await rd.read(addr, lines * 8, arid=0)
            if tolerate is not None:
                errors += resp.resp == AxiResp.SLVERR
                continue
            assert resp.resp == AxiResp.OKAY
            assert resp.data == bytes(ref[addr:addr + lines * 8]), f"{name} read {addr:#x}"
    return errors


@cocotb.test()
async def shared_port_under_backpressure(dut):
    seed = int(os.environ.get("MS_SEED", "1"))
    pause = float(os.environ.get("PAUSE", "0.3"))
    tb = HomeAgentTB(dut, seed, pause)
    await tb.reset()
    ref = bytearray(MEM_BYTES)
    tb.ram.write(0, bytes(ref))
    region = MEM_BYTES // 8 // 6   # lines per worker; workers never share a line
    workers = []
    for k in range(3):   # several transactions of each kind in flight per manager
        for j, name in enumerate(("host", "sweep")):
            lo = (2 * k + j) * region
            workers.append(cocotb.start_soon(_worker(tb, name, lo, lo + region, 40, ref)))
    for w in workers:
        await w
    assert tb.ram.read(0, MEM_BYTES) == bytes(ref)
    assert tb.ids["ar"] == {HOST_ID, SWEEP_ID} and tb.ids["aw"] == {HOST_ID, SWEEP_ID}


@cocotb.test()
async def vanished_module_never_hangs(dut):
    """The module goes away with traffic in flight: every request is answered (SLVERR
    while it is gone), and once it is back the agent serves it normally again."""
    seed = int(os.environ.get("MS_SEED", "1"))
    tb = HomeAgentTB(dut, seed, 0.3)
    await tb.reset()
    region = MEM_BYTES // 8 // 6
    workers = []
    for k in range(3):
        for j, name in enumerate(("host", "sweep")):
            lo = (2 * k + j) * region
            workers.append(cocotb.start_soon(
                _worker(tb, name, lo, lo + region, 30, None, tolerate=True)))
    await ClockCycles(dut.clk, 150)
    dut.alive.value = 0
    for w in workers:
        await w    # would hang if anything owed were never answered
    assert sum(w.result() for w in workers) > 0, "no request met the vanished module"
    await ClockCycles(dut.clk, 20)
    dut.alive.value = 1
    await ClockCycles(dut.clk, 5)
    ref = bytearray(tb.ram.read(0, MEM_BYTES))
    workers = [cocotb.start_soon(_worker(tb, name, k * region, (k + 1) * region, 30, ref))
               for k, name in enumerate(("host", "sweep"))]
    for w in workers:
        await w


@cocotb.test(timeout_time=100, timeout_unit="us")
async def write_credits_hold_under_stalled_responses(dut):
    """The memory withholds every write response: each source gets at most WRITES
    bursts to the memory and no more (the limit is reached, not just respected), an AW
    shown to the memory stays, with its payload, until accepted, and once the responses
    flow every write completes with its data."""
    seed = int(os.environ.get("MS_SEED", "1"))
    tb = HomeAgentTB(dut, seed, 0.0)
    await tb.reset()
    b = tb.ram.write_if.b_channel
    b.set_pause_generator(itertools.repeat(True))
    b.queue_occupancy_limit = -1   # the RAM keeps taking writes while B is withheld
    # AW ready withheld at random, so some AW is shown and waits as the count hits the limit
    tb.ram.write_if.aw_channel.set_pause_generator(pauses(tb.rng, 0.5))
    watch = WriteCreditWatch(dut.clk, tb.ram.write_if.aw_channel.bus, b.bus, WRITES,
                             ids=(HOST_ID, SWEEP_ID))
    writes = []
    for name in ("host", "sweep"):
        _, wr = tb.sources[name]
        base = 0 if name == "host" else MEM_BYTES // 2
        for i in range(WRITES + 5):
            data = bytes([(i * 7 + len(name)) & 0xFF]) * 8
            writes.append((base + i * 64, data,
                           cocotb.start_soon(wr.write(base + i * 64, data, awid=0))))
    await ClockCycles(dut.clk, 200)
    # the room flag is a cycle old, so the count stops at WRITES - 1 or WRITES
    assert min(watch.peak.values()) >= WRITES - 1, \
        f"the limit was never reached: {watch.peak}"
    assert not any(t.done() for _, _, t in writes), "a write completed with B withheld"
    b.clear_pause_generator()
    b.pause = False
    for addr, data, task in writes:
        assert (await task).resp == AxiResp.OKAY
        assert tb.ram.read(addr, 8) == data
    assert watch.open == {HOST_ID: 0, SWEEP_ID: 0}


async def _memory_reads(dut, log):
    """Append (AXI ID, beats) of every read burst the memory accepts to ``log``."""
    while True:
        await RisingEdge(dut.clk)
        await ReadOnly()
        if int(dut.mem_arvalid.value) and int(dut.mem_arready.value):
            log.append((int(dut.mem_arid.value), int(dut.mem_arlen.value) + 1))


@cocotb.test()
async def sweep_reads_in_pieces_while_the_host_reads(dut):
    """While the host reads (1-line reads a few cycles apart), the sweep's 32-line bursts
    reach the memory in pieces of at most SWEEP_PIECE beats and still return whole (RLAST
    at the end of the burst, every byte right); once the host has been quiet for
    HOST_RECENT cycles they reach it whole again."""
    seed = int(os.environ.get("MS_SEED", "1"))
    tb = HomeAgentTB(dut, seed, 0.0)
    await tb.reset()
    ref = tb.rng.randbytes(MEM_BYTES)
    tb.ram.write(0, ref)
    log = []
    cocotb.start_soon(_memory_reads(dut, log))
    host_rd, _ = tb.sources["host"]
    sweep_rd, _ = tb.sources["sweep"]
    burst = 32 * 8

    async def sweep_reads(first, count):
        for k in range(count):
            addr = MEM_BYTES // 2 + (first + k) * burst
            r = await sweep_rd.read(addr, burst, arid=0)
            assert r.resp == AxiResp.OKAY and r.data == ref[addr:addr + burst], \
                f"sweep read {addr:#x} came back wrong"

    async def host_reads(count):
        for _ in range(count):
            addr = tb.rng.randrange(MEM_BYTES // 2 // 8) * 8
            r = await host_rd.read(addr, 8, arid=0)
            assert r.resp == AxiResp.OKAY and r.data == ref[addr:addr + 8]
            await ClockCycles(dut.clk, tb.rng.randint(4, 12))

    host = cocotb.start_soon(host_reads(60))
    await ClockCycles(dut.clk, 20)
    sweeps = [cocotb.start_soon(sweep_reads(4 * j, 4)) for j in range(3)]
    for t in sweeps:
        await t
    assert not host.done(), "the host stopped reading before the sweep's reads ended"
    pieces = [beats for axi_id, beats in log if axi_id == SWEEP_ID]
    assert len(pieces) >= 12 * 32 // SWEEP_PIECE, f"the sweep's bursts were not cut: {pieces}"
    assert max(pieces) <= SWEEP_PIECE, f"a sweep read of {max(pieces)} beats beside the host"
    await host
    await ClockCycles(dut.clk, HOST_RECENT + 10)
    log.clear()
    await sweep_reads(16, 4)
    assert [beats for axi_id, beats in log] == [32] * 4, \
        f"the sweep's reads were cut with the host quiet: {log}"


async def _present_writes(dut, prefix, aw, w, aw_start, w_start):
    """Drive the write request channels of ``prefix`` (e.g. ``host_wr``) of the DUT by
    hand, counting cycles from the call: the AW beats ``aw`` and the W beats ``w`` (dicts
    of member name to value) in turn, beat ``k`` of each channel from the cycle its
    ``*_start(k, shown, taken)`` gives on (``None``: not known yet), at the earliest the
    cycle after the handshake of beat ``k - 1``, with VALID high until its own handshake.
    ``shown`` and ``taken`` are the AW beats' cycles so far: first shown, handshake."""
    chans = [(aw, aw_start, "aw"), (w, w_start, "w")]
    valid = {ch: getattr(dut, f"{prefix}_{ch}valid") for _, _, ch in chans}
    ready = {ch: getattr(dut, f"{prefix}_{ch}ready") for _, _, ch in chans}
    at = {"aw": 0, "w": 0}          # the next beat of each channel
    shown, taken = [], []           # of the AW beats
    cycle = 0
    while at["aw"] < len(aw) or at["w"] < len(w):
        for beats, start, ch in chans:   # AW first: a W may start with its AW's cycle
            k = at[ch]
            go = k < len(beats) and (c := start(k, shown, taken)) is not None and c <= cycle
            if go:
                for name, value in beats[k].items():
                    getattr(dut, f"{prefix}_{ch}{name}").value = value
                if ch == "aw" and len(shown) == k:
                    shown.append(cycle)
            valid[ch].value = int(go)
        await ReadOnly()
        fired = {ch: at[ch] < len(b) and int(valid[ch].value) and int(ready[ch].value)
                 for b, _, ch in chans}
        await RisingEdge(dut.clk)
        for ch in fired:
            if fired[ch]:
                at[ch] += 1
        if fired["aw"]:
            taken.append(cycle)
        cycle += 1
    for ch in valid:
        valid[ch].value = 0


async def _memory_write_cycles(dut, log):
    """Append the cycle (counted from the call) of every AW handshake and of every WLAST
    handshake on the memory's write port to ``log["aw"]`` and ``log["wlast"]``."""
    cycle = 0
    while True:
        await ReadOnly()
        if int(dut.mem_awvalid.value) and int(dut.mem_awready.value):
            log["aw"].append(cycle)
        if int(dut.mem_wvalid.value) and int(dut.mem_wready.value) and \
                int(dut.mem_wlast.value):
            log["wlast"].append(cycle)
        await RisingEdge(dut.clk)
        cycle += 1


@cocotb.test()
async def host_writes_one_per_cycle(dut):
    """Back-to-back 1-beat host writes, each burst's AW presented as soon as the last one
    is taken, and its W beat: one or two cycles after its AW was taken (as the host write
    engine sends W, through register slices), together with its AW, or a cycle ahead of
    it. The memory takes one write burst per cycle in steady state on AW and W alike, and
    every byte lands where it was written. (With the small queues of the formal proofs,
    two bursts owed a response at most, the write responses pace the host instead: there
    only the data is checked.)"""
    seed = int(os.environ.get("MS_SEED", "1"))
    tb = HomeAgentTB(dut, seed, 0.0, by_hand=("host",))
    for name in ("awvalid", "wvalid", "awaddr", "awlen", "wdata", "wlast"):
        getattr(dut, f"host_wr_{name}").value = 0
    dut.host_wr_bready.value = 1
    # AWs run ahead of their data at the memory too: room for them there (the RAM model
    # queues two), as a memory controller has
    tb.ram.write_if.aw_channel.queue_occupancy_limit = 8
    await tb.reset()
    ref = bytearray(MEM_BYTES)
    tb.ram.write(0, bytes(ref))
    count = 48
    okay = 0

    async def responses():
        nonlocal okay
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            if int(dut.host_wr_bvalid.value):
                assert int(dut.host_wr_bresp.value) == AxiResp.OKAY
                okay += 1
    cocotb.start_soon(responses())

    for round_, w_lag in enumerate((1, 2, 0, -1)):
        lines = tb.rng.sample(range(round_ * 1024, (round_ + 1) * 1024), count)
        data = [tb.rng.randbytes(8) for _ in lines]
        aw = [dict(addr=line * 8, len=0, size=3, burst=1, id=0, lock=0, cache=0, prot=0,
                   qos=0) for line in lines]
        w = [dict(data=int.from_bytes(d, "little"), strb=0xFF, last=1, user=0)
             for d in data]
        if w_lag > 0:      # W once its AW is taken
            w_start = lambda k, shown, taken: taken[k] + w_lag if k < len(taken) else None
        elif w_lag == 0:   # W with its AW
            w_start = lambda k, shown, taken: shown[k] if k < len(shown) else None
        else:              # W first, AW a cycle after it
            w_start = lambda k, shown, taken: 0
        aw_start = lambda k, shown, taken: int(w_lag < 0)
        log = {"aw": [], "wlast": []}
        monitor = cocotb.start_soon(_memory_write_cycles(dut, log))
        await _present_writes(dut, "host_wr", aw, w, aw_start, w_start)
        for line, d in zip(lines, data):
            ref[line * 8:line * 8 + 8] = d
        for _ in range(50):
            if okay == (round_ + 1) * count:
                break
            await RisingEdge(dut.clk)
        monitor.cancel()
        assert okay == (round_ + 1) * count, f"W {w_lag:+}: {okay} write responses"
        assert len(log["aw"]) == len(log["wlast"]) == count
        if WRITES == MAX_WRITES:
            # steady state: past the first few bursts, one AW and one WLAST every cycle
            for ch in ("aw", "wlast"):
                gaps = [b - a for a, b in zip(log[ch][4:], log[ch][5:])]
                assert gaps == [1] * len(gaps), \
                    f"W {w_lag:+}: memory {ch} handshakes at cycles {log[ch]}"
    assert tb.ram.read(0, MEM_BYTES) == bytes(ref)
    assert tb.ids["aw"] == {HOST_ID}


@pytest.mark.parametrize("seed, max_reads, max_writes", [
    (1, MAX_READS, MAX_WRITES), (2, MAX_READS, MAX_WRITES), (3, MAX_READS, MAX_WRITES),
    (1, 2, 2),      # the queue sizes of the formal proofs
])
def test_home_agent(seed, max_reads, max_writes):
    run_tests(__file__, "home_agent",
              component=HomeAgent(max_reads=max_reads, max_writes=max_writes),
              params={"seed": seed, "max_reads": max_reads, "max_writes": max_writes})
