"""The memory map the BIOS publishes to the OS (an E820-like table)."""

from dataclasses import dataclass, field

from rtl.regmap import LINE_BYTES

__all__ = ["MemoryRange", "MemoryMap"]


@dataclass(frozen=True)
class MemoryRange:
    base_line: int
    size_lines: int

    @property
    def end_line(self):
        return self.base_line + self.size_lines

    def __contains__(self, line):
        return self.base_line <= line < self.end_line


@dataclass
class MemoryMap:
    """Ranges published to the OS, and which slot serves each one.

    The published ranges never change after boot: a migration only changes the slot
    serving a range (:meth:`rehome`), which the OS never sees.
    """

    ranges: list = field(default_factory=list)     # MemoryRange, sorted by base
    owners: dict = field(default_factory=dict)     # MemoryRange -> slot

    def add(self, base_line, size_lines, slot):
        if size_lines <= 0:
            raise ValueError(f"Range size must be positive, not {size_lines}")
        new = MemoryRange(base_line, size_lines)
        for r in self.ranges:
            if new.base_line < r.end_line and r.base_line < new.end_line:
                raise ValueError(f"Range {new} overlaps {r}")
        self.ranges.append(new)
        self.ranges.sort(key=lambda r: r.base_line)
        self.owners[new] = slot
        return new

    @property
    def total_lines(self):
        return sum(r.size_lines for r in self.ranges)

    def lookup(self, line):
        """The range holding ``line``, or None."""
        for r in self.ranges:
            if line in r:
                return r
        return None

    def range_of(self, slot):
        for r, owner in self.owners.items():
            if owner == slot:
                return r
        raise KeyError(f"slot {slot} serves no range")

    def rehome(self, old_slot, new_slot):
        r = self.range_of(old_slot)
        self.owners[r] = new_slot
        return r

    def owner_slots(self):
        return sorted(self.owners.values())

    def e820(self):
        """The table the OS is given: byte ranges, nothing about slots."""
        rows = []
        for r in self.ranges:
            first = r.base_line * LINE_BYTES
            last = r.end_line * LINE_BYTES - 1
            rows.append(f"BIOS-e820: [mem {first:#018x}-{last:#018x}] usable")
        return "\n".join(rows)

    def published(self):
        """What the OS sees, for comparing before and after a flow."""
        return tuple((r.base_line, r.size_lines) for r in self.ranges)
