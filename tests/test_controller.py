# amaranth: UnusedElaboratable=no
"""MirrorController (rtl/controller.py): commands, their checks, sweeps and power, alone.

One file per unit: the TB class and cocotb tests run inside the simulator on the
controller's generated Verilog; the pytest entries at the bottom build it for each
configuration and run them (``pytest tests/test_controller.py``).

The TB stands in for what the top wires around the controller: the register block (it
holds BASE/SIZE/SWEEP_*, delivers a CMD write as a one-cycle ``cmd_valid``, stalls writes
while ``freeze`` is high and takes ``range_we``), the host port (``quiet``), one sweep
engine per agent and the slots. (``pending``, the host port's bursts in flight per agent,
is all ones but in ``drain_waits_only_for_the_agents_it_changes``.) The expected error of every command comes from the
reference model :func:`mirrorswap.sim.model.expected_error`; the expected modes from
:class:`Expected`, the SPEC section 4 effects table.
"""

import itertools
import os
import random

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from mirrorswap.regmap import RANGE_ALIGN, Err, Event, Mode, Op
from mirrorswap.rtl.controller import MirrorController
from mirrorswap.rtl.signatures import ROUTE_LAYOUT, SLOT_STATE_LAYOUT
from mirrorswap.sim.model import apply_command, expected_error
from mirrorswap.sim.runner import run_tests
from mirrorswap.sim.tb import reset_dut

A = RANGE_ALIGN
_ROUTE_BITS = ROUTE_LAYOUT.size
_SLOT_BITS = SLOT_STATE_LAYOUT.size
_TIMEOUT = 200      # cycles a command may take, sweeps included
_STEP = 64          # lines the sweep engine model copies a cycle


def _field(layout, name):
    field = layout[name]
    return field.offset, field.width


class Expected:
    """What the controller's state should be: modes, peers, SWEPT_UPTO, err (SPEC 4)."""

    def __init__(self, agents):
        self.mode = [Mode.OFF] * agents
        self.peer = [0] * agents
        self.swept_upto = [0] * agents
        self.err = [Err.OK] * agents

    def apply(self, agent, op, peer, regs):
        """The effects of an accepted ``op`` on ``agent`` (``regs``: the TB's registers)."""
        apply_command(agent, op, peer, self.mode, self.peer, regs, self.swept_upto)


class ControllerTB:
    """Clock, reset, and models of the register block, host port, sweep engines, slots."""

    def __init__(self, dut):
        self.dut = dut
        self.agents = int(os.environ.get("MS_AGENTS", "4"))
        self.max_capacity_log2 = int(os.environ.get("MS_MAX_CAPACITY_LOG2", "16"))
        self.line_addr_width = int(os.environ.get("MS_LINE_ADDR_WIDTH", "29"))
        self.rng = random.Random(int(os.environ.get("MS_SEED", "1")))
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.regs = [{"BASE": 0, "SIZE": 0, "SWEEP_START": 0, "SWEEP_COUNT": 0}
                     for _ in range(self.agents)]
        self.slot_state = [(0, 0, 0)] * self.agents     # (present, power_good, capacity_log2)
        self.expected = Expected(self.agents)
        # host port: ``quiet`` follows this generator, one value per cycle
        self.quiet_pattern = itertools.repeat(1)
        # sweep engines: lines per progress step, stalled, line a read fails at
        self.stall = [False] * self.agents
        self.fail_at = [None] * self.agents
        # lines whose read fails: copied as poison by a sweep started with poison_en,
        # else the first one stops the sweep like ``fail_at``
        self.bad_lines = [set() for _ in range(self.agents)]
        self.inject_poison = [[] for _ in range(self.agents)]   # pulsed at the next edge
        self.cancel_delay = [0] * self.agents     # cycles from a cancel to done
        self.starts = []           # (cycle, agent, start_line, count)
        self.cancels = []          # (cycle, agent)
        self.dones = []            # (cycle, agent)
        self.events = [[] for _ in range(self.agents)]    # (cycle, event_set) per agent
        # CE_COUNT / UE_COUNT as the register block would count them from reset, and
        # every cycle that adds to them: (cycle, agent, ce_inc, ue_inc)
        self.ce = [0] * self.agents
        self.ue = [0] * self.agents
        self.increments = []
        self.freeze_cycles = 0
        self.hold_cycles = 0
        self.cycle = 0
        self._pending = []         # register writes, applied at the next edge freeze allows
        self._frozen_last = True   # ``freeze`` in the last cycle
        self._range_write = None
        dut.quiet.value = 0
        # per agent, a burst in flight to it: all set, every drain waits for ``quiet``
        # (the tests of the per-agent drain drive it themselves)
        dut.pending.value = (1 << self.agents) - 1
        dut.ext_events.value = 0
        dut.slots.value = 0
        for rep in ("fwd_err", "wr_err", "rd_err"):
            for sig in ("valid", "agent", "line", "corrected"):
                getattr(dut, f"{rep}_{sig}").value = 0
        for i in range(self.agents):
            for name in ("base", "size", "sweep_start", "sweep_count", "throttle", "power_en",
                         "power_led", "attn_led", "irq_en", "events", "cmd_valid",
                         "cmd_opcode", "cmd_peer", "power_refused", "ras_ctrl"):
                self.reg(i, name).value = 0
            for name in ("done", "failed", "err_line", "progress_valid", "progress_end",
                         "poison_valid", "poison_line"):
                self.sweep(i, name).value = 0

    def reg(self, i, name):
        return getattr(self.dut, f"regs{i}_{name}")

    def sweep(self, i, name):
        return getattr(self.dut, f"sweep{i}_{name}")

    async def reset(self):
        await reset_dut(self.dut)
        cocotb.start_soon(self._register_block())
        for i in range(self.agents):
            cocotb.start_soon(self._sweep_engine(i))

    # ---- the register block and the host port -------------------------------------------

    async def _register_block(self):
        """Applies register writes and CMD pulses when ``freeze`` allows, takes the
        controller's ``range_we``, drives ``quiet``, records events."""
        dut = self.dut
        pulse = None
        while True:
            await RisingEdge(dut.clk)
            self.cycle += 1
            if pulse is not None:
                self.reg(pulse, "cmd_valid").value = 0
                self.reg(pulse, "power_refused").value = 0
                pulse = None
            if self._range_write is not None:
                k, base, size = self._range_write
                self._drive(k, BASE=base, SIZE=size)
                self._range_write = None
            dut.quiet.value = next(self.quiet_pattern)
            if self._pending and self._frozen_last is False:
                kind, i, values = self._pending.pop(0)
                if kind == "regs":
                    self._drive(i, **values)
                else:
                    self.reg(i, kind).value = 1
                    if kind == "cmd_valid":
                        self.reg(i, "cmd_opcode").value = values["op"]
                        self.reg(i, "cmd_peer").value = values["peer"]
                    pulse = i
            await ReadOnly()
            self._frozen_last = bool(int(dut.freeze.value))
            self.freeze_cycles += self._frozen_last
            self.hold_cycles += int(dut.hold.value)
            for k in range(self.agents):
                if int(self.reg(k, "range_we").value):
                    self._range_write = (k, int(self.reg(k, "range_base").value),
                                         int(self.reg(k, "range_size").value))
                ev = int(self.reg(k, "event_set").value)
                if ev:
                    self.events[k].append((self.cycle, ev))
                ce, ue = int(self.reg(k, "ce_inc").value), int(self.reg(k, "ue_inc").value)
                if ce or ue:
                    self.ce[k] += ce
                    self.ue[k] += ue
                    self.increments.append((self.cycle, k, ce, ue))

    def _drive(self, i, **values):
        for name, value in values.items():
            self.regs[i][name] = value
            self.reg(i, name.lower()).value = value

    async def _queue(self, kind, i, values):
        self._pending.append((kind, i, values))
        while self._pending:
            await RisingEdge(self.dut.clk)
        await ReadOnly()

    async def write_regs(self, i, **values):
        """A register write of BASE/SIZE/SWEEP_START/SWEEP_COUNT, as the register block
        performs it: at the first edge ``freeze`` does not hold it."""
        await self._queue("regs", i, values)

    async def refuse_power_off(self, i):
        """The register block refused a SLOT_CTRL.power_en write of agent ``i``."""
        await self._queue("power_refused", i, {})

    # ---- sweep engines ----------------------------------------------------------------

    async def _sweep_engine(self, i):
        """Copies ``_STEP`` lines a cycle from SWEEP_START, reports progress, ends with done (or
        failed at ``fail_at[i]``); ends ``cancel_delay[i]`` cycles after a cancel; holds
        while ``stall[i]``. With ``poison_en`` at its start, a line of ``bad_lines[i]``
        is copied as poison (a ``poison_valid`` pulse, progress passes it); without, the
        first one fails the sweep. Pulses ``inject_poison[i]`` lines whatever it does."""
        dut = self.dut
        job = None
        stopping = None            # cycles left until done, after a cancel
        drive = {}
        while True:
            await RisingEdge(dut.clk)
            for name in ("done", "failed", "progress_valid", "poison_valid"):
                self.sweep(i, name).value = drive.get(name, 0)
            for name in ("progress_end", "err_line", "poison_line"):
                if name in drive:
                    self.sweep(i, name).value = drive[name]
            drive = {}
            await ReadOnly()
            if int(self.sweep(i, "done").value):
                self.dones.append((self.cycle, i))
            if self.inject_poison[i]:
                drive.update(poison_valid=1, poison_line=self.inject_poison[i].pop(0))
            if int(self.sweep(i, "start").value):
                start, count = (int(self.sweep(i, "start_line").value),
                                int(self.sweep(i, "count").value))
                job = {"pos": start, "end": start + count,
                       "poison": int(self.sweep(i, "poison_en").value)}
                self.starts.append((self.cycle, i, start, count))
                continue
            if int(self.sweep(i, "cancel").value) and job is not None:
                self.cancels.append((self.cycle, i))
                job = None
                stopping = self.cancel_delay[i]
            if stopping is not None:
                if stopping == 0:
                    drive["done"] = 1
                    stopping = None
                else:
                    stopping -= 1
                continue
            if job is None or self.stall[i] or drive:
                continue
            pos, end = job["pos"], job["end"]
            step_end = min(pos + _STEP, end)
            bad = sorted(line for line in self.bad_lines[i] if pos <= line < step_end)
            fail = self.fail_at[i]
            if not (fail is not None and pos <= fail < step_end):
                fail = bad[0] if bad and not job["poison"] else None
            if fail is not None:
                drive = {"done": 1, "failed": 1, "err_line": fail}
                if fail > pos:
                    drive.update(progress_valid=1, progress_end=fail)
                job = None
            elif bad:
                job["pos"] = bad[0] + 1
                drive = {"poison_valid": 1, "poison_line": bad[0],
                         "progress_valid": 1, "progress_end": bad[0] + 1}
            elif pos >= end:
                drive = {"done": 1}
                job = None
            else:
                job["pos"] = step_end
                drive = {"progress_valid": 1, "progress_end": step_end}

    # ---- slots ------------------------------------------------------------------------

    async def set_slot(self, i, present, power_good, capacity_log2):
        """Change slot ``i`` at the next clock edge."""
        await self.set_slots({i: (present, power_good, capacity_log2)})

    async def set_slots(self, states):
        """Change the slots ``states`` names (index: (present, power_good, capacity_log2))
        at the next clock edge, all at once."""
        await RisingEdge(self.dut.clk)
        self.slot_state = [states.get(k, state) for k, state in enumerate(self.slot_state)]
        value = 0
        for k, (p, g, c) in enumerate(self.slot_state):
            value |= (p | g << 1 | c << 2) << (k * _SLOT_BITS)
        self.dut.slots.value = value

    async def power_all(self, capacity_log2=None):
        """Every slot present and powered; waits until every agent is IDLE."""
        for i in range(self.agents):
            await self.set_slot(i, 1, 1, capacity_log2 if capacity_log2 is not None
                          else self.max_capacity_log2)
        await self.wait_for(lambda: all(self.mode(i) == Mode.IDLE for i in range(self.agents)))
        self.expected.mode = [Mode.IDLE] * self.agents

    def capacity(self, i):
        present, _, clog2 = self.slot_state[i]
        return (1 << min(clog2, self.max_capacity_log2)) if present else 0

    # ---- observing --------------------------------------------------------------------

    def mode(self, i):
        return Mode(int(self.reg(i, "mode").value))

    def status(self, i):
        return {name: int(self.reg(i, name).value)
                for name in ("mode", "busy", "peer", "err", "swept", "swept_upto", "err_addr",
                             "capacity", "range_lock", "power_protect")}

    def route(self, i):
        word = int(self.dut.routes.value) >> (i * _ROUTE_BITS)
        out = {}
        for name in ("mode", "peer", "base", "size", "end"):
            offset, width = _field(ROUTE_LAYOUT, name)
            out[name] = (word >> offset) & ((1 << width) - 1)
        return out

    async def wait_for(self, condition, cycles=_TIMEOUT):
        for _ in range(cycles):
            await RisingEdge(self.dut.clk)
            await ReadOnly()
            if condition():
                return
        raise AssertionError(f"condition not reached in {cycles} cycles")

    def event_count(self, i, event):
        return sum(1 for _, ev in self.events[i] if ev & event)

    # ---- commands ---------------------------------------------------------------------

    async def command(self, i, op, peer=0, *, wait=True):
        """Write CMD of agent ``i``; with ``wait``, returns its err once ``busy`` is 0."""
        await self._queue("cmd_valid", i, {"op": op, "peer": peer})
        if wait:
            await self.wait_for(lambda: not int(self.reg(i, "busy").value))
            return Err(int(self.reg(i, "err").value))

    def expect(self, i, op, peer, busy=False):
        """The reference model's err for a command, from the TB's state."""
        return expected_error(i, op, peer, list(self.expected.mode), self.regs,
                              [self.capacity(k) for k in range(self.agents)],
                              self.expected.swept_upto[i], busy=busy,
                              line_addr_width=self.line_addr_width)

    def check_state(self):
        """Modes, peers, SWEPT_UPTO, ranges and routes are what :class:`Expected` says."""
        exp = self.expected
        for k in range(self.agents):
            s, r = self.status(k), self.route(k)
            mode = exp.mode[k]
            assert s["mode"] == mode, f"agent {k}: mode {Mode(s['mode']).name}, want {mode.name}"
            assert r["mode"] == mode and r["base"] == self.regs[k]["BASE"]
            assert r["size"] == self.regs[k]["SIZE"]
            if mode in (Mode.MIRROR_MASTER, Mode.MIRROR_SLAVE):
                assert s["peer"] == exp.peer[k] == r["peer"], f"agent {k}: peer {s['peer']}"
            if mode in (Mode.ACTIVE, Mode.MIRROR_MASTER):
                assert r["end"] == self.regs[k]["BASE"] + self.regs[k]["SIZE"]
            assert s["swept_upto"] == exp.swept_upto[k], (k, s["swept_upto"])
            assert s["swept"] == (exp.swept_upto[k] >= self.regs[k]["SIZE"])
            owns = mode in (Mode.ACTIVE, Mode.MIRROR_MASTER, Mode.MIRROR_SLAVE)
            assert s["range_lock"] == s["power_protect"] == owns
            assert s["capacity"] == self.capacity(k)

    async def run_checked(self, i, op, peer=0):
        """Issue a command, check its err against the model and every agent's state."""
        want = self.expect(i, op, peer)
        done_before = self.event_count(i, Event.CMD_DONE)
        got = await self.command(i, op, peer)
        assert got == want, f"agent {i} {op!r} peer {peer}: err {got.name}, want {want.name}"
        if want == Err.OK and op in {o.value for o in Op}:
            self.expected.apply(i, Op(op), peer, self.regs)
        self.expected.err[i] = want
        await ClockCycles(self.dut.clk, 1)
        await ReadOnly()
        self.check_state()
        assert self.event_count(i, Event.CMD_DONE) == done_before + 1, "one cmd_done"
        return got


async def make(dut):
    tb = ControllerTB(dut)
    await tb.reset()
    return tb


async def assign(tb, i, base, size):
    await tb.write_regs(i, BASE=base, SIZE=size)
    assert await tb.run_checked(i, Op.ASSIGN) == Err.OK


async def establish_pair(tb, master=0, slave=1, size=4 * A):
    await assign(tb, master, 0, size)
    assert await tb.run_checked(master, Op.ESTABLISH, slave) == Err.OK


@cocotb.test()
async def capacity_and_events_pass_through(dut):
    tb = await make(dut)
    assert all(tb.mode(i) == Mode.OFF for i in range(tb.agents))
    big = min(tb.max_capacity_log2 + 3, 31)
    for i in range(tb.agents):
        await tb.set_slot(i, 1, 0, big if i % 2 == 0 else 3)
    await ClockCycles(dut.clk, 4)
    await ReadOnly()
    for i in range(tb.agents):
        assert tb.status(i)["capacity"] == tb.capacity(i), "capacity clamped to the maximum"
        assert tb.mode(i) == Mode.OFF, "no power good: stays OFF"
    await RisingEdge(dut.clk)
    dut.ext_events.value = sum((Event.BUTTON | Event.POWER_FAULT) << (5 * i)
                               for i in range(tb.agents))
    await ReadOnly()
    for i in range(tb.agents):
        assert int(tb.reg(i, "event_set").value) == Event.BUTTON | Event.POWER_FAULT
    await RisingEdge(dut.clk)
    dut.ext_events.value = 0


@cocotb.test()
async def refused_opcodes_and_wrong_modes(dut):
    tb = await make(dut)
    await tb.power_all()
    for op in (0, 7, 8, 15):
        assert await tb.run_checked(0, op) == Err.BAD_OPCODE
    for op in (Op.ESTABLISH, Op.SWEEP, Op.RELEASE, Op.ABORT, Op.UNASSIGN):
        assert await tb.run_checked(0, op, 1 % tb.agents) in (Err.BAD_STATE,)
    await assign(tb, 0, 0, 2 * A)
    for op in (Op.ASSIGN, Op.SWEEP, Op.RELEASE, Op.ABORT):
        assert await tb.run_checked(0, op) == Err.BAD_STATE
    assert await tb.run_checked(0, Op.ESTABLISH, 0) == Err.BAD_PEER
    assert await tb.run_checked(0, Op.ESTABLISH, tb.agents) == Err.BAD_PEER
    assert await tb.run_checked(0, Op.UNASSIGN) == Err.OK


@cocotb.test()
async def refused_ranges(dut):
    tb = await make(dut)
    await tb.power_all()
    top = 1 << tb.line_addr_width
    cap = tb.capacity(0)
    for base, size in ((0, 0), (1, A), (0, A + 1), (0, cap + A), (top - A, 2 * A),
                       (0xFFFFFE00, A)):
        await tb.write_regs(0, BASE=base, SIZE=size)
        assert await tb.run_checked(0, Op.ASSIGN) == Err.BAD_RANGE, (base, size)
    await assign(tb, 0, top - A, A)           # ends exactly at the top: allowed
    if tb.agents > 1:
        await tb.write_regs(1, BASE=top - 2 * A, SIZE=2 * A)
        assert await tb.run_checked(1, Op.ASSIGN) == Err.OVERLAP
        await assign(tb, 1, top - 2 * A, A)   # adjacent: no overlap
        assert await tb.run_checked(1, Op.UNASSIGN) == Err.OK
        await tb.write_regs(1, BASE=top - 2 * A, SIZE=2 * A)
        assert await tb.run_checked(1, Op.ASSIGN) == Err.OVERLAP
        assert await tb.run_checked(0, Op.UNASSIGN) == Err.OK   # an IDLE range is no owner
        assert await tb.run_checked(1, Op.ASSIGN) == Err.OK


@cocotb.test()
async def busy_refuses_and_changes_nothing(dut):
    """A CMD write while busy: err BUSY (BAD_OPCODE for a bad opcode) and cmd_done at once,
    nothing else changes; the running command's end drops busy and raises cmd_done but
    leaves that err, so the refused command never reads back as OK."""
    tb = await make(dut)
    await tb.power_all()
    # a command that changes routes waits in EXEC for a quiet port, holding it, with
    # register writes open and its BASE/SIZE locked
    tb.quiet_pattern = itertools.repeat(0)
    await tb.write_regs(0, BASE=0, SIZE=A)
    await tb.command(0, Op.ASSIGN, wait=False)
    await ClockCycles(dut.clk, 8)
    await ReadOnly()
    assert int(dut.hold.value) == 1 and int(dut.freeze.value) == 0
    assert tb.status(0)["busy"] == 1 and tb.mode(0) == Mode.IDLE
    assert tb.status(0)["range_lock"] == 1 and tb.status(0)["power_protect"] == 0
    done = tb.event_count(0, Event.CMD_DONE)
    await tb.command(0, Op.UNASSIGN, wait=False)
    await ClockCycles(dut.clk, 2)
    await ReadOnly()
    assert tb.status(0)["err"] == Err.BUSY and tb.status(0)["busy"] == 1
    assert tb.event_count(0, Event.CMD_DONE) == done + 1
    assert tb.mode(0) == Mode.IDLE
    tb.quiet_pattern = itertools.repeat(1)
    await tb.wait_for(lambda: not int(tb.reg(0, "busy").value))
    await ClockCycles(dut.clk, 1)
    await ReadOnly()
    assert tb.mode(0) == Mode.ACTIVE, "the ASSIGN ran"
    assert tb.status(0)["err"] == Err.BUSY, "the refused UNASSIGN does not read back as OK"
    assert tb.event_count(0, Event.CMD_DONE) == done + 2
    tb.expected.mode[0] = Mode.ACTIVE
    if tb.agents < 2:
        return
    # refused while a sweep runs, by BUSY, by BAD_OPCODE and (power) by POWER
    assert await tb.run_checked(0, Op.ESTABLISH, 1) == Err.OK
    for op, want in ((Op.RELEASE, Err.BUSY), (Op.ABORT, Err.BUSY), (Op.SWEEP, Err.BUSY),
                     (9, Err.BAD_OPCODE), (None, Err.POWER)):
        tb.stall[0] = True
        await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=A)
        await tb.command(0, Op.SWEEP, wait=False)
        await tb.wait_for(lambda: int(tb.reg(0, "busy").value) and
                          any(a == 0 for _, a, _, _ in tb.starts))
        tb.starts.clear()
        done = tb.event_count(0, Event.CMD_DONE)
        if op is None:
            await tb.refuse_power_off(0)
        else:
            await tb.command(0, op, wait=False)
        await ClockCycles(dut.clk, 2)
        await ReadOnly()
        assert tb.status(0)["err"] == want and tb.status(0)["busy"] == 1, (op, tb.status(0))
        assert tb.event_count(0, Event.CMD_DONE) == done + 1
        assert tb.mode(0) == Mode.MIRROR_MASTER and tb.mode(1) == Mode.MIRROR_SLAVE
        tb.stall[0] = False
        await tb.wait_for(lambda: not int(tb.reg(0, "busy").value))
        await ClockCycles(dut.clk, 1)
        await ReadOnly()
        assert tb.event_count(0, Event.CMD_DONE) == done + 2, "the SWEEP's own cmd_done"
        s = tb.status(0)
        assert s["err"] == want, f"after the SWEEP that {want.name} refused into: {s}"
        assert s["swept_upto"] == A and tb.mode(0) == Mode.MIRROR_MASTER
    # the next accepted command's outcome replaces it
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=A)
    assert await tb.command(0, Op.SWEEP) == Err.OK


@cocotb.test()
async def command_waits_for_quiet_and_freezes(dut):
    """A command that changes routes holds the port only in EXEC, for the drain and one
    cycle more; freeze covers the three checks and EXEC."""
    tb = await make(dut)
    await tb.power_all()
    for pattern, want_hold in (([1], 2), ([0] * 7 + [1], None)):
        tb.quiet_pattern = itertools.cycle(pattern)
        await tb.write_regs(0, BASE=0, SIZE=A)
        frozen, held = tb.freeze_cycles, tb.hold_cycles
        assert await tb.run_checked(0, Op.ASSIGN) == Err.OK
        held = tb.hold_cycles - held
        assert tb.freeze_cycles - frozen == 4, "freeze in the checks and EXEC's last cycle"
        if want_hold is not None:
            assert held == want_hold, f"quiet port: held {held} cycles"
        else:
            assert 2 <= held <= 2 + len(pattern), f"held {held} cycles"
        await RisingEdge(dut.clk)
        await ReadOnly()
        assert int(dut.hold.value) == 0
        assert await tb.run_checked(0, Op.UNASSIGN) == Err.OK


@cocotb.test()
async def sweep_and_refusals_never_hold(dut):
    """SWEEP (it changes no route) and a refused command never raise ``hold``, even with
    a host port that never drains."""
    tb = await make(dut)
    await tb.power_all()
    if tb.agents < 2:
        return
    await establish_pair(tb, size=4 * A)
    tb.quiet_pattern = itertools.repeat(0)
    held = tb.hold_cycles
    for start in range(0, 4 * A, A):      # SWEEP in chunks, each chunk's start
        await tb.write_regs(0, SWEEP_START=start, SWEEP_COUNT=A)
        assert await tb.run_checked(0, Op.SWEEP) == Err.OK
    assert await tb.run_checked(0, Op.ASSIGN) == Err.BAD_STATE
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=0)
    assert await tb.run_checked(0, Op.SWEEP) == Err.BAD_RANGE
    assert tb.hold_cycles == held, f"held {tb.hold_cycles - held} cycles"
    # RELEASE changes routes: it waits for the port
    await tb.command(0, Op.RELEASE, wait=False)
    await ClockCycles(dut.clk, 10)
    await ReadOnly()
    assert int(dut.hold.value) == 1 and tb.mode(0) == Mode.MIRROR_MASTER
    tb.quiet_pattern = itertools.repeat(1)
    await tb.wait_for(lambda: not int(tb.reg(0, "busy").value))
    assert tb.status(0)["err"] == Err.OK and tb.mode(1) == Mode.ACTIVE


async def _drained_by(tb, i, op, peer, blocking, clear):
    """Runs ``op`` of agent ``i`` with the port never ``quiet``: while ``pending`` is
    ``blocking`` it holds the port and changes nothing; once it is ``clear``, it runs."""
    dut = tb.dut
    before = tb.status(i)["mode"]
    await RisingEdge(dut.clk)
    dut.pending.value = blocking
    await tb.command(i, op, peer, wait=False)
    await ClockCycles(dut.clk, 12)
    await ReadOnly()
    assert int(dut.hold.value) == 1, f"{op!r} waits for pending {blocking:#x}"
    assert tb.status(i)["busy"] == 1 and tb.status(i)["mode"] == before
    await RisingEdge(dut.clk)
    dut.pending.value = clear
    await tb.wait_for(lambda: not int(tb.reg(i, "busy").value))
    assert tb.status(i)["err"] == Err.OK
    tb.expected.apply(i, op, peer, tb.regs)
    tb.expected.err[i] = Err.OK
    await ClockCycles(dut.clk, 1)
    await ReadOnly()
    tb.check_state()


async def _not_drained_by(tb, i, op, peer, pending):
    """Runs ``op`` of agent ``i`` with the port never ``quiet`` and ``pending`` at other
    agents only: it holds the port 2 cycles, as with a quiet port."""
    await RisingEdge(tb.dut.clk)
    tb.dut.pending.value = pending
    held = tb.hold_cycles
    assert await tb.run_checked(i, op, peer) == Err.OK
    assert tb.hold_cycles - held == 2, f"{op!r}: held {tb.hold_cycles - held} cycles"


@cocotb.test()
async def drain_waits_only_for_the_agents_it_changes(dut):
    """With bursts always in flight (``quiet`` never set), a command that changes routes
    waits only until none is ``pending`` at the agents it changes: ASSIGN and UNASSIGN
    their own, ESTABLISH its own and the new slave, RELEASE and ABORT the master and its
    slave; bursts at any other agent do not hold it up."""
    tb = await make(dut)
    await tb.power_all()
    if tb.agents < 3:
        return
    tb.quiet_pattern = itertools.repeat(0)
    await tb.write_regs(0, BASE=0, SIZE=A)
    await _drained_by(tb, 0, Op.ASSIGN, 0, blocking=0b001, clear=0b110)
    await _drained_by(tb, 0, Op.ESTABLISH, 1, blocking=0b010, clear=0b100)
    await _drained_by(tb, 0, Op.ABORT, 0, blocking=0b010, clear=0b100)
    await _not_drained_by(tb, 0, Op.ESTABLISH, 1, pending=0b100)
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=A)
    assert await tb.run_checked(0, Op.SWEEP) == Err.OK
    await _drained_by(tb, 0, Op.RELEASE, 0, blocking=0b001, clear=0b100)
    assert tb.mode(0) == Mode.IDLE and tb.mode(1) == Mode.ACTIVE
    await _drained_by(tb, 1, Op.UNASSIGN, 0, blocking=0b010, clear=0b101)
    await _not_drained_by(tb, 1, Op.ASSIGN, 0, pending=0b101)
    # ``quiet`` alone still ends any drain
    await RisingEdge(dut.clk)
    dut.pending.value = 0b111
    tb.quiet_pattern = itertools.repeat(1)
    assert await tb.run_checked(1, Op.UNASSIGN) == Err.OK


@cocotb.test()
async def forwarded_write_failure_during_the_drain(dut):
    """A forwarded write that fails after RELEASE's checks, while EXEC drains the port:
    SWEPT_UPTO is cleared, and RELEASE answers NOT_SWEPT and changes nothing."""
    tb = await make(dut)
    await tb.power_all()
    if tb.agents < 2:
        return
    await establish_pair(tb, size=A)
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=A)
    assert await tb.run_checked(0, Op.SWEEP) == Err.OK
    tb.quiet_pattern = itertools.repeat(0)
    await tb.command(0, Op.RELEASE, wait=False)
    await tb.wait_for(lambda: int(dut.hold.value))
    await RisingEdge(dut.clk)
    dut.fwd_err_valid.value, dut.fwd_err_agent.value, dut.fwd_err_line.value = 1, 0, 5
    await RisingEdge(dut.clk)
    dut.fwd_err_valid.value = 0
    tb.quiet_pattern = itertools.repeat(1)
    await tb.wait_for(lambda: not int(tb.reg(0, "busy").value))
    s = tb.status(0)
    assert s["err"] == Err.NOT_SWEPT and s["swept_upto"] == 0 and s["err_addr"] == 5
    assert tb.mode(0) == Mode.MIRROR_MASTER and tb.mode(1) == Mode.MIRROR_SLAVE
    # the same failure reported in the last cycle before the port is quiet (a report
    # comes while its burst is in flight): the latest it can come
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=A)
    assert await tb.command(0, Op.SWEEP) == Err.OK
    tb.quiet_pattern = itertools.repeat(0)
    await tb.command(0, Op.RELEASE, wait=False)
    await tb.wait_for(lambda: int(dut.hold.value))
    await RisingEdge(dut.clk)
    # one more 0 at whichever edge draws next, then quiet: 0 in the report's cycle
    tb.quiet_pattern = itertools.chain([0], itertools.repeat(1))
    dut.fwd_err_valid.value, dut.fwd_err_agent.value, dut.fwd_err_line.value = 1, 0, 6
    await RisingEdge(dut.clk)
    dut.fwd_err_valid.value = 0
    await tb.wait_for(lambda: not int(tb.reg(0, "busy").value))
    s = tb.status(0)
    assert s["err"] == Err.NOT_SWEPT and s["swept_upto"] == 0 and s["err_addr"] == 6
    assert tb.mode(0) == Mode.MIRROR_MASTER


@cocotb.test()
async def queued_commands_are_served_round_robin(dut):
    """Commands queued on several agents at once are served in turn after the agent
    served last, not lowest index first."""
    tb = await make(dut)
    await tb.power_all()
    if tb.agents < 3:
        return
    n = tb.agents
    for i in range(n):
        await tb.write_regs(i, BASE=i * A, SIZE=A)
    order = []

    async def watch():
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            for i in range(n):
                if int(tb.reg(i, "event_set").value) & Event.CMD_DONE:
                    order.append(i)

    watcher = cocotb.start_soon(watch())
    # agent 1 first, then every agent at once (as the controller's ports allow: one
    # cmd_valid per agent in the same cycle) while agent 1's command runs
    await tb.command(1, Op.ASSIGN, wait=False)
    await RisingEdge(dut.clk)
    for i in range(n):
        if i != 1:
            tb.reg(i, "cmd_valid").value = 1
            tb.reg(i, "cmd_opcode").value = Op.ASSIGN
            tb.reg(i, "cmd_peer").value = 0
    await RisingEdge(dut.clk)
    for i in range(n):
        tb.reg(i, "cmd_valid").value = 0
    await tb.wait_for(lambda: len(order) == n)
    watcher.cancel()
    want = [1] + [(1 + k) % n for k in range(1, n)]
    assert order == want, f"served {order}, want {want}"
    for i in range(n):
        assert tb.mode(i) == Mode.ACTIVE and tb.status(i)["err"] == Err.OK


@cocotb.test()
async def sweep_bookkeeping(dut):
    tb = await make(dut)
    await tb.power_all()
    if tb.agents < 2:
        return
    await establish_pair(tb, size=4 * A)
    await tb.write_regs(0, SWEEP_START=A, SWEEP_COUNT=A)
    assert await tb.run_checked(0, Op.SWEEP) == Err.BAD_RANGE    # starts past SWEPT_UPTO
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=5 * A)
    assert await tb.run_checked(0, Op.SWEEP) == Err.BAD_RANGE    # past SIZE
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=0)
    assert await tb.run_checked(0, Op.SWEEP) == Err.BAD_RANGE    # empty
    assert await tb.run_checked(0, Op.RELEASE) == Err.NOT_SWEPT
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=2 * A)
    assert await tb.run_checked(0, Op.SWEEP) == Err.OK
    assert tb.starts[-1][1:] == (0, 0, 2 * A)
    # a read error: MEM_ERROR, ERR_ADDR, SWEPT_UPTO stops before the failing line
    tb.fail_at[0] = 3 * A + 5
    mem_errors = tb.event_count(0, Event.MEM_ERROR)
    await tb.write_regs(0, SWEEP_START=2 * A, SWEEP_COUNT=2 * A)
    assert await tb.command(0, Op.SWEEP) == Err.MEM_ERROR
    s = tb.status(0)
    assert s["err_addr"] == 3 * A + 5 and s["swept_upto"] == 3 * A + 5
    assert tb.event_count(0, Event.MEM_ERROR) == mem_errors + 1
    tb.expected.swept_upto[0] = 3 * A + 5
    tb.fail_at[0] = None
    # a failed forwarded write: SWEPT_UPTO 0 and no more progress for the rest of the sweep
    tb.stall[0] = True
    await tb.write_regs(0, SWEEP_START=3 * A, SWEEP_COUNT=A)
    await tb.command(0, Op.SWEEP, wait=False)
    await tb.wait_for(lambda: tb.starts[-1][2] == 3 * A)
    await RisingEdge(dut.clk)
    dut.fwd_err_valid.value, dut.fwd_err_agent.value, dut.fwd_err_line.value = 1, 0, 77
    await RisingEdge(dut.clk)
    dut.fwd_err_valid.value = 0
    tb.stall[0] = False
    assert await tb.command(0, Op.SWEEP, wait=False) is None    # refused BUSY meanwhile
    await tb.wait_for(lambda: not int(tb.reg(0, "busy").value))
    s = tb.status(0)
    assert s["err"] == Err.BUSY, "the refusal's err outlives the SWEEP it refused into"
    assert s["swept_upto"] == 0 and s["err_addr"] == 77
    assert tb.event_count(0, Event.MEM_ERROR) == mem_errors + 2
    tb.expected.swept_upto[0] = 0
    # host read and write errors set ERR_ADDR and the event, nothing else
    for rep, line in (("rd_err", 0x123), ("wr_err", 0x456)):
        await RisingEdge(dut.clk)
        for name, value in (("valid", 1), ("agent", 1), ("line", line)):
            getattr(dut, f"{rep}_{name}").value = value
        await RisingEdge(dut.clk)
        getattr(dut, f"{rep}_valid").value = 0
        await ClockCycles(dut.clk, 3)
        await ReadOnly()
        assert tb.status(1)["err_addr"] == line
    assert tb.event_count(1, Event.MEM_ERROR) == 2
    # the whole range, then RELEASE: the slave takes the range and becomes ACTIVE
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=4 * A)
    assert await tb.run_checked(0, Op.SWEEP) == Err.OK
    assert tb.status(0)["swept"] == 1
    assert await tb.run_checked(0, Op.RELEASE) == Err.OK
    assert tb.mode(1) == Mode.ACTIVE and tb.route(1)["base"] == 0
    assert tb.route(1)["end"] == 4 * A


@cocotb.test()
async def power_step(dut):
    tb = await make(dut)
    await tb.set_slot(0, 1, 1, 4)
    await tb.wait_for(lambda: tb.mode(0) == Mode.IDLE)
    await tb.set_slot(0, 1, 0, 4)
    await tb.wait_for(lambda: tb.mode(0) == Mode.OFF)
    await tb.power_all()
    # SLOT_CTRL.power_en refused by the register block: err POWER and cmd_done
    done = tb.event_count(0, Event.CMD_DONE)
    await tb.refuse_power_off(0)
    await ClockCycles(dut.clk, 1)
    await ReadOnly()
    assert tb.status(0)["err"] == Err.POWER
    assert tb.event_count(0, Event.CMD_DONE) == done + 1
    if tb.agents < 2:
        return
    # a slave that loses power aborts its pair and cancels the sweep: err POWER
    await establish_pair(tb, size=4 * A)
    tb.stall[0] = True
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=4 * A)
    await tb.command(0, Op.SWEEP, wait=False)
    await tb.wait_for(lambda: any(a == 0 for _, a, _, _ in tb.starts))
    await tb.set_slot(1, 0, 0, 0)
    await tb.wait_for(lambda: not int(tb.reg(0, "busy").value))
    assert tb.cancels and tb.cancels[-1][1] == 0
    s = tb.status(0)
    assert s["err"] == Err.POWER and s["mode"] == Mode.ACTIVE and s["swept_upto"] == 0
    await tb.wait_for(lambda: tb.mode(1) == Mode.OFF)
    tb.stall[0] = False
    # a master that loses power frees its slave
    await tb.set_slot(1, 1, 1, tb.max_capacity_log2)
    await tb.wait_for(lambda: tb.mode(1) == Mode.IDLE)
    tb.expected.mode[1] = Mode.IDLE
    tb.expected.mode[0] = Mode.ACTIVE
    tb.expected.swept_upto[0] = 0
    assert await tb.run_checked(0, Op.ESTABLISH, 1) == Err.OK
    await tb.set_slot(0, 0, 1, 0)
    await tb.wait_for(lambda: tb.mode(0) == Mode.OFF and tb.mode(1) == Mode.IDLE)
    await ClockCycles(dut.clk, 5)
    await ReadOnly()
    assert tb.mode(1) == Mode.IDLE and tb.route(0)["mode"] == Mode.OFF


async def report(tb, rep, agent, line, corrected=0, poison=None):
    """One cycle of ``rep`` (fwd_err, wr_err, rd_err); with ``poison``, agent ``agent``'s
    sweep engine pulses that poison line a cycle later, the cycle the controller sees the
    report (it registers reports)."""
    dut = tb.dut
    await RisingEdge(dut.clk)
    for name, value in (("valid", 1), ("agent", agent), ("line", line),
                        ("corrected", corrected)):
        getattr(dut, f"{rep}_{name}").value = value
    if poison is not None:
        tb.inject_poison[agent].append(poison)
    await RisingEdge(dut.clk)
    getattr(dut, f"{rep}_valid").value = 0
    await ClockCycles(dut.clk, 3)
    await ReadOnly()


def adopt_state(tb):
    """Take the controller's modes, peers and SWEPT_UPTO as expected (after power events,
    which the reference model of commands does not cover)."""
    for k in range(tb.agents):
        s = tb.status(k)
        tb.expected.mode[k] = Mode(s["mode"])
        tb.expected.peer[k] = s["peer"]
        tb.expected.swept_upto[k] = s["swept_upto"]


async def set_ras_ctrl(tb, i, value):
    """RAS_CTRL of agent ``i`` as the register block shows it to the controller, from the
    next clock edge."""
    await RisingEdge(tb.dut.clk)
    tb.reg(i, "ras_ctrl").value = value


async def swept_pair(tb, master=0, slave=1, size=4 * A):
    """``master`` MIRROR_MASTER of [0, size) with ``slave``, swept whole."""
    await tb.write_regs(master, BASE=0, SIZE=size)
    assert await tb.run_checked(master, Op.ASSIGN) == Err.OK
    assert await tb.run_checked(master, Op.ESTABLISH, slave) == Err.OK
    await tb.write_regs(master, SWEEP_START=0, SWEEP_COUNT=size)
    assert await tb.run_checked(master, Op.SWEEP) == Err.OK
    assert tb.status(master)["swept"] == 1
    assert tb.regs[slave]["BASE"] == 0 and tb.regs[slave]["SIZE"] == size, \
        "ESTABLISH gave the slave its master's range"


@cocotb.test()
async def error_reports_count_and_raise_events(dut):
    """A corrected host read report counts in CE_COUNT and raises ``corrected``; an
    uncorrected one counts in UE_COUNT and raises ``mem_error``; both set ERR_ADDR. A host
    write error is not counted. A read report and a poison line in one cycle add 2."""
    tb = await make(dut)
    await tb.power_all()
    i = tb.agents - 1
    await report(tb, "rd_err", i, 0x40, corrected=1)
    assert (tb.ce[i], tb.ue[i]) == (1, 0)
    assert tb.status(i)["err_addr"] == 0x40
    assert tb.event_count(i, Event.CORRECTED) == 1
    assert tb.event_count(i, Event.MEM_ERROR) == 0
    await report(tb, "rd_err", i, 0x41)
    assert (tb.ce[i], tb.ue[i]) == (1, 1)
    assert tb.status(i)["err_addr"] == 0x41
    assert tb.event_count(i, Event.CORRECTED) == 1
    assert tb.event_count(i, Event.MEM_ERROR) == 1
    await report(tb, "wr_err", i, 0x42)
    assert (tb.ce[i], tb.ue[i]) == (1, 1), "write errors are not counted"
    assert tb.status(i)["err_addr"] == 0x42 and tb.event_count(i, Event.MEM_ERROR) == 2
    # an uncorrected read and a poison line in the same cycle: UE_COUNT + 2 at once
    await report(tb, "rd_err", i, 0x43, poison=0x99)
    assert tb.increments[-1][1:] == (i, 0, 2), tb.increments[-3:]
    # a corrected read and a poison line: one each, in the same cycle
    await report(tb, "rd_err", i, 0x44, corrected=1, poison=0x9A)
    assert tb.increments[-1][1:] == (i, 1, 1), tb.increments[-3:]
    assert (tb.ce[i], tb.ue[i]) == (2, 4)
    assert all(k == i for _, k, _, _ in tb.increments), "only the named agent counts"
    assert all(tb.event_count(k, Event.CORRECTED | Event.MEM_ERROR) == 0
               for k in range(tb.agents) if k != i)


@cocotb.test()
async def poison_copy(dut):
    """``poison_en`` follows RAS_CTRL[1]; a SWEEP that copies lines as poison ends OK past
    them, counts each in UE_COUNT, and puts its first one in ERR_ADDR with one
    ``mem_error``; the next SWEEP reports its own first one."""
    tb = await make(dut)
    for i in range(tb.agents):
        for value, want in ((2, 1), (1, 0), (3, 1), (0, 0)):
            await set_ras_ctrl(tb, i, value)
            await ReadOnly()
            assert int(tb.sweep(i, "poison_en").value) == want, (i, value)
    await tb.power_all()
    if tb.agents < 2:
        return
    await establish_pair(tb, size=4 * A)
    await set_ras_ctrl(tb, 0, 2)
    tb.bad_lines[0] = {5, A + 3, 3 * A + 7}
    mem_errors = tb.event_count(0, Event.MEM_ERROR)
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=4 * A)
    assert await tb.command(0, Op.SWEEP) == Err.OK
    s = tb.status(0)
    assert s["swept_upto"] == 4 * A and s["swept"] == 1
    assert s["err_addr"] == 5, "the SWEEP's first poisoned line"
    assert tb.event_count(0, Event.MEM_ERROR) == mem_errors + 1, "one mem_error per SWEEP"
    assert (tb.ce[0], tb.ue[0]) == (0, 3)
    # the next SWEEP: its own first poisoned line and mem_error
    tb.bad_lines[0] = {A + 3, 3 * A + 7}
    assert await tb.command(0, Op.SWEEP) == Err.OK
    assert tb.status(0)["err_addr"] == A + 3
    assert tb.event_count(0, Event.MEM_ERROR) == mem_errors + 2
    assert tb.ue[0] == 5
    # poison_en clear at the start: the first bad line stops the SWEEP (MEM_ERROR)
    await set_ras_ctrl(tb, 0, 1)
    await tb.write_regs(0, SWEEP_START=A, SWEEP_COUNT=3 * A)
    assert await tb.command(0, Op.SWEEP) == Err.MEM_ERROR
    assert tb.status(0)["err_addr"] == A + 3 and tb.ue[0] == 5
    assert tb.event_count(0, Event.MEM_ERROR) == mem_errors + 3


async def fail_slot(tb, i):
    """Take slot ``i``'s module out; returns the first cycle any agent's mode changed."""
    before = [tb.mode(k) for k in range(tb.agents)]
    await tb.set_slot(i, 0, 1, tb.slot_state[i][2])
    await tb.wait_for(lambda: [tb.mode(k) for k in range(tb.agents)] != before)
    return tb.cycle


async def restore_slot(tb, i):
    await tb.set_slot(i, 1, 1, tb.max_capacity_log2)
    await tb.wait_for(lambda: tb.mode(i) == Mode.IDLE)


@cocotb.test()
async def master_failover(dut):
    """A swept master with failover_en that loses its module: in one cycle its slave is
    ACTIVE with the range and it is OFF, and its ``failover`` event is raised."""
    tb = await make(dut)
    await tb.power_all()
    if tb.agents < 2:
        return
    master, slave = tb.agents - 1, 0      # not the lowest first: peers are not ordered
    await swept_pair(tb, master, slave)
    await set_ras_ctrl(tb, master, 1)
    await set_ras_ctrl(tb, slave, 3)            # a slave's bits have no effect
    changed = await fail_slot(tb, master)
    assert tb.mode(master) == Mode.OFF and tb.mode(slave) == Mode.ACTIVE, "in the same cycle"
    r = tb.route(slave)
    assert (r["mode"], r["base"], r["size"], r["end"]) == (Mode.ACTIVE, 0, 4 * A, 4 * A)
    assert tb.route(master)["mode"] == Mode.OFF
    s = tb.status(slave)
    assert s["busy"] == 0 and s["range_lock"] == 1 and s["power_protect"] == 1
    assert tb.status(master)["range_lock"] == 0
    raised = [cycle for cycle, ev in tb.events[master] if ev & Event.FAILOVER]
    assert raised == [changed - 1], f"failover event at {raised}, modes changed at {changed}"
    assert tb.event_count(slave, Event.FAILOVER) == 0
    assert tb.event_count(master, Event.MEM_ERROR) == 0
    assert not tb.cancels, "no sweep ran"
    await ClockCycles(dut.clk, 5)
    await ReadOnly()
    assert tb.mode(slave) == Mode.ACTIVE and tb.event_count(master, Event.FAILOVER) == 1
    # the new owner is a plain ACTIVE agent: the module plugged back is its next mirror
    await restore_slot(tb, master)
    adopt_state(tb)
    assert await tb.run_checked(slave, Op.ESTABLISH, master) == Err.OK


@cocotb.test()
async def master_failover_waits_for_its_sweep(dut):
    """A sweep running on a pair that fails over is cancelled at once (err POWER); the
    slave takes the range only once the sweep engine is done."""
    tb = await make(dut)
    await tb.power_all()
    if tb.agents < 2:
        return
    await swept_pair(tb)
    await set_ras_ctrl(tb, 0, 1)
    tb.stall[0] = True
    tb.cancel_delay[0] = 12
    await tb.command(0, Op.SWEEP, wait=False)        # a second pass, SWEEP_START 0
    await tb.wait_for(lambda: len(tb.starts) == 2)
    changed = await fail_slot(tb, 0)
    assert len(tb.cancels) == 1, tb.cancels
    done = [cycle for cycle, k in tb.dones if k == 0][-1]
    assert tb.cancels[0][0] < done < changed, (tb.cancels, done, changed)
    assert tb.mode(0) == Mode.OFF and tb.mode(1) == Mode.ACTIVE
    s = tb.status(0)
    assert s["err"] == Err.POWER and s["busy"] == 0
    assert tb.event_count(0, Event.FAILOVER) == 1


@cocotb.test()
async def no_failover_without_failover_en_or_sweep(dut):
    """Without failover_en, before the pair is swept, or when the slave is the one lost,
    power loss does what it does without RAS: the master's range becomes unowned (slave
    IDLE), or the master is ACTIVE again."""
    tb = await make(dut)
    await tb.power_all()
    if tb.agents < 2:
        return

    def no_owner():
        return all(tb.route(k)["mode"] not in (Mode.ACTIVE, Mode.MIRROR_MASTER)
                   for k in range(tb.agents))

    # failover_en clear (poison_en set: a different bit)
    await swept_pair(tb)
    await set_ras_ctrl(tb, 0, 2)
    await fail_slot(tb, 0)
    await ClockCycles(dut.clk, 3)
    await ReadOnly()
    assert tb.mode(0) == Mode.OFF and tb.mode(1) == Mode.IDLE and no_owner()
    await restore_slot(tb, 0)
    adopt_state(tb)
    # failover_en set, not swept
    await set_ras_ctrl(tb, 0, 1)
    await tb.write_regs(0, BASE=0, SIZE=4 * A)
    assert await tb.run_checked(0, Op.ASSIGN) == Err.OK
    assert await tb.run_checked(0, Op.ESTABLISH, 1) == Err.OK
    await tb.write_regs(0, SWEEP_START=0, SWEEP_COUNT=4 * A - 1)
    assert await tb.run_checked(0, Op.SWEEP) == Err.OK
    assert tb.status(0)["swept"] == 0
    await fail_slot(tb, 0)
    await ClockCycles(dut.clk, 3)
    await ReadOnly()
    assert tb.mode(0) == Mode.OFF and tb.mode(1) == Mode.IDLE and no_owner()
    await restore_slot(tb, 0)
    adopt_state(tb)
    # failover_en set on both, swept, and the slave is lost: the master is ACTIVE again
    await set_ras_ctrl(tb, 1, 1)
    await swept_pair(tb)
    await fail_slot(tb, 1)
    await ClockCycles(dut.clk, 3)
    await ReadOnly()
    assert tb.mode(0) == Mode.ACTIVE and tb.mode(1) == Mode.OFF
    assert tb.status(0)["swept_upto"] == 0 and tb.route(0)["mode"] == Mode.ACTIVE
    await restore_slot(tb, 1)
    adopt_state(tb)
    assert await tb.run_checked(0, Op.UNASSIGN) == Err.OK
    # both modules lost in the same cycle: nothing to fail over to
    await swept_pair(tb)
    await tb.set_slots({0: (0, 1, tb.max_capacity_log2), 1: (0, 1, tb.max_capacity_log2)})
    await tb.wait_for(lambda: tb.mode(0) == Mode.OFF and tb.mode(1) == Mode.OFF)
    await ClockCycles(dut.clk, 3)
    await ReadOnly()
    assert tb.mode(0) == Mode.OFF and tb.mode(1) == Mode.OFF and no_owner()
    assert all(tb.event_count(k, Event.FAILOVER) == 0 for k in range(tb.agents))


@cocotb.test()
async def failover_vetoed_at_the_last_moment(dut):
    """A failed forwarded write reported as the master is lost, or failover_en cleared in
    the cycle the failover would apply: the slave goes back to IDLE instead (so no write
    the slave lacks was answered OKAY; see ``MirrorController._step_power``)."""
    tb = await make(dut)
    await tb.power_all()
    if tb.agents < 2:
        return
    for veto in ("fwd_err", "failover_en"):
        await swept_pair(tb)
        await set_ras_ctrl(tb, 0, 1)
        await ClockCycles(dut.clk, 2)
        await tb.set_slot(0, 0, 1, tb.slot_state[0][2])    # slot state changes in cycle D
        if veto == "fwd_err":
            dut.fwd_err_valid.value, dut.fwd_err_agent.value, dut.fwd_err_line.value = 1, 0, 9
            await RisingEdge(dut.clk)
            dut.fwd_err_valid.value = 0
        else:
            # registered in D+1, decided in D+1, applied in D+2: cleared from D+2 on
            await RisingEdge(dut.clk)
            await set_ras_ctrl(tb, 0, 0)
        await tb.wait_for(lambda: tb.mode(0) == Mode.OFF)
        await ClockCycles(dut.clk, 3)
        await ReadOnly()
        assert tb.mode(1) == Mode.IDLE, veto
        assert tb.event_count(0, Event.FAILOVER) == 0, veto
        await restore_slot(tb, 0)
        adopt_state(tb)


_LEGAL = {Mode.IDLE: [Op.ASSIGN], Mode.ACTIVE: [Op.ESTABLISH, Op.ESTABLISH, Op.UNASSIGN],
          Mode.MIRROR_MASTER: [Op.SWEEP, Op.SWEEP, Op.RELEASE, Op.ABORT]}


@cocotb.test()
async def random_commands_follow_the_model(dut):
    tb = await make(dut)
    rng = tb.rng
    for i in range(tb.agents):
        await tb.set_slot(i, 1, 1, rng.choice([tb.max_capacity_log2, tb.max_capacity_log2 - 1,
                                          tb.max_capacity_log2 + 2, 9]))
    await tb.wait_for(lambda: all(tb.mode(i) == Mode.IDLE for i in range(tb.agents)))
    tb.expected.mode = [Mode.IDLE] * tb.agents
    top = 1 << tb.line_addr_width
    bases = [0, A, 2 * A, 4 * A, top - A, top - 2 * A, A + 8]
    sizes = [A, 2 * A, 3 * A, 0, A + 8, 1 << tb.max_capacity_log2]
    tb.quiet_pattern = (rng.random() < 0.7 for _ in itertools.count())
    ops = [o.value for o in Op]
    outcomes = {}
    for _ in range(150):
        i = rng.randrange(tb.agents)
        mode = tb.expected.mode[i]
        if mode == Mode.IDLE and rng.random() < 0.7:
            await tb.write_regs(i, BASE=rng.choice(bases), SIZE=rng.choice(sizes))
        if mode == Mode.MIRROR_MASTER and rng.random() < 0.7:
            upto, size = tb.expected.swept_upto[i], tb.regs[i]["SIZE"]
            start = rng.choice([0, upto, upto + 1, size])
            await tb.write_regs(i, SWEEP_START=start,
                                SWEEP_COUNT=rng.choice([size - start, A, 0, size + 1]) % (1 << 32))
        if rng.random() < 0.6:      # mostly a command the mode allows, to get somewhere
            op = rng.choice(_LEGAL.get(mode, ops))
        else:
            op = rng.choice(ops + [0, 9])
        got = await tb.run_checked(i, op, rng.randrange(tb.agents + 1))
        outcomes[got] = outcomes.get(got, 0) + 1
    tb.dut._log.info("errors seen: %s", {Err(k).name: v for k, v in outcomes.items()})
    assert outcomes.get(Err.OK, 0) > 10 and len(outcomes) >= 4


# ---- pytest --------------------------------------------------------------------------

CONFIGS = [
    {"agents": 1, "max_capacity_log2": 10, "line_addr_width": 16},
    {"agents": 2, "max_capacity_log2": 12, "line_addr_width": 20},
    {"agents": 4, "max_capacity_log2": 16, "line_addr_width": 29},
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"agents{c['agents']}")
def test_controller(config):
    run_tests(__file__, "mirror_controller", component=MirrorController(**config),
              params=dict(config, seed=config["agents"]))


@pytest.mark.parametrize("kwargs, message", [
    ({"agents": 0, "max_capacity_log2": 16, "line_addr_width": 29},
     "Agent count must be an integer from 1 to 16, not 0"),
    ({"agents": 17, "max_capacity_log2": 16, "line_addr_width": 29},
     "Agent count must be an integer from 1 to 16, not 17"),
    ({"agents": 2, "max_capacity_log2": 32, "line_addr_width": 29},
     "Maximum capacity log2 must be an integer from 0 to 31, not 32"),
    ({"agents": 2, "max_capacity_log2": 16, "line_addr_width": 33},
     "Line address width must be an integer from 1 to 32, not 33"),
    ({"agents": 2, "max_capacity_log2": 16, "line_addr_width": "29"},
     "Line address width must be an integer from 1 to 32, not '29'"),
])
def test_controller_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError) as info:
        MirrorController(**kwargs)
    assert str(info.value) == message
