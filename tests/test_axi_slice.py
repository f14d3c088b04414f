# amaranth: UnusedElaboratable=no
"""RegisterSlice (rtl/axi_slice.py), on its generated Verilog.

An AXI4 master on ``s`` and cocotbext-axi's ``AxiRam`` on ``m``, with random pauses on
every channel of both (so every skid buffer fills and drains); every read is checked
against a byte model. And: with no pauses, a burst streams through at one beat per cycle.
Run over seeds, with every channel registered and with only some (the others wired
straight through), and the constructor's refusal of an unknown channel.
"""

import os
import random

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge
from cocotbext.axi import AxiBus, AxiMaster, AxiRam, AxiResp

from mirrorswap.rtl.axi_slice import RegisterSlice
from mirrorswap.rtl.signatures import AXI4Signature
from mirrorswap.sim.runner import run_tests
from mirrorswap.sim.tb import pauses, reset_dut

SEED = int(os.environ.get("MS_SEED", "1"))
SIZE = 1 << 12


class AxiSliceTB:
    """Clock, reset, an ``AxiMaster`` on ``s`` and an ``AxiRam`` on ``m``; with ``pause``
    > 0 every channel end of both pauses at random with that probability."""

    def __init__(self, dut, pause=0.0):
        self.dut = dut
        self.rng = random.Random(SEED)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.master = AxiMaster(AxiBus.from_prefix(dut, "s"), dut.clk, dut.rst)
        self.ram = AxiRam(AxiBus.from_prefix(dut, "m"), dut.clk, dut.rst, size=SIZE)
        if pause:
            for end in (self.master, self.ram):
                for ch in (end.write_if.aw_channel, end.write_if.w_channel,
                           end.write_if.b_channel, end.read_if.ar_channel,
                           end.read_if.r_channel):
                    ch.set_pause_generator(pauses(random.Random(self.rng.random()), pause))

    async def reset(self):
        await reset_dut(self.dut)


async def make(dut, pause=0.0):
    """A reset :class:`AxiSliceTB`."""
    tb = AxiSliceTB(dut, pause)
    await tb.reset()
    return tb


async def _random_traffic(dut, pause, rounds):
    tb = await make(dut, pause)
    master, ram, rng = tb.master, tb.ram, tb.rng
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
    master = (await make(dut)).master
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


SIGNATURE = AXI4Signature(addr_width=16, data_width=64, id_width=4)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("channels", ["aw,w,b,ar,r", "aw,w,b"])
def test_register_slice(seed, channels):
    run_tests(__file__, "register_slice",
              component=RegisterSlice(SIGNATURE, channels=channels.split(",")),
              params={"seed": seed, "channels": channels.replace(",", "")})


def test_register_slice_rejects_unknown_channel():
    with pytest.raises(ValueError, match=r"Unknown AXI channels \['x'\]; "
                                         r"choose from \['aw', 'w', 'ar', 'r', 'b'\]"):
        RegisterSlice(SIGNATURE, channels=("r", "x"))
