"""cocotb benches of ``make bench``'s side-by-side comparison: the design against its limit.

The same traffic runs through two DUTs, each served by the same memory model
(:class:`sim.memory.PipelinedMemory` on cocotbext-axi's ``AxiRam``):

- ``design`` (``$MS_BENCH_DUT=design``): the whole ``mirrorswap_top``, set up as in
  ``bench/cocotb_bench.py`` (slot 0 the master, ACTIVE on lines [0, 65536); slot 1 the
  spare);
- ``passthrough``: ``bench/passthrough.py``'s ``mirrorswap_passthrough``, the host port
  wired to one memory port, at the same addresses (host line L = memory line L).

Measurements (each at memory latency 1 and 20, read and write-response latency alike):

- ``throughput``: 8 workers (AXI IDs 0..7), each keeping one burst in flight and issuing
  the next as soon as the last completes, over random 16-line-aligned lines of the range;
  the beats completed per cycle over a window, after a warm-up. Kinds: 1-beat and 16-beat
  reads and writes, mixed (each burst a 16-beat read or write at even odds) and, on the
  design only, mirrored 16-beat writes (the mirror established, no sweep).
- ``latency``: light read traffic, 1-line host reads issued one every 4-12 cycles (open
  loop: whether or not the earlier ones have completed) on AXI ID 15, and their latency
  at the port (AR handshake to R): idle, and on the design during a SWEEP at THROTTLE 0;
  the sweep's lines/cycle beside that traffic, and alone.

Every worker draws from its own generator seeded from ``$MS_SEED`` and its index, so a
DUT sees the same sequence of requests in every run. ``$MS_BENCH_SIZE`` (``full``,
``quick``, ``tiny``) sets the windows and sample counts. Results are JSON lines in
``$MS_BENCH_OUT`` (``cocotb_bench.record``), each naming its DUT (``$MS_BENCH_LABEL``).
"""

import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles
from cocotbext.axi import AxiBus, AxiMaster, AxiRam, AxiResp

from mirrorswap.bench.cocotb_bench import (
    PROBE_ID, RANGE_LINES, SEED, PortLatency, abort, cycle, establish, record, setup, stats,
    sweep)
from mirrorswap.geometry import Geometry
from mirrorswap.sim.memory import PipelinedMemory
from mirrorswap.sim.tb import reset_dut

DUT = os.environ.get("MS_BENCH_DUT", "design")
#: the name the results carry (``$MS_BENCH_LABEL``, default the DUT's): ``bench/run.py``'s
#: self-check runs the pass-through under the name "design"
LABEL = os.environ.get("MS_BENCH_LABEL", DUT)
SIZE = os.environ.get("MS_BENCH_SIZE", "full")
#: (warm-up cycles, window cycles, probe samples, sweep lines) per size
SIZES = {"full": (400, 4000, 1000, 16384), "quick": (200, 800, 100, 2048),
         "tiny": (100, 300, 20, 512)}
WARMUP, WINDOW, SAMPLES, SWEEP_LINES = SIZES[SIZE]
LATENCIES = (1, 20)
WORKERS = 8
BURST_ALIGN = 16
#: traffic kind: (operation, beats per burst, design only)
TRAFFIC = {
    "read1": ("read", 1, False),
    "read16": ("read", 16, False),
    "write1": ("write", 1, False),
    "write16": ("write", 16, False),
    "mixed": ("mixed", 16, False),
    "mirrored16": ("write", 16, True),
}


class PassThroughTB:
    """The pass-through's bench: clock, reset, ``host`` (AxiMaster on ``s_axi``) and one
    pipelined memory on ``m_axi_mem0`` holding the whole measured range; ``geometry``
    read from the DUT, as :class:`sim.tb.TopTB` does."""

    def __init__(self, dut):
        self.dut = dut
        self.geometry = Geometry(len(dut.s_axi_wdata))
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.host = AxiMaster(AxiBus.from_prefix(dut, "s_axi"), dut.clk, dut.rst)
        self.ram = AxiRam(AxiBus.from_prefix(dut, "m_axi_mem0"), dut.clk, dut.rst,
                          size=RANGE_LINES * self.geometry.line_bytes)
        self.pipeline = PipelinedMemory(self.ram, dut.clk)

    def set_memory_latency(self, cycles, write_cycles):
        self.pipeline.read_latency = max(1, cycles)
        self.pipeline.write_latency = max(1, write_cycles)

    async def reset(self):
        await reset_dut(self.dut, cycles=4)


async def make_tb(dut, latency):
    if DUT == "passthrough":
        tb = PassThroughTB(dut)
        tb.set_memory_latency(latency, latency)
        await tb.reset()
        return tb
    if DUT != "design":
        raise ValueError(f"MS_BENCH_DUT must be 'design' or 'passthrough', not {DUT!r}")
    return await setup(dut, latency)


class Workers:
    """``WORKERS`` closed-loop workers: each keeps one burst of ``beats`` lines in flight
    (``op`` "read", "write" or "mixed") on AXI ID = its index; :attr:`beats` counts the
    beats of completed bursts."""

    def __init__(self, tb, op, beats, seed):
        self.tb, self.op, self.burst = tb, op, beats
        self.beats = 0
        self._stop = False
        self._tasks = [cocotb.start_soon(self._run(w, random.Random(f"{seed}/{w}")))
                       for w in range(WORKERS)]

    async def _run(self, w, rng):
        host, lb = self.tb.host, self.tb.geometry.line_bytes
        while not self._stop:
            op = self.op if self.op != "mixed" else rng.choice(("read", "write"))
            line = rng.randrange(RANGE_LINES // BURST_ALIGN) * BURST_ALIGN
            if op == "read":
                r = await host.read(line * lb, self.burst * lb, arid=w)
            else:
                r = await host.write(line * lb, rng.randbytes(self.burst * lb), awid=w)
            assert r.resp == AxiResp.OKAY, (op, line, r.resp)
            self.beats += self.burst

    async def stop(self):
        self._stop = True
        for t in self._tasks:
            await t


async def measure(tb, kind, latency):
    op, beats, _ = TRAFFIC[kind]
    workers = Workers(tb, op, beats, f"{SEED}/{kind}/{latency}")
    await ClockCycles(tb.dut.clk, WARMUP)
    b0, t0 = workers.beats, cycle()
    await ClockCycles(tb.dut.clk, WINDOW)
    got = (workers.beats - b0) / (cycle() - t0)
    await workers.stop()
    record("traffic", dut=LABEL, traffic=kind, latency=latency, beats=beats,
           workers=WORKERS, window=WINDOW, beats_per_cycle=got)


async def light_reads(tb, rng, *, samples=None, until=None):
    """1-line reads on AXI ID ``PROBE_ID`` at random 16-line-aligned lines of the range,
    one issued every 4-12 cycles whether or not the earlier ones have completed, until
    ``samples`` are issued or ``until()`` is true; returns, once all have completed, how
    many there were."""
    lb = tb.geometry.line_bytes

    async def one(line):
        r = await tb.host.read(line * lb, lb, arid=PROBE_ID)
        assert r.resp == AxiResp.OKAY, (line, r.resp)

    reads = []
    while (samples is None or len(reads) < samples) and not (until and until()):
        line = rng.randrange(RANGE_LINES // BURST_ALIGN) * BURST_ALIGN
        reads.append(cocotb.start_soon(one(line)))
        await ClockCycles(tb.dut.clk, rng.randint(4, 12))
    for r in reads:
        await r
    return len(reads)


@cocotb.test()
async def throughput(dut):
    """Beats per cycle of every traffic kind at memory latency 1 and 20."""
    tb = None
    for latency in LATENCIES:
        if tb is None:
            tb = await make_tb(dut, latency)
        tb.set_memory_latency(latency, latency)
        for kind, (_, _, design_only) in TRAFFIC.items():
            if design_only and DUT != "design":
                continue
            if kind == "mirrored16":
                await establish(tb)
            await measure(tb, kind, latency)
            if kind == "mirrored16":
                await abort(tb)


@cocotb.test()
async def latency(dut):
    """1-line host read latency idle and (design) during a SWEEP at THROTTLE 0, and the
    sweep's rate alone and beside those reads, at memory latency 1 and 20."""
    tb = None
    for mem_latency in LATENCIES:
        if tb is None:
            tb = await make_tb(dut, mem_latency)
            mon = PortLatency(dut)
        tb.set_memory_latency(mem_latency, mem_latency)
        rng = random.Random(f"{SEED}/latency/{mem_latency}")
        mon.clear()
        await light_reads(tb, rng, samples=SAMPLES)
        record("read_latency_idle", dut=LABEL, latency=mem_latency, **stats(mon.read))
        if DUT != "design":
            continue
        await establish(tb)
        cycles = await sweep(tb, SWEEP_LINES)
        await abort(tb)
        record("sweep_alone", dut=LABEL, latency=mem_latency, lines=SWEEP_LINES,
               cycles=cycles, lines_per_cycle=SWEEP_LINES / cycles)
        await establish(tb)
        mon.clear()
        done = False

        async def run_sweep():
            nonlocal done
            c = await sweep(tb, SWEEP_LINES)
            done = True
            return c

        task = cocotb.start_soon(run_sweep())
        await light_reads(tb, rng, until=lambda: done)
        cycles = await task
        await abort(tb)
        record("read_latency_sweep", dut=LABEL, latency=mem_latency, throttle=0,
               lines=SWEEP_LINES, cycles=cycles, lines_per_cycle=SWEEP_LINES / cycles,
               **stats(mon.read))
    mon.stop()
