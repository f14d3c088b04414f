"""The PicoRV32 SoC (soc/): its map and header, the host bridge, the I/O block, and both
CPUs running the smoke programs of soc/sw/ on the generated Verilog.

One file per unit (the SoC room): the cocotb tests first, the pytest entries at the bottom.
"""

import os
import random
import subprocess
import sys

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster, AxiRam, AxiResp

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect

from mirrorswap.sim.tb import knob, reset_dut

# ---- cocotb: LiteToAxi (soc/bridge.py) -------------------------------------------------

BASE = 0x8000_0000


@cocotb.test()
async def bridge_lanes_and_strobes(dut):
    """Random word, half-word and byte stores through the bridge into an AXI4 RAM, each
    compared byte by byte with a model, then read back word by word: a strobe or data
    placed in the wrong lane writes the wrong bytes."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    cpu = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "cpu"), dut.clk, dut.rst)
    ram = AxiRam(AxiBus.from_prefix(dut, "host"), dut.clk, dut.rst, size=1 << 12)
    await reset_dut(dut)
    line_bytes = knob("data_width", 64) // 8
    assert len(dut.host_wstrb) == line_bytes
    rng = random.Random(1)
    model = bytearray(rng.getrandbits(8) for _ in range(1 << 12))
    ram.write(0, bytes(model))
    lanes_seen = set()
    for _ in range(200):
        word = rng.randrange(0, (1 << 12) // 4) * 4
        size = rng.choice((1, 2, 4))
        addr = word + rng.randrange(0, 4 // size) * size
        data = bytes(rng.getrandbits(8) for _ in range(size))
        result = await cpu.write(BASE + addr, data)
        assert result.resp == AxiResp.OKAY
        model[addr:addr + size] = data
        lanes_seen.add(addr % line_bytes // 4)
        assert ram.read(word & ~(line_bytes - 1), line_bytes) == \
            bytes(model[word & ~(line_bytes - 1):(word & ~(line_bytes - 1)) + line_bytes])
    assert lanes_seen == set(range(line_bytes // 4))
    for word in range(0, 1 << 12, 4):
        result = await cpu.read(BASE + word, 4)
        assert result.data == bytes(model[word:word + 4]), hex(word)


@cocotb.test()
async def bridge_sizes(dut):
    """Every transfer is one 4-byte beat at the word's own host address."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    cpu = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "cpu"), dut.clk, dut.rst)
    AxiRam(AxiBus.from_prefix(dut, "host"), dut.clk, dut.rst, size=1 << 12)
    await reset_dut(dut)
    seen = []

    async def watch():
        while True:
            await RisingEdge(dut.clk)
            if dut.host_awvalid.value and dut.host_awready.value:
                seen.append(("aw", int(dut.host_awaddr.value), int(dut.host_awsize.value),
                             int(dut.host_awlen.value)))
            if dut.host_arvalid.value and dut.host_arready.value:
                seen.append(("ar", int(dut.host_araddr.value), int(dut.host_arsize.value),
                             int(dut.host_arlen.value)))
    cocotb.start_soon(watch())
    await cpu.write(BASE + 0x124, b"\x01\x02\x03\x04")
    await cpu.read(BASE + 0x13C, 4)
    await ClockCycles(dut.clk, 2)
    assert seen == [("aw", 0x124, 2, 0), ("ar", 0x13C, 2, 0)], seen


# ---- cocotb: SocIo (soc/io.py) ---------------------------------------------------------

@cocotb.test()
async def io_access_rules(dut):
    """Each register is written only by the CPU the map allows; the other's write is
    ignored (OKAY); both read the same values; CYCLES counts; CONSOLE waits for its sink."""
    from mirrorswap.soc import map as soc_map
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    mgmt = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "mgmt"), dut.clk, dut.rst)
    host = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "host"), dut.clk, dut.rst)
    dut.console0_ready.value = 1
    dut.console1_ready.value = 1
    await reset_dut(dut)

    async def rd(port, name):
        return int.from_bytes((await port.read(soc_map.io_offset(name), 4)).data, "little")

    async def wr(port, name, value):
        result = await port.write(soc_map.io_offset(name), value.to_bytes(4, "little"))
        assert result.resp == AxiResp.OKAY

    for name, (_offset, mgmt_access, host_access, _meaning) in soc_map.IO_REGS.items():
        if name in ("CONSOLE", "CYCLES"):
            continue
        for port, access, other in ((mgmt, mgmt_access, host), (host, host_access, mgmt)):
            before = await rd(other, name)
            value = (before + 0x1234_5677) & 0xFFFF_FFFF
            await wr(port, name, value)
            expect = value if "W" in access else before
            assert await rd(mgmt, name) == expect, (name, access)
            assert await rd(host, name) == expect, (name, access)
    c0 = await rd(mgmt, "CYCLES")
    c1 = await rd(host, "CYCLES")
    assert 0 < c1 - c0 < 50, (c0, c1)
    assert await rd(mgmt, "CONSOLE") == 0

    # the console: a character is held until the sink takes it, and B waits for that
    dut.console1_ready.value = 0
    write = cocotb.start_soon(host.write(soc_map.io_offset("CONSOLE"), b"Q\0\0\0"))
    await RisingEdge(dut.console1_valid)
    assert int(dut.console1_payload.value) == ord("Q")
    await ClockCycles(dut.clk, 20)
    assert not write.done()
    assert dut.console1_valid.value == 1
    dut.console1_ready.value = 1
    await write
    assert dut.console0_valid.value == 0


# ---- cocotb: SocTop with the smoke programs ---------------------------------------------

@cocotb.test()
async def smoke_programs(dut):
    """Both CPUs run soc/sw/: the BIOS reads mirrorswap's ID through its window and
    publishes GO, the host computes with MUL/DIV and reports; consoles and results check."""
    from mirrorswap import regmap
    from mirrorswap.soc.software import SMOKE_RESULT
    from mirrorswap.soc.tb import SocTB
    tb = SocTB(dut, echo=False)
    await tb.start()
    await tb.wait_io(dut.stats_host_state, lambda v: v >= 2, timeout_cycles=100_000, poll=500)
    await tb.wait_io(dut.stats_mgmt_instret, lambda v: len(tb.lines["bios"]) >= 2,
                     timeout_cycles=20_000, poll=200)
    assert int(dut.stats_host_state.value) == 2
    assert int(dut.stats_host_result.value) == SMOKE_RESULT
    assert int(dut.stats_host_progress.value) == 64
    assert int(dut.stats_trap.value) == 0
    assert tb.lines["host"] == ["host: hello"]
    assert tb.lines["bios"] == [f"bios: hello, id {regmap.ID_VALUE:08x}",
                                f"bios: host result {SMOKE_RESULT:08x}"]
    assert int(dut.stats_host_instret.value) > 500
    assert int(dut.stats_mgmt_instret.value) > 100


# ---- cocotb: ConsoleMerge + UartTx (soc/ulx3s.py) -----------------------------------------

@cocotb.test()
async def console_uart(dut):
    """Two consoles write lines at once, pausing between characters: the serial line
    carries each line whole (8N1 at the divisor), never two interleaved."""
    divisor = knob("divisor", 4)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.inputs0_valid.value = 0
    dut.inputs1_valid.value = 0
    await reset_dut(dut)
    rng = random.Random(2)
    texts = {0: "bios line one\nbios two\n", 1: "host A\nhost B\n"}

    async def feed(i):
        valid, payload, ready = (getattr(dut, f"inputs{i}_{n}") for n in ("valid", "payload",
                                                                          "ready"))
        for char in texts[i]:
            valid.value, payload.value = 1, ord(char)
            await RisingEdge(dut.clk)
            while not ready.value:
                await RisingEdge(dut.clk)
            valid.value = 0
            # pauses longer than a character: the other console must still wait for "\n"
            await ClockCycles(dut.clk, 1 + rng.randrange(divisor * 30))
    received = []

    async def receive():
        while True:
            await RisingEdge(dut.clk)
            if dut.tx.value == 0:                       # start bit
                await ClockCycles(dut.clk, divisor // 2)
                bits = 0
                for bit in range(8):
                    await ClockCycles(dut.clk, divisor)
                    bits |= int(dut.tx.value) << bit
                await ClockCycles(dut.clk, divisor)
                assert dut.tx.value == 1, "stop bit"
                received.append(chr(bits))
    cocotb.start_soon(receive())
    feeders = [cocotb.start_soon(feed(i)) for i in texts]
    for f in feeders:
        await f
    await ClockCycles(dut.clk, divisor * 12)
    lines = "".join(received).splitlines()
    assert sorted(lines) == sorted(sum((t.splitlines() for t in texts.values()), [])), lines


# ---- pytest entries ----------------------------------------------------------------------

def test_header_is_fresh():
    """firmware/c/include/soc_map.h is what soc/map.py writes (python -m mirrorswap.soc.map)."""
    done = subprocess.run([sys.executable, "-m", "mirrorswap.soc.map", "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_map_numbers():
    from mirrorswap.soc import map as soc_map
    header = soc_map.header_text()
    assert "#define SOC_RAM_BYTES                0x8000 " in header
    assert "#define SOC_IO_HOST_STATE_ADDR       0x1000000c " in header
    assert "LENGTH = 0x8000" in soc_map.linker_memory()
    assert soc_map.io_offset("MEM_BYTES") == 0x18
    with pytest.raises(KeyError, match="No SoC I/O register named 'NOPE'; there are CONSOLE"):
        soc_map.io_offset("NOPE")
    offsets = [reg[0] for reg in soc_map.IO_REGS.values()]
    assert len(set(offsets)) == len(offsets) and max(offsets) < soc_map.IO_BYTES


def test_smoke_result_model():
    """SMOKE_RESULT is what smoke_host.c computes (its loop, in Python)."""
    from mirrorswap.soc.software import SMOKE_RESULT
    total = 0
    for i in range(64):
        value = (i * 2654435761) & 0xFFFF_FFFF
        total = (total * 31 + value // (i + 1) + value % 7) & 0xFFFF_FFFF
    assert total == SMOKE_RESULT


def test_bad_parameters():
    from mirrorswap.soc.bridge import LiteToAxi
    from mirrorswap.soc.cpu import PicoRV32
    from mirrorswap.soc.decoder import LiteDecoder
    from mirrorswap.soc.ram import ModuleRam, ProgramRam
    with pytest.raises(ValueError, match="Data width must be a power of two from 32 to 1024 "
                                         "bits, not 48"):
        LiteToAxi(data_width=48)
    with pytest.raises(ValueError, match="Stack top must be a multiple of 16, not 0x8004"):
        PicoRV32(stack_top=0x8004)
    with pytest.raises(ValueError, match="Windows at 0x0 and 0x800 overlap"):
        LiteDecoder([(0, 0x1000), (0x800, 0x800)])
    with pytest.raises(ValueError, match="An image of 3 words does not fit 8 bytes"):
        ProgramRam(size=8, init=[1, 2, 3])
    with pytest.raises(ValueError, match="Depth must be a power of two of at least 2, not 3"):
        ModuleRam(depth=3)


@pytest.mark.parametrize("data_width", [64, 128, 512])
def test_bridge(data_width):
    from mirrorswap.sim.runner import run_tests
    from mirrorswap.soc.bridge import LiteToAxi
    run_tests(__file__, "lite_to_axi", component=LiteToAxi(data_width=data_width),
              testcase=["bridge_lanes_and_strobes", "bridge_sizes"],
              params={"data_width": data_width})


def test_io():
    from mirrorswap.sim.runner import run_tests
    from mirrorswap.soc.io import SocIo
    run_tests(__file__, "soc_io", component=SocIo(), testcase="io_access_rules")


def test_smoke_programs():
    from mirrorswap.sim.runner import bench_dir, run_bench
    from mirrorswap.soc.software import have_toolchain, smoke_images
    from mirrorswap.soc.tb import soc_sources
    if not have_toolchain():
        pytest.skip("riscv64-unknown-elf-gcc is missing (Debian package "
                    "gcc-riscv64-unknown-elf)")
    build = bench_dir("test_soc_smoke")
    images = smoke_images(build / "sw")
    run_bench(soc_sources(build, **images), "soc_top", "test_soc", build_dir=build,
              testcase="smoke_programs", test_dir=os.path.dirname(__file__), quiet=True)


class _ConsoleUart(wiring.Component):
    """ConsoleMerge into UartTx, as on the board (the bench's top)."""

    def __init__(self, divisor):
        self._divisor = divisor
        super().__init__({"inputs": In(stream.Signature(8)).array(2), "tx": Out(1)})

    def elaborate(self, platform):
        from mirrorswap.soc.ulx3s import ConsoleMerge, UartTx
        m = Module()
        m.submodules.merge = merge = ConsoleMerge()
        m.submodules.uart = uart = UartTx(divisor=self._divisor)
        for i in range(2):
            connect(m, merge=merge.inputs[i], src=wiring.flipped(self.inputs[i]))
        connect(m, merge=merge.output, uart=uart.data)
        m.d.comb += self.tx.eq(uart.tx)
        return m


def test_console_uart():
    from mirrorswap.sim.runner import run_tests
    run_tests(__file__, "console_uart", component=_ConsoleUart(4), testcase="console_uart",
              params={"divisor": 4})


def test_board_top_elaborates():
    """The ULX3S top converts to Verilog with its few pins (synthesis: make synth
    ONLY=soc_ulx3s); bad divisors are refused."""
    from mirrorswap.flows.verilog import port_map
    from mirrorswap.soc.ulx3s import SocBoardTop, UartTx
    top = SocBoardTop()
    assert sorted(port_map(top)) == ["buttons", "leds", "pulled", "uart_tx"]
    assert top.extra_sources[0].name == "picorv32.v"
    with pytest.raises(ValueError, match="Divisor must be an integer of at least 2, not 1"):
        UartTx(divisor=1)
