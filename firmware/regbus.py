"""Register buses: what the BIOS model uses to reach the hardware."""

import abc
import asyncio
import mmap
import os
import struct

__all__ = ["BusError", "RegisterBus", "AxiLiteBus", "MemoryMappedBus"]


class BusError(Exception):
    """The register bus answered an access with an error response."""

    def __init__(self, op, offset, resp):
        super().__init__(f"{op} at register offset {offset:#05x} answered {resp}")
        self.op = op
        self.offset = offset
        self.resp = resp


class RegisterBus(abc.ABC):
    """32-bit register access plus a way to let time pass and to run flows side by side.

    ``pause(cycles)`` waits for that many hardware clock cycles: clock edges in
    simulation, ``cycles / clock_hz`` seconds on a board. ``spawn(coro)`` runs a coroutine
    concurrently and returns an awaitable task (cocotb's scheduler in simulation, asyncio
    on a board). ``wait_irq(cycles)`` returns once the interrupt line is high or after at
    most ``cycles``; a bus that cannot see the line simply waits (the caller then polls).
    """

    @abc.abstractmethod
    async def read32(self, offset): ...

    @abc.abstractmethod
    async def write32(self, offset, value): ...

    @abc.abstractmethod
    async def pause(self, cycles): ...

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
    """A cocotbext-axi ``AxiLiteMaster`` in a cocotb simulation; ``irq``: the DUT's line."""

    def __init__(self, master, clock, irq=None):
        self._master = master
        self._clock = clock
        self._irq = irq

    async def read32(self, offset):
        self._check(offset)
        r = await self._master.read(offset, 4)
        if int(r.resp) != 0:
            raise BusError("read", offset, r.resp)
        return int.from_bytes(r.data, "little")

    async def write32(self, offset, value):
        self._check(offset, value)
        r = await self._master.write(offset, value.to_bytes(4, "little"))
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

    Parameters
    ----------
    path : str
        The file to map.
    base : int
        Byte offset of the register block in that file (page aligned).
    size : int
        Bytes to map (the 4 KiB register space by default).
    clock_hz : float
        Clock of the design, to turn ``pause(cycles)`` into time.
    """

    def __init__(self, path, base=0, size=4096, clock_hz=100e6):
        if base % mmap.ALLOCATIONGRANULARITY:
            raise ValueError(f"Base must be a multiple of {mmap.ALLOCATIONGRANULARITY}, "
                             f"not {base:#x}")
        if clock_hz <= 0:
            raise ValueError(f"Clock must be positive, not {clock_hz}")
        self._fd = os.open(path, os.O_RDWR | os.O_SYNC)
        try:
            self._map = mmap.mmap(self._fd, size, mmap.MAP_SHARED,
                                  mmap.PROT_READ | mmap.PROT_WRITE, offset=base)
        except Exception:
            os.close(self._fd)
            raise
        self._size = size
        self._clock_hz = clock_hz

    def close(self):
        self._map.close()
        os.close(self._fd)

    def _bounds(self, offset):
        if offset + 4 > self._size:
            raise ValueError(f"Register offset {offset:#x} is outside the {self._size:#x}-byte "
                             f"mapping")

    async def read32(self, offset):
        self._check(offset)
        self._bounds(offset)
        return struct.unpack_from("<I", self._map, offset)[0]

    async def write32(self, offset, value):
        self._check(offset, value)
        self._bounds(offset)
        struct.pack_into("<I", self._map, offset, value)

    async def pause(self, cycles):
        await asyncio.sleep(cycles / self._clock_hz)
