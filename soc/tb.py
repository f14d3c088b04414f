"""cocotb side of the SoC: builds ``soc_top`` and drives its board (clock, reset, slots,
consoles), for ``tests/test_soc.py`` and ``make sim SCENARIO=cpu``.

Everything here is event-driven (edges of ``power_en`` and of the console ``valid``s):
no Python runs on every clock cycle, so the simulator's speed is the RTL's.
"""

import hashlib

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Edge, RisingEdge, Timer

from . import map as soc_map
from .io import CONSOLES

__all__ = ["CLOCK_NS", "SocTB", "soc_verilog", "soc_sources"]

CLOCK_NS = 10


def soc_verilog(build_dir, *, bios, workload, module_lines_log2=soc_map.MODULE_LINES_LOG2,
                data_width=64):
    """Write ``<build_dir>/soc_top.v`` for the images ``bios`` and ``workload`` (``.hex``
    paths) if the images, the parameters or the gateware changed; returns its path."""
    from pathlib import Path
    from mirrorswap.sim.runner import generate_component
    from .ram import read_image
    from .top import SocTop

    words = soc_map.RAM_BYTES // 4
    images = {"bios": read_image(bios, words), "workload": read_image(workload, words)}
    key = hashlib.sha256(repr((images, module_lines_log2, data_width,
                               _soc_sources_mtime())).encode()).hexdigest()

    def factory():
        return SocTop(**images, module_lines_log2=module_lines_log2, data_width=data_width)
    return generate_component(factory, "soc_top", Path(build_dir), key=key)


def _soc_sources_mtime():
    from pathlib import Path
    return max(p.stat().st_mtime for p in Path(__file__).parent.glob("*.py"))


def soc_sources(build_dir, **kwargs):
    """The simulator's sources: ``soc_top.v`` (:func:`soc_verilog`) and PicoRV32's."""
    from .cpu import picorv32_source
    return [soc_verilog(build_dir, **kwargs), picorv32_source()]


class SocTB:
    """The board around ``soc_top``: a 100 MHz clock, reset, three slots whose modules are
    seated and whose supply comes up ``power_delay`` cycles after ``power_en`` (and goes
    down at once), consoles that always take a character and collect them per line.

    ``lines[name]`` are the finished console lines of ``bios`` and ``host``; ``echo``
    prints each as it ends, prefixed by the console's name and the cycle.
    """

    def __init__(self, dut, *, power_delay=20, echo=True):
        self.dut = dut
        self.power_delay = power_delay
        self.echo = echo
        self.lines = {name: [] for name in CONSOLES}
        self._partial = {name: "" for name in CONSOLES}
        self.slot = [self._slot_pins(i) for i in range(soc_map.SLOTS)]

    def _slot_pins(self, i):
        return {name: getattr(self.dut, f"slot{i}_{name}")
                for name in ("present", "power_good", "button", "power_en", "power_led",
                             "attn_led")}

    @property
    def cycle(self):
        """Cycles since time 0."""
        return int(cocotb.utils.get_sim_time("ns")) // CLOCK_NS

    async def start(self, *, present=(1, 1, 1)):
        """Start the clock, seat the modules, hold reset for a few cycles."""
        dut = self.dut
        cocotb.start_soon(Clock(dut.clk, CLOCK_NS, unit="ns").start())
        dut.rst.value = 1
        dut.wipe.value = 0
        for i, pins in enumerate(self.slot):
            pins["present"].value = present[i]
            pins["power_good"].value = 0
            pins["button"].value = 0
            cocotb.start_soon(self._power(i))
        for i, name in enumerate(CONSOLES):
            getattr(dut, f"console{i}_ready").value = 1
            cocotb.start_soon(self._console(i, name))
        await ClockCycles(dut.clk, 5)
        dut.rst.value = 0

    async def _power(self, i):
        pins = self.slot[i]
        while True:
            await Edge(pins["power_en"])
            if pins["power_en"].value:
                await ClockCycles(self.dut.clk, self.power_delay)
            pins["power_good"].value = int(pins["power_en"].value) & int(pins["present"].value)

    async def _console(self, i, name):
        valid = getattr(self.dut, f"console{i}_valid")
        payload = getattr(self.dut, f"console{i}_payload")
        while True:
            await RisingEdge(valid)
            char = chr(int(payload.value))
            if char == "\n":
                line = self._partial[name]
                self._partial[name] = ""
                self.lines[name].append(line)
                if self.echo:
                    print(f"[{name} {self.cycle:>8}] {line}", flush=True)
            elif char != "\r":
                self._partial[name] += char

    def output(self, name):
        """Everything console ``name`` printed so far, as text."""
        return "".join(line + "\n" for line in self.lines[name]) + self._partial[name]

    async def press(self, i, cycles=None):
        """Press slot ``i``'s button for ``cycles`` (default: long enough for the
        slot's debounce at its reset value and then some)."""
        self.slot[i]["button"].value = 1
        await ClockCycles(self.dut.clk, cycles or 20_000)
        self.slot[i]["button"].value = 0

    async def wipe(self, i):
        """Scramble slot ``i``'s module (every line) and wait until it is done."""
        self.dut.wipe.value = 1 << i
        await RisingEdge(self.dut.clk)
        self.dut.wipe.value = 0
        await ClockCycles(self.dut.clk, (1 << soc_map.MODULE_LINES_LOG2) + 2)

    async def wait_io(self, signal, predicate, *, timeout_cycles, poll=1000):
        """Wait until ``predicate(int(signal.value))``, checking every ``poll`` cycles;
        raises ``TimeoutError`` after ``timeout_cycles``."""
        waited = 0
        while not predicate(int(signal.value)):
            if waited >= timeout_cycles:
                raise TimeoutError(f"{signal._name} still {int(signal.value)} after "
                                   f"{timeout_cycles} cycles")
            await ClockCycles(self.dut.clk, poll)
            waited += poll

    async def settle(self):
        await Timer(1, unit="ns")
