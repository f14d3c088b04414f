"""Reference model of the host memory and the checker of host reads."""

from dataclasses import dataclass, field

__all__ = ["ReferenceMemory", "Scoreboard", "Mismatch"]


class ReferenceMemory:
    """Byte-accurate host memory over the published ranges (lines [0, lines))."""

    def __init__(self, lines, line_bytes=8):
        self.line_bytes = line_bytes
        self.data = bytearray(lines * line_bytes)

    def write(self, addr, data):
        if addr < 0 or addr + len(data) > len(self.data):
            raise ValueError(f"write of {len(data)} bytes at {addr:#x} is outside the "
                             f"{len(self.data):#x}-byte reference")
        self.data[addr:addr + len(data)] = data

    def read(self, addr, length):
        return bytes(self.data[addr:addr + length])


@dataclass
class Mismatch:
    addr: int
    expected: bytes
    got: bytes
    what: str

    def __str__(self):
        for i, (e, g) in enumerate(zip(self.expected, self.got)):
            if e != g:
                return (f"{self.what}: byte {self.addr + i:#x} expected {e:#04x} got {g:#04x} "
                        f"(access {self.addr:#x}+{len(self.expected)})")
        return f"{self.what}: {self.addr:#x} length differs"


@dataclass
class Scoreboard:
    """Applies completed host writes to the reference and checks host reads against it.

    Exactness comes from the traffic: no two host accesses in flight at once share a byte
    when one of them writes (the generator locks lines), so a read has one right answer,
    what the reference holds when it is issued.
    """

    memory: ReferenceMemory
    reads: int = 0
    writes: int = 0
    bytes_moved: int = 0
    decerrs: int = 0
    mismatches: list = field(default_factory=list)

    def wrote(self, addr, data):
        self.memory.write(addr, data)
        self.writes += 1
        self.bytes_moved += len(data)

    def expect(self, addr, length):
        return self.memory.read(addr, length)

    def check(self, addr, expected, got, what="host read"):
        self.reads += 1
        self.bytes_moved += len(got)
        if bytes(got) != bytes(expected):
            self.mismatches.append(Mismatch(addr, bytes(expected), bytes(got), what))
            return False
        return True

    def decerr(self):
        self.decerrs += 1

    def error(self, text):
        self.mismatches.append(Mismatch(0, b"", b"", text))

    def summary(self):
        first = f"; first: {self.mismatches[0]}" if self.mismatches else ""
        return (f"{self.reads} reads, {self.writes} writes, {self.bytes_moved} bytes, "
                f"{self.decerrs} DECERR, {len(self.mismatches)} mismatches{first}")
