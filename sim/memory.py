"""Behaviour added to the cocotbext-axi RAM models: faults, latency, capacity checks.

cocotbext-axi's ``AxiRam`` answers each beat by awaiting ``read_if._read(address, length)``
or ``write_if._write(address, data)``, and answers SLVERR for that beat when the call
raises. These helpers wrap those two methods (rather than subclass ``AxiRam``, whose read
and write halves are separate objects built in its constructor), so they stack in any order
on any ``AxiRam``: :class:`~sim.tb.SlotModel` installs the capacity check and the latency,
a fault bench adds :func:`inject_faults` on top. :class:`PipelinedMemory` replaces the
RAM's request processes by pipelined ones (one beat per cycle at any latency), for the
performance benches.
"""

import random

import cocotb
from cocotb.triggers import ClockCycles

__all__ = ["Faults", "MemoryFault", "inject_faults", "CapacityCheck", "check_capacity",
           "ReadLatency", "add_read_latency", "PipelinedMemory"]


class MemoryFault(Exception):
    """Raised inside the RAM model; cocotbext-axi answers that beat SLVERR."""


class Faults:
    """Which accesses of one module fail, by line or at random.

    ``read_lines`` / ``write_lines``: module-local lines (of ``line_bytes``) whose every
    read / write fails
    (a stuck-at-error cell). ``read_probability`` / ``write_probability``: each access
    fails with that chance, drawn from ``rng``. Counters tell what was injected.
    """

    def __init__(self, rng=None, line_bytes=8):
        self.line_bytes = line_bytes
        self.read_lines = set()
        self.write_lines = set()
        self.read_probability = 0.0
        self.write_probability = 0.0
        self.rng = rng or random.Random(0)
        self.reads_failed = 0
        self.writes_failed = 0

    def clear(self):
        self.read_lines.clear()
        self.write_lines.clear()
        self.read_probability = self.write_probability = 0.0

    def _hit(self, lines, probability, address, length):
        lb = self.line_bytes
        touched = set(range(address // lb, (address + max(length, 1) - 1) // lb + 1))
        return bool(touched & lines) or (probability and self.rng.random() < probability)


def inject_faults(ram, rng=None):
    """Attach a :class:`Faults` to a cocotbext-axi ``AxiRam`` (or to one of its halves,
    ``AxiRamRead`` / ``AxiRamWrite``) and return it; its lines are the port's beats."""
    # an AxiRam holds both halves; an AxiRamRead / AxiRamWrite is one itself
    read_if = getattr(ram, "read_if", ram if hasattr(ram, "_read") else None)
    write_if = getattr(ram, "write_if", ram if hasattr(ram, "_write") else None)
    faults = Faults(rng, line_bytes=(read_if or write_if).byte_lanes)

    async def faulty_read(address, length):
        if faults._hit(faults.read_lines, faults.read_probability, address, length):
            faults.reads_failed += 1
            raise MemoryFault(f"read at {address:#x}")
        return await read(address, length)

    async def faulty_write(address, data):
        if faults._hit(faults.write_lines, faults.write_probability, address, len(data)):
            faults.writes_failed += 1
            raise MemoryFault(f"write at {address:#x}")
        return await write(address, data)

    if read_if is not None:
        read = read_if._read
        read_if._read = faulty_read
    if write_if is not None:
        write = write_if._write
        write_if._write = faulty_write
    return faults


class CapacityCheck:
    """Records accesses at or beyond the seated module's capacity.

    The RAM model is sized for the largest module a slot takes (modules of different sizes
    come and go in one slot), so an access past the seated module's end would silently
    land in memory the module does not have. Such accesses are recorded, not failed: the
    RTL must never make one (SPEC section 2: host line L maps to module line L - BASE with
    SIZE <= CAPACITY), and a bench asserts :attr:`violations` is empty.
    """

    def __init__(self, lines, line_bytes=8):
        self.lines = lines                 # callable: the seated module's lines (0: none)
        self.line_bytes = line_bytes
        self.violations = []               # (op, byte address, capacity in lines)

    def _check(self, op, address, length):
        lines = self.lines()
        # lines == 0: the module was pulled this very cycle and the RAM model is about to
        # be held in reset; what the RTL does then is the SLVERR path, not an overrun
        if lines and (address + max(length, 1) - 1) // self.line_bytes >= lines:
            self.violations.append((op, address, lines))

    def __str__(self):
        if not self.violations:
            return "no access past the module's capacity"
        op, address, lines = self.violations[0]
        return (f"{len(self.violations)} accesses past the module's capacity; first: {op} "
                f"at local byte {address:#x} (line {address // self.line_bytes:#x}) of a "
                f"{lines}-line module")


def check_capacity(ram, lines):
    """Install a :class:`CapacityCheck` on ``ram``; ``lines()`` gives the current capacity
    in lines, each one beat of the port."""
    check = CapacityCheck(lines, line_bytes=ram.read_if.byte_lanes)
    read, write = ram.read_if._read, ram.write_if._write

    async def checked_read(address, length):
        check._check("read", address, length)
        return await read(address, length)

    async def checked_write(address, data):
        check._check("write", address, len(data))
        return await write(address, data)

    ram.read_if._read = checked_read
    ram.write_if._write = checked_write
    return check


class ReadLatency:
    """Row-miss latency on reads: a beat whose address does not follow the previous beat's
    waits :attr:`cycles` clock cycles before its data (0: off, the default).

    cocotbext-axi's RAM answers the beats of one read port strictly one after another, so
    this delays the first beat of each non-sequential burst and everything queued behind
    it, like a DRAM opening a row. Sequential bursts (the sweep's, a streaming host)
    pay it once. Latency on the write side is modelled by back-pressure on B.
    """

    def __init__(self, cycles=0):
        self.cycles = cycles
        self.next_address = None


def add_read_latency(ram, clock, cycles=0):
    """Install a :class:`ReadLatency` on ``ram`` and return it (change ``.cycles`` any
    time)."""
    latency = ReadLatency(cycles)
    read = ram.read_if._read

    async def slow_read(address, length):
        if latency.cycles and address != latency.next_address:
            await ClockCycles(clock, latency.cycles)
        latency.next_address = address + length
        return await read(address, length)

    ram.read_if._read = slow_read
    return latency


class PipelinedMemory:
    """A pipelined memory behind a cocotbext-axi ``AxiRam``: one beat per cycle on every
    channel, with a fixed latency that does not stall the next request.

    It replaces the RAM's read and write processes (the data still lives in the
    ``AxiRam`` and goes through ``read_if._read`` / ``write_if._write``, so the wrappers of
    this module, faults and capacity checks, keep working on top):

    - **Reads.** An AR is taken every cycle the R queue has room; its data is read at the
      AR handshake and its first beat is driven :attr:`read_latency` cycles after it
      (then one beat per cycle, bursts in order), so many reads are in flight at once. The
      AR handshake at clock edge 0 gives ``rvalid`` after edge ``read_latency``; 1 is the
      plain ``AxiRam``.
    - **Writes.** AW and W are taken as they come (one beat per cycle); each beat is
      written when it is received, and the B of a burst is driven :attr:`write_latency`
      cycles after its last W beat (1: the plain ``AxiRam``), without holding up the next
      burst.

    Both latencies can be changed at any time; they apply to requests taken afterwards.
    Back-pressure (pause generators on the RAM's channels, R or B not ready) still works.
    The plain ``AxiRam`` serves reads one beat per cycle too but one burst at a time, and
    :class:`ReadLatency` on top of it stalls everything behind a row miss; this model is
    the one that keeps a port busy at any latency.

    ``period_ns``: the clock period (the latencies are counted in it).
    """

    def __init__(self, ram, clock, read_latency=1, write_latency=1, period_ns=10):
        from cocotb.utils import get_sim_steps
        self.ram = ram
        self.clock = clock
        self.read_latency = read_latency
        self.write_latency = write_latency
        self._period = get_sim_steps(period_ns, "ns")
        self._gen = {"read": 0, "write": 0}
        self.reads = self.writes = 0        # bursts served
        rif, wif = ram.read_if, ram.write_if
        rif._process_read = self._process_read
        wif._process_write = self._process_write
        # the RAM may already run its own processes (out of reset at construction)
        for half, attr, proc in ((rif, "_process_read_cr", self._process_read),
                                 (wif, "_process_write_cr", self._process_write)):
            task = getattr(half, attr)
            if task is not None:
                task.cancel() if hasattr(task, "cancel") else task.kill()
                setattr(half, attr, cocotb.start_soon(proc()))

    @staticmethod
    def _now():
        from cocotb.utils import get_sim_time
        return get_sim_time("step")

    async def _sender(self, kind, channel, pending, wake, gen):
        """Drive the queued beats (due time, transaction) into ``channel`` in order, each
        not before its due time; ends when its process was restarted (reset)."""
        from cocotb.triggers import Timer
        while self._gen[kind] == gen:
            if not pending:
                wake.clear()
                await wake.wait()
                continue
            due, obj = pending[0]
            now = self._now()
            if due > now:
                await Timer(due - now, "step")
                continue
            if channel.full():
                channel.dequeue_event.clear()
                await channel.dequeue_event.wait()
                continue
            if self._gen[kind] != gen:
                return
            pending.popleft()
            channel.send_nowait(obj)

    def _start(self, kind, channel):
        from collections import deque
        from cocotb.triggers import Event
        self._gen[kind] += 1
        pending, wake = deque(), Event()
        cocotb.start_soon(self._sender(kind, channel, pending, wake, self._gen[kind]))
        return pending, wake

    def _due(self, latency, last):
        # a beat due half a cycle before edge `latency` is driven at that edge
        return max(self._now() + latency * self._period - self._period // 2, last)

    @staticmethod
    def _request(ax, ch, max_size):
        """(id, address, beats, bytes per beat, burst type) of an AR or AW beat; fields a
        narrow interface leaves out take their AXI defaults."""
        from cocotbext.axi import AxiBurstType
        return (int(getattr(ax, f"{ch}id", 0)), int(getattr(ax, f"{ch}addr")),
                int(getattr(ax, f"{ch}len", 0)) + 1,
                2 ** int(getattr(ax, f"{ch}size", max_size)),
                AxiBurstType(int(getattr(ax, f"{ch}burst", AxiBurstType.INCR))))

    async def _process_read(self):
        from cocotbext.axi import AxiBurstType, AxiResp
        rif = self.ram.read_if
        pending, wake = self._start("read", rif.r_channel)
        lanes = rif.byte_lanes
        last = 0
        while True:
            arid, addr, length, size, burst = self._request(
                await rif.ar_channel.recv(), "ar", rif.max_burst_size)
            due = self._due(self.read_latency, last)
            cur = (addr // size) * size
            for n in range(length):
                r = rif.r_channel._transaction_obj()
                r.rid = arid
                r.rlast = n == length - 1
                r.rresp = AxiResp.OKAY
                try:
                    data = await rif._read((cur // lanes) * lanes, lanes)
                except Exception:
                    data = bytes(lanes)
                    r.rresp = AxiResp.SLVERR
                r.rdata = int.from_bytes(data, "little")
                pending.append((due + n * self._period, r))
                if burst != AxiBurstType.FIXED:
                    cur += size
            last = due + length * self._period
            self.reads += 1
            wake.set()

    async def _process_write(self):
        from cocotbext.axi import AxiBurstType, AxiResp
        wif = self.ram.write_if
        pending, wake = self._start("write", wif.b_channel)
        lanes = wif.byte_lanes
        last = 0
        while True:
            awid, addr, length, size, burst = self._request(
                await wif.aw_channel.recv(), "aw", wif.max_burst_size)
            b = wif.b_channel._transaction_obj()
            b.bid = awid
            b.bresp = AxiResp.OKAY
            cur = (addr // size) * size
            for n in range(length):
                word = (cur // lanes) * lanes
                w = await wif.w_channel.recv()
                data = int(w.wdata).to_bytes(lanes, "little")
                strb = int(getattr(w, "wstrb", wif.strb_mask)) if wif.wstrb_present \
                    else wif.strb_mask
                try:
                    # runs of enabled byte lanes, as AxiRam does
                    start = None
                    for i in range(lanes + 1):
                        on = i < lanes and strb >> i & 1
                        if on and start is None:
                            start = i
                        elif not on and start is not None:
                            await wif._write(word + start, data[start:i])
                            start = None
                except Exception:
                    b.bresp = AxiResp.SLVERR
                if burst != AxiBurstType.FIXED:
                    cur += size
            due = self._due(self.write_latency, last)
            last = due
            pending.append((due, b))
            self.writes += 1
            wake.set()
