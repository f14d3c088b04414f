"""Random host traffic checked by the scoreboard."""

import random

import cocotb
from cocotb.triggers import ClockCycles, Event
from cocotbext.axi import AxiResp

__all__ = ["HostTraffic"]

_PAGE = 4096


class HostTraffic:
    """Random host reads and writes over the published ranges, checked as they complete.

    ``workers`` coroutines each keep one transaction in flight, so up to that many bursts
    with different AXI IDs are outstanding at once. A transaction locks the lines it
    touches until it completes, and no other transaction touching them starts meanwhile:
    that makes the expected data of every read unique. Bursts are INCR, 1 to 16 beats,
    never across 4 KiB; some writes are narrow (1, 2 or 4 bytes per beat, unaligned).
    Now and then an access goes to an unowned address and must answer DECERR.

    ``load`` (0 to 1) sets how much of the time a worker is busy: idle gaps between its
    transactions average ``(1 - load) / load`` times a transaction's length.

    ``on_op(kind)`` is called after every completed transaction (for coverage).
    ``read_error_ok(addr)`` says whether a read may answer SLVERR (a fault is being
    injected there); such a read is counted, not checked. ``quiesce()`` waits until no
    transaction is in flight and starts none until ``resume()``: a check of the memories
    against the reference is only exact then.
    """

    def __init__(self, tb, scoreboard, memory_map, *, seed=1, load=0.5, workers=4,
                 unowned_rate=0.02, on_op=None, read_error_ok=None):
        if not 0 < load <= 1:
            raise ValueError(f"Load must be in (0, 1], not {load}")
        self.tb = tb
        self.sb = scoreboard
        self.ranges = list(memory_map.ranges)
        self.total_lines = memory_map.total_lines
        self.rng = random.Random(seed)
        self.load = load
        self.workers = workers
        self.unowned_rate = unowned_rate
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

    def start(self):
        self._stop = False
        self._tasks = [cocotb.start_soon(self._worker(k)) for k in range(self.workers)]

    async def stop(self):
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
        beats = rng.randint(1, 16)
        line = rng.randrange(r.base_line, r.end_line)
        room = (_PAGE - (line * 8) % _PAGE) // 8
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
        axi_id = rng.randrange(16)
        if rng.random() < self.unowned_rate:
            await self._unowned(rng, axi_id)
            return 1
        line, lines = self._pick(rng)
        span = set(range(line, line + lines))
        await self._lock(span)
        try:
            addr = line * 8
            if rng.random() < 0.5:
                if rng.random() < 0.25:
                    size = rng.choice((0, 1, 2))
                    offset = rng.randrange(8)
                    length = rng.randint(1, lines * 8 - offset)
                    data = rng.randbytes(length)
                    w = await host.write(addr + offset, data, awid=axi_id, size=size)
                    self._expect_ok(w.resp, "narrow write", addr + offset)
                    self.sb.wrote(addr + offset, data)
                    self._count("narrow")
                else:
                    data = rng.randbytes(lines * 8)
                    w = await host.write(addr, data, awid=axi_id)
                    self._expect_ok(w.resp, "write", addr)
                    self.sb.wrote(addr, data)
                    self._count("write")
            else:
                expected = self.sb.expect(addr, lines * 8)
                r = await host.read(addr, lines * 8, arid=axi_id)
                if (r.resp == AxiResp.SLVERR and self.read_error_ok is not None
                        and self.read_error_ok(addr)):
                    self._count("expected read error")
                else:
                    self._expect_ok(r.resp, "read", addr)
                    self.sb.check(addr, expected, r.data)
                    self._count("read")
        finally:
            self._unlock(span)
        return lines

    def _count(self, kind):
        self.by_kind[kind] += 1
        if self.on_op is not None:
            self.on_op(kind)

    def _expect_ok(self, resp, what, addr):
        if resp != AxiResp.OKAY:
            self.sb.error(f"{what} at {addr:#x} answered {resp!r}")

    async def _unowned(self, rng, axi_id):
        line = self.total_lines + rng.randrange(1 << 16)
        addr = line * 8
        if rng.random() < 0.5:
            w = await self.tb.host.write(addr, rng.randbytes(8), awid=axi_id)
            resp = w.resp
        else:
            r = await self.tb.host.read(addr, 8, arid=axi_id)
            resp = r.resp
        if resp != AxiResp.DECERR:
            self.sb.error(f"unowned access at {addr:#x} answered {resp!r}, not DECERR")
        self.sb.decerr()
        self._count("unowned")
