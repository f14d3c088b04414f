"""Bios (firmware/bios.py): the BIOS flows driving the generated mirrorswap_top.

One file per unit: the cocotb tests run inside the simulator with the BIOS model reaching
the RTL only through its AXI4-Lite register port; the pytest entry at the bottom runs each
in its own Icarus build (``pytest tests/test_firmware.py``; ``MS_SEED`` picks the seed).
The TB is :class:`sim.tb.TopTB`: 10 ns clock, reset, AXI4-Lite master on ``s_axil``, one
AxiRam per ``m_axi_mem<i>``, and slot models that raise power_good 20 cycles after
power_en. The firmware's own logic against a register model is in test_firmware_unit.py.

The RAS tests (SPEC sections 6 and 7) boot in mirror mode and let the hot-plug loop react to
what the RTL reports: a pulled master (failover), reads of bad lines served by the mirror
(corrected errors) and poisoned lines (uncorrected errors, copied as poison), the faults
made by the memory models of ``sim/memory.py``.
"""

import os

import cocotb
import pytest
from cocotb import regression

from cocotbext.axi import AxiResp

from mirrorswap.firmware import errors
from mirrorswap.firmware.bios import format_slot_table
from mirrorswap.firmware.hotplug import HotPlug
from mirrorswap.firmware.memmap import MemoryMap
from mirrorswap.regmap import LINE_BYTES, Err, Event, Led, Mode, Op, agent_reg
from mirrorswap.sim.checks import check_all
from mirrorswap.sim.memory import inject_faults
from mirrorswap.sim.runner import run_tests, shared_top
from mirrorswap.sim.scoreboard import ReferenceMemory, Scoreboard
from mirrorswap.sim.tb import TopTB
from mirrorswap.sim.traffic import HostTraffic

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
        assert (await tb.bios.hw.slot(slot))["power_led"] == Led.ON


async def _expect(bios, tb, cls, agent, op, peer=0, *, what):
    """``bios.command`` raises exactly ``cls`` and no agent register changes (SPEC 4: a
    refused command changes no state; STATUS.err is masked in the snapshot)."""
    before = await tb.snapshot()
    try:
        await bios.command(agent, op, peer)
    except errors.CommandError as e:
        assert type(e) is cls, f"{what}: raised {type(e).__name__} ({e}), not {cls.__name__}"
        assert e.agent == agent and e.op == op and e.err is cls.err, (what, e)
    else:
        raise AssertionError(f"{what}: {op!r} on agent {agent} did not raise {cls.__name__}")
    assert (await bios.hw.status(agent)).err is cls.err, what
    after = await tb.snapshot()
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"{what}: refused command changed {changed}"


async def _set_range(bios, agent, base, size):
    await bios.hw.write_reg(agent, "BASE", base)
    await bios.hw.write_reg(agent, "SIZE", size)


async def _set_sweep(bios, agent, start, count):
    await bios.hw.write_reg(agent, "SWEEP_START", start)
    await bios.hw.write_reg(agent, "SWEEP_COUNT", count)


@cocotb.test()
async def boot_picks_the_largest_module_as_spare(dut):
    """2^12, 2^12, 2^12, 2^13 lines: slot 3 is the spare, 0..2 get [0, 12288) in order."""
    tb = TopTB(dut, capacities_log2=(12, 12, 12, 13), seed=SEED)
    await tb.reset()
    bios = tb.bios
    mm = await bios.boot()
    assert mm is bios.memory_map
    assert mm.entries() == [(0, 4096, 0), (4096, 4096, 1), (8192, 4096, 2)], mm.entries()
    assert (await bios.read_memory_map()).entries() == mm.entries(), "read back from the RTL"
    assert mm.total_lines == 12288
    assert mm.e820().splitlines() == [
        "BIOS-e820: [mem 0x0000000000000000-0x0000000000007fff] usable",
        "BIOS-e820: [mem 0x0000000000008000-0x000000000000ffff] usable",
        "BIOS-e820: [mem 0x0000000000010000-0x0000000000017fff] usable"]
    config = await bios.hw.config()
    assert (config.agents, config.line_bytes, config.max_capacity_log2) == (4, 8, 16)
    for slot, mode, base, size, capacity in ((0, Mode.ACTIVE, 0, 4096, 4096),
                                             (1, Mode.ACTIVE, 4096, 4096, 4096),
                                             (2, Mode.ACTIVE, 8192, 4096, 4096),
                                             (3, Mode.IDLE, None, None, 8192)):
        st = await bios.hw.status(slot)
        assert (st.mode, st.busy, st.err, st.present, st.power_good) == (
            mode, False, Err.OK, True, True), (slot, st)
        assert await bios.hw.read_reg(slot, "CAPACITY") == capacity
        if base is not None:
            assert await bios.hw.read_reg(slot, "BASE") == base
            assert await bios.hw.read_reg(slot, "SIZE") == size
        ctrl = await bios.hw.slot(slot)
        assert (ctrl["power_en"], ctrl["power_led"], ctrl["attn_led"]) == (
            1, Led.ON, Led.OFF), (slot, ctrl)
        assert not (await bios.hw.events(slot)) & Event.CMD_DONE, "cmd_done left set"
    assert int(dut.irq.value) == 0
    table = format_slot_table(await bios.slot_table()).splitlines()
    assert len(table) == 5 and table[4].split()[:4] == ["3", "1", "1", "IDLE"], table


@cocotb.test()
async def migrate_slot_1_to_the_spare(dut):
    """Nothing else runs: slot 1's data ends in slot 3 and reads the same from the host."""
    tb = TopTB(dut, capacities_log2=(12, 12, 12, 13), seed=SEED)
    await tb.reset()
    bios = tb.bios
    mm = await bios.boot()
    published, table = mm.published(), mm.e820()
    data = tb.rng.randbytes(4096 * 8)
    tb.mems[1].write(0, data)
    calls = []

    async def progress(done, total):       # an async callback is awaited
        calls.append((done, total))

    assert await bios.migrate(1, chunk_lines=1024, progress=progress) == 3
    assert calls == [(1024, 4096), (2048, 4096), (3072, 4096), (4096, 4096)], calls
    old, new = await bios.hw.status(1), await bios.hw.status(3)
    assert (old.mode, old.busy, old.err) == (Mode.IDLE, False, Err.OK), old
    assert (new.mode, new.busy, new.err) == (Mode.ACTIVE, False, Err.OK), new
    assert old.power_good and new.power_good
    assert await bios.hw.read_reg(3, "BASE") == 4096
    assert await bios.hw.read_reg(3, "SIZE") == 4096
    for slot in (0, 2):
        assert (await bios.hw.status(slot)).mode == Mode.ACTIVE
    assert mm.published() == published and mm.e820() == table
    assert mm.entries() == [(0, 4096, 0), (4096, 4096, 3), (8192, 4096, 2)], mm.entries()
    assert (await bios.read_memory_map()).entries() == mm.entries(), "read back from the RTL"
    assert tb.mems[3].read(0, 4096 * 8) == data, "the spare does not hold the range"
    for line in (0, 1, 1023, 1024, 2047, 4095):
        r = await tb.host.read((4096 + line) * 8, 8)
        assert r.resp == AxiResp.OKAY and r.data == data[line * 8:line * 8 + 8], line
    # the old module is no longer needed: wipe it, the host still reads the same
    tb.mems[1].write(0, bytes(4096 * 8))
    r = await tb.host.read(4096 * 8, 64)
    assert r.data == data[:64]
    assert not (await bios.hw.events(1)) & Event.CMD_DONE, "cmd_done left set"


@cocotb.test()
async def every_command_error_raises_its_class(dut):
    """Each check of SPEC section 4 that a command can fail, through Bios.command."""
    tb = TopTB(dut, capacities_log2=(12, 12, 12, 13), seed=SEED)
    await tb.reset()
    bios = tb.bios
    await bios.boot()      # 0, 1, 2 ACTIVE with 4096 lines from 0; 3 IDLE, 8192 lines
    host_lines = (1 << 32) // LINE_BYTES   # SPEC 1: 32-bit byte addresses on the host port
    for agent, op, peer, cls, what in [
            (1, 12, 0, errors.BadOpcode, "opcode 12"),
            (1, 0, 0, errors.BadOpcode, "opcode 0"),
            (3, 7, 0, errors.BadOpcode, "opcode 7"),
            (0, Op.ASSIGN, 0, errors.BadState, "ASSIGN on ACTIVE"),
            (3, Op.UNASSIGN, 0, errors.BadState, "UNASSIGN on IDLE"),
            (0, Op.SWEEP, 0, errors.BadState, "SWEEP on ACTIVE"),
            (0, Op.RELEASE, 0, errors.BadState, "RELEASE on ACTIVE"),
            (0, Op.ABORT, 0, errors.BadState, "ABORT on ACTIVE"),
            (3, Op.ESTABLISH, 0, errors.BadState, "ESTABLISH on IDLE"),
            (0, Op.ESTABLISH, 0, errors.BadPeer, "ESTABLISH peer = self"),
            (0, Op.ESTABLISH, 1, errors.BadPeer, "ESTABLISH peer ACTIVE"),
            (0, Op.ESTABLISH, 9, errors.BadPeer, "ESTABLISH peer >= agents")]:
        await _expect(bios, tb, cls, agent, op, peer, what=what)

    # ASSIGN checks on the IDLE slot 3, in SPEC order: BAD_RANGE before OVERLAP
    for base, size, cls, what in [
            (12288, 0, errors.BadRange, "SIZE 0"),
            (12288 + 256, 512, errors.BadRange, "BASE not a multiple of 512"),
            (12288, 768, errors.BadRange, "SIZE not a multiple of 512"),
            (12288, 16384, errors.BadRange, "SIZE > CAPACITY"),
            (host_lines - 512, 1024, errors.BadRange, "past the host address space"),
            (0, 0, errors.BadRange, "SIZE 0 over an owned range"),
            (4096, 512, errors.Overlap, "inside slot 1's range"),
            (11776, 1024, errors.Overlap, "across the end of slot 2's range"),
            (0, 8192, errors.Overlap, "over two owned ranges")]:
        await _set_range(bios, 3, base, size)
        await _expect(bios, tb, cls, 3, Op.ASSIGN, what=what)

    # CAPACITY: an 8192-line range and a 4096-line IDLE peer
    await _set_range(bios, 3, 12288, 8192)
    await bios.command(3, Op.ASSIGN)
    await bios.command(2, Op.UNASSIGN)
    await _expect(bios, tb, errors.CapacityError, 3, Op.ESTABLISH, 2,
                  what="peer smaller than SIZE")

    # in a mirror: RELEASE before the sweep, SWEEP ranges, commands on either side
    await bios.command(0, Op.ESTABLISH, 2)
    await _expect(bios, tb, errors.NotSwept, 0, Op.RELEASE, what="RELEASE before SWEEP")
    for start, count, what in [(0, 0, "SWEEP_COUNT 0"),
                               (512, 512, "SWEEP_START > SWEPT_UPTO"),
                               (0, 4097, "past SIZE"),
                               (0, 8192, "far past SIZE")]:
        await _set_sweep(bios, 0, start, count)
        await _expect(bios, tb, errors.BadRange, 0, Op.SWEEP, what=what)
    await _expect(bios, tb, errors.BadState, 0, Op.ESTABLISH, 1, what="ESTABLISH twice")
    await _expect(bios, tb, errors.BadState, 2, Op.ASSIGN, what="ASSIGN on MIRROR_SLAVE")
    await _expect(bios, tb, errors.BadState, 2, Op.UNASSIGN, what="UNASSIGN on MIRROR_SLAVE")
    await _expect(bios, tb, errors.BadPeer, 3, Op.ESTABLISH, 2, what="peer already a slave")
    await _set_sweep(bios, 0, 0, 512)
    await bios.command(0, Op.SWEEP)
    assert await bios.hw.read_reg(0, "SWEPT_UPTO") == 512
    await _expect(bios, tb, errors.NotSwept, 0, Op.RELEASE, what="RELEASE half swept")
    await bios.command(0, Op.ABORT)
    assert (await bios.hw.status(0)).mode == Mode.ACTIVE
    assert (await bios.hw.status(2)).mode == Mode.IDLE

    # POWER comes from SLOT_CTRL, not CMD: the owner keeps its power
    await bios.hw.set_slot(0, power_en=0)
    st = await bios.hw.status(0)
    assert (st.mode, st.power_good, st.err) == (Mode.ACTIVE, True, Err.POWER), st
    assert errors.error_for(st.err) is errors.PowerError
    await bios.hw.clear_events(0, Event.CMD_DONE)

    # argument errors are refused before any register is written
    before = await tb.snapshot()
    for kwargs in (dict(chunk_lines=0), dict(spare=0), dict(spare=4)):
        try:
            await bios.migrate(0, **kwargs)
        except ValueError:
            pass
        else:
            raise AssertionError(f"migrate(0, {kwargs}) accepted")
    assert await tb.snapshot() == before


@cocotb.test()
async def command_on_a_busy_agent_raises_busy(dut):
    """A SWEEP throttled to run long: a second command on that agent raises Busy and the
    sweep goes on to the end."""
    tb = TopTB(dut, capacities_log2=(12, 12, 12, 13), seed=SEED)
    await tb.reset()
    bios = tb.bios
    await bios.boot()
    await bios.command(1, Op.ESTABLISH, 3)
    await bios.hw.write_reg(1, "THROTTLE", 16)
    await _set_sweep(bios, 1, 0, 256)      # 4096 cycles at THROTTLE 16: three commands' time
    cmd = agent_reg("CMD")
    # issued by hand so that the bench, not Bios.command, waits for it
    await bios.hw.write_reg(1, "CMD", cmd.opcode.put(0, Op.SWEEP))
    assert (await bios.hw.status(1)).busy
    for op in (Op.ABORT, Op.RELEASE, Op.SWEEP):
        try:
            await bios.command(1, op)
        except errors.Busy as e:
            assert e.agent == 1 and e.op == op
        else:
            raise AssertionError(f"{op.name} on a busy agent did not raise Busy")
    while (st := await bios.hw.status(1)).busy:
        await tb.cycles(64)
    assert (st.mode, st.err) == (Mode.MIRROR_MASTER, Err.OK), st
    assert await bios.hw.read_reg(1, "SWEPT_UPTO") == 256, "the sweep was disturbed"
    await bios.command(1, Op.ABORT)
    assert (await bios.hw.status(1)).mode == Mode.ACTIVE


@cocotb.test()
async def chained_migrations_under_traffic(dut):
    """Slot 1 moves to the spare, then the new owner moves on to the freed module."""
    tb = TopTB(dut, capacities_log2=(11, 11, 11, 12), seed=SEED)
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
    tb = TopTB(dut, capacities_log2=(11, 11, 11, 11), seed=SEED)
    tb.set_backpressure(0.1)
    await tb.reset()
    await tb.power_up()
    bios = tb.bios
    mm = MemoryMap()
    for slot, base in ((0, 0), (1, 2048)):
        await tb.assign(slot, base, 2048)
        mm.add(base, 2048, slot)
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


# ---- RAS (SPEC sections 6 and 7) -----------------------------------------------------------

async def _wait_for(tb, hp, done, what, limit=400_000):
    """Let the loop run until ``done()``, then until no flow runs."""
    waited = 0
    while not done():
        assert waited < limit, f"{what}: not within {limit} cycles; history {hp.history}"
        await tb.cycles(64)
        waited += 64
    await hp.wait_idle()


async def _listen(tb, hp):
    loop = cocotb.start_soon(hp.run())
    while not hp.listening:
        await tb.cycles(16)
    return loop


async def _host_line(tb, line):
    r = await tb.host.read(line * LINE_BYTES, LINE_BYTES)
    return r.resp, r.data


@cocotb.test()
async def mirror_mode_boot(dut):
    """Mirror mode: 2^11, 2^11, 2^11, 2^12 lines pair as (0 master, 3 slave) and (1, 2);
    each pair is swept, failover_en is set on the masters only, the map is the masters'."""
    tb = TopTB(dut, capacities_log2=(11, 11, 11, 12), seed=SEED)
    await tb.reset()
    bios = tb.bios
    mm = await bios.boot(mirror=True, chunk_lines=1024)
    assert bios.mirror_mode and bios.mirror_pairs == {0: 3, 1: 2}, bios.mirror_pairs
    assert mm.entries() == [(0, 2048, 0), (2048, 2048, 1)] and mm.total_lines == 4096
    assert (await bios.read_memory_map()).entries() == mm.entries(), "read back from the RTL"
    for master, slave in bios.mirror_pairs.items():
        st = await bios.hw.status(master)
        assert (st.mode, st.peer, st.swept, st.err) == (Mode.MIRROR_MASTER, slave, True,
                                                         Err.OK), st
        assert await bios.hw.read_reg(master, "SWEPT_UPTO") == 2048
        assert (await bios.hw.status(slave)).mode == Mode.MIRROR_SLAVE
        ras = await bios.hw.ras(master)
        assert (ras.failover_en, ras.poison_en) == (True, False), ras
        assert not (await bios.hw.ras(slave)).failover_en
        assert tb.mems[slave].read(0, 2048 * LINE_BYTES) == \
            tb.mems[master].read(0, 2048 * LINE_BYTES), "the slave holds the master's copy"
    data = tb.rng.randbytes(4 * LINE_BYTES)
    await tb.host.write((2048 + 10) * LINE_BYTES, data)
    for mem in (tb.mems[1], tb.mems[2]):
        assert mem.read(10 * LINE_BYTES, len(data)) == data, "a host write reaches both"
    r = await tb.host.read((2048 + 10) * LINE_BYTES, len(data))
    assert r.resp == AxiResp.OKAY and r.data == data
    assert await bios.hw.locked()


@cocotb.test()
async def mirror_master_pulled_fails_over(dut):
    """Mirror mode with a spare: the master's module is pulled, the slave serves its range
    (hardware failover); the loop records it, switches the dead slot off with its attention
    LED on, and pairs the range with the spare again."""
    tb = TopTB(dut, capacities_log2=(11, 11, 12, None), seed=SEED)
    await tb.reset()
    bios = tb.bios
    mm = await bios.boot(mirror=True, chunk_lines=1024)
    assert bios.mirror_pairs == {0: 2} and mm.entries() == [(0, 2048, 0)], bios.mirror_pairs
    data = tb.rng.randbytes(8 * LINE_BYTES)
    await tb.host.write(100 * LINE_BYTES, data)
    hp = HotPlug(bios, abort_window_cycles=0, chunk_lines=1024)
    loop = await _listen(tb, hp)
    tb.slots[0].remove()
    await _wait_for(tb, hp, lambda: any(r.kind == "mirror" for r in hp.history), "failover")
    hp.stop()
    await loop
    assert [(r.kind, r.slot, r.outcome, r.moved_to) for r in hp.history] == [
        ("failover", 0, "done", 2), ("mirror", 2, "done", 1)], hp.history
    ctrl = await bios.hw.slot(0)
    assert (ctrl["power_en"], ctrl["attn_led"], ctrl["power_led"]) == (0, Led.ON, Led.OFF)
    assert (await bios.hw.status(0)).mode == Mode.OFF
    assert mm.entries() == [(0, 2048, 2)] and bios.mirror_pairs == {2: 1}
    assert (await bios.hw.ras(2)).failover_en and (await bios.hw.status(2)).swept
    r = await tb.host.read(100 * LINE_BYTES, len(data))
    assert r.resp == AxiResp.OKAY and r.data == data, "the former slave serves the range"


@cocotb.test()
async def corrected_errors_replace_a_mirror_master(dut):
    """Two reads of bad lines of master 1 are served by its slave (CE); at the threshold of
    2 the loop hands the range over to the slave and switches slot 1 off: replace me."""
    tb = TopTB(dut, capacities_log2=(11, 11, 11, 12), seed=SEED)
    await tb.reset()
    bios = tb.bios
    await bios.boot(mirror=True, chunk_lines=1024)
    data = tb.rng.randbytes(2 * LINE_BYTES)
    await tb.host.write((2048 + 5) * LINE_BYTES, data)
    faults = inject_faults(tb.mems[1])
    hp = HotPlug(bios, abort_window_cycles=0, chunk_lines=1024, error_threshold=2)
    loop = await _listen(tb, hp)
    faults.fail(5, 6)
    for k in range(2):
        resp, got = await _host_line(tb, 2048 + 5 + k)
        assert resp == AxiResp.OKAY and got == data[k * LINE_BYTES:(k + 1) * LINE_BYTES], k
    await _wait_for(tb, hp, lambda: any(r.kind == "replace" for r in hp.history), "replace")
    hp.stop()
    await loop
    rec = next(r for r in hp.history if r.kind == "replace")
    assert (rec.slot, rec.outcome, rec.moved_to) == (1, "done", 2), hp.history
    assert hp.totals.totals(1)[0] >= 2 and any(e.events & Event.CORRECTED
                                               for e in hp.error_events)
    ctrl = await bios.hw.slot(1)
    assert (ctrl["power_en"], ctrl["attn_led"]) == (0, Led.ON), "replace me"
    assert (await bios.hw.status(2)).mode == Mode.ACTIVE
    assert bios.memory_map.slot_of(2048) == 2
    r = await tb.host.read((2048 + 5) * LINE_BYTES, len(data))
    assert r.resp == AxiResp.OKAY and r.data == data


@cocotb.test()
async def poisoned_module_is_replaced_with_poison(dut):
    """Module 1 has two poisoned lines: two host reads answer SLVERR (UE); at the
    threshold the loop migrates it to the spare, which stores poison, with poison_en: the
    bad lines stay bad, every other line moves, slot 1 is switched off: replace me."""
    tb = TopTB(dut, capacities_log2=(11, 11, 11, 12), seed=SEED)
    await tb.reset()
    bios = tb.bios
    bios.poison_slots = frozenset({3})
    mm = await bios.boot()
    data = tb.rng.randbytes(2048 * LINE_BYTES)
    tb.mems[1].write(0, data)
    bad = (7, 300)
    tb.slots[1].poison.poison(*bad)
    hp = HotPlug(bios, abort_window_cycles=0, chunk_lines=1024, error_threshold=2)
    loop = await _listen(tb, hp)
    for line in bad:
        assert (await _host_line(tb, 2048 + line))[0] == AxiResp.SLVERR, line
    await _wait_for(tb, hp, lambda: any(r.kind == "replace" for r in hp.history), "replace")
    hp.stop()
    await loop
    [rec] = hp.history
    assert (rec.kind, rec.outcome, rec.moved_to, rec.poison) == ("replace", "done", 3, True), rec
    assert set(bad) <= tb.slots[3].poison.lines, "the bad lines were copied as poison"
    assert (await bios.hw.ras(1)).ue >= 2 + len(bad)
    assert not (await bios.hw.ras(1)).poison_en, "poison_en cleared after the migration"
    ctrl = await bios.hw.slot(1)
    assert (ctrl["power_en"], ctrl["attn_led"]) == (0, Led.ON), "replace me"
    assert mm.slot_of(2048) == 3
    assert (await _host_line(tb, 2048 + bad[0]))[0] == AxiResp.SLVERR, "still bad"
    for line in (0, 6, 8, 299, 301, 2047):
        resp, got = await _host_line(tb, 2048 + line)
        assert resp == AxiResp.OKAY and got == data[line * LINE_BYTES:(line + 1) * LINE_BYTES]


# ---- pytest entry -------------------------------------------------------------------------

#: The cocotb tests of this file, in the order they are written.
TESTS = [obj.name for obj in list(globals().values())
         if isinstance(obj, regression.TestGenerator)]


def test_every_cocotb_test_is_collected():
    assert len(TESTS) >= 8 and "migrate_slot_1_to_the_spare" in TESTS, TESTS


@pytest.mark.parametrize("testcase", TESTS)
def test_firmware(testcase):
    run_tests(__file__, "mirrorswap_top", sources=[shared_top()], testcase=testcase)
