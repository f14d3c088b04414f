"""Hot-plug: the BIOS event loop behind the slot buttons, and its flows (SPEC section 6).

The top of the firmware's flow layer (see :mod:`mirrorswap.firmware`): :class:`HotPlug`
decides *when* a flow runs (a button press, a module's error count reaching the threshold,
a failover, or a direct call such as the command line's) and what the user is shown on the
slot's LEDs, and leaves the *how* to the public methods of :class:`~firmware.bios.Bios`.
"""

import collections
import logging
from dataclasses import dataclass, field

from mirrorswap.regmap import Event, Led, Mode
from .errors import CommandError, NoSpareError, check_int
from .ras import RAS_EVENTS, ErrorEvent, ErrorTotals

__all__ = ["HotPlug", "FlowRecord", "WATCHED", "RAS_WATCHED"]

log = logging.getLogger(__name__)

#: Events the loop asks to be interrupted for.
WATCHED = Event.BUTTON | Event.PRESENCE_CHANGED | Event.POWER_FAULT | Event.MEM_ERROR
#: ... and with RAS (an error threshold, or mirror mode): failover and corrected errors.
RAS_WATCHED = WATCHED | RAS_EVENTS

# What each flow needs of its slot, in the words of the ValueError a direct call raises.
_NEEDS = {"remove": "hot remove needs an ACTIVE slot",
          "add": "hot add needs a powered-off slot with a module",
          "remove-spare": "removing a spare needs an IDLE slot",
          "remove-master": "handing a range over needs the master of a mirror-mode pair",
          "remove-slave": "removing a mirror needs the slave of a mirror-mode pair"}


@dataclass
class FlowRecord:
    """What happened to one flow (one button press or one direct call), for the user and
    for tests.

    Members
    -------
    slot : int
    kind : str
        Buttons and direct calls: ``"remove"``, ``"add"``, ``"remove-spare"``; in mirror
        mode ``"remove-master"`` (a pair's master hands its range over to its slave) and
        ``"remove-slave"`` (the pair ends, the slave is switched off). RAS, started by the
        loop itself: ``"replace"`` (predictive replacement: the errors reached the
        threshold), ``"failover"`` (the hardware moved the range of a dead master to its
        slave; ``slot`` is the dead one), ``"mirror"`` (a range of mirror mode is paired
        with a spare again), ``"resync"`` (a mirror pair is swept again after a failed
        forwarded write).
    outcome : str
        ``"running"``, then ``"done"``, ``"cancelled"`` (second press in the abort window),
        ``"refused"`` (nothing changed: no spare fits, or the hardware refused a command,
        which changes no state) or ``"failed"`` (the flow stopped part way; the module
        keeps serving its range).
    detail : str
        Why it was refused or failed.
    moved_to : int or None
        The slot that took the range over (hot remove, replace, hand-over, failover), or
        the new slave (mirror).
    progress : list of (int, int)
        ``(lines done, lines in the range)`` after each SWEEP chunk.
    poison : bool
        The migration ran with RAS_CTRL.poison_en (replace, to a spare that stores
        poison).
    """

    slot: int
    kind: str
    outcome: str = "running"
    detail: str = ""
    moved_to: int = None
    progress: list = field(default_factory=list)
    poison: bool = False


class HotPlug:
    """Runs the hot-plug flows, on a button press as on PCIe native hot-plug, or when called.

    The loop (:meth:`run`) waits for ``irq`` (or polls), reads IRQ_SUMMARY and the EVENTS
    of each agent it names, clears the events it handles and dispatches a press by the
    slot's mode:

    - ACTIVE: **hot remove**. Attention LED blinks (command received), power LED blinks
      (flow in progress), then an abort window in which a second press cancels and
      restores the LEDs; then the range migrates to the largest IDLE module that fits, the
      old slot is switched off and its LEDs go off. The memory map published to the OS
      does not change.
    - powered off with a module: **hot add**. Power on, power LED blinks until power is
      good, then on; the module is a spare with no address.
    - IDLE: **remove the spare**. Power off, LEDs off.
    - presses on a slot that takes part in a running flow (its own, after the abort
      window, or as the spare a migration reserved) are ignored.
    - mirror mode (:meth:`Bios.boot` with ``mirror=True``), a pair's master: **hand
      over**. LEDs and abort window as a hot remove; then the range moves to the slave,
      which holds a swept copy (RELEASE, no copy to wait for), the old slot is switched
      off, its LEDs off. A pair's slave: **remove the mirror**. LEDs and abort window; the
      pair is ABORTed (the master serves its range alone), the slave switched off. Either
      way the range then runs without redundancy until it is paired with a spare again
      (below).

    RAS (SPEC sections 6 and 7), on when ``error_threshold`` is given or the BIOS booted in
    mirror mode; the loop then also enables the failover and corrected events:

    - **Error counting.** On a mem_error or corrected event the loop reads the agent's
      CE_COUNT, UE_COUNT and ERR_ADDR, adds what the counters grew by to the slot's
      totals (:class:`~firmware.ras.ErrorTotals`: it never clears them, so no count is
      lost in a race) and appends an :class:`~firmware.ras.ErrorEvent` to
      :attr:`error_events`.
    - **Predictive replacement.** When the corrected plus uncorrected errors of an ACTIVE
      slot (or a mirror-mode master) reach ``error_threshold``, the loop replaces it on its
      own, as for a press but without the abort window: power LED blinking, then an
      ACTIVE slot migrates to a spare (a spare that stores poison, ``Bios.poison_slots``,
      is preferred, and then RAS_CTRL.poison_en is set, so bad lines do not stop the
      sweep), a master hands its range to its slave; then the slot is switched off and its
      attention LED lit: replace me. One attempt per module: a replacement that is refused
      or fails (failure LEDs, as every flow) is tried again only after a hot add brings a
      new spare.
    - **Failover.** On a failover event (the master died, its swept slave took the range
      over in hardware), the loop records it (kind ``"failover"``), switches the dead slot
      off (SLOT_CTRL.power_en 0, power LED off) and lights its attention LED; RAS_CTRL of
      the dead slot goes back to 0. The published map does not change (the former slave
      serves the range).
    - **Redundancy** (mirror mode). A published range served by an ACTIVE slot without a
      mirror (after a failover, a hand-over, a removed mirror, a replacement) is paired
      with the largest spare that fits (kind ``"mirror"``) when the flow that left it alone
      ends and after every hot add; no fitting spare: the record says ``"refused"``, no LED
      changes. A mem_error on a master whose pair is no longer swept (a failed forwarded
      write cleared SWEPT_UPTO) sweeps it again (kind ``"resync"``).

    Every failure, of any flow, ends the same way (SPEC section 6): the attention LED on
    (the user is told), the power LED steady and saying whether the slot is powered (on,
    unless the flow switched it off, as a hot add whose module never reached power good
    does), the record's ``outcome`` ``"refused"`` or ``"failed"`` with the reason in
    ``detail``. A failed migration was ABORTed by :meth:`Bios.migrate`, so the module
    keeps serving its range. No failure takes the loop down.

    :meth:`hot_remove`, :meth:`hot_add`, :meth:`remove_spare`, :meth:`hand_over` and
    :meth:`remove_mirror` run the same flows to their end without a button (a program
    asked: no abort window).

    Parameters
    ----------
    bios : firmware.bios.Bios
    abort_window_cycles : int
        The abort window after a press (5 s on a board).
    chunk_lines : int
        SWEEP chunk of the migrations.
    on_progress : callable(slot, done, total), optional
        Called after each SWEEP chunk of a hot remove.
    poll_cycles : int
        The longest the loop waits for ``irq`` before it reads IRQ_SUMMARY anyway.
    power_timeout_cycles : int
        How long a slot may take to reach power good (hot add) or OFF (power off).
    error_threshold : int, optional
        Errors (corrected + uncorrected) of a module that trigger its predictive
        replacement; None (default): never.

    Members
    -------
    history : list of FlowRecord
        Every flow started, in order.
    lost : list of (int, MemoryRange)
        Modules pulled while they served a range: the one case that loses data.
    listening : bool
        Set once :meth:`run` handles the events that arrive.
    totals : firmware.ras.ErrorTotals
        Errors counted per slot.
    error_events : collections.deque of firmware.ras.ErrorEvent
        The last 256 error events handled, oldest first.

    Raises
    ------
    ValueError
        A parameter out of range.
    """

    def __init__(self, bios, *, abort_window_cycles, chunk_lines=4096, on_progress=None,
                 poll_cycles=256, power_timeout_cycles=100_000, error_threshold=None):
        check_int("Abort window", abort_window_cycles, minimum=0)
        check_int("Chunk", chunk_lines)
        check_int("Poll interval", poll_cycles)
        check_int("Power timeout", power_timeout_cycles)
        if error_threshold is not None:
            check_int("Error threshold", error_threshold)
        if on_progress is not None and not callable(on_progress):
            raise ValueError(f"Progress must be callable, not {on_progress!r}")
        self.bios = bios
        self.hw = bios.hw
        self.bus = bios.bus
        self.abort_window_cycles = abort_window_cycles
        self.chunk_lines = chunk_lines
        self.on_progress = on_progress
        self.poll_cycles = poll_cycles
        self.power_timeout_cycles = power_timeout_cycles
        self.flows = {}          # slot -> (FlowRecord, task) of the running flow
        self.in_window = {}      # slot -> True while its abort window is open
        self.cancel = set()
        self.history = []
        self.reserved = set()    # spares taken by running migrations
        self.lost = []
        self.listening = False
        self.error_threshold = error_threshold
        self.totals = ErrorTotals()
        self.error_events = collections.deque(maxlen=256)
        self.replace_tried = set()   # modules whose replacement was started
        # modules that received lines copied as poison: reads of those lines raise their
        # UE_COUNT without any fault of theirs, so only their corrected errors count
        self.inherited_poison = set()
        self.dead = set()            # slots failed over and not yet given a new module
        self._watched = WATCHED
        self._picking = False
        self._stop = False

    @property
    def ras(self):
        """The RAS part of the loop is on: a threshold was given or mirror mode booted."""
        return self.error_threshold is not None or self.bios.mirror_mode

    # ---- the event loop ---------------------------------------------------------------------
    async def enable(self):
        # without RAS the loop writes exactly what it always did (the C BIOS's trace)
        self._watched = RAS_WATCHED if self.ras else WATCHED
        for a in range(await self.hw.agents()):
            await self.hw.clear_events(a, self._watched)
            await self.hw.write_reg(a, "IRQ_EN", int(self._watched))

    def stop(self):
        self._stop = True

    async def run(self):
        """The event loop; returns after :meth:`stop`. Events pending when it starts are
        dropped (``enable`` clears them); ``listening`` is set once it is ready."""
        await self.enable()
        self.listening = True
        n = await self.hw.agents()
        while not self._stop:
            await self.bus.wait_irq(self.poll_cycles)
            try:
                if self.ras and self._watched != RAS_WATCHED:
                    await self.enable()     # a mirror-mode boot after the loop started
                summary = await self.hw.read_global("IRQ_SUMMARY")
                for a in range(n):
                    if summary >> a & 1:
                        events = await self.hw.events(a) & self._watched
                        await self.hw.clear_events(a, events)
                        await self.handle(a, events)
            except Exception:   # the loop outlives any one bad event
                log.exception("hot-plug event handling failed")

    async def handle(self, slot, events):
        log.debug("slot %d: events %s", slot, events)
        if events & Event.FAILOVER:
            # first: the range is no longer this slot's, whatever else happened to it
            await self.failover(slot)
        if events & Event.POWER_FAULT:
            log.warning("slot %d: power fault", slot)
        if events & Event.PRESENCE_CHANGED:
            present = (await self.hw.status(slot)).present
            log.info("slot %d: module %s", slot, "inserted" if present else "removed")
            mm = self.bios.memory_map
            if (not present and slot in self.bios.mirror_pairs
                    and await self._has_failed_over(slot)):
                # the failover event may be read after this one
                await self.failover(slot)
            if not present and mm is not None and slot in mm.owner_slots():
                # the one case that loses data: the module serving a range was pulled
                lost = mm.range_of(slot)
                self.lost.append((slot, lost))
                log.error("slot %d was pulled while serving lines %d-%d: their data is "
                          "lost, accesses to them answer errors", slot, lost.base_line,
                          lost.end_line - 1)
        if self.ras and events & (Event.MEM_ERROR | Event.CORRECTED):
            await self.count_errors(slot, events)
        elif events & Event.MEM_ERROR:
            log.warning("slot %d: memory error at line %d", slot,
                        await self.hw.read_reg(slot, "ERR_ADDR"))
        if events & Event.BUTTON:
            await self.press(slot)

    # ---- RAS --------------------------------------------------------------------------------
    async def count_errors(self, slot, events=Event(0)):
        """Read ``slot``'s CE_COUNT, UE_COUNT and ERR_ADDR, add to its totals, record an
        :class:`~firmware.ras.ErrorEvent`; start its replacement when its total reached
        the threshold, or a resync of its mirror pair when that is no longer swept.
        Returns the event."""
        ce = await self.hw.read_reg(slot, "CE_COUNT")
        ue = await self.hw.read_reg(slot, "UE_COUNT")
        err_addr = await self.hw.read_reg(slot, "ERR_ADDR")
        self.totals.update(slot, ce, ue)
        total = self.counted(slot)
        event = ErrorEvent(slot, Event(events & RAS_EVENTS), ce, ue, err_addr, total)
        self.error_events.append(event)
        names = "+".join(e.name.lower() for e in Event if e & events & RAS_EVENTS) or "poll"
        log.warning("slot %d: %s at line %d; %d errors counted (CE_COUNT %d, UE_COUNT %d)",
                    slot, names, err_addr, total, ce, ue)
        if self.error_threshold is not None and total >= self.error_threshold:
            await self._replace_if_due(slot)
        if (events & Event.MEM_ERROR and slot in self.bios.mirror_pairs
                and slot not in self.flows):
            status = await self.hw.status(slot)
            if status.mode == Mode.MIRROR_MASTER and not status.swept and not status.busy:
                self._start(slot, "resync", window=False)
        return event

    def counted(self, slot):
        """The errors of ``slot`` that count towards the threshold: corrected and
        uncorrected, or only corrected on a module that received poisoned lines."""
        ce, ue = self.totals.totals(slot)
        return ce if slot in self.inherited_poison else ce + ue

    async def _replace_if_due(self, slot):
        if slot in self.flows or slot in self.reserved or slot in self.replace_tried:
            return
        status = await self.hw.status(slot)
        paired = status.mode == Mode.MIRROR_MASTER and slot in self.bios.mirror_pairs
        if status.mode != Mode.ACTIVE and not paired:
            return      # a spare, a slave or a module on its way out: nothing to move
        self.replace_tried.add(slot)
        log.warning("slot %d: %d errors reach the threshold of %d, replacing the module",
                    slot, self.counted(slot), self.error_threshold)
        self._start(slot, "replace", window=False)

    async def _has_failed_over(self, slot):
        slave = self.bios.mirror_pairs[slot]
        return (await self.hw.status(slave)).mode == Mode.ACTIVE

    async def failover(self, slot):
        """The hardware failed ``slot`` over to its slave (SPEC section 7): record it
        (kind ``"failover"``), switch the dead slot off with its attention LED lit, put
        its RAS_CTRL back to 0; the memory map records the former slave as the owner.
        A second call for the same death does nothing. Returns the record or None."""
        if slot in self.dead:
            return None
        self.dead.add(slot)
        slave = self.bios.mirror_pairs.get(slot)
        if slave is None:       # a pair this BIOS did not set up: the hardware knows it
            slave = (await self.hw.status(slot)).peer
        record = FlowRecord(slot, "failover", outcome="done", moved_to=slave)
        self.history.append(record)
        self.bios.failed_over(slot, slave)
        self.totals.forget(slot)
        try:
            await self.hw.set_slot(slot, power_en=0, power_led=Led.OFF, attn_led=Led.ON)
            await self.hw.write_reg(slot, "RAS_CTRL", 0)
        except Exception as e:
            record.outcome = "failed"
            record.detail = f"the dead slot could not be switched off: {e}"
        log.error("slot %d failed over: slot %d serves its range now; replace the module",
                  slot, slave)
        await self._restore_redundancy()
        return record

    async def _restore_redundancy(self):
        """Mirror mode: pair every published range served by an unpaired ACTIVE slot with a
        spare (a ``"mirror"`` flow each, in the background)."""
        mm = self.bios.memory_map
        if not self.bios.mirror_mode or mm is None:
            return
        for owner in mm.owner_slots():
            if (owner in self.bios.mirror_pairs or owner in self.flows
                    or owner in self.reserved):
                continue
            if (await self.hw.status(owner)).mode == Mode.ACTIVE:
                self._start(owner, "mirror", window=False)

    async def press(self, slot):
        """A press of ``slot``'s button: cancel its flow in the abort window, else start
        the flow its mode calls for (in the background), else ignore it."""
        if slot in self.flows:
            if self.in_window.get(slot):
                self.cancel.add(slot)
                log.info("slot %d: second press in the abort window, cancelling", slot)
            else:
                log.info("slot %d: press ignored, a flow is running", slot)
            return
        if slot in self.reserved:
            log.info("slot %d: press ignored, it is the spare of a running migration", slot)
            return
        status = await self.hw.status(slot)
        kind = self._kind_for(slot, status)
        if kind is None:
            log.info("slot %d: press ignored in mode %s", slot, status.mode.name)
            return
        self._start(slot, kind, window=True)

    async def wait_idle(self):
        """Wait until no flow is running."""
        while self.flows:
            _, task = next(iter(self.flows.values()))
            await task

    # ---- the flows, called directly ---------------------------------------------------------
    async def hot_remove(self, slot):
        """Move ACTIVE ``slot``'s range to a spare and switch the slot off; no abort window.

        Returns the flow's :class:`FlowRecord` once it ended (done, refused or failed, with
        the LEDs as the class says). Raises :class:`ValueError`, with nothing written, when
        ``slot`` is not an ACTIVE slot of this hardware or already takes part in a flow.
        """
        return await self._run_now(slot, "remove")

    async def hot_add(self, slot):
        """Power a slot that holds a module and is off, and make the module a spare; as
        :meth:`hot_remove` for what it returns and raises."""
        return await self._run_now(slot, "add")

    async def remove_spare(self, slot):
        """Switch an IDLE slot off, its LEDs off; as :meth:`hot_remove` for what it
        returns and raises."""
        return await self._run_now(slot, "remove-spare")

    async def hand_over(self, slot):
        """Mirror mode: move the range of pair master ``slot`` to its slave and switch the
        slot off (the button's flow without the abort window); as :meth:`hot_remove`."""
        return await self._run_now(slot, "remove-master")

    async def remove_mirror(self, slot):
        """Mirror mode: end the pair whose slave is ``slot`` and switch the slot off; as
        :meth:`hot_remove`."""
        return await self._run_now(slot, "remove-slave")

    async def _run_now(self, slot, kind):
        await self.hw.check_agent(slot)
        if slot in self.flows or slot in self.reserved:
            raise ValueError(f"slot {slot} takes part in a running flow")
        status = await self.hw.status(slot)
        if self._kind_for(slot, status) != kind:
            empty = status.mode == Mode.OFF and not status.present
            what = status.mode.name + (" with no module" if empty else "")
            raise ValueError(f"slot {slot} is {what}: {_NEEDS[kind]}")
        record, task = self._start(slot, kind, window=False)
        await task
        return record

    def _kind_for(self, slot, status):
        if status.mode == Mode.ACTIVE:
            return "remove"
        if status.mode == Mode.OFF and status.present:
            return "add"
        if status.mode == Mode.IDLE:
            return "remove-spare"
        pairs = self.bios.mirror_pairs
        if status.mode == Mode.MIRROR_MASTER and slot in pairs:
            return "remove-master"
        if status.mode == Mode.MIRROR_SLAVE and slot in pairs.values():
            return "remove-slave"
        return None     # a migration's pair: its flow owns it

    def _start(self, slot, kind, *, window):
        flow = {"remove": self._hot_remove, "add": self._hot_add,
                "remove-spare": self._remove_spare, "remove-master": self._remove_master,
                "remove-slave": self._remove_slave, "replace": self._replace,
                "mirror": self._mirror, "resync": self._resync}[kind]
        record = FlowRecord(slot, kind)
        self.history.append(record)
        task = self.bus.spawn(self._guard(record, flow, window))
        # registered before the task first runs: a press or a spare pick that comes
        # meanwhile sees the slot as taken
        self.flows[slot] = (record, task)
        return record, task

    async def _guard(self, record, flow, window):
        try:
            await flow(record, window)
        except Exception as e:   # every failure ends here, the same way for every flow
            await self._report_failure(record, e)
        finally:
            self.flows.pop(record.slot, None)
            self.in_window.pop(record.slot, None)
            self.cancel.discard(record.slot)

    async def _report_failure(self, record, error):
        """Record the failure and show it: attention LED on, power LED steady and saying
        whether the slot is powered (SPEC section 6)."""
        slot = record.slot
        # NoSpareError: nothing was written; a CommandError: the hardware refused a
        # command, which changes no state (SPEC section 4)
        refused = isinstance(error, (NoSpareError, CommandError))
        record.outcome = "refused" if refused else "failed"
        record.detail = str(error)
        try:
            powered = (await self.hw.slot(slot))["power_en"]
            await self.hw.set_slot(slot, power_led=Led.ON if powered else Led.OFF,
                                   attn_led=Led.ON)
        except Exception as led_error:   # e.g. the bus error that failed the flow
            record.detail += f"; its LEDs could not be set either: {led_error}"
        log.error("slot %d: %s flow %s: %s", slot, record.kind, record.outcome, record.detail)

    async def _cancelled(self, rec, window):
        """Blink both LEDs (command received, flow running) and, with ``window``, give the
        abort window: True when a second press cancelled the flow (LEDs back, outcome
        ``"cancelled"``)."""
        await self.hw.set_slot(rec.slot, attn_led=Led.BLINK, power_led=Led.BLINK)
        if window and await self._abort_window(rec.slot):
            await self.hw.set_slot(rec.slot, attn_led=Led.OFF, power_led=Led.ON)
            rec.outcome = "cancelled"
            return True
        return False

    async def _hot_remove(self, rec, window):
        slot = rec.slot
        if await self._cancelled(rec, window):
            return
        size = await self.hw.read_reg(slot, "SIZE")
        spare = await self._reserve_spare(slot, size)

        def progress(done, total):
            rec.progress.append((done, total))
            if self.on_progress is not None:
                self.on_progress(slot, done, total)

        try:
            rec.moved_to = await self.bios.migrate(slot, spare=spare,
                                                   chunk_lines=self.chunk_lines,
                                                   progress=progress)
        finally:
            self.reserved.discard(spare)
        await self.bios.power_off(slot, timeout_cycles=self.power_timeout_cycles)
        rec.outcome = "done"

    async def _abort_window(self, slot):
        """Wait out the abort window; True when a second press cancelled the flow."""
        self.in_window[slot] = True
        waited = 0
        while waited < self.abort_window_cycles and slot not in self.cancel:
            step = min(self.poll_cycles, self.abort_window_cycles - waited)
            await self.bus.pause(step)
            waited += step
        self.in_window[slot] = False
        return slot in self.cancel

    async def _reserve_spare(self, slot, size, prefer=()):
        # Two flows must not pick the same spare: picking reads registers (it awaits), so
        # one flow at a time picks and reserves. A flag polled with pause() rather than a
        # lock: the flows run on the bus's scheduler (cocotb's in simulation), which an
        # asyncio lock does not belong to.
        while self._picking:
            await self.bus.pause(8)
        self._picking = True
        try:
            # a slot in a flow of its own (a spare being switched off) is no spare either
            spare = await self.bios.pick_spare(size, exclude={slot} | self.reserved
                                               | set(self.flows), prefer=prefer)
            self.reserved.add(spare)
            return spare
        finally:
            self._picking = False

    async def _hot_add(self, rec, window):
        await self.bios.power_on(rec.slot, timeout_cycles=self.power_timeout_cycles)
        rec.outcome = "done"
        # a new module: its errors start at 0, and a failed replacement may now find a spare
        self.totals.forget(rec.slot)
        self.dead.discard(rec.slot)
        self.replace_tried.discard(rec.slot)
        self.inherited_poison.discard(rec.slot)
        await self._restore_redundancy()
        for slot in sorted(self.replace_tried):
            if (self.error_threshold is not None
                    and self.counted(slot) >= self.error_threshold):
                self.replace_tried.discard(slot)
                await self._replace_if_due(slot)

    async def _remove_spare(self, rec, window):
        await self.bios.power_off(rec.slot, timeout_cycles=self.power_timeout_cycles)
        rec.outcome = "done"

    # ---- the flows of mirror mode and RAS ---------------------------------------------------
    def _progress(self, rec):
        def progress(done, total):
            rec.progress.append((done, total))
            if self.on_progress is not None:
                self.on_progress(rec.slot, done, total)
        return progress

    async def _remove_master(self, rec, window):
        slot = rec.slot
        slave = self.bios.mirror_pairs[slot]
        # a press on the slave while its master leaves is ignored
        self.reserved.add(slave)
        try:
            if await self._cancelled(rec, window):
                return
            rec.moved_to = await self.bios.hand_over(slot, chunk_lines=self.chunk_lines)
        finally:
            self.reserved.discard(slave)
        await self.bios.power_off(slot, timeout_cycles=self.power_timeout_cycles)
        rec.outcome = "done"
        await self._restore_redundancy()

    async def _remove_slave(self, rec, window):
        slot = rec.slot
        master = next(m for m, s in self.bios.mirror_pairs.items() if s == slot)
        self.reserved.add(master)
        try:
            if await self._cancelled(rec, window):
                return
            await self.bios.unmirror(master)
        finally:
            self.reserved.discard(master)
        await self.bios.power_off(slot, timeout_cycles=self.power_timeout_cycles)
        rec.outcome = "done"
        await self._restore_redundancy()

    async def _replace(self, rec, window):
        """Predictive replacement: move the range off the failing module, switch it off,
        attention LED on."""
        slot = rec.slot
        await self.hw.set_slot(slot, power_led=Led.BLINK)
        if (await self.hw.status(slot)).mode == Mode.MIRROR_MASTER:
            slave = self.bios.mirror_pairs[slot]
            self.reserved.add(slave)
            try:
                rec.moved_to = await self.bios.hand_over(slot, chunk_lines=self.chunk_lines)
            finally:
                self.reserved.discard(slave)
        else:
            size = await self.hw.read_reg(slot, "SIZE")
            spare = await self._reserve_spare(slot, size, prefer=self.bios.poison_slots)
            rec.poison = spare in self.bios.poison_slots
            try:
                rec.moved_to = await self.bios.migrate(
                    slot, spare=spare, chunk_lines=self.chunk_lines,
                    progress=self._progress(rec), poison=rec.poison)
            finally:
                self.reserved.discard(spare)
        await self.bios.power_off(slot, timeout_cycles=self.power_timeout_cycles)
        await self.hw.set_slot(slot, attn_led=Led.ON)     # replace me
        rec.outcome = "done"
        if rec.poison:
            self.inherited_poison.add(rec.moved_to)
        log.warning("slot %d: replaced by slot %d%s; the module can be pulled", slot,
                    rec.moved_to, " (unreadable lines copied as poison)" if rec.poison else "")
        await self._restore_redundancy()

    async def _mirror(self, rec, window):
        """Pair the unmirrored range of ACTIVE ``rec.slot`` with a spare (mirror mode)."""
        slot = rec.slot
        size = await self.hw.read_reg(slot, "SIZE")
        try:
            spare = await self._reserve_spare(slot, size)
        except NoSpareError as e:
            # no spare is no failure of this module: no LED, the range runs alone
            rec.outcome = "refused"
            rec.detail = f"{e}: slot {slot} serves its range without redundancy"
            log.warning("slot %d: %s", slot, rec.detail)
            return
        try:
            await self.hw.set_slot(slot, power_led=Led.BLINK)
            await self.bios.mirror(slot, spare, chunk_lines=self.chunk_lines,
                                   progress=self._progress(rec))
        finally:
            self.reserved.discard(spare)
        await self.hw.set_slot(slot, power_led=Led.ON)
        rec.moved_to = spare
        rec.outcome = "done"

    async def _resync(self, rec, window):
        await self.bios.resync(rec.slot, chunk_lines=self.chunk_lines)
        rec.outcome = "done"
