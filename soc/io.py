"""The SoC I/O block: consoles, a cycle counter and the BIOS/host handshake registers."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from mirrorswap.rtl.signatures import AXI4LiteSignature, Resp
from . import map as soc_map

__all__ = ["SocIo", "CONSOLES"]

#: Console streams, in the order of the ``console`` array.
CONSOLES = ("bios", "host")

_WRITERS = {"mgmt": ("GO", "MEM_BYTES"), "host": ("HOST_STATE", "HOST_RESULT", "HOST_PROGRESS")}


class SocIo(wiring.Component):
    """The registers of ``soc/map.py``'s ``IO_REGS``, seen by both CPUs at the same offsets.

    Each CPU has its own AXI4-Lite port (``mgmt``, ``host``), so neither waits for the
    other. A register is written only by the CPU the map gives write access (GO and
    MEM_BYTES by the management CPU, HOST_* by the host CPU), so the two ports never write
    the same register; a write the map does not allow is ignored and answered OKAY, as
    is any address in the block that names no register (reads of those and of CONSOLE
    return 0). Only the low 8 bits of the address are decoded; accesses are whole words.

    A CONSOLE write puts its low byte on that CPU's console stream (``console[0]`` for the
    management CPU, ``console[1]`` for the host) and is answered only once the stream
    took it, so a slow sink (a UART) holds the CPU back rather than losing characters.

    Members
    -------
    mgmt, host : In(AXI4LiteSignature(addr_width=32))
    console : Out(stream.Signature(8)).array(2)
    cycles : Out(32)
        The free-running counter that CYCLES reads.
    host_state, host_result, host_progress : Out(32)
        What the host CPU last wrote there (for a testbench or LEDs).
    """

    def __init__(self):
        super().__init__({
            "mgmt": In(AXI4LiteSignature(addr_width=32)),
            "host": In(AXI4LiteSignature(addr_width=32)),
            "console": Out(stream.Signature(8)).array(len(CONSOLES)),
            "cycles": Out(32),
            "host_state": Out(32), "host_result": Out(32), "host_progress": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        regs = {name: Signal(32, name=name.lower()) for name in soc_map.IO_REGS}
        regs.update(CYCLES=self.cycles, HOST_STATE=self.host_state,
                    HOST_RESULT=self.host_result, HOST_PROGRESS=self.host_progress)
        m.d.sync += self.cycles.eq(self.cycles + 1)
        for port, console, who in ((self.mgmt, self.console[0], "mgmt"),
                                   (self.host, self.console[1], "host")):
            self._port(m, port, console, regs, _WRITERS[who], who)
        return m

    @staticmethod
    def _port(m, bus, console, regs, writable, who):
        """One CPU's port: AW and W together, then (CONSOLE) the character, then B; AR,
        then R with the register latched."""
        offset = lambda addr: addr[:8]      # noqa: E731 -- the block decodes 256 bytes
        char = Signal(8, name=f"{who}_char")
        rdata = Signal(32, name=f"{who}_rdata")
        m.d.comb += [console.payload.eq(char), bus.bresp.eq(Resp.OKAY),
                     bus.rresp.eq(Resp.OKAY), bus.rdata.eq(rdata)]
        with m.FSM(name=f"{who}_write"):
            with m.State("IDLE"):
                m.d.comb += [bus.awready.eq(bus.wvalid), bus.wready.eq(bus.awvalid)]
                with m.If(bus.awvalid & bus.wvalid):
                    with m.Switch(offset(bus.awaddr)):
                        with m.Case(soc_map.io_offset("CONSOLE")):
                            m.d.sync += char.eq(bus.wdata[:8])
                            m.next = "CONSOLE"
                        for name in writable:
                            with m.Case(soc_map.io_offset(name)):
                                m.d.sync += regs[name].eq(bus.wdata)
                                m.next = "B"
                        with m.Default():
                            m.next = "B"
            with m.State("CONSOLE"):
                m.d.comb += console.valid.eq(1)
                with m.If(console.ready):
                    m.next = "B"
            with m.State("B"):
                m.d.comb += bus.bvalid.eq(1)
                with m.If(bus.bready):
                    m.next = "IDLE"
        with m.FSM(name=f"{who}_read"):
            with m.State("IDLE"):
                m.d.comb += bus.arready.eq(1)
                with m.If(bus.arvalid):
                    m.d.sync += rdata.eq(0)
                    with m.Switch(offset(bus.araddr)):
                        for name, signal in regs.items():
                            if name != "CONSOLE":
                                with m.Case(soc_map.io_offset(name)):
                                    m.d.sync += rdata.eq(signal)
                    m.next = "R"
            with m.State("R"):
                m.d.comb += bus.rvalid.eq(1)
                with m.If(bus.rready):
                    m.next = "IDLE"
