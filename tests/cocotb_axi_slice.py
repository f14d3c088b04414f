"""cocotb bench for RegisterSlice (rtl/axi_slice.py) on all five channels, on its Verilog.

An AXI4 master on ``s`` and cocotbext-axi's ``AxiRam`` on ``m``, with random pauses on
every channel of both (so every skid buffer fills and drains); every read is checked
against a byte model. And: with no pauses, a burst streams through at one beat per cycle.
"""

import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge
from cocotbext.axi import AxiBus, AxiMaster, AxiRam, AxiResp

from mirrorswap.sim.tb import pauses, reset_dut

SEED = int(os.environ.get("MS_SEED", "1"))
SIZE = 1 << 12


async def make(dut, pause=0.0):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    master = AxiMaster(AxiBus.from_prefix(dut, "s"), dut.clk, dut.rst)
    ram = AxiRam(AxiBus.from_prefix(dut, "m"), dut.clk, dut.rst, size=SIZE)
    rng = random.Random(SEED)
    if pause:
        for ch in (master.write_if.aw_channel, master.write_if.w_channel,
                   master.write_if.b_channel, master.read_if.ar_channel,
                   master.read_if.r_channel, ram.write_if.aw_channel,
                   ram.write_if.w_channel, ram.write_if.b_channel,
                   ram.read_if.ar_channel, ram.read_if.r_channel):
            ch.set_pause_generator(pauses(random.Random(rng.random()), pause))
    await reset_dut(dut)
    return master, ram, rng


async def _random_traffic(dut, pause, rounds):
    master, ram, rng = await make(dut, pause)
    model = bytearray(SIZE)
    await master.write(0, bytes(SIZE))

    async def worker(k):
        for _ in range(rounds):
            lines = rng.randint(1, 16)
            # each worker owns its own quarter, so concurrent bursts never overlap
            base = k * SIZE // 4
            addr = base + rng.randrange(0, SIZE // 4 - 8 * lines + 1) // 8 * 8
            data = rng.randbytes(8 * lines)
            if rng.random() < 0.5:
                assert (await master.write(addr, data)).resp == AxiResp.OKAY
                model[addr:addr + len(data)] = data
            else:
                r = await master.read(addr, len(data))
                assert r.resp == AxiResp.OKAY
                assert r.data == model[addr:addr + len(data)], f"read {addr:#x}"

    tasks = [cocotb.start_soon(worker(k)) for k in range(4)]
    for t in tasks:
        await t
    assert ram.read(0, SIZE) == bytes(model)
    assert (await master.read(0, SIZE)).data == bytes(model)


@cocotb.test()
async def random_traffic(dut):
    await _random_traffic(dut, 0.0, 60)


@cocotb.test()
async def random_traffic_with_pauses(dut):
    await _random_traffic(dut, 0.4, 60)


@cocotb.test()
async def one_beat_per_cycle(dut):
    """A 64-beat read and a 64-beat write stream through without bubbles."""
    master, _, _ = await make(dut)
    beats = {"r": [], "w": []}

    async def count():
        cycle = 0
        while True:
            await RisingEdge(dut.clk)
            cycle += 1
            for ch in beats:
                if int(getattr(dut, f"s_{ch}valid").value) and \
                        int(getattr(dut, f"s_{ch}ready").value):
                    beats[ch].append(cycle)

    counter = cocotb.start_soon(count())
    await master.write(0, bytes(range(256)) * 2)
    await master.read(0, 64 * 8)
    counter.cancel()
    for ch, seen in beats.items():
        assert len(seen) == 64, ch
        assert seen[-1] - seen[0] == 63, f"the {ch} stream has bubbles"
