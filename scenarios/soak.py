"""Soak: random traffic, migrations back and forth, hot swaps, injected faults, RAS
(lines going bad, poison copy, read and master failover), coverage.

As a cocotb test module (``soak``) it reads MS_SEED, MS_EPISODES, MS_LINES, MS_LOAD,
MS_WORKERS, MS_POLL, MS_FAULTS (a comma-separated list of fault kinds: every episode is
one of them, in turn) and MS_SUMMARY (a file to write the summary to; the numbers and
coverage bins go next to it as ``.json``). As a program it is ``make soak``:

    python -m mirrorswap.scenarios.soak [--seed N | --seeds 11-18 --jobs 2]
        [--minutes M | --episodes E] [--sim verilator] [--load L] [--workers W] [--poll P]

Every random choice comes from the seed, and the number of episodes from MINUTES (or
EPISODES), so a run reproduces exactly from its numbers and options (the simulator
included). Several seeds run as separate processes, each
in its own folder under ``build/sim/soak_seeds/``, and their totals are added up.
"""

import argparse
import hashlib
import json
import os
import random
import sys
from pathlib import Path

import cocotb
from cocotb.triggers import RisingEdge
from cocotb_coverage.coverage import CoverCross, CoverPoint, coverage_db, coverage_section

from mirrorswap.firmware.bios import Bios
from mirrorswap.geometry import DATA_WIDTHS
from mirrorswap.firmware.errors import CommandError, FlowError, NoSpareError
from mirrorswap.firmware.hotplug import HotPlug
from mirrorswap.regmap import Err, Event, Mode, Op
from mirrorswap.sim.memory import inject_faults
from mirrorswap.sim.checks import check_all, preload
from mirrorswap.sim.scoreboard import SLVERR, ReferenceMemory, Scoreboard
from mirrorswap.sim.tb import TopTB, knob
from mirrorswap.sim.traffic import HostTraffic

MODES = [m.name for m in Mode]
OPS = [o.name for o in Op] + ["BAD_OPCODE"]
ERRS = [e.name for e in Err]
PHASES = ["idle", "mirrored", "sweeping", "releasing"]
HOST_OPS = ["read", "write", "narrow", "unowned", "expected read error"]
FAULTS = ["sweep read error", "forwarded write error", "spare power loss", "master stall",
          "spare stall", "bad lines with poison copy", "bad lines without poison copy",
          "read failover", "master failover", "master failover under writes"]
#: The faults of SPEC section 7 (RAS), run by :meth:`Soak.ras_fault`.
RAS_FAULTS = FAULTS[5:]
#: What the RAS faults made happen, one bin each.
RAS_OUTCOMES = ["read error ahead of the sweep", "poison ahead of the sweep",
                "read error behind the sweep", "poison behind the sweep",
                "read error after the sweep", "poison after the sweep",
                "poison at an ACTIVE owner", "migration done with bad lines copied as poison",
                "migration done over bad lines", "sweep stopped and migration aborted",
                "bad line answered SLVERR after the migration", "corrected read",
                "master failed over", "write of unknown outcome",
                "read failed at the dying master", "poisoned line healed by a host write"]
EPISODES_PER_MINUTE = 30   # measured: about 1.5 s an episode on a 2-core machine

_command_cov = coverage_section(
    CoverPoint("soak.command.mode", xf=lambda m, o, e: m, bins=MODES),
    CoverPoint("soak.command.op", xf=lambda m, o, e: o, bins=OPS),
    CoverPoint("soak.command.err", xf=lambda m, o, e: e, bins=ERRS),
    CoverCross("soak.command.mode x op x err",
               items=["soak.command.mode", "soak.command.op", "soak.command.err"]),
)
_host_cov = coverage_section(
    CoverPoint("soak.host.phase", xf=lambda p, k: p, bins=PHASES),
    CoverPoint("soak.host.op", xf=lambda p, k: k, bins=HOST_OPS),
    CoverCross("soak.host.phase x op", items=["soak.host.phase", "soak.host.op"]),
)
_fault_cov = coverage_section(
    CoverPoint("soak.fault.kind", xf=lambda k, p: k, bins=FAULTS),
    CoverPoint("soak.fault.phase", xf=lambda k, p: p, bins=PHASES),
    CoverCross("soak.fault.kind x phase", items=["soak.fault.kind", "soak.fault.phase"]),
)


_ras_cov = coverage_section(
    CoverPoint("soak.ras.outcome", xf=lambda o: o, bins=RAS_OUTCOMES),
)


@_ras_cov
def sample_ras(outcome):
    pass


@_command_cov
def sample_command(mode, op, err):
    pass


@_host_cov
def sample_host(phase, kind):
    pass


@_fault_cov
def sample_fault(kind, phase):
    pass


class BackPressure:
    """Random pauses on every AXI channel of a :class:`~sim.tb.TopTB` (its memory ports and
    host port), driven by one coroutine for all of them.

    Each channel is paused a fraction ``probability`` of the cycles, in runs: a pause
    lasts 1 to 5 cycles (3 on average), the time between two pauses is drawn so that the
    fraction holds. ``TopTB.set_backpressure(probability)`` pauses each cycle at random
    instead, from one generator coroutine per channel (25 at four agents) that wakes every
    cycle, and every change of a pause wakes the channel's sink as well; one coroutine
    and runs make the whole soak about twice as fast. A channel in :attr:`stalled` stays
    paused (the memory stops answering) until it is taken out.
    """

    def __init__(self, tb, probability, rng):
        self.clk = tb.dut.clk
        self.channels = list(tb._channels())
        self.probability = probability
        self.rng = rng
        self.stalled = set()
        # mean run between pauses so that pauses of mean 3 cycles take ``probability``
        self.gap = 3 * (1 - probability) / probability

    async def run(self):
        edge = RisingEdge(self.clk)
        rng, gap, stalled = self.rng, self.gap, self.stalled
        left = [int(rng.expovariate(1 / gap)) for _ in self.channels]
        paused = [False] * len(self.channels)
        while True:
            for i, ch in enumerate(self.channels):
                if left[i]:
                    left[i] -= 1
                else:
                    paused[i] = not paused[i]
                    left[i] = rng.randint(0, 4) if paused[i] else int(rng.expovariate(1 / gap))
                ch.pause = paused[i] or ch in stalled
            await edge


class SoakScoreboard(Scoreboard):
    """The scoreboard, remembering the length of every read in flight by its address (the
    traffic holds a lock on its lines, so one address has one read in flight): whether a
    read may answer SLVERR depends on every line it covers, not only its first."""

    def __post_init__(self):
        super().__post_init__()
        self.issued = {}

    def expect_read(self, addr, length):
        self.issued[addr] = length
        return super().expect_read(addr, length)


class SoakBios(Bios):
    """The BIOS, sampling every command's mode, opcode and error, and tracking phases.
    Every slot's memory stores poison (the soak's :class:`~sim.tb.TopTB` default)."""

    def __init__(self, bus, agents, poll_cycles=4):
        super().__init__(bus, poison_slots=range(agents), poll_cycles=poll_cycles)
        self.phases = {}
        self.before_release = None   # async callable run just before any RELEASE

    @property
    def phase(self):
        for p in ("sweeping", "releasing", "mirrored"):
            if p in self.phases.values():
                return p
        return "idle"

    async def command(self, agent, op, peer=0):
        mode = (await self.hw.status(agent)).mode
        op_name = Op(op).name if op in {o.value for o in Op} else "BAD_OPCODE"
        if op == Op.RELEASE and self.before_release is not None:
            await self.before_release()
        if op in (Op.SWEEP, Op.RELEASE):
            self.phases[agent] = "sweeping" if op == Op.SWEEP else "releasing"
        err = Err.OK
        try:
            return await super().command(agent, op, peer)
        except CommandError as e:
            err = e.err
            raise
        finally:
            sample_command(mode.name, op_name, err.name)
            now = (await self.hw.status(agent)).mode
            if now == Mode.MIRROR_MASTER:
                self.phases[agent] = "mirrored"
            else:
                self.phases.pop(agent, None)


class Soak:
    """One soak run on a ``mirrorswap_top``: a :class:`~mirrorswap.sim.tb.TopTB` with three
    modules of 2^``lines_log2`` lines and a spare twice as large, the BIOS (sampling
    coverage), host traffic checked by the scoreboard, and faults on every module.

    :meth:`start` boots and starts the traffic; each :meth:`episode` draws one of a
    migration, a migration with an injected fault (:data:`FAULTS`: the RAS ones run by
    :meth:`ras_fault`), a hot swap by button, a refused command or plain traffic, all from
    ``seed``; :meth:`report` summarises what ran and the coverage, :meth:`totals` gives the
    same as numbers.

    Parameters: ``faults`` (a list of fault kinds: every episode is the next of them,
    for a short test of those kinds), ``load`` and ``workers`` (of the
    :class:`~sim.traffic.HostTraffic`), ``poll_cycles`` (of the BIOS). Every slot's
    memory stores poison, so every migration may copy bad lines as poison.

    Invariants checked after every episode: no scoreboard mismatch (a read answered OKAY
    returns the reference's bytes, SLVERR only where a line is bad, a fault makes the
    module's reads fail or a module is dying, a write answers OKAY except to a dying
    master), the published map unchanged;
    after every fault, every module against the reference through its backdoor.
    """

    def __init__(self, dut, seed, lines_log2, faults=None, load=0.5, workers=4,
                 poll_cycles=4):
        self.seed = seed
        self.load, self.workers = load, workers
        self.only_faults = list(faults) if faults else None
        self.rng = random.Random(seed * 7919 + 1)
        self.tb = TopTB(dut, capacities_log2=(lines_log2,) * 3 + (lines_log2 + 1,), seed=seed)
        self.lines_log2 = lines_log2
        self.tb.bios = self.bios = SoakBios(self.tb.bus, len(self.tb.slots),
                                            poll_cycles=poll_cycles)
        self.faults = [inject_faults(m, random.Random(self.rng.random())) for m in self.tb.mems]
        self.read_faulty = set()     # slots whose reads may fail right now
        self.bad_lines = set()       # host lines gone bad: a read covering one may fail
        self.dying = None            # the range of a master that is dying, or None
        self.stats = {"episodes": 0, "migrations": 0, "migrations refused or aborted": 0,
                      "hot swaps": 0, "refused commands": 0, "failovers": 0,
                      "counter checks": 0, "inexact counts": 0, "storm writes": 0}
        self.injected = {k: 0 for k in FAULTS}
        self.survived = {k: 0 for k in FAULTS}

    async def start(self):
        tb = self.tb
        self.backpressure = BackPressure(tb, 0.1, random.Random(self.rng.random()))
        cocotb.start_soon(self.backpressure.run())
        await tb.reset()
        self.mm = await self.bios.boot()
        self.published = self.mm.published()
        self.sb = SoakScoreboard(ReferenceMemory(self.mm.total_lines, tb.geometry.line_bytes))
        self.sb.write_error_ok = self._write_may_fail
        preload(tb, self.sb, self.mm)
        self.traffic = HostTraffic(tb, self.sb, self.mm, seed=self.seed, load=self.load,
                                   workers=self.workers,
                                   on_op=lambda kind: sample_host(self.bios.phase, kind),
                                   read_error_ok=self._read_may_fail)
        self.traffic.start()
        self.hp = HotPlug(self.bios, abort_window_cycles=300, chunk_lines=512)
        cocotb.start_soon(self.hp.run())

    def _read_may_fail(self, addr):
        lb = self.tb.geometry.line_bytes
        line = addr // lb
        lines = set(range(line, line + max(1, self.sb.issued.get(addr, lb) // lb)))
        if self.bad_lines & lines:
            return True
        if self.dying is not None and line in self.dying:
            sample_ras("read failed at the dying master")
            return True
        r = self.mm.lookup(line)
        return r is not None and self.mm.owners[r] in self.read_faulty

    def _write_may_fail(self, addr):
        if self.dying is not None and addr // self.tb.geometry.line_bytes in self.dying:
            sample_ras("write of unknown outcome")
            return True
        return False

    async def modes(self):
        return [(await self.bios.hw.status(a)).mode for a in range(len(self.tb.slots))]

    async def active_slot(self):
        active = [a for a, m in enumerate(await self.modes()) if m == Mode.ACTIVE]
        return self.rng.choice(active)

    # ---- actions -----------------------------------------------------------------------------
    async def migrate(self):
        slot = await self.active_slot()
        try:
            await self.bios.migrate(slot, chunk_lines=self.rng.choice([256, 512, 1024]))
            self.stats["migrations"] += 1
        except NoSpareError:
            self.stats["migrations refused or aborted"] += 1

    async def migrate_with_fault(self, kind):
        slot = await self.active_slot()
        size = await self.bios.hw.read_reg(slot, "SIZE")
        try:
            spare = await self.bios.pick_spare(size, exclude=(slot,))
        except NoSpareError:
            return await self.migrate()
        task = cocotb.start_soon(self._migrate_quietly(slot, spare))
        await self.tb.cycles(self.rng.randrange(50, 2500))
        victim = slot if kind in ("sweep read error", "master stall") else spare
        # A fault is only in force while the pair is mirrored: the victim must still be
        # master or slave now (read from the simulator: no await between check and arm),
        # and every fault is lifted before RELEASE makes the spare the owner. So none is
        # armed once the BIOS has passed its last look before RELEASE (``releasing`` is
        # set right after it, with no await between): the RELEASE may already be on the
        # register bus, and a module pulled then is pulled from the new owner.
        mode = Mode(int(getattr(self.tb.dut.ctrl, f"mode{victim}").value))
        if (task.done() or mode not in (Mode.MIRROR_MASTER, Mode.MIRROR_SLAVE)
                or self.bios.phases.get(slot) == "releasing"):
            await task
            return
        sample_fault(kind, self.bios.phase)
        self.injected[kind] += 1
        undo = await self._arm(kind, victim)
        undone = False

        async def lift():
            nonlocal undone
            if not undone:
                undone = True
                await undo()
        self.bios.before_release = lift
        for _ in range(self.rng.randrange(200, 1500) // 10):
            if task.done():
                break
            await self.tb.cycles(10)
        await lift()
        self.bios.before_release = None
        await task
        await self.traffic.quiesce()    # a write in flight is in memory but not yet known
        if await check_all(self.tb, self.sb, self.mm, sample=0, rng=self.rng,
                           what=f"after {kind}") == 0 and not self.sb.mismatches:
            self.survived[kind] += 1
        self.traffic.resume()

    async def _migrate_quietly(self, slot, spare):
        try:
            await self.bios.migrate(slot, spare=spare, chunk_lines=512)
            self.stats["migrations"] += 1
        except FlowError:
            self.stats["migrations refused or aborted"] += 1

    async def _arm(self, kind, victim):
        f = self.faults[victim]
        ram = self.tb.mems[victim]
        if kind == "sweep read error":
            self.read_faulty.add(victim)
            f.read_probability = self.rng.choice([0.002, 0.01])

            async def undo():
                f.read_probability = 0.0
                await self.tb.cycles(50)     # reads already under way may still fail
                self.read_faulty.discard(victim)
            return undo
        if kind == "forwarded write error":
            f.write_probability = self.rng.choice([0.005, 0.02])

            async def undo():
                f.write_probability = 0.0
            return undo
        if kind == "spare power loss":
            self.tb.slots[victim].remove()

            async def undo():
                self.tb.slots[victim].insert(self.lines_log2 + (victim == 3))
                await self.tb.cycles(20)
                await self.bios.power_on(victim)
            return undo
        channels = (ram.read_if.ar_channel, ram.read_if.r_channel, ram.write_if.aw_channel,
                    ram.write_if.w_channel, ram.write_if.b_channel)
        self.backpressure.stalled.update(channels)   # a stall: the memory stops answering

        async def undo():
            self.backpressure.stalled.difference_update(channels)
        return undo

    # ---- RAS faults (SPEC section 7) -----------------------------------------------------
    async def _counts(self):
        """CE_COUNT and UE_COUNT of every agent, and the errors every module gave (failed
        read beats and beats read with poison, each counted once by the memory model)."""
        hw = self.bios.hw
        counts = [(await hw.read_reg(a, "CE_COUNT"), await hw.read_reg(a, "UE_COUNT"))
                  for a in range(len(self.tb.slots))]
        errors = [f.reads_failed + s.poison.reported for f, s in zip(self.faults, self.tb.slots)]
        return counts, errors

    def _go_bad(self, slot, base, line, where, expect_error=True, poison=None):
        """Host ``line`` of the range at ``base`` goes bad at ``slot``'s module now: every
        read of it fails, or it is poisoned (its data garbled, as a failing module's would
        be: only a copy read elsewhere can give the right bytes); ``poison`` None: either,
        at random."""
        lb = self.tb.geometry.line_bytes
        m = line - base
        if poison is None:
            poison = self.rng.random() < 0.5
        if not poison:
            self.faults[slot].fail(m)
            sample_ras(f"read error {where}")
        else:
            self.tb.mems[slot].write(m * lb, self.rng.randbytes(lb))
            self.tb.slots[slot].poison.poison(m)
            sample_ras(f"poison {where}")
        if expect_error:
            self.bad_lines.add(line)
        return line

    async def _read_lines(self, lines):
        """Read each host line alone (traffic quiesced); returns how many answered SLVERR.
        An OKAY read is checked against the reference; SLVERR only where a line is bad."""
        lb = self.tb.geometry.line_bytes
        slverr = 0
        for line in sorted(lines):
            expected = self.sb.expect_read(line * lb, lb)
            r = await self.tb.host.read(line * lb, lb, arid=self.rng.randrange(self.tb.ids))
            if int(r.resp) == SLVERR and line in self.bad_lines:
                slverr += 1
            else:
                self.sb.read_done(expected, r.resp, r.data, what=f"read of bad line {line:#x}")
        return slverr

    async def _write_storm(self, r, stop):
        """Back-to-back full-line writes into range ``r`` until ``stop`` is set, under the
        traffic's line locks, checked as the traffic's are."""
        lb, page = self.tb.geometry.line_bytes, self.tb.geometry.page_lines
        rng = random.Random(self.rng.random())
        while not stop["now"]:
            line = rng.randrange(r.base_line, r.end_line)
            n = min(rng.randint(1, 16), page - line % page, r.end_line - line)
            span = set(range(line, line + n))
            await self.traffic._lock(span)
            try:
                data = rng.randbytes(n * lb)
                w = await self.tb.host.write(line * lb, data, awid=rng.randrange(self.tb.ids))
                self.sb.write_done(line * lb, data, w.resp, what="storm write")
                self.stats["storm writes"] += 1
            finally:
                self.traffic._unlock(span)

    async def ras_fault(self, kind):
        """One migration with a fault of SPEC section 7, from ``kind``:

        - ``bad lines with poison copy`` / ``bad lines without poison copy``: lines of the
          master's module go bad (read errors or poison) during the sweep, ahead of and
          behind the watermark, and after it, with and without RAS_CTRL.poison_en. With it the
          migration goes through and the lines bad before their copy stay bad at the spare;
          without it a bad line ahead stops the SWEEP and the firmware retries, then
          aborts. Host reads covering a bad line may answer SLVERR, never wrong data.
          Then a line of the owner goes bad while it is ACTIVE (read: SLVERR).
        - ``read failover``: failover_en on the pair; lines go bad only where the slave
          holds a valid copy (behind the watermark, then all over the swept pair): every
          read answers OKAY with the right data, CE_COUNT counts each bad beat.
        - ``master failover`` / ``... under writes``: failover_en; the master's supply
          fails on the swept pair (under back-to-back writes for the second): the slave
          serves the range from then on; accesses in flight may fail, a write that does
          leaves its bytes old-or-new until read or written again.

        CE_COUNT and UE_COUNT are checked against the errors the modules gave, agent by
        agent: equal where SPEC section 7 counts every error (every kind but the dying
        master's in-flight accesses, and the SWEEP stopped by a bad line, whose failed
        reads are reported in ERR_ADDR only: there the count may only be lower).
        Every bad line is made good again at the end (the module is taken as replaced,
        the host rewrites the line), and every module is checked against the reference.
        """
        slot = await self.active_slot()
        hw = self.bios.hw
        size = await hw.read_reg(slot, "SIZE")
        try:
            spare = await self.bios.pick_spare(size, exclude=(slot,))
        except NoSpareError:
            return await self.migrate()
        r = self.mm.range_of(slot)
        base, rng = r.base_line, self.rng
        poison = kind == "bad lines with poison copy"
        failover = kind not in ("bad lines with poison copy", "bad lines without poison copy")
        death = kind.startswith("master failover")
        bad = []                       # host lines gone bad at ``slot`` this episode
        await self.traffic.quiesce()   # counters are compared from a quiet start
        counts0, errors0 = await self._counts()
        self.traffic.resume()
        sample_fault(kind, "sweeping")
        self.injected[kind] += 1
        state = {"failover set": False, "dead": False}

        async def progress(done, total):
            if failover and not state["failover set"]:
                await hw.set_ras(slot, failover_en=1)
                state["failover set"] = True
            if death or rng.random() < 0.4:
                return
            for _ in range(rng.randint(1, 3)):
                ahead = not failover and done < total and rng.random() < 0.5
                line = base + (rng.randrange(done, total) if ahead else rng.randrange(done))
                bad.append(self._go_bad(slot, base, line,
                                        "ahead of the sweep" if ahead else "behind the sweep",
                                        expect_error=not failover))

        async def swept():
            if not death:
                for _ in range(rng.randint(1, 2)):
                    line = base + rng.randrange(size)
                    bad.append(self._go_bad(slot, base, line, "after the sweep",
                                            expect_error=not failover))
                if failover:
                    await self.traffic.quiesce()
                    await self._read_lines(bad)      # each must be corrected: OKAY, right
                    ev = await hw.events(slot)
                    assert not bad or ev & Event.CORRECTED, f"no corrected event: {ev!r}"
                    await hw.clear_events(slot, Event.CORRECTED)
                    if bad:
                        sample_ras("corrected read")
                    self.traffic.resume()
                    await self.tb.cycles(rng.randrange(200, 1500))
                return
            stop = {"now": False}
            storm = ([cocotb.start_soon(self._write_storm(r, stop)) for _ in range(3)]
                     if kind.endswith("under writes") else [])
            await self.tb.cycles(rng.randrange(10, 300))
            self.dying = r
            self.tb.slots[slot].power_fail()
            for _ in range(100):
                if (await hw.status(spare)).mode == Mode.ACTIVE:
                    break
            else:
                raise AssertionError(f"slot {spare} did not take over dead master {slot}")
            assert (await hw.status(slot)).mode == Mode.OFF
            state["dead"] = True
            sample_ras("master failed over")
            self.bios.failed_over(slot, spare)
            await self.tb.cycles(rng.randrange(300, 1500))
            stop["now"] = True
            for t in storm:
                await t
            await self.traffic.quiesce()
            self.dying = None
            self.traffic.resume()

        self.bios.before_release = swept
        try:
            await self.bios.migrate(slot, spare=spare, chunk_lines=rng.choice([256, 512]),
                                    progress=progress, poison=poison)
            self.stats["migrations"] += 1
            if bad:
                sample_ras("migration done with bad lines copied as poison" if poison else
                           "migration done over bad lines")
        except FlowError:
            if state["dead"]:
                self.stats["failovers"] += 1
            else:
                self.stats["migrations refused or aborted"] += 1
                if bad:
                    sample_ras("sweep stopped and migration aborted")
        finally:
            self.bios.before_release = None
        await self.traffic.quiesce()
        owner = self.mm.owners[r]
        if state["dead"]:
            ev = await hw.events(slot)
            assert ev & Event.FAILOVER, f"no failover event at slot {slot}: {ev!r}"
            await hw.write_reg(slot, "RAS_CTRL", 0)
            await hw.clear_events(slot, Event.FAILOVER)
            self.tb.slots[slot].power_restore()
            await self.bios.power_off(slot)
            await self.bios.power_on(slot)
            for line in self.sb.memory.uncertain_lines():   # exact again: write it
                data = rng.randbytes(self.tb.geometry.line_bytes)
                w = await self.tb.host.write(line * self.tb.geometry.line_bytes, data)
                self.sb.write_done(line * self.tb.geometry.line_bytes, data, w.resp)
        else:
            await hw.write_reg(slot, "RAS_CTRL", 0)
            await self.tb.cycles(8)
            if self.bad_lines:
                stayed = await self._read_lines(self.bad_lines)
                if stayed:
                    sample_ras("bad line answered SLVERR after the migration")
            if not failover:
                # a line goes bad at the owner, ACTIVE now: a read of it answers SLVERR
                line = self._go_bad(owner, base, base + rng.randrange(size),
                                    "at an ACTIVE owner", poison=True)
                bad.append(line)
                assert await self._read_lines([line]) == 1, f"bad line {line:#x} read OKAY"
        await self.tb.cycles(8)
        counts1, errors1 = await self._counts()
        exact = kind != "bad lines without poison copy"
        for a, ((ce0, ue0), (ce1, ue1), e0, e1) in enumerate(zip(counts0, counts1, errors0,
                                                                  errors1)):
            if death and a == slot:
                continue          # in-flight accesses of the dying module: not exact
            counted, given = (ce1 - ce0) + (ue1 - ue0), e1 - e0
            if not exact and a == slot:
                # a SWEEP stopped by a read error reports it in ERR_ADDR and mem_error, not
                # in UE_COUNT (SPEC section 7 counts only poison copies and host reads);
                # the module counts every failed read, retries of the SWEEP included
                self.stats["inexact counts"] += counted != given
                assert counted <= given and ce1 == ce0, (
                    f"{kind}: slot {a} counted {ce1 - ce0} CE + {ue1 - ue0} UE, its module "
                    f"gave only {given} errors")
            else:
                assert counted == given, (
                    f"{kind}: slot {a} counted {ce1 - ce0} CE + {ue1 - ue0} UE, its module "
                    f"gave {given} errors")
            if failover and not death:
                assert ue1 == ue0, f"{kind}: slot {a} counted {ue1 - ue0} UE"
            if poison:
                assert ce1 == ce0, f"{kind}: slot {a} counted {ce1 - ce0} CE"
        self.stats["counter checks"] += 1
        # the module is taken as replaced, and the host rewrites every bad line
        lb = self.tb.geometry.line_bytes
        for line in set(bad):
            for s in (slot, spare):
                self.faults[s].heal(line - base)
            poisoned = line - base in self.tb.slots[owner].poison
            data = rng.randbytes(lb)
            w = await self.tb.host.write(line * lb, data)
            self.sb.write_done(line * lb, data, w.resp, what=f"rewrite of bad line {line:#x}")
            if poisoned:
                assert line - base not in self.tb.slots[owner].poison, \
                    f"a full-line write left line {line:#x} poisoned"
                sample_ras("poisoned line healed by a host write")
        for s in (slot, spare):
            self.tb.slots[s].poison.heal(*(line - base for line in bad))
        self.bad_lines.clear()
        if await check_all(self.tb, self.sb, self.mm, sample=0, rng=rng,
                           what=f"after {kind}") == 0 and not self.sb.mismatches:
            self.survived[kind] += 1
        self.traffic.resume()

    async def hot_swap(self):
        slot = await self.active_slot()
        rec = await self._press(slot)
        if rec.outcome != "done":
            return
        self.tb.slots[slot].remove()
        await self.tb.cycles(100)
        self.tb.slots[slot].insert(self.lines_log2 + (slot == 3))
        await self.tb.cycles(100)
        add = await self._press(slot)
        assert add.outcome == "done", add
        self.stats["hot swaps"] += 1

    async def _press(self, slot):
        before = len(self.hp.history)
        await self.tb.slots[slot].press_button()
        while not [r for r in self.hp.history[before:] if r.slot == slot]:
            await self.tb.cycles(20)
        await self.hp.wait_idle()
        return [r for r in self.hp.history[before:] if r.slot == slot][0]

    async def refused_command(self):
        agent = self.rng.randrange(len(self.tb.slots))
        mode = (await self.bios.hw.status(agent)).mode
        choices = [(self.rng.choice([0, 7, 9, 15]), 0)]
        if mode != Mode.IDLE:
            choices.append((Op.ASSIGN, 0))
        if mode != Mode.ACTIVE:
            choices += [(Op.ESTABLISH, (agent + 1) % 4), (Op.UNASSIGN, 0)]
        else:
            choices.append((Op.ESTABLISH, self.rng.choice([agent, 4, 15])))
        if mode != Mode.MIRROR_MASTER:
            choices += [(Op.SWEEP, 0), (Op.RELEASE, 0), (Op.ABORT, 0)]
        op, peer = self.rng.choice(choices)
        before = await self.tb.snapshot()
        try:
            await self.bios.command(agent, op, peer)
        except CommandError:
            pass
        else:
            raise AssertionError(f"{op} on {mode.name} agent {agent} was not refused")
        after = await self.tb.snapshot()
        for key in list(before):
            if key[1] == "EVENTS":
                before.pop(key), after.pop(key)
        assert after == before, f"refused {op} on agent {agent} changed state"
        self.stats["refused commands"] += 1

    async def episode(self):
        action = "fault" if self.only_faults else self.rng.choices(
            ["migrate", "fault", "hot swap", "refused", "traffic"],
            weights=[25, 35, 15, 15, 10])[0]
        if action == "migrate":
            await self.migrate()
        elif action == "fault":
            # only some kinds (a short test of them): each in turn
            kind = (self.only_faults[self.stats["episodes"] % len(self.only_faults)]
                    if self.only_faults else self.rng.choice(FAULTS))
            if kind in RAS_FAULTS:
                await self.ras_fault(kind)
            else:
                await self.migrate_with_fault(kind)
        elif action == "hot swap":
            await self.hot_swap()
        elif action == "refused":
            await self.refused_command()
        else:
            await self.tb.cycles(self.rng.randrange(500, 3000))
        self.stats["episodes"] += 1
        assert not self.sb.mismatches, str(self.sb.mismatches[0])
        assert self.mm.published() == self.published

    def totals(self, failure=None):
        """What :func:`add_totals` adds up over seeds: counts and every coverage bin."""
        sb = self.sb if hasattr(self, "sb") else Scoreboard(ReferenceMemory(0))
        host = dict(self.traffic.by_kind) if hasattr(self, "traffic") else {}
        cov = {}
        for name in COVERAGE_ITEMS:
            bins = coverage_db[name].detailed_coverage
            cov[name] = {("/".join(map(str, b)) if isinstance(b, tuple) else str(b)): n
                         for b, n in bins.items()}
        return {"seed": self.seed, "failure": failure, "episodes": self.stats["episodes"],
                "transactions": sb.transactions, "mismatches": len(sb.mismatches),
                "stats": {k: v for k, v in self.stats.items() if k != "episodes"},
                "injected": self.injected, "survived": self.survived, "host": host,
                "scoreboard": {"reads": sb.reads, "writes": sb.writes, "DECERR": sb.decerrs,
                               "writes of unknown outcome": sb.write_errors},
                "coverage": cov}

    def report(self):
        lines = [f"soak: seed {self.seed}, {self.stats['episodes']} episodes",
                 "  " + ", ".join(f"{k}: {v}" for k, v in self.stats.items()
                                  if k != "episodes"),
                 "  host traffic: " + ", ".join(f"{v} {k}"
                                                for k, v in self.traffic.by_kind.items()),
                 "  faults injected / survived: " + ", ".join(
                     f"{k} {self.injected[k]}/{self.survived[k]}" for k in FAULTS),
                 f"  scoreboard: {self.sb.summary()}",
                 f"  checked host transactions: {self.sb.transactions}",
                 "  functional coverage (bins hit / bins):"]
        for name in COVERAGE_ITEMS:
            item = coverage_db[name]
            lines.append(f"    {name:32s} {item.coverage:4d} / {item.size:<4d}"
                         f" ({item.cover_percentage:5.1f}%)")
            if (" x " in name and "err" not in name) or name in ("soak.fault.kind",
                                                                   "soak.ras.outcome"):
                def text(b):
                    return "/".join(map(str, b)) if isinstance(b, tuple) else str(b)
                hit = [b for b, n in item.detailed_coverage.items() if n]
                missed = [b for b, n in item.detailed_coverage.items() if not n]
                lines.append(f"      hit: {', '.join(map(text, hit))}")
                if missed:
                    lines.append(f"      not hit: {', '.join(map(text, missed))}")
        return "\n".join(lines)


@cocotb.test()
async def soak(dut):
    seed = knob("seed", 1)
    episodes = knob("episodes", 20)
    lines_log2 = knob("lines", 1024).bit_length() - 1
    faults = knob("faults", "", str)
    s = Soak(dut, seed, lines_log2, faults=[f for f in faults.split(",") if f] or None,
             load=knob("load", 0.5, float), workers=knob("workers", 4),
             poll_cycles=knob("poll", 4))
    bad, failure = None, None
    try:
        await s.start()
        for n in range(episodes):
            try:
                await s.episode()
            except Exception as e:
                raise AssertionError(f"seed {seed}, episode {n + 1}: {e}") from e
        await s.traffic.stop()
        s.hp.stop()
        bad = await check_all(s.tb, s.sb, s.mm, sample=32, rng=s.rng, what="end of soak")
    except Exception as e:
        failure = str(e)
        raise
    finally:
        text = s.report()
        if bad is not None:
            text += f"\n  every line checked at the end: {bad} mismatches"
        if failure:
            text += f"\n  FAILED: {failure}"
        sys.stdout.write("\n" + text + "\n")
        summary = knob("summary", None, str)
        if summary:
            with open(summary, "w") as f:
                f.write(text + "\n")
            with open(os.path.splitext(summary)[0] + ".json", "w") as f:
                json.dump(s.totals(failure or (bad and f"{bad} mismatches at the end")), f)
    assert bad == 0 and not s.sb.mismatches


# ---- the program ------------------------------------------------------------------------------

COVERAGE_ITEMS = ("soak.command.mode", "soak.command.op", "soak.command.err",
                  "soak.command.mode x op x err", "soak.host.phase x op", "soak.fault.kind",
                  "soak.fault.kind x phase", "soak.ras.outcome")


def _seeds(text):
    """``"11-14,20"`` -> [11, 12, 13, 14, 20]."""
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds.extend(range(int(lo), int(hi or lo) + 1))
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"not a list of distinct seeds: {text!r}")
    return seeds


def _seeds_text(seeds):
    """[11, 12, 13, 20] -> ``"11-13,20"``."""
    parts, run = [], [seeds[0]]
    for seed in seeds[1:] + [None]:
        if seed is not None and seed == run[-1] + 1:
            run.append(seed)
            continue
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [seed]
    return ",".join(parts)


def add_totals(runs):
    """The totals of several seeds' :meth:`Soak.totals`: counts added, coverage bins
    added bin by bin (a bin is hit when any seed hit it)."""
    total = {"seeds": [r["seed"] for r in runs], "failures": [r["failure"] for r in runs
                                                               if r["failure"]],
             "verilog": sorted({r["verilog"] for r in runs if r.get("verilog")})}
    for key in ("episodes", "transactions", "mismatches"):
        total[key] = sum(r[key] for r in runs)
    for key in ("stats", "injected", "survived", "host", "scoreboard"):
        total[key] = {}
        for r in runs:
            for k, v in r[key].items():
                total[key][k] = total[key].get(k, 0) + v
    total["coverage"] = {}
    for r in runs:
        for name, bins in r["coverage"].items():
            into = total["coverage"].setdefault(name, {})
            for b, n in bins.items():
                into[b] = into.get(b, 0) + n
    return total


def format_totals(total):
    cov = total["coverage"]
    lines = [f"soak totals over seeds {_seeds_text(total['seeds'])}: "
             f"{total['episodes']} episodes, {total['transactions']} checked host "
             f"transactions, {total['mismatches']} mismatches",
             "  " + ", ".join(f"{k}: {v}" for k, v in total["stats"].items()
                              if k != "episodes"),
             "  host traffic: " + ", ".join(f"{v} {k}" for k, v in total["host"].items()),
             "  scoreboard: " + ", ".join(f"{v} {k}" for k, v in total["scoreboard"].items()),
             "  faults injected / survived: " + ", ".join(
                 f"{k} {total['injected'].get(k, 0)}/{total['survived'].get(k, 0)}"
                 for k in FAULTS),
             "  functional coverage (bins hit / bins):"]
    for name in COVERAGE_ITEMS:
        bins = cov.get(name, {})
        hit = [b for b, n in bins.items() if n]
        lines.append(f"    {name:32s} {len(hit):4d} / {len(bins):<4d}")
        if name != "soak.command.mode x op x err":
            missed = [b for b, n in bins.items() if not n]
            if missed:
                lines.append(f"      not hit: {', '.join(missed)}")
    if total.get("verilog"):
        lines.append(f"  RTL (sha256 of the Verilog, first 16 digits): "
                     f"{', '.join(total['verilog'])}")
    for failure in total["failures"]:
        lines.append(f"  FAILED: {failure}")
    return "\n".join(lines)


def main(argv=None):
    from mirrorswap.sim.runner import BUILD, SIMULATORS, run_bench, shared_top
    p = argparse.ArgumentParser(prog="make soak", description=(
        "Random host traffic with migrations back and forth, hot swaps by button, injected "
        "memory faults, stalls and power losses, lines going bad, read and master failover, "
        "checked by the scoreboard, with functional coverage. Reproduces exactly from SEED "
        "and MINUTES (or EPISODES), and the traffic options."))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--seeds", type=_seeds, default=None,
                   help="several seeds, e.g. 11-18 or 3,5,7: one soak each (--jobs at once), "
                        "and their totals")
    p.add_argument("--minutes", type=float, default=3.0,
                   help="approximate wall time in Icarus at the default traffic; sets the "
                        "number of episodes (default 3)")
    p.add_argument("--episodes", type=int, default=None,
                   help="episodes per seed (instead of --minutes)")
    p.add_argument("--sim", choices=SIMULATORS, default=None,
                   help="simulator (default: $SIM, else icarus)")
    p.add_argument("--jobs", type=int, default=1, help="seeds run at once (default 1)")
    p.add_argument("--load", type=float, default=0.5,
                   help="host traffic load, 0 to 1 (default 0.5)")
    p.add_argument("--workers", type=int, default=4,
                   help="host transactions in flight at most (default 4)")
    p.add_argument("--poll", type=int, default=4,
                   help="cycles between the BIOS's STATUS polls (default 4)")
    p.add_argument("--data-width", type=int, choices=DATA_WIDTHS, default=64,
                   help="data bits of the host and memory ports (default 64)")
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.minutes <= 0:
        p.error(f"argument --minutes: must be positive, not {args.minutes}")
    for name in ("episodes", "jobs", "workers", "poll"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"argument --{name}: must be at least 1, not {value}")
    if not 0 < args.load <= 1:
        p.error(f"argument --load: must be in (0, 1], not {args.load}")
    episodes = args.episodes or max(1, round(args.minutes * EPISODES_PER_MINUTE))
    params = {} if args.data_width == 64 else {"data_width": args.data_width}
    name = "soak" + "".join(f"_{k}-{v}" for k, v in params.items())
    options = [f"--episodes {episodes}" if args.episodes else f"--minutes {args.minutes}"]
    options += [f"--{k} {getattr(args, k)}" for k, default in
                (("load", 0.5), ("workers", 4), ("poll", 4)) if getattr(args, k) != default]
    if params:
        options.append(f"--data-width {args.data_width}")
    sim = args.sim or os.environ.get("SIM") or "icarus"
    options.append(f"--sim {sim}")
    if args.seeds:
        return _many(args, name, options, episodes, BUILD)
    build = Path(args.out) if args.out else BUILD / name
    print(f"soak: seed {args.seed}, {episodes} episodes, {args.data_width}-bit data, {sim}; "
          f"reproduce with: python -m mirrorswap.scenarios.soak --seed {args.seed} "
          f"{' '.join(options)}", flush=True)
    os.environ.setdefault("COCOTB_LOG_LEVEL", "WARNING")
    src = shared_top(**params)
    build.mkdir(parents=True, exist_ok=True)
    # which RTL ran: the tree may change between two seeds of a long soak
    (build / "verilog.sha256").write_text(hashlib.sha256(src.read_bytes()).hexdigest() + "\n")
    try:
        run_bench([src], "mirrorswap_top", "mirrorswap.scenarios.soak",
                  build_dir=build, quiet=True, sim=sim,
                  env={"MS_SEED": args.seed, "MS_EPISODES": episodes,
                       "MS_LOAD": args.load, "MS_WORKERS": args.workers, "MS_POLL": args.poll,
                       "MS_SUMMARY": build / "summary.txt",
                       "COCOTB_LOG_LEVEL": os.environ["COCOTB_LOG_LEVEL"]})
    except AssertionError as e:
        print(f"make soak: FAILED: {e}", file=sys.stderr)
        return 1
    print(f"summary: {build / 'summary.txt'}")
    return 0


def _many(args, name, options, episodes, build_root):
    """One soak per seed, ``args.jobs`` at once (each its own process and build folder),
    then the totals into ``<build>/soak/totals.txt`` and ``totals.json``."""
    import subprocess
    import time
    from concurrent.futures import ThreadPoolExecutor
    out = build_root / f"{name}_seeds"
    out.mkdir(parents=True, exist_ok=True)
    command = (f"python -m mirrorswap.scenarios.soak --seeds "
               f"{_seeds_text(args.seeds)} {' '.join(options)}"
               + (f" --jobs {args.jobs}" if args.jobs > 1 else ""))
    print(f"soak: seeds {_seeds_text(args.seeds)}, {episodes} episodes each, {args.jobs} at "
          f"once; "
          f"reproduce with: {command}", flush=True)
    started = time.monotonic()

    def one(seed):
        folder = out / f"seed-{seed}"
        folder.mkdir(exist_ok=True)
        argv = [sys.executable, "-m", "mirrorswap.scenarios.soak", "--seed", str(seed),
                "--out", str(folder)] + " ".join(options).split()
        t0 = time.monotonic()
        with open(folder / "log.txt", "w") as log:
            rc = subprocess.call(argv, stdout=log, stderr=subprocess.STDOUT)
        print(f"  seed {seed}: {'passed' if rc == 0 else 'FAILED'} in "
              f"{time.monotonic() - t0:.0f} s ({folder / 'summary.txt'})", flush=True)
        try:
            with open(folder / "summary.json") as f:
                run = json.load(f)
            run["verilog"] = (folder / "verilog.sha256").read_text().strip()[:16]
            return run
        except (OSError, ValueError):
            return {"seed": seed, "failure": f"no summary (see {folder / 'log.txt'})",
                    "episodes": 0, "transactions": 0, "mismatches": 0, "stats": {},
                    "injected": {}, "survived": {}, "host": {}, "scoreboard": {},
                    "coverage": {}}

    with ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(one, args.seeds))
    total = add_totals(runs)
    text = (format_totals(total) + f"\n  wall time: {time.monotonic() - started:.0f} s"
            + f"\n  reproduce with: {command}")
    print(text)
    (out / "totals.txt").write_text(text + "\n")
    (out / "totals.json").write_text(json.dumps(total, indent=1) + "\n")
    return 1 if total["failures"] or total["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
