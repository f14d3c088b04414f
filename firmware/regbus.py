"""Register buses: the bottom of the firmware model's register layer (see
:mod:`mirrorswap.firmware`), the only way its flows reach the hardware.

The BIOS only ever calls :meth:`RegisterBus.read32`, :meth:`RegisterBus.write32` and
:meth:`RegisterBus.pause`, so the same flows run on a cocotb AXI4-Lite master
(:class:`AxiLiteBus`) and on a board's memory-mapped register block
(:class:`MemoryMappedBus`). cocotb is imported lazily, inside :class:`AxiLiteBus`, so that
``import firmware`` works on a board without it.
"""

import abc
import asyncio
import mmap
import os
import struct

__all__ = ["BusError", "RegisterBus", "AxiLiteBus", "MemoryMappedBus"]


class BusError(Exception):
    """The register bus answered an access with an error response (SLVERR or DECERR).

    Members
    -------
    op : str
        ``"read"`` or ``"write"``.
    offset : int
        Byte offset of the register on the bus.
    resp
        The response as the bus reported it (an ``AxiResp`` in simulation).
    """

    def __init__(self, op, offset, resp):
        name = getattr(resp, "name", resp)
        super().__init__(f"{op} at register offset {offset:#05x} answered {name}")
        self.op = op
        self.offset = offset
        self.resp = resp


class RegisterBus(abc.ABC):
    """32-bit register access plus a way to let time pass and to run flows side by side.

    Offsets are byte offsets on the AXI4-Lite register port, multiples of 4; values are
    unsigned 32-bit integers. Both are checked before any access (:class:`ValueError`
    naming the bad value), so a bad call never reaches the hardware.

    ``pause(cycles)`` waits for that many hardware clock cycles: clock edges in
    simulation, ``cycles / clock_hz`` seconds on a board. ``spawn(coro)`` runs a coroutine
    concurrently and returns an awaitable task (cocotb's scheduler in simulation, asyncio
    on a board). ``wait_irq(cycles)`` returns once the interrupt line is high or after at
    most ``cycles``; a bus that cannot see the line simply waits (the caller then polls).
    """

    @abc.abstractmethod
    async def read32(self, offset):
        """The 32-bit register at byte ``offset``; :class:`BusError` on an error response."""

    @abc.abstractmethod
    async def write32(self, offset, value):
        """Write ``value`` to the register at byte ``offset``; returns once the write is
        acknowledged (so a STATUS read issued afterwards sees its effect)."""

    @abc.abstractmethod
    async def pause(self, cycles):
        """Let ``cycles`` clock cycles of the hardware pass."""

    def spawn(self, coro):
        return asyncio.ensure_future(coro)

    async def wait_irq(self, cycles):
        await self.pause(cycles)

    @staticmethod
    def _check(offset, value=0):
        if not isinstance(offset, int) or offset < 0 or offset % 4:
            raise ValueError(f"Register offset must be a non-negative multiple of 4, "
                             f"not {offset!r}")
        if not isinstance(value, int) or not 0 <= value < (1 << 32):
            raise ValueError(f"Register value must fit in 32 bits, not {value!r}")


class AxiLiteBus(RegisterBus):
    """A cocotbext-axi ``AxiLiteMaster`` in a cocotb simulation.

    ``AxiLiteMaster.read``/``write`` never raise on an error response: they return a
    named tuple whose ``resp`` is the worst response seen; anything but OKAY (0) raises
    :class:`BusError` here.

    Every access is secure by default (``AxPROT`` = 0: secure, unprivileged, data), as
    firmware's are on a server (SPEC section 8): the BIOS sets LOCK.secure_only at the end
    of boot and keeps writing afterwards. cocotbext-axi's own default is non-secure
    (``AxPROT[1]`` = 1), so the protection is passed with every access.

    Parameters
    ----------
    master : cocotbext.axi.AxiLiteMaster
        Bound to the DUT's ``s_axil`` port.
    clock : cocotb handle
        The DUT's clock, for :meth:`pause`.
    irq : cocotb handle, optional
        The DUT's ``irq`` line, for :meth:`wait_irq`; without it, :meth:`wait_irq` just
        waits.
    secure : bool
        Issue secure accesses (``AxPROT[1]`` = 0); False: non-secure ones, as an OS driver
        behind a TrustZone interconnect would.
    """

    def __init__(self, master, clock, irq=None, *, secure=True):
        from cocotbext.axi import AxiProt
        self._master = master
        self._clock = clock
        self._irq = irq
        self._prot = AxiProt(0) if secure else AxiProt.NONSECURE

    async def read32(self, offset):
        self._check(offset)
        r = await self._master.read(offset, 4, prot=self._prot)
        if int(r.resp) != 0:
            raise BusError("read", offset, r.resp)
        return int.from_bytes(r.data, "little")

    async def write32(self, offset, value):
        self._check(offset, value)
        r = await self._master.write(offset, value.to_bytes(4, "little"), prot=self._prot)
        if int(r.resp) != 0:
            raise BusError("write", offset, r.resp)

    async def pause(self, cycles):
        from cocotb.triggers import ClockCycles
        await ClockCycles(self._clock, max(1, int(cycles)))

    def spawn(self, coro):
        import cocotb
        return cocotb.start_soon(coro)

    async def wait_irq(self, cycles):
        from cocotb.triggers import ClockCycles, First, RisingEdge
        if self._irq is None:
            return await self.pause(cycles)
        if not int(self._irq.value):
            await First(RisingEdge(self._irq), ClockCycles(self._clock, max(1, int(cycles))))


class MemoryMappedBus(RegisterBus):
    """Registers mapped into this process from a file (``/dev/mem``, a UIO device, ...).

    Accesses are single aligned 32-bit loads and stores, little-endian, as the AXI4-Lite
    port of the design sees them from a little-endian CPU. Their AXI protection is not the
    program's to choose: the platform's interconnect gives it. The BIOS sets LOCK at the
    end of boot and writes registers afterwards, so the interconnect must give this
    process's accesses secure protection (``AxPROT[1]`` = 0); where it gives non-secure
    ones, boot's LOCK write answers SLVERR (SPEC section 8), which the CPU reports as a bus
    fault. Every offset is checked against the ``size`` bytes of the register block
    (:class:`ValueError`), because a stray store through ``/dev/mem`` can hit anything.

    Parameters
    ----------
    path : str
        The file to map.
    base : int
        Byte offset of the register block in that file. mmap needs a page-aligned file
        offset; an unaligned ``base`` is reached by mapping from the page below it.
    size : int
        Bytes of the register block (the 4 KiB register space by default).
    clock_hz : float
        Clock of the design, to turn ``pause(cycles)`` into time.

    Usable as a context manager; :meth:`close` unmaps and closes the file.
    """

    def __init__(self, path, base=0, size=4096, clock_hz=100e6):
        if not isinstance(base, int) or base < 0:
            raise ValueError(f"Base must be a non-negative integer, not {base!r}")
        if not isinstance(size, int) or size <= 0 or size % 4:
            raise ValueError(f"Size must be a positive multiple of 4 bytes, not {size!r}")
        if not clock_hz > 0:
            raise ValueError(f"Clock must be positive, not {clock_hz!r}")
        page_base = base - base % mmap.ALLOCATIONGRANULARITY
        self._delta = base - page_base
        self._fd = os.open(path, os.O_RDWR | os.O_SYNC)
        try:
            self._map = mmap.mmap(self._fd, self._delta + size, mmap.MAP_SHARED,
                                  mmap.PROT_READ | mmap.PROT_WRITE, offset=page_base)
        except Exception:
            os.close(self._fd)
            raise
        self._size = size
        self._clock_hz = clock_hz

    def close(self):
        self._map.close()
        os.close(self._fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _bounds(self, offset):
        if offset + 4 > self._size:
            raise ValueError(f"Register offset {offset:#x} is outside the {self._size:#x}-byte "
                             f"mapping")
        return self._delta + offset

    async def read32(self, offset):
        self._check(offset)
        return struct.unpack_from("<I", self._map, self._bounds(offset))[0]

    async def write32(self, offset, value):
        self._check(offset, value)
        struct.pack_into("<I", self._map, self._bounds(offset), value)

    async def pause(self, cycles):
        await asyncio.sleep(cycles / self._clock_hz)
