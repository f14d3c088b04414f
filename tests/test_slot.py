"""SlotController (rtl/slot.py): button debounce, LEDs, power and slot events.

One file per unit: the TB class and cocotb tests run inside the simulator; the pytest
entry at the bottom builds the Verilog and runs them (``pytest tests/test_slot.py``).
"""

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, ReadOnly, ReadWrite

from mirrorswap.regmap import Event, Led
from mirrorswap.rtl.slot import SlotController
from mirrorswap.sim.runner import run_tests
from mirrorswap.sim.tb import reset_dut


class SlotTB:
    def __init__(self, dut):
        self.dut = dut
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        for name in ("pins_present", "pins_capacity_log2", "pins_power_good", "pins_button",
                     "power_en", "power_led", "attn_led"):
            getattr(dut, name).value = 0
        dut.debounce.value = 16
        dut.blink.value = 8
        self.events = []
        self.cycle = 0
        cocotb.start_soon(self._watch())

    async def _watch(self):
        while True:
            await RisingEdge(self.dut.clk)
            await ReadOnly()
            self.cycle += 1
            ev = int(self.dut.events.value)
            if ev:
                self.events.append((self.cycle, ev))

    async def reset(self):
        await reset_dut(self.dut)

    async def button_level(self, level, cycles):
        await ReadWrite()
        self.dut.pins_button.value = level
        await ClockCycles(self.dut.clk, cycles)

    def presses(self):
        return [c for c, ev in self.events if ev & Event.BUTTON]


async def make(dut):
    tb = SlotTB(dut)
    await tb.reset()
    return tb


@cocotb.test()
async def bounce_shorter_than_debounce_is_ignored(dut):
    tb = await make(dut)
    for _ in range(10):
        await tb.button_level(1, 10)    # 10 < DEBOUNCE = 16
        await tb.button_level(0, 5)
    await ClockCycles(dut.clk, 50)
    assert tb.presses() == []


@cocotb.test()
async def bouncing_press_counts_once(dut):
    tb = await make(dut)
    for width in (3, 7, 2, 9, 4):      # contact bounce
        await tb.button_level(1, width)
        await tb.button_level(0, 2)
    await tb.button_level(1, 200)      # held
    for width in (3, 5, 2):            # bounce on release
        await tb.button_level(0, width)
        await tb.button_level(1, 2)
    await tb.button_level(0, 100)
    assert len(tb.presses()) == 1
    await tb.button_level(1, 40)       # a second, clean press counts again
    await tb.button_level(0, 40)
    assert len(tb.presses()) == 2


@cocotb.test()
async def debounce_register_sets_the_time(dut):
    tb = await make(dut)
    dut.debounce.value = 100
    await tb.button_level(1, 90)
    assert tb.presses() == []
    await tb.button_level(1, 20)
    assert len(tb.presses()) == 1
    press_at = tb.presses()[0]
    await tb.button_level(0, 200)
    assert press_at >= 100


@cocotb.test()
async def leds_follow_codes_and_blink(dut):
    await make(dut)
    dut.power_led.value = Led.ON
    dut.attn_led.value = Led.OFF
    await ClockCycles(dut.clk, 3)
    assert int(dut.pins_power_led.value) == 1 and int(dut.pins_attn_led.value) == 0
    dut.attn_led.value = Led.BLINK
    dut.blink.value = 8
    samples = []
    for _ in range(64):
        await RisingEdge(dut.clk)
        await ReadOnly()
        samples.append(int(dut.pins_attn_led.value))
    edges = [i for i in range(1, len(samples)) if samples[i] != samples[i - 1]]
    gaps = {b - a for a, b in zip(edges, edges[1:])}
    assert gaps == {8}, f"half periods {gaps}, want 8 cycles"


@cocotb.test()
async def power_and_slot_events(dut):
    tb = await make(dut)
    dut.power_en.value = 1
    await ClockCycles(dut.clk, 2)
    assert int(dut.pins_power_en.value) == 1
    dut.pins_present.value = 1
    await ClockCycles(dut.clk, 5)
    dut.pins_power_good.value = 1
    await ClockCycles(dut.clk, 5)
    assert int(dut.present.value) == 1 and int(dut.power_good.value) == 1
    assert [ev for _, ev in tb.events] == [Event.PRESENCE_CHANGED]
    dut.pins_power_good.value = 0           # supply fails while enabled
    await ClockCycles(dut.clk, 5)
    assert [ev for _, ev in tb.events][-1] == Event.POWER_FAULT
    dut.power_en.value = 0                  # switched off: no fault
    dut.pins_power_good.value = 1
    await ClockCycles(dut.clk, 5)
    dut.pins_power_good.value = 0
    await ClockCycles(dut.clk, 5)
    assert sum(1 for _, ev in tb.events if ev & Event.POWER_FAULT) == 1
    dut.pins_present.value = 0
    await ClockCycles(dut.clk, 5)
    assert [ev for _, ev in tb.events][-1] == Event.PRESENCE_CHANGED


def test_slot_controller():
    run_tests(__file__, "slot_controller", component=SlotController())
