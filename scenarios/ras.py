"""The RAS scenarios of ``make sim`` (SPEC section 7): a failing module replaced by the
BIOS on its own, and a mirror pair whose master dies under traffic.

``make sim SCENARIO=failing`` (:func:`failing_module_replaced`): four slots boot as for the
main scenario, checked host traffic runs, and one module (MS_SLOT) develops errors at
random moments: rows of lines start failing their reads (the memory answers SLVERR) or
turn poisoned (an uncorrectable ECC word: garbled data, ``ruser`` = 1). Host reads of
them answer SLVERR and count in UE_COUNT; the BIOS event loop (:class:`HotPlug` with
``error_threshold``, MS_THRESHOLD) counts them from the mem_error events and, at the
threshold, migrates the module to the spare (which stores poison, so with
RAS_CTRL.poison_en), switches it off and lights its attention LED. No button is pressed.
The bad lines stay bad (host reads of them answer SLVERR before and after, the spare holds
poison there), every good line moves.

``make sim SCENARIO=mirror`` (:func:`mirror_failover`): mirror-mode boot (a pair swept
whole, failover_en on its master, and a spare), checked traffic, a few rows of the
master fail their reads and are served by the slave (corrected errors, CE_COUNT), then
the master's supply fails. The slave takes the range over in hardware, the host never
gets a wrong byte with OKAY; the BIOS records the failover, switches the dead slot off
with its attention LED on, and mirrors the range onto the spare. The dead module is then
pulled and a new one plugged in and added as the next spare, by its button.

Both print their story as it happens, a timeline (cycle, slot, what changed) and a
summary, draw the timeline with the error counts and the flow's phases (MS_PNG), and
fail on any mismatch or when an expected event did not happen. Knobs as
:mod:`scenarios.scenario` (MS_SEED, MS_SLOT, MS_LOAD, MS_LINES, MS_BACKPRESSURE,
MS_LATENCY, MS_PNG) and MS_THRESHOLD.

:class:`RasScoreboard` is the scoreboard of the failing scenario: it also knows which
host lines the failing module cannot serve, so that their SLVERR is expected rather than
a mismatch, and an OKAY from one of them is one.
"""

import logging
import sys
from dataclasses import dataclass, field

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from mirrorswap.firmware.bios import format_slot_table
from mirrorswap.firmware.hotplug import HotPlug
from mirrorswap.firmware.ras import format_ras_table
from mirrorswap.regmap import Event, Led, Mode
from mirrorswap.scenarios.timeline import Timeline
from mirrorswap.sim.checks import check_all, preload, read_back
from mirrorswap.sim.memory import inject_faults
from mirrorswap.sim.scoreboard import (OKAY, SLVERR, ExpectedRead, ReferenceMemory,
                                       Scoreboard)
from mirrorswap.sim.tb import TopTB, knob
from mirrorswap.sim.traffic import HostTraffic

__all__ = ["BAD", "MAYBE", "RasScoreboard", "failing_module_replaced", "mirror_failover"]

#: States of a line in :attr:`RasScoreboard.bad`: every read of it answers SLVERR, or
#: either SLVERR or OKAY with the right data (which of the two is settled by the hardware's
#: race between a host write and the sweep).
BAD, MAYBE = "bad", "maybe"
SPARE = 3
FAILING_TIMEOUT = 400_000     # cycles for the errors to reach the threshold and the flow


def _say(text="", end="\n"):
    sys.stdout.write(text + end)
    sys.stdout.flush()


@dataclass(frozen=True)
class RasExpectedRead(ExpectedRead):
    """An :class:`ExpectedRead` that may also answer SLVERR: ``maybe`` names the lines of
    unknown state it touches."""

    maybe: tuple = ()


@dataclass
class RasScoreboard(Scoreboard):
    """A :class:`Scoreboard` that knows which host lines a failing module cannot serve.

    :meth:`spoil` marks lines BAD as the bench makes them fail (their memory answers
    SLVERR: kind ``"fail"``) or poisons them (kind ``"poison"``). A host read touching a
    BAD line must answer SLVERR, whatever its other lines (the AXI response of a burst is
    its worst beat's); OKAY is a mismatch, since poison or a failed read must never come
    back as good data. Its data is not compared.

    Host writes change a line's state as the memory and the migration do (SPEC section 7),
    told by ``phase()``: ``"before"`` (the failing module serves alone), ``"mirror"`` (it
    is the MIRROR_MASTER of its migration: writes also reach the spare, the sweep copies
    unreadable lines as poison) or ``"after"`` (the spare serves). A write that fills a
    whole line with OKAY stores good data there:

    - a poisoned line is good again, in any phase (a full-line write clears poison, at the
      master and at the spare alike);
    - a failing line stays BAD before the migration (its reads still fail, the sweep will
      copy it as poison), is good after it (the spare's copy is then plain poison), and
      becomes MAYBE during it: whether the spare's copy is the write's data or poison
      depends on whether the sweep passed the line before the write. A MAYBE line read
      OKAY after the migration returned checked data: it is good from then on.

    Narrow writes (AWSIZE below the line: ``what="narrow write"``, as
    :class:`~sim.traffic.HostTraffic` sends them) reach the memory as partial beats, which
    never clear poison, so they change no state. The traffic's lock keeps every read's
    expectation unique, as in the plain scoreboard; the bench spoils lines only while no
    transaction is in flight.

    Members (besides the scoreboard's): :attr:`bad` (host line: BAD or MAYBE),
    :attr:`kind`, :attr:`spoiled` (every line ever spoiled), :attr:`healed` (spoiled lines
    made good by a write), :attr:`error_reads` (reads that answered SLVERR as expected).
    """

    phase: object = None
    bad: dict = field(default_factory=dict)
    kind: dict = field(default_factory=dict)
    spoiled: set = field(default_factory=set)
    healed: set = field(default_factory=set)
    error_reads: int = 0

    def spoil(self, lines, kind):
        """``lines`` (host lines) fail from now on (``"fail"``) or hold poison
        (``"poison"``)."""
        if kind not in ("fail", "poison"):
            raise ValueError(f"Kind must be 'fail' or 'poison', not {kind!r}")
        for line in lines:
            self.bad[line] = BAD
            self.kind[line] = kind
            self.spoiled.add(line)
            self.healed.discard(line)

    def _phase(self):
        return "before" if self.phase is None else self.phase()

    def _lines(self, addr, length):
        lb = self.memory.line_bytes
        return range(addr // lb, (addr + max(length, 1) - 1) // lb + 1)

    def _heal(self, line):
        del self.bad[line]
        self.healed.add(line)

    def write_done(self, addr, data, resp, strobe=None, what="host write"):
        ok = super().write_done(addr, data, resp, strobe, what)
        if not (ok and self.bad and int(resp) == OKAY and what != "narrow write"
                and strobe is None):
            return ok
        lb = self.memory.line_bytes
        phase = self._phase()
        for line in self._lines(addr, len(data)):
            if line not in self.bad or addr > line * lb or addr + len(data) < (line + 1) * lb:
                continue
            if phase == "after" or self.kind[line] == "poison":
                self._heal(line)
            elif phase == "mirror":
                self.bad[line] = MAYBE
        return ok

    def expect_read(self, addr, length):
        states = [self.bad.get(line) for line in self._lines(addr, length)] \
            if self.bad else ()
        if BAD in states:
            return RasExpectedRead(addr, length, SLVERR, b"")
        base = super().expect_read(addr, length)
        maybe = tuple(line for line in self._lines(addr, length)
                      if self.bad.get(line) == MAYBE) if self.bad else ()
        return RasExpectedRead(base.addr, base.length, base.resp, base.data, base.also,
                               maybe=maybe)

    def read_done(self, expected, resp, data, what="host read"):
        maybe = getattr(expected, "maybe", ())
        if expected.resp == SLVERR or (maybe and int(resp) == SLVERR):
            if int(resp) == SLVERR:
                self.error_reads += 1
                return True
            self.error(f"{what} at {expected.addr:#x}+{expected.length} touches a failing "
                       f"or poisoned line and answered {int(resp)}, expected SLVERR: bad "
                       f"data must never come back as OKAY")
            return False
        ok = super().read_done(expected, resp, data, what)
        if ok and maybe and self._phase() == "after":
            for line in maybe:
                if self.bad.get(line) == MAYBE:
                    self._heal(line)
        return ok


class _BiosLog(logging.Handler):
    """The firmware's warnings and errors, printed in the scenario's story (its error
    counts are printed by :class:`_FlowWatch`, with the cycle)."""

    def emit(self, record):
        if record.funcName != "count_errors":
            _say(f"    BIOS {record.levelname.lower()}: {record.getMessage()}")


def _bios_log(tb):
    # the RAM models warn of every read they fail on purpose: the story says it once
    for i in range(tb.agents):
        logging.getLogger(f"cocotb.{tb.dut._name}.m_axi_mem{i}").setLevel(logging.ERROR)
    logger = logging.getLogger("mirrorswap.firmware")
    handler = _BiosLog(logging.WARNING)
    logger.addHandler(handler)
    logger.propagate = False       # not twice, in cocotb's format as well
    return handler


def _mode(tb, agent):
    return Mode(int(getattr(tb.dut.ctrl, f"mode{agent}").value))


async def _slot_report(bios):
    rows = []
    for a in range(await bios.hw.agents()):
        rows.append({"slot": a, "mode": (await bios.hw.status(a)).mode.name,
                     "ras": await bios.hw.ras(a)})
    return format_slot_table(await bios.slot_table()), format_ras_table(rows)


async def _until(tb, what, done, timeout, step=16):
    """Wait until ``done()``; fail with ``what`` after ``timeout`` cycles."""
    waited = 0
    while not done():
        if waited >= timeout:
            raise AssertionError(f"{what} did not happen within {timeout} cycles")
        await tb.cycles(step)
        waited += step


def _boot_text(mm, tb, what):
    lb = tb.geometry.line_bytes
    return (f"\nboot{what}: memory map published to the OS ({mm.total_lines} lines of "
            f"{lb} bytes)\n" + mm.e820())


# ---- SCENARIO=failing -----------------------------------------------------------------------

class _Injector:
    """Makes rows of lines of one module fail or turn poisoned at random moments, under
    running traffic, until told to stop."""

    def __init__(self, tb, sb, traffic, timeline, slot, base, size, rng, gap):
        self.tb, self.sb, self.traffic, self.timeline = tb, sb, traffic, timeline
        self.slot, self.base, self.size, self.rng, self.gap = slot, base, size, rng, gap
        self.faults = inject_faults(tb.mems[slot], rng=rng)
        self.rows = []           # (cycle, first host line, lines, kind)
        self.stopped = False

    def _pick(self):
        lines = self.rng.choice((4, 8, 16))
        for _ in range(64):
            first = self.rng.randrange(0, self.size, lines)
            row = set(range(first, first + lines))
            if not row & {line - self.base for line in self.sb.spoiled}:
                return first, lines
        return None

    async def run(self):
        lb = self.tb.geometry.line_bytes
        while not self.stopped:
            wait = int(self.rng.expovariate(1 / self.gap)) + 1
            while wait > 0 and not self.stopped:
                await self.tb.cycles(min(wait, 16))
                wait -= 16
            picked = self._pick()
            if picked is None or self.stopped:
                return
            first, lines = picked
            local = list(range(first, first + lines))
            # no transaction in flight: every read's expectation stays exact
            await self.traffic.quiesce()
            try:
                if self.stopped or _mode(self.tb, self.slot) != Mode.ACTIVE:
                    return
                kind = self.rng.choice(("fail", "poison"))
                if kind == "fail":
                    self.faults.fail(*local)
                else:
                    # an uncorrectable ECC word: the bytes are gone, reads report poison
                    self.tb.mems[self.slot].write(first * lb, self.rng.randbytes(lines * lb))
                    self.tb.slots[self.slot].poison.poison(*local)
                self.sb.spoil([self.base + line for line in local], kind)
            finally:
                self.traffic.resume()
            self.rows.append((self.timeline.cycle, self.base + first, lines, kind))
            self.timeline.record("lines spoiled", len(self.sb.spoiled))
            what = "start failing their reads" if kind == "fail" else "turn poisoned"
            self.timeline.note(f"{lines} lines {what}", self.slot)
            _say(f"cycle {self.timeline.cycle:>7}: slot {self.slot}: lines {first}-"
                 f"{first + lines - 1} {what}")


class _FlowWatch:
    """Follows the BIOS loop for the story and the picture: prints every error event it
    handled, records the firmware's count of ``slot``, notes the threshold crossing and
    starts a phase of the timeline when ``slot`` enters a mode of ``phases``."""

    def __init__(self, tb, hp, timeline, slot, threshold=None, phases=None):
        self.tb, self.hp, self.timeline, self.slot = tb, hp, timeline, slot
        self.threshold = threshold
        self.phases = phases or {}
        self.crossed = None      # timeline cycle the firmware's count reached the threshold
        self._task = None

    def start(self):
        self._task = cocotb.start_soon(self._run())

    def stop(self):
        self._task.cancel()

    def _event(self, event):
        names = "+".join(e.name.lower() for e in Event if e & event.events) or "counted"
        _say(f"cycle {self.timeline.cycle:>7}: BIOS: slot {event.slot} {names} at line "
             f"{event.err_addr}: CE_COUNT {event.ce}, UE_COUNT {event.ue}; counted so far: "
             f"{event.total}")
        if event.slot != self.slot:
            return
        self.timeline.record("firmware count", event.total)
        if (self.threshold is not None and self.crossed is None
                and event.total >= self.threshold):
            self.crossed = self.timeline.cycle
            self.timeline.note(f"threshold {self.threshold} reached", mark=True)
            self.timeline.phase("BIOS picks the spare")

    async def _run(self):
        seen = 0
        mode = _mode(self.tb, self.slot)
        while True:
            await self.tb.cycles(4)
            events = list(self.hp.error_events)
            for event in events[seen:]:
                self._event(event)
            seen = len(events)
            now = _mode(self.tb, self.slot)
            if now != mode and now in self.phases:
                self.timeline.phase(self.phases[now])
            mode = now


@cocotb.test()
async def failing_module_replaced(dut):
    """A module develops errors under checked traffic; the BIOS replaces it by itself."""
    seed = knob("seed", 1)
    slot = knob("slot", 1)
    load = knob("load", 0.5, float)
    lines_log2 = knob("lines", 4096).bit_length() - 1
    backpressure = knob("backpressure", 0.1, float)
    threshold = knob("threshold", 16)
    png = knob("png", None, str)
    tb = TopTB(dut, capacities_log2=(lines_log2,) * 3 + (lines_log2 + 1,), seed=seed)
    tb.set_backpressure(backpressure)
    tb.set_memory_latency(knob("latency", 4))
    bios = tb.bios
    # this machine's memories all store poison (the platform tells the BIOS so)
    bios.poison_slots = frozenset(range(tb.agents))
    log = _bios_log(tb)
    await tb.reset()
    timeline = Timeline(tb, counters=True)
    timeline.start()
    _say(f"\nmirrorswap failing module: seed {seed}, 4 slots of {1 << lines_log2} lines "
         f"(slot 3: {2 << lines_log2}), host load {load}, back-pressure {backpressure}; "
         f"slot {slot} develops errors, the BIOS replaces a module at {threshold} errors")
    mm = await bios.boot()
    published = mm.published()
    _say(_boot_text(mm, tb, ""))
    _say("\n" + format_slot_table(await bios.slot_table()))
    failing = mm.range_of(slot)
    lb = tb.geometry.line_bytes

    def phase():
        mode = _mode(tb, slot)
        return ("before" if mode == Mode.ACTIVE else
                "mirror" if mode == Mode.MIRROR_MASTER else "after")

    sb = RasScoreboard(ReferenceMemory(mm.total_lines, lb), owned=mm.ranges, phase=phase)
    preload(tb, sb, mm)
    traffic = HostTraffic(tb, sb, mm, seed=seed, load=load)
    traffic.start()
    progress = timeline.sweep_progress(_say, "cycle {cycle:>7}: slot {slot}: sweep {pct}%")

    hp = HotPlug(bios, abort_window_cycles=0, chunk_lines=max(failing.size_lines // 16, 64),
                 on_progress=progress, error_threshold=threshold)
    loop = cocotb.start_soon(hp.run())
    await _until(tb, "the BIOS event loop starting", lambda: hp.listening, 10_000)
    watch = _FlowWatch(tb, hp, timeline, slot, threshold, phases={
        Mode.MIRROR_MASTER: "ESTABLISH, sweep with poison_en",
        Mode.IDLE: "RELEASE done, power off", Mode.OFF: "spare serves; replace me"})
    watch.start()
    injector = _Injector(tb, sb, traffic, timeline, slot, failing.base_line,
                         failing.size_lines, tb.rng, gap=max(300, failing.size_lines // 8))
    await tb.cycles(500)
    timeline.phase("errors develop")
    timeline.record("lines spoiled", 0)
    timeline.note(f"slot {slot} starts failing", mark=True)
    _say(f"\ncycle {timeline.cycle:>7}: slot {slot}'s module starts failing under host "
         f"traffic; the BIOS event loop watches mem_error events (threshold {threshold})")
    inject = cocotb.start_soon(injector.run())

    def replace_record():
        return next((r for r in hp.history if r.kind == "replace" and r.slot == slot), None)

    await _until(tb, f"the replacement of slot {slot}", lambda: replace_record() is not None,
                 FAILING_TIMEOUT)
    injector.stopped = True
    rec = replace_record()
    _say(f"cycle {timeline.cycle:>7}: the BIOS counted {hp.totals.total(slot)} errors on "
         f"slot {slot}: replacing it by itself (no button), spare with poison")
    await _until(tb, "the end of the replacement", lambda: rec.outcome != "running",
                 FAILING_TIMEOUT)
    await inject
    _say(f"cycle {timeline.cycle:>7}: replacement {rec.outcome}: "
         + (f"range now in slot {rec.moved_to}, slot {slot} off, attention LED on"
            if rec.outcome == "done" else rec.detail))
    await tb.cycles(1500)          # the host goes on, against the new module
    await traffic.stop()
    hp.stop()
    await loop
    watch.stop()

    timeline.stop()
    # the end state, through the host port and the modules' backdoors
    bad_after = dict(sb.bad)
    bad = await _check_failing(tb, sb, mm)
    _say("\ntimeline (cycle, slot, what changed):")
    _say(timeline.text())
    if png:
        timeline.save_png(png, title=f"mirrorswap: slot {slot}'s module fails and is "
                                     f"replaced by the BIOS", errors_of=(slot, SPARE),
                          threshold=threshold, total="firmware count")
        _say(f"\ntimeline picture: {png}")
    table, ras = await _slot_report(bios)
    _say("\n" + table + "\n\n" + ras)
    _say("\nmemory map published to the OS, unchanged:\n" + mm.e820())
    logging.getLogger("mirrorswap.firmware").removeHandler(log)

    ctrl = await bios.hw.slot(slot)
    spoiled = {line - failing.base_line for line in sb.spoiled}
    still = {line - failing.base_line for line, s in bad_after.items() if s == BAD}
    maybe = {line - failing.base_line for line, s in bad_after.items() if s == MAYBE}
    poisoned = tb.slots[SPARE].poison.lines if rec.moved_to == SPARE else set()
    k = traffic.by_kind
    _say(f"\nsummary (seed {seed}, slot {slot}, threshold {threshold}, "
         f"{failing.size_lines} lines per module):\n"
         f"  errors           {len(injector.rows)} rows, {len(spoiled)} lines spoiled "
         f"({sum(n for *_, n, kd in injector.rows if kd == 'fail')} failing reads, "
         f"{sum(n for *_, n, kd in injector.rows if kd == 'poison')} poisoned); "
         f"{len(sb.healed)} made good again by host writes\n"
         f"  BIOS             threshold reached at cycle {watch.crossed}; "
         f"{len(hp.error_events)} error events handled; flows: "
         + ", ".join(f"{r.kind} slot {r.slot} {r.outcome}" for r in hp.history) + "\n"
         f"  moved            {failing.size_lines - len(still) - len(maybe)} good lines to "
         f"slot {rec.moved_to}; {len(still)} bad lines copied as poison and still answering "
         f"SLVERR" + (f"; {len(maybe)} failing lines written during the sweep, poison or "
                      f"good (both accepted)" if maybe else "") + "\n"
         f"  host traffic     {k['read']} reads ({sb.error_reads} answered SLVERR as "
         f"expected), {k['write']} writes, {k['narrow']} narrow writes, {k['unowned']} "
         f"unowned (DECERR)\n"
         f"  mismatches       {len(sb.mismatches)}")

    assert not sb.mismatches, f"{len(sb.mismatches)} mismatches; first: {sb.mismatches[0]}"
    assert bad == 0, f"{bad} lines wrong at the end"
    assert tb.capacity_violations() == [], tb.capacity_violations()
    assert hp.history and hp.history[0] is rec, \
        f"the replacement was not the first flow: {hp.history}"
    assert (rec.outcome, rec.moved_to, rec.poison) == ("done", SPARE, True), rec
    assert not [r for r in hp.history if r.kind in ("remove", "add")], \
        "a button flow ran: the replacement must start by itself"
    assert watch.crossed is not None, "the firmware's count never reached the threshold"
    assert (_mode(tb, slot), ctrl["power_en"], ctrl["attn_led"]) == (Mode.OFF, 0, Led.ON), \
        f"slot {slot} should be off with its attention LED on: {_mode(tb, slot)}, {ctrl}"
    assert not int(tb.slots[slot].pins["power_good"].value), "supply still up"
    assert mm.published() == published and mm.slot_of(failing.base_line) == SPARE, \
        mm.entries()
    assert spoiled, "no line was spoiled"
    assert still, "no bad line was left to show that bad lines stay bad"
    assert still <= poisoned <= still | maybe, \
        f"the spare's poison {sorted(poisoned)} is not the bad lines {sorted(still)}"
    others = [r for r in hp.history if r is not rec]
    assert not others, f"flows other than the replacement ran: {others}"
    _say("PASS: the failing module was replaced by the BIOS on its own; bad lines still "
         "bad, every good line moved, no mismatch\n")


async def _check_failing(tb, sb, mm):
    """Every published line at the end: good lines in the module that serves them
    (backdoor) and through the host port, bad lines answering SLVERR one by one."""
    lb = tb.geometry.line_bytes
    bad = 0
    for r in mm.ranges:
        owner = mm.owners[r]
        got = tb.mems[owner].read(0, r.size_lines * lb)
        want = sb.memory.read(r.base_line * lb, r.size_lines * lb)
        for i in range(r.size_lines):
            line = r.base_line + i
            if line not in sb.bad and got[i * lb:(i + 1) * lb] != want[i * lb:(i + 1) * lb]:
                sb.check(line * lb, want[i * lb:(i + 1) * lb], got[i * lb:(i + 1) * lb],
                         f"end: slot {owner} backdoor, module line {i:#x}")
                bad += 1
    good = [line for r in mm.ranges for line in range(r.base_line, r.end_line)
            if line not in sb.bad]
    bad += await read_back(tb, sb, good, rng=tb.rng, what="end")
    for line in sorted(sb.bad):
        expected = sb.expect_read(line * lb, lb)
        r = await tb.host.read(line * lb, lb)
        bad += not sb.read_done(expected, r.resp, r.data, "end: bad line")
    return bad


# ---- SCENARIO=mirror ------------------------------------------------------------------------

async def _takeover(tb, master, slave, cycles=64):
    """Cycle by cycle after the master's supply failed: (cycle the master became OFF,
    cycle its slave became ACTIVE), counted from the failure; None if not seen."""
    off = active = None
    for k in range(1, cycles + 1):
        await RisingEdge(tb.dut.clk)
        await ReadOnly()
        if off is None and _mode(tb, master) == Mode.OFF:
            off = k
        if active is None and _mode(tb, slave) == Mode.ACTIVE:
            active = k
        if off is not None and active is not None:
            break
    return off, active


@cocotb.test()
async def mirror_failover(dut):
    """Mirror mode under checked traffic: corrected reads, then the master dies; the slave
    takes over in hardware, the BIOS switches the dead slot off and mirrors again."""
    seed = knob("seed", 1)
    load = knob("load", 0.5, float)
    lines_log2 = knob("lines", 4096).bit_length() - 1
    backpressure = knob("backpressure", 0.1, float)
    png = knob("png", None, str)
    # the largest module (slot 2) and the first of the two others (slot 0) pair, slot 0
    # the master; slot 1 is the spare; slot 3 is empty
    tb = TopTB(dut, capacities_log2=(lines_log2, lines_log2, lines_log2 + 1, None),
               seed=seed)
    tb.set_backpressure(backpressure)
    tb.set_memory_latency(knob("latency", 4))
    bios = tb.bios
    log = _bios_log(tb)
    lb = tb.geometry.line_bytes
    await tb.reset()
    timeline = Timeline(tb, counters=True)
    timeline.start()
    _say(f"\nmirrorswap mirror mode: seed {seed}, modules of {1 << lines_log2}, "
         f"{1 << lines_log2} and {2 << lines_log2} lines in slots 0-2, slot 3 empty; host "
         f"load {load}, back-pressure {backpressure}")
    timeline.phase("mirror-mode boot: ESTABLISH, full sweep")
    chunk = max((1 << lines_log2) // 8, 64)
    mm = await bios.boot(mirror=True, chunk_lines=chunk)
    published = mm.published()
    assert len(bios.mirror_pairs) == 1, f"one pair expected: {bios.mirror_pairs}"
    [(master, slave)] = bios.mirror_pairs.items()
    r = mm.range_of(master)
    _say(_boot_text(mm, tb, f" in mirror mode: slot {master} mirrored on slot {slave}, "
                            f"failover_en set"))
    table, ras = await _slot_report(bios)
    _say("\n" + table + "\n\n" + ras)

    # known contents in both copies: the pair is swept, master and slave hold the same
    sb = Scoreboard(ReferenceMemory(mm.total_lines, lb), owned=mm.ranges)
    data = tb.rng.randbytes(r.size_lines * lb)
    for agent in (master, slave):
        tb.mems[agent].write(0, data)
    sb.preload(r.base_line * lb, data)
    dying = {"now": False}
    sb.write_error_ok = lambda addr: dying["now"]
    traffic = HostTraffic(tb, sb, mm, seed=seed, load=load,
                          read_error_ok=lambda addr: dying["now"])
    progress = timeline.sweep_progress(
        _say, "cycle {cycle:>7}: slot {slot}: re-mirror sweep {pct}%")

    hp = HotPlug(bios, abort_window_cycles=0, chunk_lines=chunk, on_progress=progress)
    loop = cocotb.start_soon(hp.run())
    await _until(tb, "the BIOS event loop starting", lambda: hp.listening, 10_000)
    watch = _FlowWatch(tb, hp, timeline, master)
    watch.start()
    traffic.start()
    timeline.phase("redundant pair under traffic")
    _say(f"\ncycle {timeline.cycle:>7}: host traffic on the mirrored range")
    await tb.cycles(1000)

    # a few rows of the master fail their reads: the slave serves them (CE_COUNT)
    faults = inject_faults(tb.mems[master], rng=tb.rng)
    rows = sorted(tb.rng.sample(range(0, r.size_lines, 16), 4))
    for first in rows:
        faults.fail(*range(first, first + 16))
    timeline.note("16-line rows fail at the master", mark=True)
    _say(f"cycle {timeline.cycle:>7}: slot {master}: lines "
         + ", ".join(f"{f}-{f + 15}" for f in rows)
         + " start failing their reads; the slave's copy serves them")

    def corrected():
        return hp.totals.totals(master)[0]

    await _until(tb, "a corrected read (CE_COUNT) at the master", lambda: corrected() >= 2,
                 60_000)
    await tb.cycles(1500)
    before = dict(traffic.by_kind)
    ce_before = corrected()      # the loop forgets a dead module's counts

    # the master dies mid-traffic
    timeline.phase("master dead: failover, re-mirror onto the spare")
    timeline.note(f"slot {master}'s supply fails", mark=True)
    _say(f"cycle {timeline.cycle:>7}: slot {master}'s supply fails under traffic")
    dying["now"] = True
    tb.slots[master].power_fail()
    off, active = await _takeover(tb, master, slave)
    _say(f"  hardware: slot {master} OFF {off} cycles after power_good fell, slot {slave} "
         f"ACTIVE {active} cycles after" + (" (the same cycle)" if off == active else ""))

    def record(kind):
        return next((x for x in hp.history if x.kind == kind), None)

    await _until(tb, "the BIOS seeing the failover", lambda: record("failover") is not None,
                 20_000)
    await traffic.quiesce()         # what was in flight to the dead module has ended
    dying["now"] = False
    traffic.resume()
    failed_in_flight = traffic.by_kind["expected read error"] + sb.write_errors
    await _until(tb, "the dead slot switched off",
                 lambda: int(tb.slots[master].pins["power_en"].value) == 0, 20_000)
    dead_ctrl = await bios.hw.slot(master)
    _say(f"cycle {timeline.cycle:>7}: BIOS: failover recorded, slot {master} switched off, "
         f"attention LED {Led(dead_ctrl['attn_led']).name}")
    await _until(tb, "the re-mirroring onto the spare",
                 lambda: (x := record("mirror")) is not None and x.outcome != "running",
                 FAILING_TIMEOUT)
    timeline.phase("redundant again: new pair")
    remirror = record("mirror")
    _say(f"cycle {timeline.cycle:>7}: BIOS: range mirrored onto slot {remirror.moved_to}: "
         f"{remirror.outcome}")
    await tb.cycles(1500)

    # the user swaps the dead module for a new one: the next spare
    timeline.phase("dead module replaced")
    await traffic.stop()
    tb.slots[master].remove()
    tb.slots[master].power_restore()
    timeline.note("module pulled", master)
    await tb.cycles(300)
    tb.slots[master].insert(lines_log2)
    timeline.note("new module plugged in", master)
    await tb.cycles(300)
    timeline.note("button: add it as the spare", master)
    _say(f"cycle {timeline.cycle:>7}: the dead module is pulled, a new one plugged into "
         f"slot {master} and its button pressed")
    n = len(hp.history)
    await tb.slots[master].press_button()
    await _until(tb, "the hot add", lambda: any(x.kind == "add" and x.outcome != "running"
                                                for x in hp.history[n:]), 50_000)
    await hp.wait_idle()
    hp.stop()
    await loop
    watch.stop()
    timeline.stop()

    after = {k: traffic.by_kind[k] - before[k] for k in ("read", "write")}
    for line in sb.memory.uncertain_lines():      # writes that died with the master
        new = tb.rng.randbytes(lb)
        sb.write_done(line * lb, new, (await tb.host.write(line * lb, new)).resp)
    bad = await check_all(tb, sb, mm, sample=0, rng=tb.rng, what="after failover", full=True)
    new_master, new_slave = next(iter(bios.mirror_pairs.items()), (None, None))
    copy_equal = new_master is not None and (
        tb.mems[new_master].read(0, r.size_lines * lb)
        == tb.mems[new_slave].read(0, r.size_lines * lb))
    _say("\ntimeline (cycle, slot, what changed):")
    _say(timeline.text())
    if png:
        timeline.save_png(png, title=f"mirrorswap mirror mode: slot {master} dies, slot "
                                     f"{slave} takes over", errors_of=(master,),
                          total="firmware count")
        _say(f"\ntimeline picture: {png}")
    table, ras = await _slot_report(bios)
    _say("\n" + table + "\n\n" + ras)
    _say("\nmemory map published to the OS, unchanged:\n" + mm.e820())
    logging.getLogger("mirrorswap.firmware").removeHandler(log)
    k = traffic.by_kind
    _say(f"\nsummary (seed {seed}, {r.size_lines} lines mirrored):\n"
         f"  hardware         slot {slave} ACTIVE {active} cycles after the supply failed, "
         f"slot {master} OFF after {off}; {ce_before} host read beats corrected by "
         f"the mirror before\n"
         f"  BIOS             flows: "
         + ", ".join(f"{x.kind} slot {x.slot} {x.outcome}"
                     + (f" (-> {x.moved_to})" if x.moved_to is not None else "")
                     for x in hp.history) + "\n"
         f"  host traffic     {k['read']} reads, {k['write']} writes, {k['narrow']} narrow "
         f"writes, {k['unowned']} unowned (DECERR); {after['read']} reads and "
         f"{after['write']} writes after the failover; {failed_in_flight} in flight to the "
         f"dead module answered SLVERR (allowed), none OKAY with wrong data\n"
         f"  checks           {sb.summary()}; every line read back at the end: {bad} wrong\n"
         f"  mismatches       {len(sb.mismatches)}")
    assert not sb.mismatches and bad == 0, sb.summary()
    assert off is not None and off == active, \
        f"the slave must become ACTIVE in the cycle the master becomes OFF: {off}, {active}"
    kinds = [(x.kind, x.slot, x.outcome, x.moved_to) for x in hp.history]
    assert kinds == [("failover", master, "done", slave), ("mirror", slave, "done", 1),
                     ("add", master, "done", None)], kinds
    assert (dead_ctrl["power_en"], dead_ctrl["attn_led"]) == (0, Led.ON), dead_ctrl
    assert after["read"] > 10 and after["write"] > 10, f"too little traffic after: {after}"
    assert mm.published() == published and mm.slot_of(r.base_line) == slave, mm.entries()
    assert bios.mirror_pairs == {slave: 1} and copy_equal, \
        f"the range is not mirrored again: {bios.mirror_pairs}"
    assert (await bios.hw.ras(slave)).failover_en and (await bios.hw.status(slave)).swept
    assert (await bios.hw.status(master)).mode == Mode.IDLE, "the new module is a spare"
    assert ce_before >= 2 and any(e.slot == master and e.events & Event.CORRECTED
                                  for e in hp.error_events), "no corrected read was seen"
    assert tb.capacity_violations() == [], tb.capacity_violations()
    _say("PASS: the slave took over in hardware, the host never got a wrong byte, the BIOS "
         "switched the dead slot off and mirrored the range again\n")
