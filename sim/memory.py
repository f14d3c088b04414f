"""Behaviour added to the cocotbext-axi RAM models: faults, latency, capacity checks.

cocotbext-axi's ``AxiRam`` answers each beat by awaiting ``read_if._read(address, length)``
or ``write_if._write(address, data)``, and answers SLVERR for that beat when the call
raises. These helpers wrap those two methods (rather than subclass ``AxiRam``, whose read
and write halves are separate objects built in its constructor), so they stack in any order
on any ``AxiRam``: :class:`~sim.tb.SlotModel` installs the capacity check and the latency,
a fault bench adds :func:`inject_faults` on top.
"""

import random

from cocotb.triggers import ClockCycles

__all__ = ["Faults", "MemoryFault", "inject_faults", "CapacityCheck", "check_capacity",
           "ReadLatency", "add_read_latency"]


class MemoryFault(Exception):
    """Raised inside the RAM model; cocotbext-axi answers that beat SLVERR."""


class Faults:
    """Which accesses of one module fail, by line or at random.

    ``read_lines`` / ``write_lines``: module-local lines whose every read / write fails
    (a stuck-at-error cell). ``read_probability`` / ``write_probability``: each access
    fails with that chance, drawn from ``rng``. Counters tell what was injected.
    """

    def __init__(self, rng=None):
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
        touched = set(range(address // 8, (address + max(length, 1) - 1) // 8 + 1))
        return bool(touched & lines) or (probability and self.rng.random() < probability)


def inject_faults(ram, rng=None):
    """Attach a :class:`Faults` to a cocotbext-axi ``AxiRam`` and return it."""
    faults = Faults(rng)
    read, write = ram.read_if._read, ram.write_if._write

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

    ram.read_if._read = faulty_read
    ram.write_if._write = faulty_write
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
    """Install a :class:`CapacityCheck` on ``ram``; ``lines()`` gives the current capacity."""
    check = CapacityCheck(lines)
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
