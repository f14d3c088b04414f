"""cocotb bench for SweepEngine (rtl/sweep.py), on its generated Verilog.

The engine reads from one RAM (the master's module) and writes to another (the slave's).
The bench drives its control port and its host-claim input directly.
"""

import itertools
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, ReadOnly
from cocotbext.axi import AxiRamRead, AxiRamWrite, AxiReadBus, AxiWriteBus
from mirrorswap.rtl.sweep import _MAX_SUB_BURSTS
from mirrorswap.sim.memory import inject_faults
from mirrorswap.sim.tb import WriteCreditWatch, pauses, reset_dut

LINES = 2048
AGENT = 2


class SweepTB:
    def __init__(self, dut, seed=1, pause=0.0):
        self.dut = dut
        self.rng = random.Random(seed)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.src = AxiRamRead(AxiReadBus.from_prefix(dut, "rd"), dut.clk, dut.rst,
                              size=LINES * 8)
        self.dst = AxiRamWrite(AxiWriteBus.from_prefix(dut, "wr"), dut.clk, dut.rst,
                               size=LINES * 8)
        if pause:
            for ch in (self.src.ar_channel, self.src.r_channel, self.dst.aw_channel,
                       self.dst.w_channel, self.dst.b_channel):
                ch.set_pause_generator(pauses(self.rng, pause))
        for name in ("start", "start_line", "count", "cancel"):
            getattr(dut, f"ctrl_{name}").value = 0
        for name in ("active", "agent", "lo", "hi"):
            getattr(dut, f"host_{name}").value = 0
        dut.throttle.value = 0
        self.progress = []
        self.reads = []   # (cycle, first line, lines)
        self.cycle = 0
        cocotb.start_soon(self._watch())

    async def _watch(self):
        d = self.dut
        while True:
            await RisingEdge(d.clk)
            await ReadOnly()
            self.cycle += 1
            if int(d.ctrl_progress_valid.value):
                self.progress.append(int(d.ctrl_progress_end.value))
            if int(d.rd_arvalid.value) and int(d.rd_arready.value):
                self.reads.append((self.cycle, int(d.rd_araddr.value) // 8,
                                   int(d.rd_arlen.value) + 1))

    async def reset(self):
        await reset_dut(self.dut)

    async def start(self, start, count):
        """Pulse ``ctrl.start`` for lines [start, start+count)."""
        d = self.dut
        await RisingEdge(d.clk)
        d.ctrl_start_line.value = start
        d.ctrl_count.value = count
        d.ctrl_start.value = 1
        await RisingEdge(d.clk)
        d.ctrl_start.value = 0

    async def wait_done(self, timeout, what="sweep"):
        """Wait for ``ctrl.done`` for at most ``timeout`` cycles; (failed, err_line)."""
        d = self.dut
        for _ in range(timeout):
            await ReadOnly()          # this cycle first: done may already be up
            if int(d.ctrl_done.value):
                failed = int(d.ctrl_failed.value)
                err_line = int(d.ctrl_err_line.value)
                await RisingEdge(d.clk)
                return failed, err_line
            await RisingEdge(d.clk)
        raise AssertionError(f"{what} did not finish")

    async def sweep(self, start, count, timeout=200_000):
        await self.start(start, count)
        t0 = self.cycle
        failed, err_line = await self.wait_done(timeout)
        return self.cycle - t0, failed, err_line


async def make(dut, **kwargs):
    tb = SweepTB(dut, **kwargs)
    await tb.reset()
    tb.src.write(0, tb.rng.randbytes(LINES * 8))
    tb.dst.write(0, bytes(LINES * 8))
    return tb


def _check_copy(tb, start, count):
    src = tb.src.read(0, LINES * 8)
    dst = tb.dst.read(0, LINES * 8)
    assert dst[start * 8:(start + count) * 8] == src[start * 8:(start + count) * 8]
    assert dst[:start * 8] == bytes(start * 8), "wrote before the range"
    assert dst[(start + count) * 8:] == bytes((LINES - start - count) * 8), "wrote past it"


@cocotb.test()
async def copies_exactly_the_range(dut):
    seed = int(os.environ.get("MS_SEED", "1"))
    tb = await make(dut, seed=seed, pause=0.2)
    rng = random.Random(seed)
    for _ in range(4):
        tb.dst.write(0, bytes(LINES * 8))
        start = rng.randrange(0, LINES // 2)
        count = rng.randrange(1, LINES - start)
        tb.progress.clear()
        tb.reads.clear()
        cycles, failed, _ = await tb.sweep(start, count)
        assert not failed
        _check_copy(tb, start, count)
        assert tb.progress == sorted(tb.progress) and tb.progress[-1] == start + count
        for _, first, lines in tb.reads:   # never across a 4 KiB page
            assert first // 512 == (first + lines - 1) // 512, (first, lines)


@cocotb.test()
async def full_speed_without_backpressure(dut):
    tb = await make(dut)
    cycles, failed, _ = await tb.sweep(0, LINES)
    assert not failed
    _check_copy(tb, 0, LINES)
    rate = LINES / cycles
    dut._log.info("sweep: %d lines in %d cycles = %.3f lines/cycle", LINES, cycles, rate)
    assert rate > 0.8, f"{rate:.3f} lines/cycle"


@cocotb.test()
async def throttle_spaces_line_copies(dut):
    tb = await make(dut)
    dut.throttle.value = 5
    await tb.sweep(100, 40)
    _check_copy(tb, 100, 40)
    starts = [c for c, _, lines in tb.reads]
    assert all(lines == 1 for _, _, lines in tb.reads)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 6, gaps   # 5 idle cycles between two line reads


@cocotb.test()
async def waits_for_host_write_and_claims_lines(dut):
    """No read of lines under a host write; the claim covers lines in flight."""
    tb = await make(dut)
    d = dut
    d.host_active.value = 1
    d.host_agent.value = AGENT
    d.host_lo.value = 70
    d.host_hi.value = 71
    await tb.start(0, 256)
    await ClockCycles(d.clk, 300)
    assert max(first + lines for _, first, lines in tb.reads) <= 70, tb.reads
    assert int(d.claim_active.value) == 1
    assert int(d.claim_lo.value) <= 70 < int(d.claim_hi.value)
    # a host write to another agent's lines does not hold this sweep
    d.host_agent.value = AGENT + 1
    await tb.wait_done(2000)
    d.host_active.value = 0
    _check_copy(tb, 0, 256)


@cocotb.test()
async def cancel_stops_early(dut):
    tb = await make(dut)
    dut.throttle.value = 20
    d = dut
    await tb.start(0, 1000)
    await ClockCycles(d.clk, 100)
    d.ctrl_cancel.value = 1
    await RisingEdge(d.clk)
    d.ctrl_cancel.value = 0
    await tb.wait_done(500, "cancelled sweep")
    assert len(tb.reads) < 20


@cocotb.test(timeout_time=200, timeout_unit="us")
async def response_queue_bounds_writes_in_flight(dut):
    """The slave withholds write responses, then lets them trickle: the engine keeps at
    most _MAX_SUB_BURSTS write bursts unanswered and reaches that limit, an AW once shown
    stays (same payload) until accepted, and the copy completes."""
    tb = await make(dut, seed=int(os.environ.get("MS_SEED", "1")))
    b = tb.dst.b_channel
    b.set_pause_generator(itertools.repeat(True))
    b.queue_occupancy_limit = -1   # the RAM keeps taking writes while B is withheld
    tb.dst.aw_channel.set_pause_generator(pauses(tb.rng, 0.5))
    watch = WriteCreditWatch(dut.clk, tb.dst.aw_channel.bus, b.bus, _MAX_SUB_BURSTS)
    d = dut
    await tb.start(0, 1024)
    await ClockCycles(d.clk, 1000)
    # the room flag is a cycle old: the count stops at the limit or one below
    assert watch.peak[0] >= _MAX_SUB_BURSTS - 1, watch.peak
    assert not int(d.ctrl_done.value)
    # then responses trickle: the queue hovers at its limit, AWs meet it again and again
    b.set_pause_generator(pauses(tb.rng, 0.9))
    failed, _ = await tb.wait_done(50_000)
    assert not failed
    _check_copy(tb, 0, 1024)
    assert watch.open == {0: 0}


@cocotb.test(timeout_time=200, timeout_unit="us")
async def first_failing_line_wins(dut):
    """A write error in an early block is answered only after a later block's read error
    has stopped the sweep: the lower line (the write's) is the one reported, and no
    progress is reported at or past it (SPEC: SWEPT_UPTO never passes the failing line)."""
    tb = await make(dut)
    write_line, read_line = 8, 40           # second sub-burst of block 0; block 1
    tb.dst.write(0, bytes(LINES * 8))
    src_faults, dst_faults = inject_faults(tb.src), inject_faults(tb.dst)
    src_faults.read_lines.add(read_line)
    dst_faults.write_lines.add(write_line)
    b = tb.dst.b_channel
    b.set_pause_generator(itertools.repeat(True))
    b.queue_occupancy_limit = -1
    d = dut
    await tb.start(0, 256)
    await ClockCycles(d.clk, 300)
    assert not int(d.ctrl_done.value), "finished with write responses withheld"
    assert int(d.ctrl_failed.value), "the read error was not seen"
    assert int(d.ctrl_err_line.value) == read_line   # all that is known so far
    b.set_pause_generator(itertools.repeat(False))
    failed, err_line = await tb.wait_done(2000, "failed sweep")
    assert failed and err_line == write_line, (failed, err_line)
    assert src_faults.reads_failed and dst_faults.writes_failed
    assert tb.progress and max(tb.progress) <= write_line, tb.progress
