"""AxiBlockRam (example/bram.py): the example board's modules, on its generated Verilog.

An AXI4 master issues random bursts, narrow writes with strobes and out-of-range accesses,
with random pauses on every channel; every read is checked against a byte model. One file
per unit: the cocotb tests, and the pytest entries at the bottom (seeds and depths).
"""

import random

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiBus, AxiMaster, AxiResp

from mirrorswap.example.bram import AxiBlockRam
from mirrorswap.sim.runner import run_tests
from mirrorswap.sim.tb import knob, pauses, reset_dut

SEED = knob("seed", 1)
DEPTH = knob("depth", 256)


async def make(dut, pause=0.0):
    """Clock, an AxiMaster on ``bus`` pausing each channel with probability ``pause``, and
    reset; returns the master and the test's random generator."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    master = AxiMaster(AxiBus.from_prefix(dut, "bus"), dut.clk, dut.rst)
    rng = random.Random(SEED)
    if pause:
        for ch in (master.write_if.aw_channel, master.write_if.w_channel,
                   master.write_if.b_channel, master.read_if.ar_channel,
                   master.read_if.r_channel):
            ch.set_pause_generator(pauses(random.Random(rng.random()), pause))
    await reset_dut(dut)
    return master, rng


async def _random_traffic(dut, pause, rounds):
    master, rng = await make(dut, pause)
    size = DEPTH * 8
    model = bytearray(size)
    await master.write(0, bytes(size))
    for _ in range(rounds):
        lines = rng.randint(1, 24)
        addr = rng.randrange(0, size - 8 * lines + 1) // 8 * 8
        if rng.random() < 0.3:   # a narrow write: a few bytes anywhere in a line
            addr += rng.randrange(8)
            length = rng.randint(1, 8 - addr % 8)
        else:
            length = 8 * lines
        data = rng.randbytes(length)
        if rng.random() < 0.5:
            assert (await master.write(addr, data)).resp == AxiResp.OKAY
            model[addr:addr + length] = data
        else:
            r = await master.read(addr, length)
            assert r.resp == AxiResp.OKAY
            assert r.data == model[addr:addr + length], f"read {addr:#x}+{length}"
    r = await master.read(0, size)
    assert r.data == model


@cocotb.test()
async def random_bursts(dut):
    await _random_traffic(dut, 0.0, 200)


@cocotb.test()
async def random_bursts_with_pauses(dut):
    await _random_traffic(dut, 0.3, 200)


@cocotb.test()
async def one_beat_per_cycle(dut):
    """A 64-beat read streams back to back: 64 R beats in 64 consecutive cycles."""
    master, _ = await make(dut)
    beats = []

    async def count():
        cycle = 0
        while True:
            await RisingEdge(dut.clk)
            cycle += 1
            if int(dut.bus_rvalid.value) and int(dut.bus_rready.value):
                beats.append(cycle)

    counter = cocotb.start_soon(count())
    await master.read(0, 64 * 8)
    counter.cancel()
    assert len(beats) == 64
    assert beats[-1] - beats[0] == 63, "the read stream has bubbles"


@cocotb.test()
async def out_of_range_answers_slverr(dut):
    master, _ = await make(dut)
    size = DEPTH * 8
    await master.write(0, bytes(8))
    await master.write(size - 8, b"\x11" * 8)
    assert (await master.write(size, b"\x22" * 8)).resp == AxiResp.SLVERR
    assert (await master.read(size, 8)).resp == AxiResp.SLVERR
    # the write past the end did not wrap around onto line 0
    assert (await master.read(0, 8)).data == bytes(8)
    assert (await master.read(size - 8, 8)).data == b"\x11" * 8
    await ClockCycles(dut.clk, 2)


@pytest.mark.parametrize("seed, depth", [(1, 256), (2, 64)])
def test_block_ram(seed, depth):
    run_tests(__file__, "axi_block_ram", component=AxiBlockRam(depth=depth),
              params={"seed": seed, "depth": depth})
