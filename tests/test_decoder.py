"""AddressDecoder (rtl/decoder.py), on its generated Verilog, against a Python model.

Random layouts of aligned, non-overlapping ranges in random modes; each is probed at
random lines and at the edges of every range (one below its base, its base, its last
line, its end). Only ACTIVE and MIRROR_MASTER agents may answer. With ``split`` the bench
plays the caller's register: it reads ``match`` (one-hot, checked against the model) and
drives it back on ``sel``. Run over seeds, agent counts and both forms.
"""

import os
import random

import cocotb
import pytest
from cocotb.triggers import Timer

from mirrorswap.regmap import Mode, RANGE_ALIGN
from mirrorswap.rtl.decoder import AddressDecoder
from mirrorswap.rtl.signatures import ROUTE_LAYOUT
from mirrorswap.sim.runner import run_tests

AGENTS = int(os.environ.get("MS_AGENTS", "4"))
SPLIT = os.environ.get("MS_SPLIT", "0") == "1"
LINE_ADDR_WIDTH = 29


def pack_routes(routes):
    """Pack [(mode, peer, base, size)] the way ArrayLayout(ROUTE_LAYOUT) lays them out,
    with ``end`` = base + size as the controller provides it."""
    value, width = 0, ROUTE_LAYOUT.size
    for i, (mode, peer, base, size) in enumerate(routes):
        for name, v in (("mode", mode), ("peer", peer), ("base", base), ("size", size),
                        ("end", base + size)):
            value |= v << (i * width + ROUTE_LAYOUT[name].offset)
    return value


def model(routes, line):
    """``(hit, agent, offset)`` of ``line``: the routed agent whose range holds it."""
    for i, (mode, _, base, size) in enumerate(routes):
        if mode in (Mode.ACTIVE, Mode.MIRROR_MASTER) and base <= line < base + size:
            return True, i, line - base
    return False, None, None


class DecoderTB:
    """Drives ``routes`` and ``line`` and reads the answer once the logic has settled."""

    def __init__(self, dut):
        self.dut = dut

    def set_routes(self, routes):
        self.dut.routes.value = pack_routes(routes)

    async def lookup(self, line):
        """``(hit, agent, offset, match)``; ``match`` is None unless split."""
        dut = self.dut
        dut.line.value = line
        await Timer(1, unit="ns")
        match = None
        if SPLIT:
            match = int(dut.match.value)
            dut.sel.value = match
            await Timer(1, unit="ns")
        return int(dut.hit.value), int(dut.agent.value), int(dut.offset.value), match


def random_routes(rng):
    """AGENTS ranges of 1, 2 or 8 RANGE_ALIGN-line blocks at aligned, distinct bases,
    never overlapping, in random modes and in random agent order."""
    bases = sorted(rng.sample(range(0, 1 << 20, RANGE_ALIGN), AGENTS))
    routes = []
    for i, base in enumerate(bases):
        room = (bases[i + 1] if i + 1 < AGENTS else 1 << 21) - base
        size = rng.choice([1, 2, 8]) * RANGE_ALIGN if room >= 8 * RANGE_ALIGN else RANGE_ALIGN
        routes.append((rng.choice(list(Mode)), rng.randrange(AGENTS), base, size))
    rng.shuffle(routes)
    return routes


@cocotb.test()
async def random_ranges_and_modes(dut):
    rng = random.Random(int(os.environ.get("MS_SEED", "1")))
    tb = DecoderTB(dut)
    hits = 0
    for _ in range(40):
        routes = random_routes(rng)
        tb.set_routes(routes)
        edges = [b + d for _, _, b, s in routes for d in (-1, 0, s - 1, s)]
        lines = edges + [rng.randrange(1 << 21) for _ in range(10)]
        for line in lines:
            line &= (1 << LINE_ADDR_WIDTH) - 1
            hit, agent, offset, match = await tb.lookup(line)
            want_hit, want_agent, want_offset = model(routes, line)
            assert hit == want_hit, (routes, line)
            if SPLIT:
                assert match == (1 << want_agent if want_hit else 0), (routes, line)
            if hit:
                hits += 1
                assert (agent, offset) == (want_agent, want_offset), (routes, line)
            else:
                assert agent == 0 and offset == 0, "no hit must answer agent 0, offset 0"
    assert hits, "no probe hit a routed range"


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("agents, split", [(1, False), (4, False), (8, False), (4, True)])
def test_address_decoder(seed, agents, split):
    run_tests(__file__, "address_decoder",
              component=AddressDecoder(agents=agents, line_addr_width=LINE_ADDR_WIDTH,
                                       split=split),
              params={"seed": seed, "agents": agents, "split": int(split)})
