"""cocotb bench for mirrorswap_top: reset state, the sweep/host-write race, refused commands.

Runs on the generated Verilog of the whole top level. Environment:
``EXPECT_RACE=1`` runs the race test against the deliberately broken variant
(``hazard_check=False``) and then requires the lost update to be seen.
"""

import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, ReadOnly
from cocotbext.axi import AxiResp

from amaranth.hdl._ir import PortDirection

from mirrorswap import regmap
from mirrorswap.flows.verilog import port_map
from mirrorswap.rtl.top import MirrorswapTop
from mirrorswap.regmap import Err, Mode, Op, agent_reg
from mirrorswap.rtl.signatures import SWEEP_ID
from mirrorswap.sim.tb import TopTB

AGENTS = 4
CMD = agent_reg("CMD")


def Bench(dut):
    return TopTB(dut, capacities_log2=(13, 12, 12, 13))


@cocotb.test()
async def no_output_x_after_reset(dut):
    """SPEC section 1: after rst has been high for one clock, no output is X or Z.

    Every input is driven (0), as any bench does; nothing else happens before the check.
    """
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    top = MirrorswapTop(agents=AGENTS)
    ports = port_map(top)
    for name, (_, direction) in ports.items():
        if direction is PortDirection.Input and name != "clk":
            getattr(dut, name).value = 0
    dut.rst.value = 1
    await RisingEdge(dut.clk)
    await ReadOnly()
    outputs = [name for name, (_, direction) in ports.items()
               if direction is PortDirection.Output]
    for name in outputs:
        value = str(getattr(dut, name).value).lower()
        assert "x" not in value and "z" not in value, f"{name} = {value} after reset"
    assert len(outputs) > 100


@cocotb.test()
async def sweep_race_with_host_writes(dut):
    """A host write aimed at the very lines the sweep is copying is never lost at the slave.

    A monitor watches the master's memory port for sweep reads; for each block read, a host
    write goes to one of the block's first lines while the block is in flight: after the
    sweep has read that line and before the block is written to the slave, the window in
    which a copy without the hazard check writes stale data over the forwarded write.
    After the sweep, the slave must equal the master and the reference on every line.

    ``RACE_AT=front``: the host writes instead, back to back, to lines just past the
    latest block read (up to two bursts past it), where the next blocks will be claimed
    and read: the window of the one-cycle-old claim checks (see ``SweepEngine``, *Both
    checks registered*).
    """
    expect_race = os.environ.get("EXPECT_RACE") == "1"
    front = os.environ.get("RACE_AT") == "front"
    seed = int(os.environ.get("MS_SEED", "1"))
    rng = random.Random(seed)
    tb = Bench(dut)
    await tb.reset()
    await tb.power_up()
    master, spare, size = 1, 2, 4096
    await tb.assign(master, 0, size)
    ref = bytearray(rng.randbytes(size * 8))
    tb.mems[master].write(0, bytes(ref))
    assert await tb.command(master, Op.ESTABLISH, spare) == Err.OK

    blocks = []

    async def watch_sweep_reads():
        ar = tb.mems[master].read_if.ar_channel.bus
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            if int(ar.arvalid.value) and int(ar.arready.value) and int(ar.arid.value) == SWEEP_ID:
                blocks.append((int(ar.araddr.value) // 8, int(ar.arlen.value) + 1))

    collisions = 0
    done = False

    async def hammer():
        nonlocal collisions
        seen = 0
        written = set()
        while not done:
            if front and blocks:
                first, count = blocks[-1]
                burst = max(c for _, c in blocks)
                line = first + count + rng.randrange(2 * burst)
                if line >= size:
                    await RisingEdge(dut.clk)
                    continue
            else:
                if seen == len(blocks):
                    await RisingEdge(dut.clk)
                    continue
                first, count = blocks[seen]
                seen += 1
                line = first + rng.randrange(min(count, 4))
                if line in written:
                    continue
                written.add(line)
            data = rng.randbytes(8)
            resp = await tb.host.write(line * 8, data, awid=rng.randrange(16))
            assert resp.resp == AxiResp.OKAY
            ref[line * 8:line * 8 + 8] = data
            collisions += 1

    cocotb.start_soon(watch_sweep_reads())
    # front: several writers, so that a write is always waiting for its claim check
    writers = [cocotb.start_soon(hammer()) for _ in range(4 if front else 1)]
    await tb.write(master, "SWEEP_START", 0)
    await tb.write(master, "SWEEP_COUNT", size)
    assert await tb.command(master, Op.SWEEP) == Err.OK
    done = True
    for writer in writers:
        await writer
    assert collisions > 20, f"only {collisions} writes hit blocks in flight"
    slave_data = tb.mems[spare].read(0, size * 8)
    master_data = tb.mems[master].read(0, size * 8)
    assert master_data == bytes(ref), "master lost a host write"
    stale = [line for line in range(size)
             if slave_data[line * 8:line * 8 + 8] != master_data[line * 8:line * 8 + 8]]
    dut._log.info("%d host writes into blocks under copy, %d stale lines at the slave",
                  collisions, len(stale))
    if expect_race:
        assert stale, "the broken variant should have lost an update"
    else:
        assert not stale, f"slave is stale at lines {stale[:10]}"
        assert (await tb.status(master))["swept"] == 1


# (command, agent, peer, setup) -> err; setup writes registers before the command.
def _refusals(size0):
    return [
        ("opcode 0", 0, 0, 0, {}, Err.BAD_OPCODE),
        ("opcode 7", 2, 7, 0, {}, Err.BAD_OPCODE),
        ("opcode 15", 1, 15, 0, {}, Err.BAD_OPCODE),
        ("ASSIGN active", 0, Op.ASSIGN, 0, {}, Err.BAD_STATE),
        ("ASSIGN size 0", 2, Op.ASSIGN, 0, {"BASE": 0x8000, "SIZE": 0}, Err.BAD_RANGE),
        ("ASSIGN base unaligned", 2, Op.ASSIGN, 0, {"BASE": 0x8100, "SIZE": 512}, Err.BAD_RANGE),
        ("ASSIGN size unaligned", 2, Op.ASSIGN, 0, {"BASE": 0x8000, "SIZE": 600}, Err.BAD_RANGE),
        ("ASSIGN size > capacity", 2, Op.ASSIGN, 0, {"BASE": 0x8000, "SIZE": 8192},
         Err.BAD_RANGE),
        ("ASSIGN past address space", 2, Op.ASSIGN, 0,
         {"BASE": (1 << 29) - 512, "SIZE": 1024}, Err.BAD_RANGE),
        ("ASSIGN overlap", 2, Op.ASSIGN, 0, {"BASE": 1024, "SIZE": 512}, Err.OVERLAP),
        ("ASSIGN overlap at end", 2, Op.ASSIGN, 0, {"BASE": size0 + 4096 - 512, "SIZE": 1024},
         Err.OVERLAP),
        ("ESTABLISH idle", 2, Op.ESTABLISH, 3, {}, Err.BAD_STATE),
        ("ESTABLISH peer self", 0, Op.ESTABLISH, 0, {}, Err.BAD_PEER),
        ("ESTABLISH peer >= agents", 0, Op.ESTABLISH, AGENTS, {}, Err.BAD_PEER),
        ("ESTABLISH peer 15", 0, Op.ESTABLISH, 15, {}, Err.BAD_PEER),
        ("ESTABLISH peer active", 0, Op.ESTABLISH, 1, {}, Err.BAD_PEER),
        ("ESTABLISH peer too small", 0, Op.ESTABLISH, 2, {}, Err.CAPACITY),
        ("SWEEP not mirror", 0, Op.SWEEP, 0, {"SWEEP_COUNT": 512}, Err.BAD_STATE),
        ("RELEASE not mirror", 1, Op.RELEASE, 0, {}, Err.BAD_STATE),
        ("ABORT not mirror", 1, Op.ABORT, 0, {}, Err.BAD_STATE),
        ("UNASSIGN idle", 2, Op.UNASSIGN, 0, {}, Err.BAD_STATE),
    ]


def _mirror_refusals(size0):
    """With agent 0 MIRROR_MASTER of agent 3."""
    return [
        ("SWEEP count 0", 0, Op.SWEEP, 0, {"SWEEP_START": 0, "SWEEP_COUNT": 0}, Err.BAD_RANGE),
        ("SWEEP start past watermark", 0, Op.SWEEP, 0, {"SWEEP_START": 512, "SWEEP_COUNT": 1},
         Err.BAD_RANGE),
        ("SWEEP past size", 0, Op.SWEEP, 0, {"SWEEP_START": 0, "SWEEP_COUNT": size0 + 1},
         Err.BAD_RANGE),
        ("SWEEP huge count", 0, Op.SWEEP, 0, {"SWEEP_START": 0, "SWEEP_COUNT": 0xFFFFFFFF},
         Err.BAD_RANGE),
        ("RELEASE not swept", 0, Op.RELEASE, 0, {}, Err.NOT_SWEPT),
        ("ESTABLISH again", 0, Op.ESTABLISH, 2, {}, Err.BAD_STATE),
        ("UNASSIGN master", 0, Op.UNASSIGN, 0, {}, Err.BAD_STATE),
        ("ASSIGN slave", 3, Op.ASSIGN, 0, {}, Err.BAD_STATE),
        ("SWEEP on slave", 3, Op.SWEEP, 0, {}, Err.BAD_STATE),
        ("ESTABLISH to slave", 1, Op.ESTABLISH, 3, {}, Err.BAD_PEER),
    ]


async def _check_refusals(tb, cases):
    for name, agent, op, peer, setup, want in cases:
        for reg, value in setup.items():
            await tb.write(agent, reg, value)
        before = await tb.snapshot()
        err = await tb.command(agent, op, peer)
        assert err == want, f"{name}: got {Err(err).name}, want {want.name}"
        events = await tb.read(agent, "EVENTS")
        assert events & regmap.Event.CMD_DONE, f"{name}: cmd_done not set"
        await tb.write(agent, "EVENTS", regmap.Event.CMD_DONE)
        after = await tb.snapshot()
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        changed.pop((agent, "EVENTS"), None)
        assert not changed, f"{name}: refused command changed {changed}"


@cocotb.test()
async def refused_commands_change_nothing(dut):
    """Every check of SPEC section 4, in its order; a refused command changes no state."""
    tb = Bench(dut)
    await tb.reset()
    await tb.power_up()
    size0 = 8192
    await tb.assign(0, 0, size0)
    await tb.assign(1, size0, 4096)
    await _check_refusals(tb, _refusals(size0))
    assert await tb.command(0, Op.ESTABLISH, 3) == Err.OK
    await _check_refusals(tb, _mirror_refusals(size0))
    # BUSY: a slow sweep is running; a second command is refused and the sweep completes
    await tb.write(0, "THROTTLE", 8)
    await tb.write(0, "SWEEP_START", 0)
    await tb.write(0, "SWEEP_COUNT", 512)
    await tb.write(0, "CMD", CMD.opcode.put(0, Op.SWEEP))
    assert (await tb.status(0))["busy"] == 1
    await tb.write(0, "CMD", CMD.opcode.put(0, Op.ABORT))
    st = await tb.status(0)
    assert st["err"] == Err.BUSY and st["busy"] == 1 and st["mode"] == Mode.MIRROR_MASTER
    while (st := await tb.status(0))["busy"]:
        await ClockCycles(dut.clk, 50)
    assert st["err"] == Err.OK and await tb.read(0, "SWEPT_UPTO") == 512
    # power protection: neither the master nor the slave can be switched off
    for agent in (0, 3):
        value = agent_reg("SLOT_CTRL").power_led.put(0, regmap.Led.ON)
        assert await tb.write(agent, "SLOT_CTRL", value) == AxiResp.OKAY
        st = await tb.status(agent)
        assert st["err"] == Err.POWER and st["power_good"] == 1
        assert agent_reg("SLOT_CTRL").power_en.get(await tb.read(agent, "SLOT_CTRL")) == 1
    # BASE/SIZE of owning agents are locked
    assert await tb.write(0, "BASE", 0x10000) == AxiResp.SLVERR
    assert await tb.write(3, "SIZE", 512) == AxiResp.SLVERR
    assert await tb.read(3, "BASE") == 0 and await tb.read(3, "SIZE") == size0
    # ABORT then works and frees the spare; nothing was lost on the master
    assert await tb.command(0, Op.ABORT) == Err.OK
    assert (await tb.status(0))["mode"] == Mode.ACTIVE
    assert (await tb.status(3))["mode"] == Mode.IDLE
    assert await tb.read(0, "SWEPT_UPTO") == 0


@cocotb.test()
async def unowned_and_bad_bursts(dut):
    """DECERR for unowned addresses with nothing written; SLVERR for unsupported bursts."""
    tb = Bench(dut)
    await tb.reset()
    await tb.power_up()
    await tb.assign(1, 512, 512)
    for i in range(AGENTS):
        tb.mems[i].write(0, bytes(512 * 8))
    for addr in (0, 510 * 8, 1024 * 8, 0xFFFFF000):
        w = await tb.host.write(addr, b"\xAA" * 16)
        assert w.resp == AxiResp.DECERR, hex(addr)
        r = await tb.host.read(addr, 16)
        assert r.resp == AxiResp.DECERR, hex(addr)
    for i in range(AGENTS):
        assert tb.mems[i].read(0, 512 * 8) == bytes(512 * 8), f"module {i} was written"
    from cocotbext.axi import AxiBurstType
    for burst in (AxiBurstType.FIXED, AxiBurstType.WRAP):
        w = await tb.host.write(512 * 8, b"\x55" * 32, burst=burst)
        assert w.resp == AxiResp.SLVERR, burst
        r = await tb.host.read(512 * 8, 32, burst=burst)
        assert r.resp == AxiResp.SLVERR, burst
    assert tb.mems[1].read(0, 32) == bytes(32)
    w = await tb.host.write(512 * 8 + 3, b"\x11\x22", size=0)   # narrow, unaligned
    assert w.resp == AxiResp.OKAY
    assert tb.mems[1].read(0, 8) == b"\x00\x00\x00\x11\x22\x00\x00\x00"
    r = await tb.host.read(512 * 8 + 3, 2, size=0)
    assert r.resp == AxiResp.OKAY and r.data == b"\x11\x22"


@cocotb.test()
async def concurrent_reads_and_writes_across_agents(dut):
    """Many bursts in flight with different IDs, to several agents, under back-pressure on
    every memory channel: every read returns its own data."""
    rng = random.Random(int(os.environ.get("MS_SEED", "3")))
    tb = Bench(dut)
    await tb.reset()
    await tb.power_up()
    await tb.assign(1, 0, 4096)
    await tb.assign(2, 4096, 4096)
    ref = bytearray(rng.randbytes(8192 * 8))
    tb.mems[1].write(0, bytes(ref[:4096 * 8]))
    tb.mems[2].write(0, bytes(ref[4096 * 8:]))
    for mem in tb.mems:
        for ch in (mem.read_if.ar_channel, mem.read_if.r_channel, mem.write_if.aw_channel,
                   mem.write_if.w_channel, mem.write_if.b_channel):
            ch.set_pause_generator(iter(lambda: rng.random() < 0.3, None))

    async def worker(k):
        # each worker owns a slice of lines, so its reads have exactly one right answer
        lo = k * 1024
        for _ in range(25):
            lines = rng.randint(1, 16)
            line = lo + rng.randrange(1024 - lines)
            if line // 512 != (line + lines - 1) // 512:
                continue
            if rng.random() < 0.4:
                data = rng.randbytes(lines * 8)
                w = await tb.host.write(line * 8, data, awid=rng.randrange(16))
                assert w.resp == AxiResp.OKAY
                ref[line * 8:(line + lines) * 8] = data
            else:
                r = await tb.host.read(line * 8, lines * 8, arid=rng.randrange(16))
                assert r.resp == AxiResp.OKAY
                assert r.data == bytes(ref[line * 8:(line + lines) * 8]), f"line {line}"

    workers = [cocotb.start_soon(worker(k)) for k in range(8)]
    for w in workers:
        await w


@cocotb.test()
async def every_command_in_every_mode(dut):
    """Agents in all five modes; every opcode 0-15 with good and bad arguments; the error
    is the reference model's (sim/model.py, SPEC section 4), and a refused command changes
    nothing."""
    from mirrorswap.sim.model import expected_error
    tb = TopTB(dut, capacities_log2=(13, 12, 12, 12))
    await tb.reset()
    for i in (0, 1, 2):      # slot 3 stays OFF
        await tb.write(i, "SLOT_CTRL", agent_reg("SLOT_CTRL").power_en.put(0, 1))
    for i in (0, 1, 2):
        while (await tb.status(i))["mode"] != Mode.IDLE:
            await tb.cycles(10)
    await tb.assign(0, 0, 4096)            # 0: MIRROR_MASTER of 2 (below)
    await tb.assign(1, 8192, 4096)         # 1: ACTIVE
    assert await tb.command(0, Op.ESTABLISH, 2) == Err.OK   # 2: MIRROR_SLAVE; 3: OFF
    await tb.write(0, "SWEEP_START", 0)
    await tb.write(0, "SWEEP_COUNT", 1024)
    assert await tb.command(0, Op.SWEEP) == Err.OK          # SWEPT_UPTO = 1024
    settings = [
        {"BASE": 20480, "SIZE": 512, "SWEEP_START": 0, "SWEEP_COUNT": 512},     # good
        {"BASE": 20480, "SIZE": 0, "SWEEP_START": 2048, "SWEEP_COUNT": 0},      # bad
        {"BASE": 1000, "SIZE": 700, "SWEEP_START": 1024, "SWEEP_COUNT": 4096},  # bad
        {"BASE": 8192, "SIZE": 1024, "SWEEP_START": 512, "SWEEP_COUNT": 3584},  # overlap
    ]
    checked = refused = 0
    for setting in settings:
        for agent in range(4):
            for name, value in setting.items():
                await tb.write(agent, name, value)   # BASE/SIZE of owners stay locked
            modes = [Mode((await tb.status(a))["mode"]) for a in range(4)]
            regs = [{k: await tb.read(a, k) for k in setting} for a in range(4)]
            capacity = [await tb.read(a, "CAPACITY") for a in range(4)]
            swept = await tb.read(agent, "SWEPT_UPTO")
            for op in range(16):
                for peer in ((0, 1, 2, 3, 4, 15) if op == Op.ESTABLISH else (0,)):
                    want = expected_error(agent, op, peer, modes, regs, capacity, swept)
                    checked += 1
                    if want == Err.OK:
                        continue     # the accepted ones are exercised elsewhere
                    before = await tb.snapshot()
                    got = await tb.command(agent, op, peer)
                    assert got == want, (f"agent {agent} ({modes[agent].name}) op {op} "
                                         f"peer {peer} {setting}: got {Err(got).name}, "
                                         f"want {want.name}")
                    after = await tb.snapshot()
                    for a in range(4):
                        before.pop((a, "EVENTS")), after.pop((a, "EVENTS"))
                    assert after == before, f"refused op {op} on agent {agent} changed state"
                    refused += 1
    dut._log.info("%d commands checked against the model, %d refused", checked, refused)
    assert refused > 250
