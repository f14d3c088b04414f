"""The memory map the BIOS publishes to the OS (an E820-like table), and which slot serves
each of its ranges; pure Python, no register access (the flows of :mod:`firmware.bios`
build and update it)."""

from dataclasses import dataclass, field
from typing import NamedTuple

from mirrorswap.geometry import DEFAULT

__all__ = ["MemoryRange", "MapEntry", "MemoryMap"]


@dataclass(frozen=True)
class MemoryRange:
    """One published range ``[base_line, base_line + size_lines)`` of host lines.

    Hashable and immutable: it is the key under which :class:`MemoryMap` records the slot
    serving it, and the OS holds on to it for as long as the machine runs.
    """

    base_line: int
    size_lines: int

    @property
    def end_line(self):
        return self.base_line + self.size_lines

    def __contains__(self, line):
        return self.base_line <= line < self.end_line


class MapEntry(NamedTuple):
    """A published range together with the slot serving it now."""

    base_line: int
    size_lines: int
    slot: int


@dataclass
class MemoryMap:
    """Ranges published to the OS, and which slot serves each one.

    Two parts kept apart on purpose: ``ranges`` is what the OS is told (:meth:`e820`,
    :meth:`published`) and never changes after boot; ``owners`` says which slot serves
    each range and changes with every migration (:meth:`rehome`), which the OS never sees.

    Invariants: ranges are sorted by base and pairwise disjoint, sizes are positive, and
    every range has exactly one owner.
    """

    ranges: list = field(default_factory=list)     # MemoryRange, sorted by base
    owners: dict = field(default_factory=dict)     # MemoryRange -> slot
    line_bytes: int = DEFAULT.line_bytes           # of the hardware (CONFIG), for bytes

    def add(self, base_line, size_lines, slot):
        """Publish ``[base_line, base_line + size_lines)`` served by ``slot``."""
        if not isinstance(base_line, int) or base_line < 0:
            raise ValueError(f"Range base must be a non-negative integer, not {base_line!r}")
        if not isinstance(size_lines, int) or size_lines <= 0:
            raise ValueError(f"Range size must be positive, not {size_lines!r}")
        new = MemoryRange(base_line, size_lines)
        for r in self.ranges:
            if new.base_line < r.end_line and r.base_line < new.end_line:
                raise ValueError(f"Range {new} overlaps {r}")
        if slot in self.owners.values():
            raise ValueError(f"Slot {slot} already serves {self.range_of(slot)}")
        self.ranges.append(new)
        self.ranges.sort(key=lambda r: r.base_line)
        self.owners[new] = slot
        return new

    @property
    def total_lines(self):
        return sum(r.size_lines for r in self.ranges)

    def lookup(self, line):
        """The published range holding host ``line``, or None (``owners[range]`` is its
        slot; :meth:`slot_of` gives that directly)."""
        for r in self.ranges:
            if line in r:
                return r
        return None

    def slot_of(self, line):
        """The slot serving host ``line`` now, or None when no range holds it."""
        r = self.lookup(line)
        return None if r is None else self.owners[r]

    def entries(self):
        """``(base_line, size_lines, slot)`` for every range, sorted by base."""
        return [MapEntry(r.base_line, r.size_lines, self.owners[r]) for r in self.ranges]

    def range_of(self, slot):
        for r, owner in self.owners.items():
            if owner == slot:
                return r
        raise KeyError(f"slot {slot} serves no range")

    def rehome(self, old_slot, new_slot):
        """The range of ``old_slot`` is now served by ``new_slot``; the ranges stay."""
        if new_slot != old_slot and new_slot in self.owners.values():
            raise ValueError(f"Slot {new_slot} already serves {self.range_of(new_slot)}")
        r = self.range_of(old_slot)
        self.owners[r] = new_slot
        return r

    def owner_slots(self):
        return sorted(self.owners.values())

    def e820(self):
        """The table the OS is given, as Linux prints it: byte ranges, nothing about slots.

        ``BIOS-e820: [mem 0x0000000000000000-0x0000000000007fff] usable``, inclusive end,
        one line per range in address order.
        """
        rows = []
        for r in self.ranges:
            first = r.base_line * self.line_bytes
            last = r.end_line * self.line_bytes - 1
            rows.append(f"BIOS-e820: [mem {first:#018x}-{last:#018x}] usable")
        return "\n".join(rows)

    def published(self):
        """What the OS sees, for comparing before and after a flow."""
        return tuple((r.base_line, r.size_lines) for r in self.ranges)
