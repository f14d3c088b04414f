"""Hot-plug: the BIOS event loop behind the slot buttons (SPEC section 6)."""

import logging
from dataclasses import dataclass, field

from mirrorswap.regmap import Event, Led, Mode
from .errors import FlowError, NoSpareError

__all__ = ["HotPlug", "FlowRecord"]

log = logging.getLogger(__name__)

#: Events the loop asks to be interrupted for.
WATCHED = Event.BUTTON | Event.PRESENCE_CHANGED | Event.POWER_FAULT | Event.MEM_ERROR


@dataclass
class FlowRecord:
    """What happened to one button press, for the user and for tests."""
    slot: int
    kind: str                     # "remove", "add", "remove-spare"
    outcome: str = "running"      # "done", "cancelled", "failed", "refused"
    detail: str = ""
    moved_to: int = None
    progress: list = field(default_factory=list)


class HotPlug:
    """Runs the hot-plug flows when slot buttons are pressed, as on PCIe native hot-plug.

    The loop waits for ``irq`` (or polls), reads IRQ_SUMMARY and the EVENTS of each agent
    it names, clears the events it handles and dispatches:

    - a press on an ACTIVE slot starts **hot remove**: attention LED blinks (command
      received), power LED blinks (flow in progress), then an abort window in which a
      second press cancels and restores the LEDs; then the range migrates to the largest
      IDLE module that fits, the old slot is switched off and its LEDs go off. The memory
      map published to the OS does not change. On failure (no spare, memory error, lost
      power) the pair is aborted, the power LED is back on and the attention LED is on;
      the module keeps serving its range.
    - a press on a powered-off slot with a module starts **hot add**: power on, power LED
      blinks until power is good, then on; the module is a spare with no address.
    - a press on an IDLE slot **removes the spare**: power off, LEDs off.
    - presses on a slot whose flow is running (after its abort window) are ignored.

    Parameters
    ----------
    bios : firmware.bios.Bios
    abort_window_cycles : int
        The abort window (5 s on a board).
    chunk_lines : int
        SWEEP chunk of the migrations.
    on_progress : callable(slot, done, total), optional
    """

    def __init__(self, bios, *, abort_window_cycles, chunk_lines=4096, on_progress=None,
                 poll_cycles=256):
        if abort_window_cycles < 0:
            raise ValueError(f"Abort window must be non-negative, not {abort_window_cycles}")
        self.bios = bios
        self.hw = bios.hw
        self.bus = bios.bus
        self.abort_window_cycles = abort_window_cycles
        self.chunk_lines = chunk_lines
        self.on_progress = on_progress
        self.poll_cycles = poll_cycles
        self.flows = {}          # slot -> (FlowRecord, task) of the running flow
        self.in_window = {}      # slot -> True while its abort window is open
        self.cancel = set()
        self.history = []        # FlowRecord of every press that started something
        self.reserved = set()    # spares taken by running migrations
        self.lost = []           # (slot, MemoryRange): modules pulled while serving a range
        self.listening = False   # events that arrive from now on are handled
        self._picking = False
        self._stop = False

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
        if slot in self.flows:
            if self.in_window.get(slot):
                self.cancel.add(slot)
                log.info("slot %d: second press in the abort window, cancelling", slot)
            else:
                log.info("slot %d: press ignored, a flow is running", slot)
            return
        status = await self.hw.status(slot)
        if status.mode == Mode.ACTIVE:
            kind, flow = "remove", self._hot_remove
        elif status.mode == Mode.OFF and status.present:
            kind, flow = "add", self._hot_add
        elif status.mode == Mode.IDLE:
            kind, flow = "remove-spare", self._remove_spare
        else:
            log.info("slot %d: press ignored in mode %s", slot, status.mode.name)
            return
        record = FlowRecord(slot, kind)
        self.history.append(record)
        self.flows[slot] = (record, self.bus.spawn(self._guard(record, flow)))

    async def _guard(self, record, flow):
        try:
            await flow(record)
        except Exception as e:   # a flow never takes the loop down; it reports
            record.outcome, record.detail = "failed", str(e)
            log.error("slot %d: %s flow failed: %s", record.slot, record.kind, e)
        finally:
            self.flows.pop(record.slot, None)
            self.in_window.pop(record.slot, None)
            self.cancel.discard(record.slot)

    async def wait_idle(self):
        """Wait until no flow is running."""
        while self.flows:
            _, task = next(iter(self.flows.values()))
            await task

    # ---- flows ------------------------------------------------------------------------------
    async def _hot_remove(self, rec):
        slot = rec.slot
        await self.hw.set_slot(slot, attn_led=Led.BLINK, power_led=Led.BLINK)
        self.in_window[slot] = True
        waited = 0
        while waited < self.abort_window_cycles and slot not in self.cancel:
            step = min(self.poll_cycles, self.abort_window_cycles - waited)
            await self.bus.pause(step)
            waited += step
        self.in_window[slot] = False
        if slot in self.cancel:
            await self.hw.set_slot(slot, attn_led=Led.OFF, power_led=Led.ON)
            rec.outcome = "cancelled"
            return
        spare = None
        try:
            size = await self.hw.read_reg(slot, "SIZE")
            spare = await self._reserve_spare(slot, size)

            def progress(done, total):
                rec.progress.append((done, total))
                if self.on_progress is not None:
                    self.on_progress(slot, done, total)

            rec.moved_to = await self.bios.migrate(slot, spare=spare,
                                                   chunk_lines=self.chunk_lines,
                                                   progress=progress)
        except (NoSpareError, FlowError) as e:
            await self.hw.set_slot(slot, attn_led=Led.ON, power_led=Led.ON)
            rec.outcome = "refused" if isinstance(e, NoSpareError) else "failed"
            rec.detail = str(e)
            log.error("slot %d: hot remove %s: %s", slot, rec.outcome, e)
            return
        finally:
            self.reserved.discard(spare)
        await self._power_off(slot)
        rec.outcome = "done"

    async def _power_off(self, slot):
        await self.hw.set_slot(slot, power_en=0, power_led=Led.OFF, attn_led=Led.OFF)
        await self.bios._wait_mode(slot, Mode.OFF, 100_000)

    async def _reserve_spare(self, slot, size):
        # Two flows must not pick the same spare: picking reads registers (it awaits), so
        # one flow at a time picks and reserves.
        while self._picking:
            await self.bus.pause(8)
        self._picking = True
        try:
            spare = await self.bios.pick_spare(size, exclude={slot} | self.reserved)
            self.reserved.add(spare)
            return spare
        finally:
            self._picking = False

    async def _hot_add(self, rec):
        slot = rec.slot
        await self.hw.set_slot(slot, power_en=1, power_led=Led.BLINK, attn_led=Led.OFF)
        try:
            await self.bios._wait_mode(slot, Mode.IDLE, 100_000)
        except FlowError as e:
            await self.hw.set_slot(slot, power_en=0, power_led=Led.OFF, attn_led=Led.ON)
            rec.outcome, rec.detail = "failed", str(e)
            return
        await self.hw.set_slot(slot, power_led=Led.ON)
        rec.outcome = "done"

    async def _remove_spare(self, rec):
        await self._power_off(rec.slot)
        rec.outcome = "done"
