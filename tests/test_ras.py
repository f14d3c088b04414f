"""RAS (SPEC section 7) on mirrorswap_top: poison, read failover, poison copy, master
failover; and the poison-storing memory model they run on (sim/memory.py).

One file per unit: the cocotb tests drive the generated Verilog through its registers
(:class:`sim.tb.TopTB`) and host port, with errors developing in the memory models at run
time (:meth:`sim.memory.Faults.fail`, :meth:`sim.memory.Poison.poison`) and a slot whose
supply fails (:meth:`sim.tb.SlotModel.power_fail`). The model's own test runs on an AXI
register slice between a cocotbext-axi master and the RAM, so that ``wuser`` can be driven
at will. The pytest entries are at the bottom.
"""

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import Timer
from cocotbext.axi import AxiBus, AxiMaster, AxiRam, AxiResp

from mirrorswap.firmware.memmap import MemoryMap
from mirrorswap.regmap import Err, Event, Mode, Op, agent_reg
from mirrorswap.sim.checks import check_all, read_back
from mirrorswap.sim.memory import PipelinedMemory, inject_faults, store_poison
from mirrorswap.sim.runner import run_tests, shared_top
from mirrorswap.sim.scoreboard import OKAY, SLVERR, ReferenceMemory, Scoreboard
from mirrorswap.sim.tb import TopTB, knob, reset_dut
from mirrorswap.sim.traffic import HostTraffic

MASTER, SPARE = 1, 3
SIZE = 1024                     # lines of a range (two 4 KiB pages at 64 bits)
CAPACITIES = (10, 10, 10, 11)   # the spare, slot 3, is the largest as the BIOS wants
_RAS = agent_reg("RAS_CTRL")
FAILOVER_EN = _RAS.failover_en.put(0, 1)
POISON_EN = _RAS.poison_en.put(0, 1)


# ---- the memory model alone ---------------------------------------------------------------

@cocotb.test()
async def poison_model(dut):
    """wuser marks a line, a full-line write clears it, a partial one does not; ruser
    reports it beat by beat, never X; errors and poison come and go at run time; a memory
    without poison support ignores wuser and reports none."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    master = AxiMaster(AxiBus.from_prefix(dut, "s"), dut.clk, dut.rst)
    ram = AxiRam(AxiBus.from_prefix(dut, "m"), dut.clk, dut.rst, size=1 << 12)
    poison = store_poison(ram)
    faults = inject_faults(ram)
    if knob("memory", "axiram", str) == "pipelined":
        PipelinedMemory(ram, dut.clk, read_latency=3, write_latency=2)
    await Timer(1, "ns")
    level = dut.m_ruser.value
    assert level.is_resolvable and int(level) == 0, "driven from the start"
    await reset_dut(dut)

    async def ruser(first, lines, resp=AxiResp.OKAY):
        r = await master.read(first * 8, lines * 8)
        assert r.resp == resp, (first, lines, r.resp)
        return r.user, r.data

    data = bytes(range(64))
    w = await master.write(0, data, wuser=[0, 1, 0, 0, 1, 0, 0, 0])
    assert w.resp == AxiResp.OKAY
    assert poison.lines == {1, 4} and poison.marked == 2
    user, got = await ruser(0, 8)
    assert user == [0, 1, 0, 0, 1, 0, 0, 0] and got == data, "poisoned data is stored too"
    assert poison.reported == 2
    await master.write(8, b"\x11" * 8)                     # whole line, wuser 0: clears
    await master.write(4 * 8 + 2, b"\x22" * 3)             # three bytes: stays poisoned
    await master.write(6 * 8 + 5, b"\x33", wuser=1)        # one byte with wuser 1: poisons
    assert poison.lines == {4, 6} and poison.cleared == 1
    user, got = await ruser(0, 8)
    assert user == [0, 0, 0, 0, 1, 0, 1, 0]
    assert got[4 * 8:5 * 8] == bytes([32, 33, 0x22, 0x22, 0x22, 37, 38, 39])
    assert dut.m_ruser.value.is_resolvable

    # errors that develop at run time, and heal
    faults.fail(2)
    user, _ = await ruser(2, 1, AxiResp.SLVERR)
    assert user == [0], "a failed beat reports no poison"
    faults.fail(4, read=False, write=True)
    w = await master.write(4 * 8, b"\x44" * 8)
    assert w.resp == AxiResp.SLVERR and 4 in poison, "a failed write clears nothing"
    faults.heal(2, 4)
    poison.poison(7)
    assert (await ruser(7, 1))[0] == [1]
    poison.heal(7, 6)
    assert (await ruser(0, 8))[0] == [0, 0, 0, 0, 1, 0, 0, 0]

    # no poison support: wuser ignored, ruser tied 0, poison() refused
    poison.supported = False
    await master.write(3 * 8, b"\x55" * 8, wuser=1)
    assert poison.lines == {4}
    assert (await ruser(0, 8))[0] == [0] * 8
    with pytest.raises(ValueError):
        poison.poison(0)


def test_scoreboard_write_of_unknown_outcome():
    """A write answered SLVERR where a module may die leaves old-or-new bytes; the next
    OKAY read settles them, and a read returning anything else is still a mismatch."""
    sb = Scoreboard(ReferenceMemory(4))
    sb.preload(0, bytes(32))
    dying = True
    sb.write_error_ok = lambda addr: dying
    assert sb.write_done(8, b"\x01" * 8, SLVERR)
    assert sb.write_errors == 1 and sb.memory.uncertain_lines() == [1]
    expected = sb.expect_read(8, 8)
    assert sb.read_done(expected, OKAY, b"\x01" * 4 + bytes(4))   # partly landed
    assert sb.memory.uncertain_lines() == [] and sb.expect(8, 8) == b"\x01" * 4 + bytes(4)
    assert sb.write_done(16, b"\x02" * 8, SLVERR)
    assert not sb.read_done(sb.expect_read(16, 8), OKAY, b"\x03" * 8)
    dying = False
    assert not sb.write_done(24, b"\x04" * 8, SLVERR), "only while the predicate says so"
    assert len(sb.mismatches) == 2


# ---- the top level ------------------------------------------------------------------------

async def _setup(dut, ranges=((MASTER, 0),), poison=True):
    """A reset, powered TopTB with faults on every memory and random data in each
    ``(agent, base_line)`` range of SIZE lines; returns (tb, faults, {agent: data})."""
    tb = TopTB(dut, capacities_log2=CAPACITIES, seed=knob("seed", 1), poison=poison)
    faults = [inject_faults(mem) for mem in tb.mems]
    await tb.reset()
    await tb.power_up()
    refs = {}
    for agent, base in ranges:
        await tb.assign(agent, base, SIZE)
        refs[agent] = bytearray(tb.rng.randbytes(SIZE * tb.geometry.line_bytes))
        tb.mems[agent].write(0, bytes(refs[agent]))
    return tb, faults, refs


async def _events(tb, agent):
    """EVENTS of ``agent``, cleared."""
    value = await tb.read(agent, "EVENTS")
    await tb.write(agent, "EVENTS", value)
    return Event(value)


async def _counts(tb, agent):
    return await tb.read(agent, "CE_COUNT"), await tb.read(agent, "UE_COUNT")


async def _sweep(tb, agent, start, count):
    await tb.write(agent, "SWEEP_START", start)
    await tb.write(agent, "SWEEP_COUNT", count)
    return await tb.command(agent, Op.SWEEP)


async def _pair(tb, master, slave, swept):
    """ESTABLISH ``master`` -> ``slave`` and sweep lines ``[0, swept)``."""
    assert await tb.command(master, Op.ESTABLISH, slave) == Err.OK
    if swept:
        assert await _sweep(tb, master, 0, swept) == Err.OK
    assert await tb.read(master, "SWEPT_UPTO") == swept


def _spoil(tb, agent, line):
    """Poison ``line`` of ``agent``'s module and garble its data, as a failing module
    would: only a read served elsewhere can return the right bytes."""
    lb = tb.geometry.line_bytes
    tb.mems[agent].write(line * lb, tb.rng.randbytes(lb))
    tb.slots[agent].poison.poison(line)


def _line(ref, first, lines, lb):
    return bytes(ref[first * lb:(first + lines) * lb])


@cocotb.test()
async def poisoned_host_read_answers_slverr(dut):
    """Poison and memory errors at an ACTIVE module: SLVERR, UE_COUNT per beat, mem_error,
    ERR_ADDR; a full-line host write clears the poison, a partial one does not."""
    tb, faults, refs = await _setup(dut)
    ref, lb = refs[MASTER], tb.geometry.line_bytes
    poison = tb.slots[MASTER].poison
    poison.poison(100)
    r = await tb.host.read(98 * lb, 4 * lb)
    assert r.resp == AxiResp.SLVERR
    assert await _counts(tb, MASTER) == (0, 1)
    assert await tb.read(MASTER, "ERR_ADDR") == 100
    assert await _events(tb, MASTER) & Event.MEM_ERROR
    r = await tb.host.read(96 * lb, 2 * lb)
    assert r.resp == AxiResp.OKAY and r.data == _line(ref, 96, 2, lb)

    faults[MASTER].fail(50)            # a memory error counts the same way
    assert (await tb.host.read(50 * lb, lb)).resp == AxiResp.SLVERR
    assert await _counts(tb, MASTER) == (0, 2)
    assert await tb.read(MASTER, "ERR_ADDR") == 50
    faults[MASTER].heal(50)

    new = tb.rng.randbytes(lb)
    assert (await tb.host.write(100 * lb, new)).resp == AxiResp.OKAY
    assert 100 not in poison, "a full-line write stores good data"
    r = await tb.host.read(100 * lb, lb)
    assert r.resp == AxiResp.OKAY and r.data == new

    poison.poison(200)
    assert (await tb.host.write(200 * lb + 2, b"\xaa" * 3)).resp == AxiResp.OKAY
    assert 200 in poison, "the rest of the line is still bad"
    assert tb.mems[MASTER].read(200 * lb + 2, 3) == b"\xaa" * 3
    assert (await tb.host.read(200 * lb, lb)).resp == AxiResp.SLVERR
    assert await _counts(tb, MASTER) == (0, 3)

    poison.poison(300, 302)
    data = tb.rng.randbytes(5 * lb)
    assert (await tb.host.write(299 * lb, data)).resp == AxiResp.OKAY
    assert poison.lines == {200}
    r = await tb.host.read(299 * lb, 5 * lb)
    assert r.resp == AxiResp.OKAY and r.data == data
    assert await _counts(tb, MASTER) == (0, 3)


@cocotb.test()
async def read_failover_serves_the_slave(dut):
    """failover_en on a MIRROR_MASTER: a failed or poisoned line below SWEPT_UPTO is read
    from the slave (OKAY, CE_COUNT, corrected, ERR_ADDR), also two of them in one burst;
    at or beyond SWEPT_UPTO, or without failover_en, it answers SLVERR as before."""
    tb, faults, refs = await _setup(dut)
    ref, lb = refs[MASTER], tb.geometry.line_bytes
    half = SIZE // 2
    await _pair(tb, MASTER, SPARE, half)
    await tb.write(MASTER, "RAS_CTRL", FAILOVER_EN)
    assert await tb.read(MASTER, "RAS_CTRL") == FAILOVER_EN
    await _events(tb, MASTER)

    faults[MASTER].fail(100)
    r = await tb.host.read(100 * lb, lb)
    assert r.resp == AxiResp.OKAY and r.data == _line(ref, 100, 1, lb)
    assert await _counts(tb, MASTER) == (1, 0)
    assert await tb.read(MASTER, "ERR_ADDR") == 100
    ev = await _events(tb, MASTER)
    assert ev & Event.CORRECTED and not ev & Event.MEM_ERROR, ev

    _spoil(tb, MASTER, 200)
    r = await tb.host.read(200 * lb, lb)
    assert r.resp == AxiResp.OKAY and r.data == _line(ref, 200, 1, lb)
    assert await _counts(tb, MASTER) == (2, 0)
    assert await tb.read(MASTER, "ERR_ADDR") == 200

    faults[MASTER].fail(300)           # a burst crossing two bad lines is served whole
    _spoil(tb, MASTER, 303)
    r = await tb.host.read(296 * lb, 16 * lb)
    assert r.resp == AxiResp.OKAY and r.data == _line(ref, 296, 16, lb)
    assert await _counts(tb, MASTER) == (4, 0)
    assert await _events(tb, MASTER) & Event.CORRECTED

    # at and beyond SWEPT_UPTO the slave's copy is not valid: SLVERR, UE_COUNT
    faults[MASTER].fail(half - 1, half)
    _spoil(tb, MASTER, half + 100)
    r = await tb.host.read((half - 4) * lb, 8 * lb)
    assert r.resp == AxiResp.SLVERR
    assert r.data[:4 * lb] == _line(ref, half - 4, 4, lb), "the corrected beats are right"
    assert await _counts(tb, MASTER) == (5, 1)
    assert await tb.read(MASTER, "ERR_ADDR") == half
    assert (await tb.host.read((half + 100) * lb, lb)).resp == AxiResp.SLVERR
    assert await _counts(tb, MASTER) == (5, 2)
    assert await tb.read(MASTER, "ERR_ADDR") == half + 100
    assert await _events(tb, MASTER) & Event.MEM_ERROR

    # swept further, the same lines are corrected
    faults[MASTER].heal(half)
    tb.slots[MASTER].poison.heal(half + 100)
    tb.mems[MASTER].write((half + 100) * lb, _line(ref, half + 100, 1, lb))
    assert await _sweep(tb, MASTER, half, SIZE - half) == Err.OK
    assert await tb.read(MASTER, "SWEPT_UPTO") == SIZE
    faults[MASTER].fail(half)
    r = await tb.host.read(half * lb, lb)
    assert r.resp == AxiResp.OKAY and r.data == _line(ref, half, 1, lb)
    assert await _counts(tb, MASTER) == (6, 2)

    await tb.write(MASTER, "RAS_CTRL", 0)      # failover off: SLVERR as before
    assert (await tb.host.read(100 * lb, lb)).resp == AxiResp.SLVERR
    assert await _counts(tb, MASTER) == (6, 3)


async def _poison_copy(dut):
    tb, faults, refs = await _setup(dut)
    ref, lb = refs[MASTER], tb.geometry.line_bytes
    failing, poisoned = {37, 600}, {5, SIZE // 2 - 1, SIZE - 1}
    bad = failing | poisoned
    faults[MASTER].fail(*failing)
    for line in poisoned:
        _spoil(tb, MASTER, line)
    await tb.write(MASTER, "RAS_CTRL", POISON_EN)
    await _events(tb, MASTER)
    await _pair(tb, MASTER, SPARE, SIZE)
    assert tb.slots[SPARE].poison.lines == bad, "poisoned where the master was bad"
    assert await _counts(tb, MASTER) == (0, len(bad))
    assert await tb.read(MASTER, "ERR_ADDR") == min(bad)
    assert await _events(tb, MASTER) & Event.MEM_ERROR
    good = [line for line in range(SIZE) if line not in bad]
    spare = tb.mems[SPARE]
    for line in good:
        assert spare.read(line * lb, lb) == _line(ref, line, 1, lb), line
    for line in sorted(bad):
        assert (await tb.host.read(line * lb, lb)).resp == AxiResp.SLVERR, line

    assert await tb.command(MASTER, Op.RELEASE) == Err.OK
    assert (await tb.status(SPARE))["mode"] == Mode.ACTIVE
    await tb.write(SPARE, "UE_COUNT", 0)
    for line in sorted(bad):
        assert (await tb.host.read(line * lb, lb)).resp == AxiResp.SLVERR, line
    assert await _counts(tb, SPARE) == (0, len(bad))
    sb = Scoreboard(ReferenceMemory(SIZE, lb))
    sb.preload(0, bytes(ref))
    assert await read_back(tb, sb, good, rng=tb.rng, what="after RELEASE") == 0, sb.summary()
    new = tb.rng.randbytes(lb)                 # a host write makes a bad line good again
    assert (await tb.host.write(5 * lb, new)).resp == AxiResp.OKAY
    r = await tb.host.read(5 * lb, lb)
    assert r.resp == AxiResp.OKAY and r.data == new
    assert tb.slots[SPARE].poison.lines == bad - {5}
    assert tb.slots[MASTER].poison.marked == 0 and tb.capacity_violations() == []


@cocotb.test()
async def poison_copy_migrates_bad_lines(dut):
    """poison_en: a SWEEP over failing and poisoned lines ends OK, the slave holds poison
    exactly there (UE_COUNT, ERR_ADDR of the first, mem_error), and after RELEASE the bad
    lines answer SLVERR while every good line reads back right."""
    await _poison_copy(dut)


async def _failover_traffic(tb, lb):
    """Scoreboard and traffic over the first half of the MASTER's range (the second half
    is left to the test's own reads); ``state["dying"]`` lets in-flight accesses fail."""
    state = {"dying": False}
    half = SIZE // 2
    sb = Scoreboard(ReferenceMemory(half, lb))
    mm = MemoryMap(line_bytes=lb)
    mm.add(0, half, MASTER)
    sb.write_error_ok = lambda addr: state["dying"]
    traffic = HostTraffic(tb, sb, mm, seed=knob("seed", 1), load=0.6, unowned_rate=0,
                          read_error_ok=lambda addr: state["dying"])
    return state, sb, mm, traffic


@cocotb.test()
async def master_failover_keeps_serving(dut):
    """failover_en on a swept pair under host traffic: the master's supply fails, the
    slave takes the range over at once (ACTIVE, master OFF, failover event); accesses in
    flight may fail, no read returns wrong data with OKAY, and traffic goes on."""
    tb, faults, refs = await _setup(dut)
    ref, lb = refs[MASTER], tb.geometry.line_bytes
    half = SIZE // 2
    state, sb, mm, traffic = await _failover_traffic(tb, lb)
    sb.preload(0, _line(ref, 0, half, lb))
    await _pair(tb, MASTER, SPARE, SIZE)
    await tb.write(MASTER, "RAS_CTRL", FAILOVER_EN)
    await _events(tb, MASTER)
    traffic.start()
    await tb.cycles(1500)
    before = dict(traffic.by_kind)
    assert before["read"] and before["write"], before

    state["dying"] = True
    tb.slots[MASTER].power_fail()
    for _ in range(50):
        if (await tb.status(MASTER))["mode"] == Mode.OFF:
            break
    else:
        raise AssertionError("the master never became OFF")
    # the slave became ACTIVE in that same cycle: requests issued from now on are its
    st = await tb.status(SPARE)
    assert st["mode"] == Mode.ACTIVE, st
    r = await tb.host.read(half * lb, 16 * lb)
    assert r.resp == AxiResp.OKAY and r.data == _line(ref, half, 16, lb)
    assert (await tb.read(SPARE, "BASE"), await tb.read(SPARE, "SIZE")) == (0, SIZE)
    assert await _events(tb, MASTER) & Event.FAILOVER
    await traffic.quiesce()
    state["dying"] = False
    traffic.resume()
    await tb.cycles(1500)
    await traffic.stop()
    assert not sb.mismatches, sb.summary()
    after = {k: traffic.by_kind[k] - before[k] for k in ("read", "write")}
    assert after["read"] > 10 and after["write"] > 10, after
    r = await tb.host.read((SIZE - 16) * lb, 16 * lb)
    assert r.resp == AxiResp.OKAY and r.data == _line(ref, SIZE - 16, 16, lb)

    for line in sb.memory.uncertain_lines():   # make every line exact again
        data = tb.rng.randbytes(lb)
        sb.write_done(line * lb, data, (await tb.host.write(line * lb, data)).resp)
    mm.rehome(MASTER, SPARE)
    assert await check_all(tb, sb, mm, sample=8, rng=tb.rng, what="after failover") == 0, \
        sb.summary()
    assert tb.capacity_violations() == []
    tb.dut._log.info("failover under traffic: %s; %s", sb.summary(), traffic.by_kind)


@cocotb.test()
async def master_loss_without_failover_unowns_the_range(dut):
    """Without failover_en (agent 1's swept pair) or before the pair is swept (agent 0's,
    with failover_en) a master losing its supply leaves its range unowned: DECERR, no
    failover event, the slave does not take over."""
    tb, faults, refs = await _setup(dut, ranges=((0, 0), (1, SIZE)))
    lb = tb.geometry.line_bytes
    await _pair(tb, 0, 2, SIZE // 2)
    await tb.write(0, "RAS_CTRL", FAILOVER_EN)
    await _pair(tb, 1, 3, SIZE)
    for agent in (0, 1):
        await _events(tb, agent)
        tb.slots[agent].power_fail()
    await tb.cycles(20)
    for agent, slave, base in ((0, 2, 0), (1, 3, SIZE)):
        assert (await tb.status(agent))["mode"] == Mode.OFF
        assert (await tb.status(slave))["mode"] != Mode.ACTIVE
        assert not await _events(tb, agent) & Event.FAILOVER
        assert (await tb.host.read(base * lb, lb)).resp == AxiResp.DECERR
        assert (await tb.host.write(base * lb, bytes(lb))).resp == AxiResp.DECERR


@cocotb.test()
async def ras_off_counts_nothing(dut):
    """RAS_CTRL = 0: normal traffic, a migration under it included, counts no error, raises
    no RAS event and writes no poison."""
    tb, faults, refs = await _setup(dut)
    lb = tb.geometry.line_bytes
    sb = Scoreboard(ReferenceMemory(SIZE, lb))
    sb.preload(0, bytes(refs[MASTER]))
    mm = MemoryMap(line_bytes=lb)
    mm.add(0, SIZE, MASTER)
    traffic = HostTraffic(tb, sb, mm, seed=knob("seed", 1), load=0.6)
    traffic.start()
    await tb.cycles(500)
    await _pair(tb, MASTER, SPARE, SIZE)
    assert await tb.command(MASTER, Op.RELEASE) == Err.OK
    await tb.cycles(500)
    await traffic.stop()
    assert not sb.mismatches, sb.summary()
    for agent in range(tb.agents):
        assert await _counts(tb, agent) == (0, 0), agent
        assert await tb.read(agent, "RAS_CTRL") == 0
        ras = Event.FAILOVER | Event.CORRECTED | Event.MEM_ERROR
        assert not await _events(tb, agent) & ras, agent
        assert tb.slots[agent].poison.marked == 0
    mm.rehome(MASTER, SPARE)
    assert await check_all(tb, sb, mm, sample=4, rng=tb.rng, what="after RELEASE") == 0


# ---- pytest entry -------------------------------------------------------------------------

#: The cocotb tests on mirrorswap_top, in the order they are written.
TOP_TESTS = ["poisoned_host_read_answers_slverr", "read_failover_serves_the_slave",
             "poison_copy_migrates_bad_lines", "master_failover_keeps_serving",
             "master_loss_without_failover_unowns_the_range", "ras_off_counts_nothing"]


@pytest.mark.parametrize("memory", ["axiram", "pipelined"])
def test_poison_model(memory):
    from mirrorswap.rtl.axi_slice import RegisterSlice
    from mirrorswap.rtl.signatures import AXI4Signature
    signature = AXI4Signature(addr_width=16, data_width=64, id_width=4, user=True)
    run_tests(__file__, "register_slice", component=RegisterSlice(signature),
              testcase="poison_model", params={"memory": memory})


def test_ras():
    run_tests(__file__, "mirrorswap_top", sources=[shared_top()], testcase=TOP_TESTS)


def test_poison_copy_512():
    """The poison copy at DATA_WIDTH 512 (a line of 64 bytes, one beat)."""
    run_tests(__file__, "mirrorswap_top", sources=[shared_top(data_width=512)],
              testcase="poison_copy_migrates_bad_lines", params={"data_width": 512})
