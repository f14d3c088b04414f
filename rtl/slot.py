"""Per-slot hot-plug hardware: button debounce, LED drive, power enable, slot events."""

from amaranth.hdl import Module, Signal, Mux
from amaranth.lib import wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from mirrorswap.regmap import Led, Event
from .signatures import SlotSignature

__all__ = ["SlotController"]


class SlotController(wiring.Component):
    """Drives one slot's pins and reports its events.

    The raw inputs (button, present, power_good) come from the board, asynchronous to
    ``clk``: each goes through a two-flop synchronizer first, and nothing else looks at
    them. The button counts as pressed once its synchronized level has been 1 for
    ``debounce`` consecutive cycles, and released once it has been 0 that long, so a
    bouncing press counts once and a pulse shorter than ``debounce`` never counts. LEDs
    follow their SLOT_CTRL code: off, on, or blinking with ``blink`` cycles per half
    period (every LED of the slot blinks in the same phase).

    Events (one-cycle pulses on ``events``, EVENTS bit positions): ``button`` on a
    debounced press (not on the release), ``presence_changed`` on either edge of
    ``present``, ``power_fault`` when ``power_good`` falls while ``power_en`` is on (a
    supply switched off on purpose is no fault). Each edge gives exactly one pulse.

    The component has no elaboration parameters.

    Members
    -------
    pins : Out(SlotSignature())
        The slot's top-level pins.
    power_en : In(1)
        SLOT_CTRL: switch the slot's supply on (passed straight to ``pins.power_en``).
    power_led, attn_led : In(2)
        SLOT_CTRL LED codes (``Led``: off, on, blink).
    debounce, blink : In(16)
        Global DEBOUNCE and BLINK registers, in cycles.
    present, power_good : Out(1)
        Synchronized slot state.
    capacity_log2 : Out(5)
        The seated module's capacity, log2 of lines, as the pins give it (static while
        a module is seated, so not synchronized).
    events : Out(5)
        One-cycle event pulses, ``Event`` bit positions.
    """

    pins: Out(SlotSignature())
    power_en: In(1)
    power_led: In(2)
    attn_led: In(2)
    debounce: In(16)
    blink: In(16)
    present: Out(1)
    power_good: Out(1)
    capacity_log2: Out(5)
    events: Out(5)

    def elaborate(self, platform):
        m = Module()
        pins = self.pins

        button = Signal()
        present = Signal()
        power_good = Signal()
        m.submodules.sync_button = FFSynchronizer(pins.button, button)
        m.submodules.sync_present = FFSynchronizer(pins.present, present)
        m.submodules.sync_power_good = FFSynchronizer(pins.power_good, power_good)
        m.d.comb += [
            self.present.eq(present), self.power_good.eq(power_good),
            self.capacity_log2.eq(pins.capacity_log2),
            pins.power_en.eq(self.power_en),
        ]

        # debounce: ``state`` is the debounced level; ``stable`` counts the cycles the
        # synchronized level has differed from it, and restarts whenever the two agree
        state = Signal()
        stable = Signal(16)
        pressed = Signal()
        with m.If(button == state):
            m.d.sync += stable.eq(0)
        with m.Elif(stable + 1 >= self.debounce):
            m.d.sync += [state.eq(button), stable.eq(0)]
            m.d.comb += pressed.eq(button)
        with m.Else():
            m.d.sync += stable.eq(stable + 1)

        # edges: each synchronized input against its value a cycle earlier
        present_q = Signal()
        power_good_q = Signal()
        m.d.sync += [present_q.eq(present), power_good_q.eq(power_good)]
        fault = power_good_q & ~power_good & self.power_en
        m.d.comb += self.events.eq(
            Mux(pressed, Event.BUTTON, 0) |
            Mux(present != present_q, Event.PRESENCE_CHANGED, 0) |
            Mux(fault, Event.POWER_FAULT, 0))

        # blink: one free-running phase for both LEDs, toggled every ``blink`` cycles
        phase = Signal()
        count = Signal(16)
        with m.If(count + 1 >= self.blink):
            m.d.sync += [count.eq(0), phase.eq(~phase)]
        with m.Else():
            m.d.sync += count.eq(count + 1)

        def led(code):
            return (code == Led.ON) | ((code == Led.BLINK) & phase)

        m.d.comb += [pins.power_led.eq(led(self.power_led)), pins.attn_led.eq(led(self.attn_led))]
        return m
