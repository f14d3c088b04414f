"""Memory errors on mirrorswap_top (SPEC section 5.4), injected in the RAM models.

One file per unit: the cocotb tests run on the default top level, with faults injected by
:func:`mirrorswap.sim.memory.inject_faults`; the pytest entry at the bottom runs them.
"""

import cocotb
from cocotbext.axi import AxiResp

from mirrorswap.firmware.bios import FlowError
from mirrorswap.regmap import Err, Event, Mode, Op
from mirrorswap.sim.memory import inject_faults
from mirrorswap.sim.runner import run_tests, shared_top
from mirrorswap.sim.tb import TopTB, knob

MASTER, SPARE, SIZE = 1, 3, 4096


async def _setup(dut):
    tb = TopTB(dut, capacities_log2=(12, 12, 12, 13), seed=knob("seed", 1))
    faults = [inject_faults(mem) for mem in tb.mems]
    await tb.reset()
    await tb.power_up()
    await tb.assign(MASTER, 0, SIZE)
    data = tb.rng.randbytes(SIZE * 8)
    tb.mems[MASTER].write(0, data)
    return tb, faults, bytearray(data)


async def _events(tb, agent):
    value = await tb.read(agent, "EVENTS")
    await tb.write(agent, "EVENTS", value)
    return Event(value)


@cocotb.test()
async def host_read_error_answers_slverr(dut):
    tb, faults, ref = await _setup(dut)
    faults[MASTER].read_lines.add(100)
    r = await tb.host.read(98 * 8, 4 * 8)         # lines 98..101: the third beat fails
    assert r.resp == AxiResp.SLVERR
    assert await tb.read(MASTER, "ERR_ADDR") == 100
    assert await _events(tb, MASTER) & Event.MEM_ERROR
    r = await tb.host.read(96 * 8, 16)            # other lines are fine
    assert r.resp == AxiResp.OKAY and r.data == bytes(ref[96 * 8:98 * 8])


@cocotb.test()
async def host_write_error_answers_slverr(dut):
    tb, faults, ref = await _setup(dut)
    faults[MASTER].write_lines.add(7)
    w = await tb.host.write(7 * 8, b"\x55" * 8)
    assert w.resp == AxiResp.SLVERR
    assert await _events(tb, MASTER) & Event.MEM_ERROR
    w = await tb.host.write(8 * 8, b"\x66" * 8)
    assert w.resp == AxiResp.OKAY


async def _sweep_fails_then_retry(tb, faults, ref, bad_mem, arm, check_err):
    """ESTABLISH, ``arm(faults[bad_mem])``, SWEEP the range: it must end MEM_ERROR with
    ``check_err(ERR_ADDR)``, mem_error, the mirror kept, SWEPT_UPTO in (0, ERR_ADDR] and the
    spare correct below it, RELEASE refused; once the fault is gone a SWEEP from
    SWEPT_UPTO finishes and RELEASE copies everything."""
    assert await tb.command(MASTER, Op.ESTABLISH, SPARE) == Err.OK
    arm(faults[bad_mem])
    await tb.write(MASTER, "SWEEP_START", 0)
    await tb.write(MASTER, "SWEEP_COUNT", SIZE)
    assert await tb.command(MASTER, Op.SWEEP) == Err.MEM_ERROR
    err = await tb.read(MASTER, "ERR_ADDR")
    assert check_err(err), err
    assert await _events(tb, MASTER) & Event.MEM_ERROR
    upto = await tb.read(MASTER, "SWEPT_UPTO")
    assert 0 < upto <= err, (upto, err)
    assert (await tb.status(MASTER))["mode"] == Mode.MIRROR_MASTER
    assert (await tb.status(SPARE))["mode"] == Mode.MIRROR_SLAVE
    assert tb.mems[SPARE].read(0, upto * 8) == bytes(ref[:upto * 8])
    assert await tb.command(MASTER, Op.RELEASE) == Err.NOT_SWEPT
    faults[bad_mem].clear()
    await tb.write(MASTER, "SWEEP_START", upto)
    await tb.write(MASTER, "SWEEP_COUNT", SIZE - upto)
    assert await tb.command(MASTER, Op.SWEEP) == Err.OK
    assert await tb.command(MASTER, Op.RELEASE) == Err.OK
    assert tb.mems[SPARE].read(0, SIZE * 8) == bytes(ref)


@cocotb.test()
async def sweep_read_error_stops_and_retries(dut):
    """MEM_ERROR, ERR_ADDR, mem_error; the mirror stays; SWEPT_UPTO never passes the failing
    line; a retry from SWEPT_UPTO finishes once the fault is gone."""
    tb, faults, ref = await _setup(dut)
    bad_line = 1234
    await _sweep_fails_then_retry(tb, faults, ref, MASTER,
                                  lambda f: f.read_lines.add(bad_line),
                                  lambda err: err == bad_line)


@cocotb.test()
async def sweep_write_error_stops_and_retries(dut):
    """A write of the copy fails at the spare: the same, with ERR_ADDR at or just before
    the failing line (the first line of the failed write burst: a B response names no
    beat)."""
    tb, faults, ref = await _setup(dut)
    bad_line = 2050
    await _sweep_fails_then_retry(tb, faults, ref, SPARE,
                                  lambda f: f.write_lines.add(bad_line),
                                  lambda err: bad_line - 8 < err <= bad_line)


@cocotb.test()
async def forwarded_write_error_clears_swept_upto(dut):
    """A failed write at the slave: the host still gets OKAY, SWEPT_UPTO goes back to 0,
    mem_error is raised, and RELEASE is refused until the range is swept again."""
    tb, faults, ref = await _setup(dut)
    assert await tb.command(MASTER, Op.ESTABLISH, SPARE) == Err.OK
    await tb.write(MASTER, "SWEEP_START", 0)
    await tb.write(MASTER, "SWEEP_COUNT", SIZE)
    assert await tb.command(MASTER, Op.SWEEP) == Err.OK
    assert await tb.read(MASTER, "SWEPT_UPTO") == SIZE
    await _events(tb, MASTER)
    faults[SPARE].write_lines.add(50)
    w = await tb.host.write(50 * 8, b"\x77" * 8)
    assert w.resp == AxiResp.OKAY
    ref[50 * 8:51 * 8] = b"\x77" * 8
    assert await tb.read(MASTER, "SWEPT_UPTO") == 0
    assert await tb.read(MASTER, "ERR_ADDR") == 50
    assert await _events(tb, MASTER) & Event.MEM_ERROR
    assert await tb.command(MASTER, Op.RELEASE) == Err.NOT_SWEPT
    faults[SPARE].clear()
    assert await tb.command(MASTER, Op.SWEEP) == Err.OK
    assert await tb.command(MASTER, Op.RELEASE) == Err.OK
    r = await tb.host.read(50 * 8, 8)
    assert r.resp == AxiResp.OKAY and r.data == b"\x77" * 8


@cocotb.test()
async def firmware_retries_then_aborts(dut):
    """A sweep fault that does not go away: the BIOS retries, ABORTs, and the module keeps
    serving its range with nothing lost."""
    tb, faults, ref = await _setup(dut)
    faults[MASTER].read_lines.add(2000)
    try:
        await tb.bios.migrate(MASTER, spare=SPARE, chunk_lines=1024, max_sweep_retries=2)
    except FlowError as e:
        assert "MEM_ERROR" in str(e.__cause__)
    else:
        raise AssertionError("migration over a bad line did not fail")
    assert faults[MASTER].reads_failed >= 3, "first try and two retries"
    assert (await tb.status(MASTER))["mode"] == Mode.ACTIVE
    assert (await tb.status(SPARE))["mode"] == Mode.IDLE
    faults[MASTER].clear()
    r = await tb.host.read(0, SIZE * 8)
    assert r.resp == AxiResp.OKAY and r.data == bytes(ref)


def test_memory_faults():
    run_tests(__file__, "mirrorswap_top", sources=[shared_top()])
