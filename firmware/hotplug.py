"""Hot-plug: the BIOS event loop behind the slot buttons, and its flows (SPEC section 6).

The top of the firmware's flow layer (see :mod:`mirrorswap.firmware`): :class:`HotPlug`
decides *when* a flow runs (a button press, or a direct call such as the command line's)
and what the user is shown on the slot's LEDs, and leaves the *how* to the public methods
of :class:`~firmware.bios.Bios`.
"""

import logging
from dataclasses import dataclass, field

from mirrorswap.regmap import Event, Led, Mode
from .errors import CommandError, NoSpareError, check_int

__all__ = ["HotPlug", "FlowRecord", "WATCHED"]

log = logging.getLogger(__name__)

#: Events the loop asks to be interrupted for.
WATCHED = Event.BUTTON | Event.PRESENCE_CHANGED | Event.POWER_FAULT | Event.MEM_ERROR

# What each flow needs of its slot, in the words of the ValueError a direct call raises.
_NEEDS = {"remove": "hot remove needs an ACTIVE slot",
          "add": "hot add needs a powered-off slot with a module",
          "remove-spare": "removing a spare needs an IDLE slot"}


@dataclass
class FlowRecord:
    """What happened to one flow (one button press or one direct call), for the user and
    for tests.

    Members
    -------
    slot : int
    kind : str
        ``"remove"``, ``"add"`` or ``"remove-spare"``.
    outcome : str
        ``"running"``, then ``"done"``, ``"cancelled"`` (second press in the abort window),
        ``"refused"`` (nothing changed: no spare fits, or the hardware refused a command,
        which changes no state) or ``"failed"`` (the flow stopped part way; the module
        keeps serving its range).
    detail : str
        Why it was refused or failed.
    moved_to : int or None
        The slot that took the range over (hot remove, once the range moved).
    progress : list of (int, int)
        ``(lines done, lines in the range)`` after each SWEEP chunk.
    """

    slot: int
    kind: str
    outcome: str = "running"
    detail: str = ""
    moved_to: int = None
    progress: list = field(default_factory=list)


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

    Every failure, of any flow, ends the same way (SPEC section 6): the attention LED on
    (the user is told), the power LED steady and saying whether the slot is powered (on,
    unless the flow switched it off, as a hot add whose module never reached power good
    does), the record's ``outcome`` ``"refused"`` or ``"failed"`` with the reason in
    ``detail``. A failed migration was ABORTed by :meth:`Bios.migrate`, so the module
    keeps serving its range. No failure takes the loop down.

    :meth:`hot_remove`, :meth:`hot_add` and :meth:`remove_spare` run the same flows to
    their end without a button (a program asked: no abort window).

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

    Members
    -------
    history : list of FlowRecord
        Every flow started, in order.
    lost : list of (int, MemoryRange)
        Modules pulled while they served a range: the one case that loses data.
    listening : bool
        Set once :meth:`run` handles the events that arrive.

    Raises
    ------
    ValueError
        A parameter out of range.
    """

    def __init__(self, bios, *, abort_window_cycles, chunk_lines=4096, on_progress=None,
                 poll_cycles=256, power_timeout_cycles=100_000):
        check_int("Abort window", abort_window_cycles, minimum=0)
        check_int("Chunk", chunk_lines)
        check_int("Poll interval", poll_cycles)
        check_int("Power timeout", power_timeout_cycles)
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
        self._picking = False
        self._stop = False

    # ---- the event loop ---------------------------------------------------------------------
    async def enable(self):
        for a in range(await self.hw.agents()):
            await self.hw.clear_events(a, WATCHED)
            await self.hw.write_reg(a, "IRQ_EN", int(WATCHED))

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
                summary = await self.hw.read_global("IRQ_SUMMARY")
                for a in range(n):
                    if summary >> a & 1:
                        events = await self.hw.events(a) & WATCHED
                        await self.hw.clear_events(a, events)
                        await self.handle(a, events)
            except Exception:   # the loop outlives any one bad event
                log.exception("hot-plug event handling failed")

    async def handle(self, slot, events):
        log.debug("slot %d: events %s", slot, events)
        if events & Event.POWER_FAULT:
            log.warning("slot %d: power fault", slot)
        if events & Event.PRESENCE_CHANGED:
            present = (await self.hw.status(slot)).present
            log.info("slot %d: module %s", slot, "inserted" if present else "removed")
            mm = self.bios.memory_map
            if not present and mm is not None and slot in mm.owner_slots():
                # the one case that loses data: the module serving a range was pulled
                lost = mm.range_of(slot)
                self.lost.append((slot, lost))
                log.error("slot %d was pulled while serving lines %d-%d: their data is "
                          "lost, accesses to them answer errors", slot, lost.base_line,
                          lost.end_line - 1)
        if events & Event.MEM_ERROR:
            log.warning("slot %d: memory error at line %d", slot,
                        await self.hw.read_reg(slot, "ERR_ADDR"))
        if events & Event.BUTTON:
            await self.press(slot)

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
        kind = self._kind_for(status)
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

    async def _run_now(self, slot, kind):
        await self.hw.check_agent(slot)
        if slot in self.flows or slot in self.reserved:
            raise ValueError(f"slot {slot} takes part in a running flow")
        status = await self.hw.status(slot)
        if self._kind_for(status) != kind:
            empty = status.mode == Mode.OFF and not status.present
            what = status.mode.name + (" with no module" if empty else "")
            raise ValueError(f"slot {slot} is {what}: {_NEEDS[kind]}")
        record, task = self._start(slot, kind, window=False)
        await task
        return record

    @staticmethod
    def _kind_for(status):
        if status.mode == Mode.ACTIVE:
            return "remove"
        if status.mode == Mode.OFF and status.present:
            return "add"
        if status.mode == Mode.IDLE:
            return "remove-spare"
        return None

    def _start(self, slot, kind, *, window):
        flow = {"remove": self._hot_remove, "add": self._hot_add,
                "remove-spare": self._remove_spare}[kind]
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

    async def _hot_remove(self, rec, window):
        slot = rec.slot
        await self.hw.set_slot(slot, attn_led=Led.BLINK, power_led=Led.BLINK)
        if window and await self._abort_window(slot):
            await self.hw.set_slot(slot, attn_led=Led.OFF, power_led=Led.ON)
            rec.outcome = "cancelled"
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

    async def _reserve_spare(self, slot, size):
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
                                               | set(self.flows))
            self.reserved.add(spare)
            return spare
        finally:
            self._picking = False

    async def _hot_add(self, rec, window):
        await self.bios.power_on(rec.slot, timeout_cycles=self.power_timeout_cycles)
        rec.outcome = "done"

    async def _remove_spare(self, rec, window):
        await self.bios.power_off(rec.slot, timeout_cycles=self.power_timeout_cycles)
        rec.outcome = "done"
