"""ExampleBoardTop (example/board.py): the example FPGA top, driven as a board's CPU would.

The BIOS model boots and migrates through the bridge's register window, and host data is
written and read through its host window, with block RAM as the modules. One file per
unit: the TB class and cocotb tests, and the pytest entry at the bottom.
"""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiLiteBus, AxiLiteMaster, AxiResp

from mirrorswap.example.board import ExampleBoardTop
from mirrorswap.example.bridge import HOST_WINDOW
from mirrorswap.firmware.bios import Bios
from mirrorswap.firmware.regbus import AxiLiteBus as FirmwareBus
from mirrorswap.regmap import Mode
from mirrorswap.sim.runner import run_tests
from mirrorswap.sim.tb import agents_of, knob, reset_dut

POWER_GOOD_DELAY = 20


class BoardTB:
    """The board around the FPGA: a CPU on the one AXI4-Lite port (``axil``, with the BIOS
    model ``bios`` on it) and a seated module in every slot, whose supply raises
    ``power_good`` ``POWER_GOOD_DELAY`` cycles after ``power_en``."""

    def __init__(self, dut):
        self.dut = dut
        self.rng = random.Random(knob("seed", 1))
        self.agents = agents_of(dut)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "bus"), dut.clk, dut.rst)
        self.bios = Bios(FirmwareBus(self.axil, dut.clk, dut.irq))
        for i in range(self.agents):
            self.pin(i, "present").value = 1
            self.pin(i, "button").value = 0
            self.pin(i, "power_good").value = 0
            cocotb.start_soon(self._supply(i))

    def pin(self, i, name):
        return getattr(self.dut, f"slot{i}_{name}")

    async def _supply(self, i):
        """power_good follows power_en after a delay."""
        up = 0
        while True:
            await RisingEdge(self.dut.clk)
            en = int(self.pin(i, "power_en").value)
            up = up + 1 if en else 0
            self.pin(i, "power_good").value = int(up > POWER_GOOD_DELAY)

    async def host_write(self, addr, value):
        return (await self.axil.write(HOST_WINDOW + addr, value.to_bytes(4, "little"))).resp

    async def host_read(self, addr):
        r = await self.axil.read(HOST_WINDOW + addr, 4)
        return int.from_bytes(r.data, "little"), r.resp


@cocotb.test()
async def boot_write_migrate_read(dut):
    tb = BoardTB(dut)
    await reset_dut(dut)
    mm = await tb.bios.boot()
    published = mm.e820()
    owners = {r.base_line: mm.owners[r] for r in mm.ranges}
    assert sorted(owners.values()) == list(range(1, tb.agents)), owners

    written = {}
    for _ in range(300):
        addr = tb.rng.randrange(0, mm.total_lines * 8) // 4 * 4
        written[addr] = tb.rng.getrandbits(32)
        assert await tb.host_write(addr, written[addr]) == AxiResp.OKAY
    for addr, value in written.items():
        assert await tb.host_read(addr) == (value, AxiResp.OKAY), hex(addr)

    spare = await tb.bios.migrate(1)
    assert spare == 0
    assert (await tb.bios.hw.status(0)).mode == Mode.ACTIVE
    assert (await tb.bios.hw.status(1)).mode == Mode.IDLE
    assert mm.e820() == published
    for addr, value in written.items():
        assert await tb.host_read(addr) == (value, AxiResp.OKAY), hex(addr)


@cocotb.test()
async def bad_addresses(dut):
    """Unowned host lines answer DECERR; bridge addresses between the register block and
    the host window answer SLVERR; neither changes anything."""
    tb = BoardTB(dut)
    await reset_dut(dut)
    await ClockCycles(dut.clk, 2)
    assert await tb.host_write(0x40, 0x1234) == AxiResp.DECERR   # nothing assigned yet
    assert (await tb.host_read(0x40))[1] == AxiResp.DECERR
    assert (await tb.axil.write(0x1000, bytes(4))).resp == AxiResp.SLVERR
    assert (await tb.axil.read(0x1000, 4)).resp == AxiResp.SLVERR
    assert int.from_bytes((await tb.axil.read(0x000, 4)).data, "little") == 0x48535750


def test_example_board_top():
    run_tests(__file__, "example_board_top", component=ExampleBoardTop())
