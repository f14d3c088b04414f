"""One AXI4-Lite port onto both the control registers and the host port (example board)."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mirrorswap import regmap
from mirrorswap.geometry import Geometry
from mirrorswap.rtl.signatures import AXI4LiteSignature, AXI4Signature, Burst, Resp

__all__ = ["BoardBridge", "HOST_WINDOW"]

HOST_WINDOW = 1 << 23   # bridge byte address of host byte address 0


class BoardBridge(wiring.Component):
    """Lets one 32-bit AXI4-Lite manager (a board's CPU) reach the whole design.

    Bridge addresses below ``HOST_WINDOW`` (8 MiB) go to the control registers
    (``regs``: offsets 0x000-0xFFF, anything above answers SLVERR); addresses from
    ``HOST_WINDOW`` up are host byte addresses ``addr - HOST_WINDOW`` on the host port
    (``host``), as single 4-byte beats in their lane of the host bus (``data_width``). Responses pass
    through unchanged (DECERR for an unowned line included), and so does the manager's
    AXI protection (``awprot``/``arprot``), to both ports: the register block refuses
    non-secure writes once LOCK is set (SPEC section 8), so whether the CPU's access is
    secure is the CPU's, not the bridge's, to say. One transaction at a time, writes first
    when both arrive together.

    Members
    -------
    bus : In(AXI4LiteSignature(addr_width=24))
    regs : Out(AXI4LiteSignature(addr_width=12))
    host : Out(AXI4Signature(addr_width=host_addr_width, data_width=data_width))
    """

    def __init__(self, *, host_addr_width=32, data_width=64, id_width=4):
        self._lanes = Geometry(data_width).line_bytes // 4
        super().__init__({
            "bus": In(AXI4LiteSignature(addr_width=24)),
            "regs": Out(AXI4LiteSignature(addr_width=regmap.REG_ADDR_WIDTH)),
            "host": Out(AXI4Signature(addr_width=host_addr_width, data_width=data_width,
                                      id_width=id_width)),
        })

    def elaborate(self, platform):
        m = Module()
        bus, regs, host = self.bus, self.regs, self.host
        addr = Signal(24)
        wdata = Signal(32)
        wstrb = Signal(4)
        prot = Signal(3)
        resp = Signal(2)
        rdata = Signal(32)
        aw_done = Signal()
        w_done = Signal()
        window = addr[23]
        reg_ok = addr[regmap.REG_ADDR_WIDTH:23] == 0
        lanes = self._lanes
        lane = addr[2:2 + (lanes - 1).bit_length()]   # which 32-bit word of the host beat

        m.d.comb += [
            regs.awaddr.eq(addr), regs.araddr.eq(addr),
            regs.wdata.eq(wdata), regs.wstrb.eq(wstrb),
            regs.awprot.eq(prot), regs.arprot.eq(prot),
            host.awprot.eq(prot), host.arprot.eq(prot),
            host.awaddr.eq(addr[:23]), host.araddr.eq(addr[:23]),
            host.awsize.eq(2), host.arsize.eq(2),
            host.awburst.eq(Burst.INCR), host.arburst.eq(Burst.INCR),
            host.wdata.eq(wdata.replicate(lanes)),
            host.wstrb.eq(wstrb << (lane * 4)), host.wlast.eq(1),
            bus.bresp.eq(resp), bus.rresp.eq(resp), bus.rdata.eq(rdata),
        ]

        with m.FSM(name="bridge"):
            with m.State("IDLE"):
                with m.If(bus.awvalid & bus.wvalid):
                    m.d.comb += [bus.awready.eq(1), bus.wready.eq(1)]
                    m.d.sync += [addr.eq(bus.awaddr), prot.eq(bus.awprot), wdata.eq(bus.wdata),
                                 wstrb.eq(bus.wstrb), aw_done.eq(0), w_done.eq(0)]
                    m.next = "WRITE"
                with m.Elif(bus.arvalid):
                    m.d.comb += bus.arready.eq(1)
                    m.d.sync += [addr.eq(bus.araddr), prot.eq(bus.arprot), aw_done.eq(0)]
                    m.next = "READ"
            with m.State("WRITE"):
                for cond, port in ((window, host), (reg_ok, regs)):
                    with (m.If if port is host else m.Elif)(cond):
                        m.d.comb += [port.awvalid.eq(~aw_done), port.wvalid.eq(~w_done),
                                     port.bready.eq(1)]
                        m.d.sync += [aw_done.eq(aw_done | port.awready),
                                     w_done.eq(w_done | port.wready)]
                        with m.If(port.bvalid):
                            m.d.sync += resp.eq(port.bresp)
                            m.next = "B"
                with m.Else():
                    m.d.sync += resp.eq(Resp.SLVERR)
                    m.next = "B"
            with m.State("B"):
                m.d.comb += bus.bvalid.eq(1)
                with m.If(bus.bready):
                    m.next = "IDLE"
            with m.State("READ"):
                with m.If(window):
                    m.d.comb += [host.arvalid.eq(~aw_done), host.rready.eq(1)]
                    m.d.sync += aw_done.eq(aw_done | host.arready)
                    with m.If(host.rvalid):
                        m.d.sync += [resp.eq(host.rresp),
                                     rdata.eq(host.rdata.word_select(lane, 32))]
                        m.next = "R"
                with m.Elif(reg_ok):
                    m.d.comb += [regs.arvalid.eq(~aw_done), regs.rready.eq(1)]
                    m.d.sync += aw_done.eq(aw_done | regs.arready)
                    with m.If(regs.rvalid):
                        m.d.sync += [resp.eq(regs.rresp), rdata.eq(regs.rdata)]
                        m.next = "R"
                with m.Else():
                    m.d.sync += [resp.eq(Resp.SLVERR), rdata.eq(0)]
                    m.next = "R"
            with m.State("R"):
                m.d.comb += bus.rvalid.eq(1)
                with m.If(bus.rready):
                    m.next = "IDLE"
        return m
