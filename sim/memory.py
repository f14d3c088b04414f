"""Fault injection on cocotbext-axi RAM models."""

import random

__all__ = ["Faults", "inject_faults"]


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
