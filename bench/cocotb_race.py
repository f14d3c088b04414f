"""Why the product copies in hardware: the lost-update race, deterministically.

Both tests put the same interleaving on the full ``mirrorswap_top``: a copy of line L has
read L's old value A, then a host write of B to L arrives, then the copy writes its data
to the spare.

- ``literal_copy_loses_a_host_write``: the patent's literal firmware method (with the
  mirror established, read L through the host port and write it back). The write-back
  carries A, is forwarded to both modules and overwrites B: B is lost on both.
- ``sweep_keeps_the_host_write``: the hardware SWEEP. The spare's AW channel is held
  (memory back-pressure) so the sweep's block holding L stays in flight after its read;
  the host write of B is issued in that window; then the spare is released. The hazard
  check orders the host write after the block: both modules end with B.
"""

import itertools

import cocotb
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge
from cocotbext.axi import AxiResp

from mirrorswap.bench.cocotb_bench import MASTER, SPARE, establish, setup
from mirrorswap.regmap import Err, Event, Op
from mirrorswap.rtl.signatures import SWEEP_ID

LINE = 10                    # inside the sweep's first block (lines 0..31)


def old(tb):
    """Line L's value before the race: one line of the DUT's width."""
    return bytes((0x10 + i) % 256 for i in range(tb.geometry.line_bytes))


def new(tb):
    """What the host writes to line L during the race."""
    return bytes((0xA0 + i) % 256 for i in range(tb.geometry.line_bytes))


def addr(tb, line=LINE):
    return line * tb.geometry.line_bytes


def line_of(tb, slot, line=LINE):
    return tb.mems[slot].read(addr(tb, line), tb.geometry.line_bytes)


@cocotb.test(timeout_time=1, timeout_unit="ms")
async def literal_copy_loses_a_host_write(dut):
    tb = await setup(dut, 4)
    host = tb.host
    before, after, lb = old(tb), new(tb), tb.geometry.line_bytes
    assert (await host.write(addr(tb), before)).resp == AxiResp.OKAY
    await establish(tb)
    # firmware: read line L through the host port ...
    r = await host.read(addr(tb), lb)
    assert r.resp == AxiResp.OKAY and r.data == before
    # ... another CPU writes L (mirrored: both modules get the new data) ...
    assert (await host.write(addr(tb), after)).resp == AxiResp.OKAY
    assert line_of(tb, MASTER) == after and line_of(tb, SPARE) == after
    # ... firmware writes its copy back: forwarded to both, it overwrites the new data
    assert (await host.write(addr(tb), r.data)).resp == AxiResp.OKAY
    assert line_of(tb, MASTER) == before, "the literal method should have lost the write"
    assert line_of(tb, SPARE) == before
    assert (await host.read(addr(tb), lb)).data == before
    dut._log.warning("literal copy: the host write of %s to line %d is lost on both modules",
                     after.hex(), LINE)


@cocotb.test(timeout_time=1, timeout_unit="ms")
async def sweep_keeps_the_host_write(dut):
    tb = await setup(dut, 4)
    host = tb.host
    before, after, lb = old(tb), new(tb), tb.geometry.line_bytes
    assert (await host.write(addr(tb), before)).resp == AxiResp.OKAY
    await establish(tb)
    spare_aw = tb.mems[SPARE].write_if.aw_channel
    spare_aw.set_pause_generator(itertools.repeat(1))     # the sweep cannot write yet
    read_at = None                  # set when the sweep reads the block holding L

    async def watch():
        nonlocal read_at
        ar = tb.mems[MASTER].read_if.ar_channel.bus
        while read_at is None:
            await RisingEdge(dut.clk)
            await ReadOnly()
            if int(ar.arvalid.value) and int(ar.arready.value) \
                    and int(ar.arid.value) == SWEEP_ID:
                first = int(ar.araddr.value) // lb
                if first <= LINE < first + int(ar.arlen.value) + 1:
                    read_at = True

    watcher = cocotb.start_soon(watch())
    await tb.write(MASTER, "SWEEP_START", 0)
    await tb.write(MASTER, "SWEEP_COUNT", 512)
    await tb.write(MASTER, "EVENTS", int(Event.CMD_DONE))
    await tb.write(MASTER, "CMD", Op.SWEEP)
    await watcher
    dut._log.warning('race: the sweep read the block of line %d', LINE)
    await ClockCycles(dut.clk, 40)          # the block (line L's old data) has arrived
    assert line_of(tb, SPARE) != before, "the sweep wrote to the spare through a held AW"
    write = cocotb.start_soon(host.write(addr(tb), after))
    await ClockCycles(dut.clk, 100)         # the host write is now in the race window
    assert not write.done(), "the host write completed while the spare was held"
    spare_aw.set_pause_generator(None)
    spare_aw.pause = False
    dut._log.warning('race: spare released')
    resp = await write
    dut._log.warning('race: host write done')
    assert resp.resp == AxiResp.OKAY
    while not int(dut.irq.value):
        await RisingEdge(dut.clk)
    st = await tb.status(MASTER)
    assert st["err"] == Err.OK
    assert line_of(tb, MASTER) == after
    assert line_of(tb, SPARE) == after, \
        f"SWEEP lost the host write: spare holds {line_of(tb, SPARE).hex()}"
    assert tb.mems[SPARE].read(0, 512 * lb) == tb.mems[MASTER].read(0, 512 * lb)
    dut._log.warning("SWEEP: the host write of %s to line %d survives on both modules",
                     after.hex(), LINE)
