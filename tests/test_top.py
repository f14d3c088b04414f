"""MirrorswapTop (rtl/top.py): the whole IP block on its generated Verilog.

One file per unit: the TB class and the cocotb tests run inside the simulator; the pytest
entries at the bottom generate the top level once per parameter set
(:func:`~mirrorswap.sim.runner.shared_top`) and run the tests on it.

The tests take the configuration from the DUT (agent count from its slot pins, ID width
from ``s_axi_awid``) and from the ``MS_`` knobs the pytest entries set (the elaboration
parameters, ``MS_SEED``, ``MS_RACE_AT``), so one test runs unchanged at 1, 2, 4 or 8
agents and at the small queue and sweep sizes of the formal proofs. A test that needs a
second agent (a spare to mirror to) skips at one agent, saying why.
"""

import ast
import inspect
import os
import random

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge
from cocotbext.axi import AxiBurstType, AxiResp

from amaranth.hdl._ir import PortDirection

from mirrorswap import regmap
from mirrorswap.flows.verilog import port_map
from mirrorswap.formal.gen import CONFIG as FORMAL_CONFIG
from mirrorswap.geometry import Geometry
from mirrorswap.regmap import Err, Mode, Op, agent_reg
from mirrorswap.rtl.signatures import SWEEP_ID
from mirrorswap.rtl.top import MirrorswapTop
from mirrorswap.sim.model import expected_error
from mirrorswap.sim.runner import run_tests, shared_top
from mirrorswap.sim.tb import TopTB, knob

CMD = agent_reg("CMD")
NO_SPARE = "one agent: there is no spare to mirror to"


def top_config():
    """``MirrorswapTop``'s keyword arguments for this run: its defaults, overridden by the
    ``MS_<NAME>`` knobs of the pytest entry (``params`` of ``run_tests``)."""
    config = {}
    for name, parameter in inspect.signature(MirrorswapTop).parameters.items():
        text = os.environ.get(f"MS_{name.upper()}")
        config[name] = parameter.default if text is None else ast.literal_eval(text)
    return config


class TopLevelTB(TopTB):
    """:class:`~mirrorswap.sim.tb.TopTB` with modules sized for the configuration under test.

    Slot 0 and the last slot hold ``big_lines`` modules (the largest the top takes, at most
    2^13 lines), the slots between ``small_lines`` ones (half as large, never below the
    512-line range granularity): slot 0 can own a range that a smaller module is too small
    to mirror and the last slot, the spare, can take. ``config`` holds the elaboration
    parameters; ``line_space`` is the number of host lines.
    """

    def __init__(self, dut, **kwargs):
        self.config = top_config()
        self.geometry = Geometry(self.config["data_width"])
        max_log2 = self.config["max_capacity_log2"]
        big = min(13, max_log2)
        small = max(self.geometry.page_shift, big - 1)
        agents = self.config["agents"]
        capacities = (big,) if agents == 1 else (big,) + (small,) * (agents - 2) + (big,)
        super().__init__(dut, capacities_log2=capacities, seed=knob("seed", 1),
                         max_capacity_log2=max_log2, **kwargs)
        self.big_lines, self.small_lines = 1 << big, 1 << small
        self.line_space = 1 << (self.config["addr_width"] - self.geometry.line_shift)

    def lines(self, agent):
        """Lines of the module in ``agent``'s slot."""
        return self.slots[agent].lines

    async def check_config(self):
        """The DUT is the configuration the knobs name: its ports and its CONFIG register."""
        assert self.agents == self.config["agents"], (self.agents, self.config)
        assert self.ids == 1 << self.config["id_width"], (self.ids, self.config)
        want = MirrorswapTop(**self.config).config_value
        assert await self.read_global("CONFIG") == want, "CONFIG register"


async def make(dut, power=True):
    """A reset :class:`TopLevelTB` whose configuration is checked; every slot powered."""
    tb = TopLevelTB(dut)
    await tb.reset()
    await tb.check_config()
    if power:
        await tb.power_up()
    return tb


def need_spare(tb):
    if tb.agents < 2:
        pytest.skip(NO_SPARE)


@cocotb.test()
async def no_output_x_after_reset(dut):
    """SPEC section 1: after rst has been high for one clock, no output is X or Z.

    Every input is driven (0), as any bench does; nothing else happens before the check.
    """
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    ports = port_map(MirrorswapTop(**top_config()))
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
    # the host, register and memory ports' outputs, and three pins per slot
    assert len(outputs) > 10 + 20 * top_config()["agents"], len(outputs)


# A refusal: (name, agent, opcode, peer, registers written first, err).
def _idle_refusals(tb, agent, ranges):
    """Commands on the IDLE ``agent``: ESTABLISH and UNASSIGN; ASSIGN against each range
    check of SPEC section 4, then against OVERLAP with each ``(base, size)`` in ``ranges``
    (the ranges owned so far)."""
    free = max((base + size for base, size in ranges), default=0)
    cap = tb.lines(agent)
    cases = [
        ("ASSIGN size 0", {"BASE": free, "SIZE": 0}, Err.BAD_RANGE),
        ("ASSIGN base unaligned", {"BASE": free + tb.geometry.page_lines // 2, "SIZE": 512},
         Err.BAD_RANGE),
        ("ASSIGN size unaligned", {"BASE": free, "SIZE": 600}, Err.BAD_RANGE),
        ("ASSIGN size > capacity", {"BASE": free, "SIZE": cap + 512}, Err.BAD_RANGE),
    ]
    if tb.line_space < 1 << 32:     # else every 32-bit BASE is inside the address space
        cases.append(("ASSIGN base past address space", {"BASE": tb.line_space, "SIZE": 512},
                      Err.BAD_RANGE))
    if cap >= 1024:     # else the capacity check would refuse it first
        cases.append(("ASSIGN end past address space",
                      {"BASE": tb.line_space - 512, "SIZE": 1024}, Err.BAD_RANGE))
    for base, size in ranges:
        cases += [("ASSIGN overlap at start", {"BASE": base, "SIZE": 512}, Err.OVERLAP),
                  ("ASSIGN overlap at end", {"BASE": base + size - 512, "SIZE": min(1024, cap)},
                   Err.OVERLAP)]
    return ([("ESTABLISH idle", agent, Op.ESTABLISH, 0, {}, Err.BAD_STATE),
             ("UNASSIGN idle", agent, Op.UNASSIGN, 0, {}, Err.BAD_STATE)]
            + [(name, agent, Op.ASSIGN, 0, setup, err) for name, setup, err in cases])


def _refusals(tb, master, other, idle, small, ranges):
    """With ``master`` (and ``other``, if not None) ACTIVE and owning ``ranges``, ``idle``
    IDLE and ``small`` an IDLE agent too small to mirror ``master``; None: no such agent."""
    n = tb.agents
    some = other if other is not None else master
    cases = [
        ("opcode 0", master, 0, 0, {}, Err.BAD_OPCODE),
        ("opcode 7", n - 1, 7, 0, {}, Err.BAD_OPCODE),
        ("opcode 15", some, 15, 0, {}, Err.BAD_OPCODE),
        ("ASSIGN active", master, Op.ASSIGN, 0, {}, Err.BAD_STATE),
        ("ESTABLISH peer self", master, Op.ESTABLISH, master, {}, Err.BAD_PEER),
        ("ESTABLISH peer >= agents", master, Op.ESTABLISH, n, {}, Err.BAD_PEER),
        ("ESTABLISH peer 15", master, Op.ESTABLISH, 15, {}, Err.BAD_PEER),
        ("SWEEP not mirror", master, Op.SWEEP, 0, {"SWEEP_COUNT": 512}, Err.BAD_STATE),
        ("RELEASE not mirror", some, Op.RELEASE, 0, {}, Err.BAD_STATE),
        ("ABORT not mirror", some, Op.ABORT, 0, {}, Err.BAD_STATE),
    ]
    if idle is not None:
        cases += _idle_refusals(tb, idle, ranges)
    if other is not None:
        cases.append(("ESTABLISH peer active", master, Op.ESTABLISH, other, {}, Err.BAD_PEER))
    if small is not None:
        cases.append(("ESTABLISH peer too small", master, Op.ESTABLISH, small, {},
                      Err.CAPACITY))
    return cases


def _mirror_refusals(master, slave, other, size):
    """With ``master`` MIRROR_MASTER of ``slave``, owning ``size`` lines, nothing swept;
    ``other`` (if not None) ACTIVE."""
    cases = [
        ("SWEEP count 0", master, Op.SWEEP, 0, {"SWEEP_START": 0, "SWEEP_COUNT": 0},
         Err.BAD_RANGE),
        ("SWEEP start past watermark", master, Op.SWEEP, 0,
         {"SWEEP_START": 512, "SWEEP_COUNT": 1}, Err.BAD_RANGE),
        ("SWEEP past size", master, Op.SWEEP, 0, {"SWEEP_START": 0, "SWEEP_COUNT": size + 1},
         Err.BAD_RANGE),
        ("SWEEP huge count", master, Op.SWEEP, 0,
         {"SWEEP_START": 0, "SWEEP_COUNT": 0xFFFFFFFF}, Err.BAD_RANGE),
        ("RELEASE not swept", master, Op.RELEASE, 0, {}, Err.NOT_SWEPT),
        ("ESTABLISH again", master, Op.ESTABLISH, slave, {}, Err.BAD_STATE),
        ("UNASSIGN master", master, Op.UNASSIGN, 0, {}, Err.BAD_STATE),
        ("ASSIGN slave", slave, Op.ASSIGN, 0, {}, Err.BAD_STATE),
        ("SWEEP on slave", slave, Op.SWEEP, 0, {}, Err.BAD_STATE),
    ]
    if other is not None:
        cases.append(("ESTABLISH to slave", other, Op.ESTABLISH, slave, {}, Err.BAD_PEER))
    return cases


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
    """Every check of SPEC section 4, in its order; a refused command changes no state.

    Agent 0 owns a range as large as its module; agent 1 owns one too when a third agent
    is left to be the spare (the last agent); agent 2 is a module too small to mirror
    agent 0 when there are four or more. With one agent the checks of an IDLE agent run on
    it before its range is assigned, and the mirror's checks have no spare to run on.
    """
    tb = await make(dut)
    n = tb.agents
    master, spare = 0, (n - 1 if n > 1 else None)
    other = 1 if n >= 3 else None
    small = 2 if n >= 4 and tb.small_lines < tb.big_lines else None
    size0 = tb.big_lines
    if spare is None:
        await _check_refusals(tb, _idle_refusals(tb, master, []))
    await tb.assign(master, 0, size0)
    ranges = [(0, size0)]
    if other is not None:
        await tb.assign(other, size0, tb.lines(other))
        ranges.append((size0, tb.lines(other)))
    idle = small if small is not None else spare
    await _check_refusals(tb, _refusals(tb, master, other, idle, small, ranges))
    if spare is None:
        dut._log.info("%s: the refusals of a mirror are not checked", NO_SPARE)
        return
    assert await tb.command(master, Op.ESTABLISH, spare) == Err.OK
    await _check_refusals(tb, _mirror_refusals(master, spare, other, size0))
    # BUSY: a slow sweep is running; a second command is refused and the sweep completes
    await tb.write(master, "THROTTLE", 8)
    await tb.write(master, "SWEEP_START", 0)
    await tb.write(master, "SWEEP_COUNT", 512)
    await tb.write(master, "CMD", CMD.opcode.put(0, Op.SWEEP))
    assert (await tb.status(master))["busy"] == 1
    await tb.write(master, "CMD", CMD.opcode.put(0, Op.ABORT))
    st = await tb.status(master)
    assert st["err"] == Err.BUSY and st["busy"] == 1 and st["mode"] == Mode.MIRROR_MASTER
    while (st := await tb.status(master))["busy"]:
        await ClockCycles(dut.clk, 50)
    # the sweep completed; err stays the refusal's (never OK for a refused command)
    assert st["err"] == Err.BUSY and await tb.read(master, "SWEPT_UPTO") == 512
    # power protection: neither the master nor the slave can be switched off
    for agent in (master, spare):
        value = agent_reg("SLOT_CTRL").power_led.put(0, regmap.Led.ON)
        assert await tb.write(agent, "SLOT_CTRL", value) == AxiResp.OKAY
        st = await tb.status(agent)
        assert st["err"] == Err.POWER and st["power_good"] == 1
        assert agent_reg("SLOT_CTRL").power_en.get(await tb.read(agent, "SLOT_CTRL")) == 1
    # BASE/SIZE of owning agents are locked
    assert await tb.write(master, "BASE", 0x10000) == AxiResp.SLVERR
    assert await tb.write(spare, "SIZE", 512) == AxiResp.SLVERR
    assert await tb.read(spare, "BASE") == 0 and await tb.read(spare, "SIZE") == size0
    # ABORT then works and frees the spare; nothing was lost on the master
    assert await tb.command(master, Op.ABORT) == Err.OK
    assert (await tb.status(master))["mode"] == Mode.ACTIVE
    assert (await tb.status(spare))["mode"] == Mode.IDLE
    assert await tb.read(master, "SWEPT_UPTO") == 0


@cocotb.test()
async def unowned_and_bad_bursts(dut):
    """DECERR for unowned addresses with nothing written; SLVERR for unsupported bursts."""
    tb = await make(dut)
    agent = min(1, tb.agents - 1)
    await tb.assign(agent, 512, 512)
    lb = tb.geometry.line_bytes
    for mem in tb.mems:
        mem.write(0, bytes(512 * lb))
    for addr in (0, 510 * lb, 1024 * lb, 0xFFFFF000):
        w = await tb.host.write(addr, b"\xAA" * 16)
        assert w.resp == AxiResp.DECERR, hex(addr)
        r = await tb.host.read(addr, 16)
        assert r.resp == AxiResp.DECERR, hex(addr)
    for i, mem in enumerate(tb.mems):
        assert mem.read(0, 512 * lb) == bytes(512 * lb), f"module {i} was written"
    for burst in (AxiBurstType.FIXED, AxiBurstType.WRAP):
        w = await tb.host.write(512 * lb, b"\x55" * 32, burst=burst)
        assert w.resp == AxiResp.SLVERR, burst
        r = await tb.host.read(512 * lb, 32, burst=burst)
        assert r.resp == AxiResp.SLVERR, burst
    assert tb.mems[agent].read(0, 32) == bytes(32)
    w = await tb.host.write(512 * lb + 3, b"\x11\x22", size=0)   # narrow, unaligned
    assert w.resp == AxiResp.OKAY
    assert tb.mems[agent].read(0, 8) == b"\x00\x00\x00\x11\x22\x00\x00\x00"
    r = await tb.host.read(512 * lb + 3, 2, size=0)
    assert r.resp == AxiResp.OKAY and r.data == b"\x11\x22"


@cocotb.test()
async def concurrent_reads_and_writes_across_agents(dut):
    """Many bursts in flight with different IDs, to every agent, under back-pressure on
    every memory channel: every read returns its own data."""
    rng = random.Random(knob("seed", 3))
    tb = await make(dut)
    per = min(4096, min(tb.lines(i) for i in range(tb.agents)))
    for i in range(tb.agents):
        await tb.assign(i, i * per, per)
    total = per * tb.agents
    lb, page = tb.geometry.line_bytes, tb.geometry.page_lines
    ref = bytearray(rng.randbytes(total * lb))
    for i, mem in enumerate(tb.mems):
        mem.write(0, bytes(ref[i * per * lb:(i + 1) * per * lb]))
    tb.set_backpressure(0.3, seed=rng.random(), host=False)
    workers = 8
    span = total // workers

    async def worker(k):
        # each worker owns a slice of lines, so its reads have exactly one right answer
        lo = k * span
        for _ in range(25):
            lines = rng.randint(1, 16)
            line = lo + rng.randrange(span - lines)
            if line // page != (line + lines - 1) // page:  # a burst never crosses 4 KiB
                continue
            if rng.random() < 0.4:
                data = rng.randbytes(lines * lb)
                w = await tb.host.write(line * lb, data, awid=rng.randrange(tb.ids))
                assert w.resp == AxiResp.OKAY
                ref[line * lb:(line + lines) * lb] = data
            else:
                r = await tb.host.read(line * lb, lines * lb, arid=rng.randrange(tb.ids))
                assert r.resp == AxiResp.OKAY
                assert r.data == bytes(ref[line * lb:(line + lines) * lb]), f"line {line}"

    tasks = [cocotb.start_soon(worker(k)) for k in range(workers)]
    for task in tasks:
        await task


@cocotb.test()
async def every_command_in_every_mode(dut):
    """Agents in every mode the configuration allows at once; every opcode 0-15 with good
    and bad arguments; the error is the reference model's (sim/model.py, SPEC section 4),
    and a refused command changes nothing.

    Agent 0 is MIRROR_MASTER of agent 2 (of agent 1 with two agents), agent 1 ACTIVE,
    agent 3 OFF, any further agent IDLE; one agent alone is ACTIVE.
    """
    tb = await make(dut, power=False)
    n = tb.agents
    master = 0 if n >= 2 else None
    slave = {1: None, 2: 1}.get(n, 2)
    active = 0 if n == 1 else (1 if n >= 3 else None)
    off = 3 if n >= 4 else None
    on = [a for a in range(n) if a != off]
    for a in on:
        await tb.write(a, "SLOT_CTRL", agent_reg("SLOT_CTRL").power_en.put(0, 1))
    for a in on:
        while (await tb.status(a))["mode"] != Mode.IDLE:
            await tb.cycles(10)
    size = min(4096, tb.small_lines)
    if active is not None:
        await tb.assign(active, 8192, size)
    if master is not None:
        await tb.assign(master, 0, size)
        assert await tb.command(master, Op.ESTABLISH, slave) == Err.OK
        await tb.write(master, "SWEEP_START", 0)
        await tb.write(master, "SWEEP_COUNT", size // 4)
        assert await tb.command(master, Op.SWEEP) == Err.OK    # SWEPT_UPTO = size / 4
    settings = [
        {"BASE": 20480, "SIZE": 512, "SWEEP_START": 0, "SWEEP_COUNT": 512},     # good
        {"BASE": 20480, "SIZE": 0, "SWEEP_START": 2048, "SWEEP_COUNT": 0},      # bad
        {"BASE": 1000, "SIZE": 700, "SWEEP_START": 1024, "SWEEP_COUNT": 4096},  # bad
        {"BASE": 8192, "SIZE": 1024, "SWEEP_START": 512, "SWEEP_COUNT": 3584},  # overlap
    ]
    peers = tuple(range(n + 1)) + (15,)      # every agent, the first past them, the last
    checked = refused = 0
    for setting in settings:
        for agent in range(n):
            for name, value in setting.items():
                await tb.write(agent, name, value)   # BASE/SIZE of owners stay locked
            modes = [Mode((await tb.status(a))["mode"]) for a in range(n)]
            regs = [{k: await tb.read(a, k) for k in setting} for a in range(n)]
            capacity = [await tb.read(a, "CAPACITY") for a in range(n)]
            swept = await tb.read(agent, "SWEPT_UPTO")
            for op in range(16):
                for peer in (peers if op == Op.ESTABLISH else (0,)):
                    want = expected_error(agent, op, peer, modes, regs, capacity, swept,
                                          line_addr_width=tb.line_space.bit_length() - 1,
                                          page_lines=tb.geometry.page_lines)
                    checked += 1
                    if want == Err.OK:
                        continue     # the accepted ones are exercised elsewhere
                    before = await tb.snapshot()
                    got = await tb.command(agent, op, peer)
                    assert got == want, (f"agent {agent} ({modes[agent].name}) op {op} "
                                         f"peer {peer} {setting}: got {Err(got).name}, "
                                         f"want {want.name}")
                    after = await tb.snapshot()
                    for a in range(n):
                        before.pop((a, "EVENTS")), after.pop((a, "EVENTS"))
                    assert after == before, f"refused op {op} on agent {agent} changed state"
                    refused += 1
    dut._log.info("%d commands checked against the model, %d refused", checked, refused)
    # all but a few accepted ones (ASSIGN of the good setting, UNASSIGN of the ACTIVE
    # agent, ESTABLISH to a free peer) are refusals
    assert refused > 0.8 * checked, (refused, checked)


@cocotb.test()
async def sweep_race_with_host_writes(dut):
    """A host write aimed at the very lines the sweep is copying is never lost at the slave.

    A monitor watches the master's memory port for sweep reads; for each block read, a host
    write goes to one of the block's first lines while the block is in flight: after the
    sweep has read that line and before the block is written to the slave, the window in
    which a copy without the hazard check writes stale data over the forwarded write.
    After the sweep, the slave must equal the master and the reference on every line.

    ``MS_RACE_AT=front``: the host writes instead, back to back, to lines just past the
    latest block read (up to two bursts past it), where the next blocks will be claimed
    and read: the window of the one-cycle-old claim checks (see ``SweepEngine``, *Both
    checks registered*). On the top elaborated with ``hazard_check=False`` the test
    requires the lost update to be seen instead.
    """
    front = knob("race_at", "", str) == "front"
    rng = random.Random(knob("seed", 1))
    tb = await make(dut)
    need_spare(tb)
    expect_race = not tb.config["hazard_check"]
    master, spare = (1, 2) if tb.agents >= 3 else (0, 1)
    size = min(4096, tb.lines(master), tb.lines(spare))
    await tb.assign(master, 0, size)
    lb = tb.geometry.line_bytes
    ref = bytearray(rng.randbytes(size * lb))
    tb.mems[master].write(0, bytes(ref))
    assert await tb.command(master, Op.ESTABLISH, spare) == Err.OK

    blocks = []

    async def watch_sweep_reads():
        ar = tb.mems[master].read_if.ar_channel.bus
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            if int(ar.arvalid.value) and int(ar.arready.value) and int(ar.arid.value) == SWEEP_ID:
                blocks.append((int(ar.araddr.value) // lb, int(ar.arlen.value) + 1))

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
            data = rng.randbytes(lb)
            resp = await tb.host.write(line * lb, data, awid=rng.randrange(tb.ids))
            assert resp.resp == AxiResp.OKAY
            ref[line * lb:line * lb + lb] = data
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
    slave_data = tb.mems[spare].read(0, size * lb)
    master_data = tb.mems[master].read(0, size * lb)
    assert master_data == bytes(ref), "master lost a host write"
    stale = [line for line in range(size)
             if slave_data[line * lb:line * lb + lb] != master_data[line * lb:line * lb + lb]]
    dut._log.info("%d host writes into blocks under copy, %d stale lines at the slave",
                  collisions, len(stale))
    if expect_race:
        assert stale, "the broken variant should have lost an update"
    else:
        assert not stale, f"slave is stale at lines {stale[:10]}"
        assert (await tb.status(master))["swept"] == 1


# ---- pytest entries ----------------------------------------------------------------------
DEFAULT = {}
DEFAULT_CONFIG = {name: p.default
                  for name, p in inspect.signature(MirrorswapTop).parameters.items()}
FORMAL = dict(FORMAL_CONFIG)        # the configuration every formal proof runs on
WIDE = {"data_width": 512, "addr_width": 38}   # 64-byte lines, the widest addresses
CONFIGS = {"agents1": {"agents": 1}, "agents2": {"agents": 2}, "agents4": DEFAULT,
           "agents8": {"agents": 8}, "formal": FORMAL, "wide": WIDE}

# quick at any size: run at every configuration, in one simulation each
QUICK = ["no_output_x_after_reset", "unowned_and_bad_bursts",
         "refused_commands_change_nothing", "concurrent_reads_and_writes_across_agents"]


def _run(config, testcase, **knobs):
    return run_tests(__file__, "mirrorswap_top", sources=[shared_top(**config)],
                     testcase=testcase, params={**config, **knobs})


def _configs(*names):
    """pytest parameters for the named configurations; one agent is skipped with the
    reason (the tests given need a spare)."""
    return [pytest.param(CONFIGS[name], id=name,
                         marks=[pytest.mark.skip(reason=NO_SPARE)]
                         if {**DEFAULT_CONFIG, **CONFIGS[name]}["agents"] == 1 else [])
            for name in names]


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_top(config):
    """No X after reset, unowned and bad bursts, refused commands, concurrent traffic."""
    assert _run(config, QUICK) == len(QUICK)


@pytest.mark.parametrize("config", [pytest.param(CONFIGS[name], id=name)
                                    for name in ("agents1", "formal")] +
                         [pytest.param(CONFIGS["agents4"], id="agents4",
                                       marks=pytest.mark.slow),
                          pytest.param(WIDE, id="wide", marks=pytest.mark.slow)])
def test_every_command_in_every_mode(config):
    _run(config, "every_command_in_every_mode")


@pytest.mark.parametrize("config", _configs("agents1", "agents2", "formal", "wide"))
def test_sweep_race_small(config):
    """The race at other agent counts, at the formal proofs' sweep and queue sizes and with
    64-byte lines."""
    _run(config, "sweep_race_with_host_writes", seed=1)


@pytest.mark.parametrize("seed", [1, 2])
def test_sweep_race(seed):
    _run(DEFAULT, "sweep_race_with_host_writes", seed=seed)


@pytest.mark.parametrize("config, seed", [(DEFAULT, 1), (DEFAULT, 2), (FORMAL, 1),
                                          pytest.param(WIDE, 1, marks=pytest.mark.slow)],
                         ids=["agents4-1", "agents4-2", "formal-1", "wide-1"])
def test_sweep_front_race(config, seed):
    """Host writes just ahead of the sweep, where its registered claim check matters."""
    _run(config, "sweep_race_with_host_writes", seed=seed, race_at="front")


def test_sweep_race_detected_without_hazard_check():
    """The race test is not vacuous: the broken variant loses an update and is caught."""
    _run({"hazard_check": False}, "sweep_race_with_host_writes", seed=1)
