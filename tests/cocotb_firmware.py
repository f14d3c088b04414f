"""cocotb bench: the BIOS model (firmware/) driving the generated mirrorswap_top."""

import os

import cocotb

from firmware import errors
from firmware.memmap import MemoryMap
from rtl.regmap import Mode, Op
from sim.scenario import check_all
from sim.scoreboard import ReferenceMemory, Scoreboard
from sim.tb import TopTB
from sim.traffic import HostTraffic

SEED = int(os.environ.get("MS_SEED", "1"))


async def _preload(tb, mm):
    sb = Scoreboard(ReferenceMemory(mm.total_lines))
    for r in mm.ranges:
        data = tb.rng.randbytes(r.size_lines * 8)
        tb.mems[mm.owners[r]].write(0, data)
        sb.memory.write(r.base_line * 8, data)
    return sb


@cocotb.test()
async def boot_builds_the_memory_map(dut):
    """Largest module is the spare (ties: lowest slot); the others get consecutive ranges."""
    tb = TopTB(dut, capacities_log2=(13, 12, 12, 13), seed=SEED)
    await tb.reset()
    mm = await tb.bios.boot()
    assert [(r.base_line, r.size_lines, mm.owners[r]) for r in mm.ranges] == [
        (0, 4096, 1), (4096, 4096, 2), (8192, 8192, 3)]
    st = await tb.bios.hw.status(0)
    assert st.mode == Mode.IDLE and st.power_good
    for slot, base, size in ((1, 0, 4096), (2, 4096, 4096), (3, 8192, 8192)):
        assert (await tb.bios.hw.status(slot)).mode == Mode.ACTIVE
        assert await tb.bios.hw.read_reg(slot, "BASE") == base
        assert await tb.bios.hw.read_reg(slot, "SIZE") == size
    for slot in range(4):
        assert (await tb.bios.hw.slot(slot))["power_led"] == 1   # on, steady


@cocotb.test()
async def refused_commands_raise_their_exception(dut):
    tb = TopTB(dut, capacities_log2=(12, 12, 12, 13), seed=SEED)
    await tb.reset()
    bios = tb.bios
    await bios.boot()      # 0, 1, 2 ACTIVE; 3 spare
    cases = [
        (0, Op.ASSIGN, 0, errors.BadState), (0, Op.ESTABLISH, 0, errors.BadPeer),
        (0, Op.ESTABLISH, 1, errors.BadPeer), (0, Op.RELEASE, 0, errors.BadState),
        (3, Op.UNASSIGN, 0, errors.BadState), (1, 12, 0, errors.BadOpcode),
    ]
    for agent, op, peer, cls in cases:
        try:
            await bios.command(agent, op, peer)
        except cls as e:
            assert e.agent == agent
        else:
            raise AssertionError(f"{op} on {agent} did not raise {cls.__name__}")
    await bios.command(0, Op.ESTABLISH, 3)
    try:
        await bios.command(0, Op.RELEASE)
    except errors.NotSwept:
        pass
    else:
        raise AssertionError("RELEASE before the sweep did not raise NotSwept")
    await bios.command(0, Op.ABORT)
    try:
        await bios.migrate(0, spare=3, chunk_lines=0)
    except ValueError:
        pass
    else:
        raise AssertionError("chunk_lines=0 accepted")
    assert (await bios.hw.status(0)).mode == Mode.ACTIVE


@cocotb.test()
async def chained_migrations_under_traffic(dut):
    """Slot 1 moves to the spare, then the new owner moves on to the freed module."""
    tb = TopTB(dut, capacities_log2=(12, 12, 12, 13), seed=SEED)
    tb.set_backpressure(0.2)
    await tb.reset()
    mm = await tb.bios.boot()
    published = mm.published()
    sb = await _preload(tb, mm)
    traffic = HostTraffic(tb, sb, mm, seed=SEED, load=0.6)
    traffic.start()
    first = await tb.bios.migrate(1, chunk_lines=1024)
    assert first == 3
    second = await tb.bios.migrate(3, chunk_lines=1024)
    assert second == 1, "the freed module is the only IDLE one left"
    await traffic.stop()
    assert mm.published() == published
    assert await check_all(tb, sb, mm, sample=32, rng=tb.rng, what="chained") == 0
    assert not sb.mismatches, str(sb.mismatches[0])
    assert sb.reads > 50 and sb.writes > 50


@cocotb.test()
async def two_pairs_migrate_at_once(dut):
    """Two disjoint pairs sweep at the same time while the host runs (SPEC 5.3)."""
    tb = TopTB(dut, capacities_log2=(12, 12, 12, 12), seed=SEED)
    tb.set_backpressure(0.1)
    await tb.reset()
    await tb.power_up()
    bios = tb.bios
    mm = MemoryMap()
    for slot, base in ((0, 0), (1, 4096)):
        await tb.assign(slot, base, 4096)
        mm.add(base, 4096, slot)
    bios.memory_map = mm
    sb = await _preload(tb, mm)
    traffic = HostTraffic(tb, sb, mm, seed=SEED, load=0.5)
    traffic.start()
    sweeping = set()

    def watch(slot):
        def progress(done, total):
            sweeping.add(slot)
            if done < total:
                overlap.append(len(sweeping))
        return progress

    overlap = []
    a = cocotb.start_soon(bios.migrate(0, spare=2, chunk_lines=512, progress=watch(0)))
    b = cocotb.start_soon(bios.migrate(1, spare=3, chunk_lines=512, progress=watch(1)))
    assert await a == 2 and await b == 3
    await traffic.stop()
    assert max(overlap) == 2, "the two sweeps did not overlap in time"
    assert await check_all(tb, sb, mm, sample=32, rng=tb.rng, what="two pairs") == 0
    assert not sb.mismatches, str(sb.mismatches[0])


@cocotb.test()
async def migrate_without_fitting_spare_changes_nothing(dut):
    """No IDLE module holds the range: NoSpareError before any register is written."""
    tb = TopTB(dut, capacities_log2=(13, 13, 12, 12), seed=SEED)
    await tb.reset()
    bios = tb.bios
    mm = await bios.boot()   # slot 0 (8192) spare; 1: 8192 lines, 2 and 3: 4096 lines
    assert await bios.migrate(2) == 0, "the largest fitting spare"
    before = await tb.snapshot()
    try:
        await bios.migrate(1)     # 8192 lines; the only IDLE module (2) has 4096
    except errors.NoSpareError:
        pass
    else:
        raise AssertionError("migrate with no fitting spare did not raise NoSpareError")
    assert await tb.snapshot() == before
    assert mm.owners[mm.lookup(0)] == 1
