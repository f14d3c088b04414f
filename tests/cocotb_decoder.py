"""cocotb bench for AddressDecoder (rtl/decoder.py), against a Python model."""

import os
import random

import cocotb
from cocotb.triggers import Timer

from mirrorswap.regmap import Mode
from mirrorswap.rtl.signatures import ROUTE_LAYOUT

AGENTS = 4


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
    for i, (mode, _, base, size) in enumerate(routes):
        if mode in (Mode.ACTIVE, Mode.MIRROR_MASTER) and base <= line < base + size:
            return True, i, line - base
    return False, None, None


@cocotb.test()
async def random_ranges_and_modes(dut):
    rng = random.Random(int(os.environ.get("MS_SEED", "1")))
    for _ in range(40):
        bases = sorted(rng.sample(range(0, 1 << 20, 512), AGENTS))
        routes = []
        for i, base in enumerate(bases):
            room = (bases[i + 1] if i + 1 < AGENTS else 1 << 21) - base
            size = rng.choice([512, 1024, 4096]) if room >= 4096 else 512
            routes.append((rng.choice(list(Mode)), rng.randrange(AGENTS), base, size))
        rng.shuffle(routes)
        dut.routes.value = pack_routes(routes)
        lines = [rng.choice(routes)[2] + d for d in (-1, 0, 1, 511, 512)] + \
                [rng.randrange(1 << 21) for _ in range(10)]
        for line in lines:
            line &= (1 << 29) - 1
            dut.line.value = line
            await Timer(1, unit="ns")
            hit, agent, offset = model(routes, line)
            assert int(dut.hit.value) == hit, (routes, line)
            if hit:
                assert int(dut.agent.value) == agent and int(dut.offset.value) == offset
