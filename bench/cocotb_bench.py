"""cocotb benches of ``make bench``: performance of the whole ``mirrorswap_top``.

Every measurement drives the full design (defaults: 4 agents, slots of up to 2^16 lines;
any data width, the line size read from the DUT through ``tb.geometry``) through its
ports only: host traffic on ``s_axi`` (cocotbext-axi AxiMaster),
commands through ``s_axil``, memories on ``m_axi_mem<i>`` served by
:class:`sim.memory.PipelinedMemory` (one beat per cycle per channel, fixed latency).

Each test appends its results as JSON lines to ``$MS_BENCH_OUT``; ``bench/run.py`` turns
them into tables and a plot. ``MS_BENCH_QUICK=1`` shrinks every size (a smoke run).

Setup used by every test: slot 0 is the master, ACTIVE on lines [0, 65536) of a 2^16-line
module; slot 1 is the spare (2^16 lines); slot 2 is ACTIVE on [65536, 69632), the plain
(unmirrored) range. The read latency and write-response latency of every module are both
the "memory latency" of the test.
"""

import json
import os
import random
import time
from collections import deque

import cocotb
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time
from cocotbext.axi import AxiResp

from mirrorswap.regmap import Err, Event, Op
from mirrorswap.sim.tb import TopTB

CLOCK_NS = 10
MASTER, SPARE, PLAIN = 0, 1, 2
RANGE_LINES = 1 << 16
PLAIN_BASE, PLAIN_LINES = RANGE_LINES, 4096
PROBE_ID = 15            # the latency probe's AXI ID; background traffic uses 0..7
QUICK = os.environ.get("MS_BENCH_QUICK") == "1"
OUT = os.environ.get("MS_BENCH_OUT")
SEED = int(os.environ.get("MS_SEED", "1"))


def cycle():
    return int(get_sim_time("ns")) // CLOCK_NS


def record(kind, **values):
    """One result line for bench/run.py (and the log)."""
    line = json.dumps({"kind": kind, "sim": os.environ.get("SIM", "icarus"), **values})
    print(f"bench result {line}", flush=True)
    if OUT:
        with open(OUT, "a") as f:
            f.write(line + "\n")


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


# ---- setup and commands -------------------------------------------------------------------
async def setup(dut, latency):
    tb = TopTB(dut, capacities_log2=(16, 16, 12, 12), seed=SEED, memory="pipelined")
    tb.set_memory_latency(latency, latency)
    await tb.reset()
    await tb.power_up()
    await tb.assign(MASTER, 0, RANGE_LINES)
    await tb.assign(PLAIN, PLAIN_BASE, PLAIN_LINES)
    await tb.write(MASTER, "IRQ_EN", Event.CMD_DONE)
    return tb


async def establish(tb):
    err = await tb.command(MASTER, Op.ESTABLISH, SPARE)
    assert err == Err.OK, f"ESTABLISH: {err}"


async def abort(tb):
    err = await tb.command(MASTER, Op.ABORT)
    assert err == Err.OK, f"ABORT: {err}"


async def sweep(tb, count, throttle=0, start=0):
    """Run one SWEEP of ``count`` lines; returns its cycles, from the CMD write's response
    to ``irq`` (cmd_done)."""
    dut = tb.dut
    await tb.write(MASTER, "THROTTLE", throttle)
    await tb.write(MASTER, "SWEEP_START", start)
    await tb.write(MASTER, "SWEEP_COUNT", count)
    await tb.write(MASTER, "EVENTS", int(Event.CMD_DONE))    # W1C
    await tb.write(MASTER, "CMD", Op.SWEEP)
    t0 = cycle()
    if not int(dut.irq.value):
        await RisingEdge(dut.irq)
    t1 = cycle()
    st = await tb.status(MASTER)
    assert st["err"] == Err.OK and not st["busy"], f"SWEEP ended with {st}"
    return t1 - t0


# ---- background host load -----------------------------------------------------------------
class HostLoad:
    """Open-loop host traffic on a range: 16-line read bursts and 16-line write bursts,
    each stream offering ``load`` beats per cycle (a burst every 16/load cycles, up to 8
    outstanding per stream; when 8 are outstanding a slot is skipped). So at load L the
    host takes L of the master module's read bandwidth and, its writes being mirrored, L
    of the spare's write bandwidth: the sweep's share is at most 1 - L on both.

    :meth:`window` starts counting completed beats; :attr:`achieved` gives the read and
    write beats per cycle delivered since then."""

    def __init__(self, tb, base, lines, load, rng, burst=16, outstanding=8):
        self.tb, self.base, self.lines, self.load = tb, base, lines, load
        self.rng, self.burst, self.outstanding = rng, burst, outstanding
        self.busy = {"read": 0, "write": 0}
        self.beats = {"read": 0, "write": 0}
        self.t0 = cycle()
        self._stop = False
        self._tasks = []

    def start(self):
        if self.load > 0:
            self._tasks = [cocotb.start_soon(self._stream(k)) for k in ("read", "write")]

    def window(self):
        self.beats = {"read": 0, "write": 0}
        self.t0 = cycle()

    def achieved(self):
        dt = max(1, cycle() - self.t0)
        return {k: v / dt for k, v in self.beats.items()}

    async def stop(self):
        self._stop = True
        for t in self._tasks:
            await t
        while any(self.busy.values()):
            await ClockCycles(self.tb.dut.clk, 4)

    async def _stream(self, kind):
        period = self.burst / self.load
        due = cycle() + self.rng.random() * period
        ids = iter(range(1 << 30))
        while not self._stop:
            wait = int(due) - cycle()
            if wait > 0:
                await ClockCycles(self.tb.dut.clk, wait)
            due += period
            if self.busy[kind] < self.outstanding:
                self.busy[kind] += 1
                cocotb.start_soon(self._one(kind, next(ids) % 8))

    async def _one(self, kind, axi_id):
        host = self.tb.host
        lb = self.tb.geometry.line_bytes
        line = self.base + self.rng.randrange(self.lines // self.burst) * self.burst
        try:
            if kind == "read":
                r = await host.read(line * lb, self.burst * lb, arid=axi_id)
                assert r.resp == AxiResp.OKAY, r.resp
            else:
                w = await host.write(line * lb, self.rng.randbytes(self.burst * lb),
                                     awid=axi_id)
                assert w.resp == AxiResp.OKAY, w.resp
            self.beats[kind] += self.burst
        finally:
            self.busy[kind] -= 1


# ---- latency at the host port -------------------------------------------------------------
class PortLatency:
    """Latency of the probe's transactions (AXI ID :data:`PROBE_ID`) measured on the
    host port's wires: AR handshake to the last R beat, AW handshake to B, in cycles."""

    def __init__(self, dut):
        self.dut = dut
        self.read, self.write = [], []
        self._ar, self._aw = deque(), deque()
        self._task = cocotb.start_soon(self._run())

    def clear(self):
        self.read, self.write = [], []

    def stop(self):
        self._task.cancel()

    async def _run(self):
        d = self.dut
        while True:
            await RisingEdge(d.clk)
            await ReadOnly()
            now = cycle()
            if int(d.s_axi_arvalid.value) and int(d.s_axi_arready.value) \
                    and int(d.s_axi_arid.value) == PROBE_ID:
                self._ar.append(now)
            if int(d.s_axi_rvalid.value) and int(d.s_axi_rready.value) \
                    and int(d.s_axi_rlast.value) and int(d.s_axi_rid.value) == PROBE_ID:
                self.read.append(now - self._ar.popleft())
            if int(d.s_axi_awvalid.value) and int(d.s_axi_awready.value) \
                    and int(d.s_axi_awid.value) == PROBE_ID:
                self._aw.append(now)
            if int(d.s_axi_bvalid.value) and int(d.s_axi_bready.value) \
                    and int(d.s_axi_bid.value) == PROBE_ID:
                self.write.append(now - self._aw.popleft())


async def probe(tb, kind, base, lines, rng, *, samples=None, until=None, beats=1,
                gap=(4, 12)):
    """One probe transaction at a time (random line of the range, ``beats`` long), a
    random gap between them, until ``samples`` are done or ``until()`` is true."""
    n = 0
    lb = tb.geometry.line_bytes
    while (samples is None or n < samples) and not (until and until()):
        line = base + rng.randrange(lines // 16) * 16
        if kind == "read":
            r = await tb.host.read(line * lb, beats * lb, arid=PROBE_ID)
            assert r.resp == AxiResp.OKAY
        else:
            w = await tb.host.write(line * lb, rng.randbytes(beats * lb), awid=PROBE_ID)
            assert w.resp == AxiResp.OKAY
        n += 1
        await ClockCycles(tb.dut.clk, rng.randint(*gap))
    return n


def stats(values):
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "max": max(values) if values else None,
            "mean": round(sum(values) / len(values), 2) if values else None}


# ---- the benches --------------------------------------------------------------------------
@cocotb.test()
async def sweep_rate(dut):
    """Sweep lines/cycle versus host load (0, 25, 50, 75 %) and memory latency (1, 20, 60
    cycles), THROTTLE 0, over SWEEP_LINES lines per point, with what the host got during
    the sweep and, as the reference, without one (the mirror established, no sweep); then
    the 64 Ki-line range at latency 20 without host traffic."""
    rng = random.Random(SEED)
    count = 512 if QUICK else 8192
    tb = None
    for latency in (1, 20, 60):
        if tb is None:
            tb = await setup(dut, latency)
        tb.set_memory_latency(latency, latency)
        for load in (0.0, 0.25, 0.5, 0.75):
            await establish(tb)
            traffic = HostLoad(tb, 0, RANGE_LINES, load, random.Random(rng.random()))
            traffic.start()
            await ClockCycles(dut.clk, 200)           # traffic in its steady state
            alone = {"read": None, "write": None}
            if load:
                # what the host gets without a sweep: the reference for its share
                traffic.window()
                await ClockCycles(dut.clk, 600 if QUICK else 3000)
                alone = traffic.achieved()
            traffic.window()
            wall = time.perf_counter()
            cycles = await sweep(tb, count)
            wall = time.perf_counter() - wall
            host = traffic.achieved()
            await traffic.stop()
            await abort(tb)
            record("sweep", latency=latency, load=load, lines=count, cycles=cycles,
                   lines_per_cycle=count / cycles, host_read=host["read"],
                   host_write=host["write"], alone_read=alone["read"],
                   alone_write=alone["write"], wall_s=wall, cycles_per_s=cycles / wall)
    big = 4096 if QUICK else RANGE_LINES
    tb.set_memory_latency(20, 20)
    await establish(tb)
    wall = time.perf_counter()
    cycles = await sweep(tb, big)
    wall = time.perf_counter() - wall
    # the sweep copied every line: the spare now equals the master
    lb = tb.geometry.line_bytes
    assert tb.mems[SPARE].read(0, big * lb) == tb.mems[MASTER].read(0, big * lb)
    await abort(tb)
    record("sweep_big", latency=20, load=0.0, lines=big, cycles=cycles,
           lines_per_cycle=big / cycles, wall_s=wall, cycles_per_s=cycles / wall)


@cocotb.test()
async def read_latency(dut):
    """Host read latency (1-line reads at the port) idle and while a SWEEP runs, at
    several THROTTLE values; the sweep's rate at each. Memory latency 20."""
    rng = random.Random(SEED + 1)
    tb = await setup(dut, 20)
    mon = PortLatency(dut)
    samples = 60 if QUICK else 1000
    span = 2000 if QUICK else 20000     # cycles each throttled sweep should last
    await probe(tb, "read", 0, RANGE_LINES, rng, samples=samples)
    record("read_latency", throttle=None, sweep_lines_per_cycle=None, **stats(mon.read))
    for throttle in (0, 1, 4, 16):
        await establish(tb)
        rate = 1.0 if throttle == 0 else 1 / (throttle + 1)
        count = max(512, min(RANGE_LINES, int(span * rate) // 512 * 512))
        mon.clear()
        done = False

        async def run_sweep():
            nonlocal done
            c = await sweep(tb, count, throttle)
            done = True
            return c

        task = cocotb.start_soon(run_sweep())
        await probe(tb, "read", 0, RANGE_LINES, rng, until=lambda: done)
        cycles = await task
        await abort(tb)
        record("read_latency", throttle=throttle, sweep_lines=count,
               sweep_lines_per_cycle=count / cycles, **stats(mon.read))
    mon.stop()


@cocotb.test()
async def write_latency(dut):
    """Host write latency at the port (AW handshake to B) to a plain ACTIVE range and to
    a mirrored one (MIRROR_MASTER, no sweep running), 1-line and 16-line writes; memory
    latency 20 (also the write-response latency), then with the spare's write response
    slower (60) than the master's (20)."""
    rng = random.Random(SEED + 2)
    tb = await setup(dut, 20)
    mon = PortLatency(dut)
    samples = 40 if QUICK else 400
    for slave_latency in (20, 60):
        tb.slots[SPARE].pipeline.write_latency = slave_latency
        tb.slots[PLAIN].pipeline.write_latency = slave_latency
        for beats in (1, 16):
            for mode in ("plain", "mirrored"):
                if mode == "mirrored":
                    await establish(tb)
                    base, lines = 0, RANGE_LINES
                else:
                    base, lines = PLAIN_BASE, PLAIN_LINES
                mon.clear()
                await probe(tb, "write", base, lines, rng, samples=samples, beats=beats)
                if mode == "mirrored":
                    await abort(tb)
                record("write_latency", mode=mode, beats=beats, master_latency=20,
                       slave_latency=slave_latency if mode == "mirrored" else None,
                       plain_latency=slave_latency if mode == "plain" else None,
                       **stats(mon.write))
    mon.stop()


@cocotb.test()
async def literal_vs_sweep(dut):
    """The patent's literal firmware copy (with the mirror established, read each line
    through the host port and write it back, one line at a time) and a batched variant
    (16-line bursts), against the hardware SWEEP of the same lines. Memory latency 20."""
    tb = await setup(dut, 20)
    count = 128 if QUICK else 2048
    host = tb.host
    lb = tb.geometry.line_bytes
    for variant, step in (("literal, line by line", 1), ("firmware, 16-line bursts", 16)):
        await establish(tb)
        t0 = cycle()
        for line in range(0, count, step):
            r = await host.read(line * lb, step * lb)
            w = await host.write(line * lb, r.data)
            assert r.resp == AxiResp.OKAY and w.resp == AxiResp.OKAY
        cycles = cycle() - t0
        assert tb.mems[SPARE].read(0, count * lb) == tb.mems[MASTER].read(0, count * lb)
        await abort(tb)
        record("copy_method", method=variant, lines=count, cycles=cycles,
               lines_per_cycle=count / cycles)
    await establish(tb)
    cycles = await sweep(tb, count)
    assert tb.mems[SPARE].read(0, count * lb) == tb.mems[MASTER].read(0, count * lb)
    await abort(tb)
    record("copy_method", method="hardware SWEEP", lines=count, cycles=cycles,
           lines_per_cycle=count / cycles)


@cocotb.test()
async def sim_speed(dut):
    """Simulated cycles per wall-clock second of the full design: idle (clock, no
    traffic), a SWEEP alone, a SWEEP under 50 % host load. Memory latency 20."""
    tb = await setup(dut, 20)
    n = 2000 if QUICK else 20000
    wall = time.perf_counter()
    await ClockCycles(dut.clk, n)
    wall = time.perf_counter() - wall
    record("sim_speed", what="idle (clock only)", cycles=n, wall_s=wall, cycles_per_s=n / wall)
    count = 1024 if QUICK else 16384
    for load in (0.0, 0.5):
        await establish(tb)
        traffic = HostLoad(tb, 0, RANGE_LINES, load, random.Random(SEED))
        traffic.start()
        t0 = cycle()
        wall = time.perf_counter()
        await sweep(tb, count)
        await traffic.stop()
        wall = time.perf_counter() - wall
        cycles = cycle() - t0
        await abort(tb)
        what = "SWEEP alone" if load == 0 else f"SWEEP + {load:.0%} host load"
        record("sim_speed", what=what, cycles=cycles, wall_s=wall, cycles_per_s=cycles / wall)
