"""Random host traffic on ``s_axi``, checked by the scoreboard as it completes."""

import random

import cocotb
from cocotb.triggers import ClockCycles, Event
from cocotbext.axi import AxiResp

__all__ = ["HostTraffic"]

_MAX_BEATS = 16       # full-width bursts: 1..16 beats


class HostTraffic:
    """Random host reads and writes over the published ranges, checked as they complete.

    ``max_outstanding`` (alias ``workers``) coroutines each keep one transaction in flight,
    so up to that many bursts with random AXI IDs (several equal IDs included, which AXI
    orders) are outstanding at once. A transaction locks the lines it touches before
    its address goes out and until its response returns, and no other transaction touching
    them starts meanwhile: that makes the expected data of every read unique (see
    sim/scoreboard.py). Bursts are INCR and stay inside one published range and one 4 KiB
    page; full-width ones are 1 to 16 beats (a line each, ``tb.geometry``). A quarter of
    the writes are narrow: AWSIZE 1, 2, 4 ... bytes up to half a line, a random start byte
    and length, so the strobes of the first and last
    beat are partial and the active byte lanes rotate beat by beat (cocotbext-axi's
    ``write`` derives WSTRB from address, size and length; arbitrary holes inside a beat
    cannot be expressed through it). Now and then (``unowned_rate``) an access goes to an
    unowned address and must answer DECERR.

    ``load`` (0 to 1) sets how much of the time a worker is busy: idle gaps between its
    transactions average ``(1 - load) / load`` times a transaction's length.

    ``on_op(kind)`` is called after every completed transaction (for coverage).
    ``read_error_ok(addr)`` says whether a read may answer SLVERR (a fault is being
    injected there); such a read is counted, not checked. ``quiesce()`` waits until no
    transaction is in flight and starts none until ``resume()``: a check of the memories
    against the reference is only exact then.

    Counters: :attr:`by_kind` per kind of transaction, :attr:`stats` a summary.
    """

    def __init__(self, tb, scoreboard, memory_map, *, seed=1, load=0.5, max_outstanding=None,
                 workers=4, unowned_rate=0.02, narrow_rate=0.25, on_op=None,
                 read_error_ok=None):
        if not 0 < load <= 1:
            raise ValueError(f"Load must be in (0, 1], not {load}")
        workers = workers if max_outstanding is None else max_outstanding
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"Outstanding transactions must be a positive integer, "
                             f"not {workers!r}")
        if not memory_map.ranges:
            raise ValueError("The memory map publishes no range to send traffic to")
        self.tb = tb
        self.sb = scoreboard
        self.ranges = list(memory_map.ranges)
        self.end_line = max(r.end_line for r in self.ranges)
        self.rng = random.Random(seed)
        self.load = load
        self.workers = workers
        self.unowned_rate = unowned_rate
        self.narrow_rate = narrow_rate
        self.locked = set()
        self.unlocked = Event()
        self._stop = False
        self._tasks = []
        self.on_op = on_op
        self.read_error_ok = read_error_ok
        self.in_flight = 0
        self._held = False
        self.by_kind = {"read": 0, "write": 0, "narrow": 0, "unowned": 0,
                        "expected read error": 0}

    @property
    def total_lines(self):
        return sum(r.size_lines for r in self.ranges)

    @property
    def stats(self):
        """Completed transactions by class, bytes moved and failures so far."""
        k = self.by_kind
        return {"reads": k["read"], "writes": k["write"] + k["narrow"],
                "narrow writes": k["narrow"], "decerr": k["unowned"],
                "bytes": self.sb.bytes_moved, "mismatches": len(self.sb.mismatches)}

    def start(self):
        self._stop = False
        self._tasks = [cocotb.start_soon(self._worker(k)) for k in range(self.workers)]

    async def stop(self):
        """Start no more transactions and wait for those in flight to complete."""
        self._stop = True
        for t in self._tasks:
            await t
        self._tasks = []

    async def quiesce(self):
        self._held = True
        while self.in_flight:
            await ClockCycles(self.tb.dut.clk, 1)

    def resume(self):
        self._held = False

    def _pick(self, rng):
        r = rng.choice(self.ranges)
        beats = rng.randint(1, _MAX_BEATS)
        line = rng.randrange(r.base_line, r.end_line)
        page = self.tb.geometry.page_lines
        room = page - line % page   # AXI: a burst never crosses a 4 KiB boundary
        return line, min(beats, room, r.end_line - line)

    async def _lock(self, lines):
        while self.locked & lines:
            self.unlocked.clear()
            await self.unlocked.wait()
        self.locked |= lines

    def _unlock(self, lines):
        self.locked -= lines
        self.unlocked.set()

    async def _worker(self, k):
        rng = random.Random(self.rng.random())
        while not self._stop:
            if self._held:
                await ClockCycles(self.tb.dut.clk, 8)
                continue
            self.in_flight += 1
            try:
                lines = await self._transaction(rng)
            finally:
                self.in_flight -= 1
            gap = (1 - self.load) / self.load * (lines + 4)
            if gap >= 1:
                await ClockCycles(self.tb.dut.clk, int(rng.expovariate(1 / gap)) + 1)

    async def _transaction(self, rng):
        """One random host transaction, checked; returns the lines it touched."""
        host = self.tb.host
        lb = self.tb.geometry.line_bytes
        axi_id = rng.randrange(self.tb.ids)
        if rng.random() < self.unowned_rate:
            await self._unowned(rng, axi_id)
            return 1
        line, lines = self._pick(rng)
        span = set(range(line, line + lines))
        await self._lock(span)
        try:
            addr = line * lb
            if rng.random() < 0.5:
                if rng.random() < self.narrow_rate:
                    size = rng.randrange(self.tb.geometry.line_shift)
                    offset = rng.randrange(lb)
                    length = rng.randint(1, lines * lb - offset)
                    data = rng.randbytes(length)
                    w = await host.write(addr + offset, data, awid=axi_id, size=size)
                    self.sb.write_done(addr + offset, data, w.resp, what="narrow write")
                    self._count("narrow")
                else:
                    data = rng.randbytes(lines * lb)
                    w = await host.write(addr, data, awid=axi_id)
                    self.sb.write_done(addr, data, w.resp)
                    self._count("write")
            else:
                expected = self.sb.expect_read(addr, lines * lb)
                r = await host.read(addr, lines * lb, arid=axi_id)
                if (r.resp == AxiResp.SLVERR and self.read_error_ok is not None
                        and self.read_error_ok(addr)):
                    self._count("expected read error")
                else:
                    self.sb.read_done(expected, r.resp, r.data)
                    self._count("read")
        finally:
            self._unlock(span)
        return lines

    def _count(self, kind):
        self.by_kind[kind] += 1
        if self.on_op is not None:
            self.on_op(kind)

    async def _unowned(self, rng, axi_id):
        # past every published range (they are consecutive from line 0), inside the
        # 32-bit host space; the scoreboard expects DECERR there, and no lock is needed
        # because nothing there can change
        lb = self.tb.geometry.line_bytes
        line = self.end_line + rng.randrange(1 << 16)
        addr = line * lb
        if rng.random() < 0.5:
            data = rng.randbytes(lb * rng.randint(1, 4))
            w = await self.tb.host.write(addr, data, awid=axi_id)
            self.sb.write_done(addr, data, w.resp, what="unowned write")
        else:
            expected = self.sb.expect_read(addr, lb * rng.randint(1, 4))
            r = await self.tb.host.read(addr, expected.length, arid=axi_id)
            self.sb.read_done(expected, r.resp, r.data, what="unowned read")
        self._count("unowned")
