"""Reference model of the host memory and the checker of host transactions.

Pure Python (no cocotb import), so it is unit-tested on its own (tests/test_scoreboard.py).

How checking stays exact under concurrency
------------------------------------------
AXI lets the interconnect complete transactions in many orders, so "the value a read should
return" is only unique when no write to the same bytes can land while the read is in
flight. The traffic generator (sim/traffic.py) guarantees that by construction: a
transaction locks every line it touches from before its address is sent until its last
response returns, and no other transaction touching any of those lines starts meanwhile.
Hence:

* a write is applied to the reference when its B response returns OKAY (SPEC 5.1: a write
  counts once it has completed), and nobody can have read those bytes in between;
* a read's expected data is captured when it is issued (:meth:`Scoreboard.expect_read`),
  and no write to those bytes can complete before its R beats return.

Without the lock, a read overlapping a concurrent write could legally return either value
and the check would need per-byte sets of acceptable values; the lock keeps the model a
plain byte array and every mismatch a real bug.

Writes of unknown outcome
-------------------------
One case leaves a byte with two legal values even so: a write that answers SLVERR because
a module died under it (SPEC section 7, master failover: a mirrored write reached the slave
but the master's response is an error). Its bytes may hold the old or the new value. A
bench that provokes this gives :attr:`Scoreboard.write_error_ok`; such a write is then
recorded with :meth:`ReferenceMemory.may_hold` (each byte keeps both values), the next
OKAY read of a byte settles it to the value read, and the next completed write makes it
exact again. Nothing else is relaxed: a read must still return one of the two.
"""

from dataclasses import dataclass, field

__all__ = ["ReferenceMemory", "Scoreboard", "Mismatch", "ExpectedRead", "OKAY", "SLVERR",
           "DECERR"]

# AXI response codes (kept as ints so this module stays free of cocotb imports)
OKAY, EXOKAY, SLVERR, DECERR = 0, 1, 2, 3
_RESP_NAMES = {OKAY: "OKAY", EXOKAY: "EXOKAY", SLVERR: "SLVERR", DECERR: "DECERR"}


def _span(r):
    """``(base_line, size_lines)`` of a range given as a pair or as a MemoryRange."""
    return (r.base_line, r.size_lines) if hasattr(r, "base_line") else tuple(r)


def _resp_name(resp):
    return _RESP_NAMES.get(int(resp), str(resp))


class ReferenceMemory:
    """Byte-accurate host memory over host lines ``[0, lines)``.

    Dense (a ``bytearray``): the published ranges of a mirrorswap system start at line 0 and
    are consecutive (the BIOS assigns them so), and a few MiB at most are simulated.

    Parameters
    ----------
    lines : int
        Host lines covered; any access outside ``[0, lines * line_bytes)`` raises.
    line_bytes : int
        Bytes per line (8 for the 64-bit host port).
    """

    def __init__(self, lines, line_bytes=8):
        if not isinstance(lines, int) or lines < 0:
            raise ValueError(f"Line count must be a non-negative integer, not {lines!r}")
        self.line_bytes = line_bytes
        self.data = bytearray(lines * line_bytes)
        self.maybe = {}      # byte address -> values it may hold instead of data[address]

    def __len__(self):
        return len(self.data)

    def _check(self, op, addr, length):
        if addr < 0 or addr + length > len(self.data):
            raise ValueError(f"{op} of {length} bytes at {addr:#x} is outside the "
                             f"{len(self.data):#x}-byte reference")

    def write(self, addr, data, strobe=None):
        """Store ``data`` at byte ``addr``; with ``strobe`` (one bool per byte of ``data``)
        only the enabled bytes change, as AXI WSTRB does."""
        self._check("write", addr, len(data))
        if self.maybe:
            for i in range(len(data)):
                if strobe is None or strobe[i]:
                    self.maybe.pop(addr + i, None)
        if strobe is None:
            self.data[addr:addr + len(data)] = data
            return
        if len(strobe) != len(data):
            raise ValueError(f"Strobe must have one entry per data byte: {len(strobe)} "
                             f"entries for {len(data)} bytes")
        for i, (byte, enabled) in enumerate(zip(data, strobe)):
            if enabled:
                self.data[addr + i] = byte

    def read(self, addr, length):
        self._check("read", addr, length)
        return bytes(self.data[addr:addr + length])

    def may_hold(self, addr, data, strobe=None):
        """A write of ``data`` at ``addr`` may or may not have landed (its response was an
        error from a module that died): each enabled byte may now also hold its new value."""
        self._check("write", addr, len(data))
        for i, byte in enumerate(data):
            if (strobe is None or strobe[i]) and byte != self.data[addr + i]:
                self.maybe.setdefault(addr + i, set()).add(byte)

    def alternatives(self, addr, length):
        """``{offset: values}`` of the bytes in ``[addr, addr + length)`` that may hold
        another value than :meth:`read` gives (offsets from ``addr``)."""
        if not self.maybe:
            return {}
        return {a - addr: frozenset(v) for a, v in self.maybe.items()
                if addr <= a < addr + length}

    def settle(self, addr, data):
        """Bytes whose value was open were read as ``data`` (at ``addr``): that is what the
        memory holds."""
        for i, byte in enumerate(data):
            if self.maybe.pop(addr + i, None) is not None:
                self.data[addr + i] = byte

    def uncertain_lines(self):
        """Lines holding a byte whose value is open, sorted."""
        return sorted({a // self.line_bytes for a in self.maybe})


@dataclass(frozen=True)
class ExpectedRead:
    """What a host read must return, captured when it was issued."""

    addr: int
    length: int
    resp: int           # OKAY for an owned address, DECERR for an unowned one
    data: bytes         # the reference bytes (empty for DECERR: no data is checked)
    also: dict = field(default_factory=dict)   # offset -> other values that byte may hold


@dataclass
class Mismatch:
    """A failed check: data, response, or a free-text error (``expected``/``got`` empty)."""

    addr: int
    expected: bytes
    got: bytes
    what: str
    line_bytes: int = 8

    def __str__(self):
        if not self.expected and not self.got:
            return self.what
        for i, (e, g) in enumerate(zip(self.expected, self.got)):
            if e != g:
                byte = self.addr + i
                line = byte // self.line_bytes
                # the whole line around the first bad byte, as the waveform shows it
                lo = i - byte % self.line_bytes
                span = slice(max(lo, 0), lo + self.line_bytes)
                return (f"{self.what}: byte {byte:#x} expected {e:#04x} got {g:#04x} "
                        f"(line {line:#x}: expected {self.expected[span].hex()} got "
                        f"{self.got[span].hex()}; access {self.addr:#x}+{len(self.expected)})")
        return (f"{self.what}: {self.addr:#x} returned {len(self.got)} bytes, expected "
                f"{len(self.expected)}")


@dataclass
class Scoreboard:
    """Applies completed host writes to the reference and checks host reads against it.

    Counts every checked transaction and records every failure in :attr:`mismatches`; the
    first one names the byte, the line and both values. ``owned`` (an iterable of
    ``(base_line, size_lines)`` or objects with ``base_line``/``size_lines``) says which
    host lines are published; an access starting outside them must answer DECERR and
    must not change the reference (SPEC section 1). Without ``owned``, the whole
    reference is taken as owned.

    ``write_error_ok(addr)`` (optional) says whether a write starting at ``addr`` may
    answer SLVERR now (a module is dying there); such a write is counted in
    :attr:`write_errors` and its bytes may hold the old or the new value from then on
    (see the module docstring), instead of being a failure.

    Invariant (see the module docstring): at most one transaction touching a given byte
    is in flight when one of them writes, so :meth:`expect_read` has a unique answer.
    """

    memory: ReferenceMemory
    owned: list = None
    reads: int = 0
    writes: int = 0
    bytes_moved: int = 0
    decerrs: int = 0
    mismatches: list = field(default_factory=list)
    write_error_ok: object = None
    write_errors: int = 0

    def __post_init__(self):
        lb = self.memory.line_bytes
        if self.owned is None:
            self.owned = [(0, len(self.memory) // lb)]
        self.owned = sorted(_span(r) for r in self.owned)

    # ---- what the DUT must answer --------------------------------------------------------
    def is_owned(self, addr):
        """Whether byte address ``addr`` falls in a published range."""
        line = addr // self.memory.line_bytes
        return any(base <= line < base + size for base, size in self.owned)

    def expected_resp(self, addr):
        """The response a transaction starting at ``addr`` must get (routing is by start
        address, SPEC section 1)."""
        return OKAY if self.is_owned(addr) else DECERR

    def preload(self, addr, data):
        """Learn contents put into the memories through a backdoor (not a host write)."""
        self.memory.write(addr, data)

    # ---- writes --------------------------------------------------------------------------
    def write_done(self, addr, data, resp, strobe=None, what="host write"):
        """A host write whose B response ``resp`` just returned: check the response, and
        apply the enabled bytes to the reference only when it is OKAY."""
        want = self.expected_resp(addr)
        if (int(resp) == SLVERR and want == OKAY and self.write_error_ok is not None
                and self.write_error_ok(addr)):
            self.memory.may_hold(addr, data, strobe)
            self.write_errors += 1
            return True
        if int(resp) != want:
            self.error(f"{what} at {addr:#x}+{len(data)} answered {_resp_name(resp)}, "
                       f"expected {_resp_name(want)}")
            return False
        if want == DECERR:
            self.decerrs += 1
            return True
        self.memory.write(addr, data, strobe)
        self.writes += 1
        self.bytes_moved += len(data) if strobe is None else sum(map(bool, strobe))
        return True

    def wrote(self, addr, data, strobe=None):
        """Apply a host write known to have completed OKAY."""
        self.memory.write(addr, data, strobe)
        self.writes += 1
        self.bytes_moved += len(data) if strobe is None else sum(map(bool, strobe))

    # ---- reads ---------------------------------------------------------------------------
    def expect_read(self, addr, length):
        """Capture what a read issued now must return."""
        if not self.is_owned(addr):
            return ExpectedRead(addr, length, DECERR, b"")
        return ExpectedRead(addr, length, OKAY, self.memory.read(addr, length),
                            self.memory.alternatives(addr, length))

    def read_done(self, expected, resp, data, what="host read"):
        """Check a completed read against what was captured when it was issued."""
        if int(resp) != expected.resp:
            self.error(f"{what} at {expected.addr:#x}+{expected.length} answered "
                       f"{_resp_name(resp)}, expected {_resp_name(expected.resp)}")
            return False
        if expected.resp == DECERR:
            self.decerrs += 1
            return True
        ok = self.check(expected.addr, expected.data, data, what, also=expected.also)
        if ok and expected.also:
            self.memory.settle(expected.addr, bytes(data))
        return ok

    def expect(self, addr, length):
        """The reference bytes at ``addr`` now (for callers that check OKAY themselves)."""
        return self.memory.read(addr, length)

    def check(self, addr, expected, got, what="host read", also=None):
        """Compare read data with ``expected``; record a :class:`Mismatch` if they differ.
        ``also``: ``{offset: values}`` other values a byte may legally hold."""
        self.reads += 1
        self.bytes_moved += len(got)
        if also and len(got) == len(expected):
            expected = bytes(g if g in also.get(i, ()) else e
                             for i, (e, g) in enumerate(zip(expected, got)))
        if bytes(got) != bytes(expected):
            self.mismatches.append(Mismatch(addr, bytes(expected), bytes(got), what,
                                            self.memory.line_bytes))
            return False
        return True

    # ---- bookkeeping ---------------------------------------------------------------------
    def decerr(self):
        """Count a DECERR that the caller has already checked."""
        self.decerrs += 1

    def error(self, text):
        """Record a failure that is not a data comparison (a wrong response, a timeout)."""
        self.mismatches.append(Mismatch(0, b"", b"", text))

    @property
    def transactions(self):
        return self.reads + self.writes + self.decerrs

    def summary(self):
        first = f"; first: {self.mismatches[0]}" if self.mismatches else ""
        errors = f", {self.write_errors} writes of unknown outcome" if self.write_errors else ""
        return (f"{self.reads} reads, {self.writes} writes, {self.bytes_moved} bytes, "
                f"{self.decerrs} DECERR{errors}, {len(self.mismatches)} mismatches{first}")
