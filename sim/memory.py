"""Behaviour added to the cocotbext-axi RAM models: faults, latency, capacity checks.

cocotbext-axi's ``AxiRam`` answers each beat by awaiting ``read_if._read(address, length)``
or ``write_if._write(address, data)``, and answers SLVERR for that beat when the call
raises. These helpers wrap those two methods (rather than subclass ``AxiRam``, whose read
and write halves are separate objects built in its constructor), so they stack in any order
on any ``AxiRam``: :class:`~sim.tb.SlotModel` installs the capacity check and the latency,
a fault bench adds :func:`inject_faults` on top. :class:`PipelinedMemory` replaces the
RAM's request processes by pipelined ones (one beat per cycle at any latency), for the
performance benches. :func:`store_poison` gives a RAM the poison bit of SPEC section 7
(``wuser`` marks a line, ``ruser`` reports it); it works under either set of processes.

Errors develop at run time: :meth:`Faults.fail` makes lines fail from now on,
:meth:`Poison.poison` poisons them as a bad ECC word would, and ``heal`` undoes either.
"""

import random

import cocotb
from cocotb.triggers import ClockCycles

__all__ = ["Faults", "MemoryFault", "inject_faults", "Poison", "store_poison",
           "CapacityCheck", "check_capacity", "ReadLatency", "add_read_latency",
           "PipelinedMemory"]


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

    def fail(self, *lines, read=True, write=False):
        """From now on every read (``read``) and/or write (``write``) of ``lines`` fails:
        the cells went bad while the module runs."""
        if read:
            self.read_lines.update(lines)
        if write:
            self.write_lines.update(lines)

    def heal(self, *lines):
        """``lines`` read and write correctly again (the random failures stay)."""
        self.read_lines.difference_update(lines)
        self.write_lines.difference_update(lines)

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


class Poison:
    """The poison bit a module's memory keeps per line (SPEC section 7: AXI5's WPOISON /
    RPOISON, carried by the one-bit ``wuser`` / ``ruser`` of the memory port).

    What the memory does with it, per beat (a line is one beat of the port):

    - a W beat with ``wuser`` = 1 that writes at least one byte stores its bytes and marks
      the line poisoned;
    - a W beat with ``wuser`` = 0 that writes the *whole* line (every strobe set) stores
      good data there: the line's poison is cleared;
    - a W beat with ``wuser`` = 0 that writes only some bytes leaves a poisoned line
      poisoned: the bytes it does not write are still the bad ones, and poison covers
      the line as a unit (as an ECC word does), so the line is not good data yet;
    - a beat that writes no byte, or a write that fails (SLVERR: :func:`inject_faults`
      on top), changes no poison; a ``wuser`` that is not 0 or 1 (X, Z) counts as 1 and
      is counted in :attr:`unknown` (the design must never send one);
    - every R beat of a poisoned line carries ``ruser`` = 1 with the stored bytes and
      OKAY, every other beat ``ruser`` = 0 (also a failed, SLVERR beat). ``ruser`` is
      driven 0 from the first time step on (before reset, and while the RAM is held in
      reset), never X.

    With :attr:`supported` False the memory has no poison: ``wuser`` is ignored, ``ruser``
    stays 0, and :meth:`poison` refuses. Lines poisoned while it was True are kept
    but not reported. A module that loses power forgets its poison with its data
    (:meth:`clear`, which :class:`sim.tb.SlotModel` calls).

    Members: :attr:`lines` (the poisoned module-local lines), counters :attr:`marked`
    (W beats stored with ``wuser`` = 1), :attr:`cleared` (poisoned lines cleared by a
    full-line write), :attr:`reported` (R beats sent with ``ruser`` = 1) and
    :attr:`unknown` (W beats whose ``wuser`` was X or Z).
    """

    def __init__(self, line_bytes=8, supported=True):
        self.line_bytes = line_bytes
        self.supported = supported
        self.lines = set()
        self.marked = self.cleared = self.reported = self.unknown = 0

    def __contains__(self, line):
        return line in self.lines

    def poison(self, *lines):
        """Poison ``lines`` now, as a memory does when it finds an uncorrectable error
        (their data stays as it is, and reads of them report poison)."""
        if not self.supported:
            raise ValueError("This memory stores no poison")
        self.lines.update(lines)

    def heal(self, *lines):
        """Clear the poison of ``lines`` (through the backdoor: no write happens)."""
        self.lines.difference_update(lines)

    def clear(self):
        self.lines.clear()

    def _wrote(self, line, wuser, strb, mask):
        if not self.supported:
            return
        if wuser:
            self.lines.add(line)
            self.marked += 1
        elif strb == mask and line in self.lines:
            self.lines.discard(line)
            self.cleared += 1

    def _read(self, line):
        hit = self.supported and line in self.lines
        self.reported += hit
        return int(hit)


def store_poison(ram, supported=True):
    """Give a cocotbext-axi ``AxiRam`` a :class:`Poison` store and return it.

    Install it on the bare RAM, before any other wrapper of this module: it then sits
    next to the storage, so a beat another wrapper fails (SLVERR) stores no poison and
    reports none. It hooks the two places where both the RAM's own processes and
    :class:`PipelinedMemory`'s handle one beat: a W beat is taken with
    ``w_channel.recv()`` and its bytes written with ``write_if._write`` before the next
    beat is taken; an R beat is made with ``r_channel._transaction_obj()`` and filled by
    ``read_if._read`` before the next one is made. So the W beat being written and the R
    beat being filled are always known, whatever the latency, pipelining or pauses.
    A port without ``wuser`` / ``ruser`` simply never marks / reports poison.
    """
    rif, wif = ram.read_if, ram.write_if
    poison = Poison(rif.byte_lanes, supported)
    lanes = rif.byte_lanes
    if hasattr(rif.r_channel.bus, "ruser"):
        rif.r_channel.bus.ruser.setimmediatevalue(0)
    beat = {"w": None, "r": None, "counted": None}
    recv, make_r = wif.w_channel.recv, rif.r_channel._transaction_obj
    read, write = rif._read, wif._write

    async def recv_w():
        beat["w"] = w = await recv()
        return w

    def new_r():
        beat["r"] = r = make_r()
        r.ruser = 0
        return r

    async def poisoned_read(address, length):
        data = await read(address, length)
        if beat["r"] is not None:
            beat["r"].ruser = poison._read(address // lanes)
        return data

    async def poisoned_write(address, data):
        await write(address, data)
        w = beat["w"]
        # a beat with holes in its strobes is written in several runs: count it once
        if w is not None and beat["counted"] is not w:
            beat["counted"] = w
            try:
                wuser = int(getattr(w, "wuser", 0))
            except ValueError:
                poison.unknown += 1
                wuser = 1
            strb = int(getattr(w, "wstrb", wif.strb_mask)) if wif.wstrb_present \
                else wif.strb_mask
            poison._wrote(address // lanes, wuser, strb, wif.strb_mask)

    wif.w_channel.recv = recv_w
    rif.r_channel._transaction_obj = new_r
    rif._read = poisoned_read
    wif._write = poisoned_write
    return poison


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
