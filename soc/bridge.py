"""The host CPU's window onto mirrorswap's host port: 32-bit AXI4-Lite to line-wide AXI4."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mirrorswap.rtl.signatures import AXI4LiteSignature, AXI4Signature, Burst

__all__ = ["LiteToAxi"]


class LiteToAxi(wiring.Component):
    """Turns each 32-bit word access of a CPU into one single-beat AXI4 transfer on a
    ``data_width``-bit host port.

    CPU address ``a`` (from ``base`` up) is host byte address ``a - base``, truncated to
    ``host_addr_width`` bits. Every transfer is one beat (``len`` 0, INCR) of **4 bytes**:
    ``awsize``/``arsize`` = 2, the size the CPU asked for, at the word's own address, so
    the host port sees a narrow transfer in the lane the address selects (AXI's rule for
    narrow transfers): byte lane ``a % (data_width/8)``. The write data is the CPU word
    repeated in every lane and the strobes are the CPU's four ``wstrb`` bits shifted into
    the word's lane, so a store of one byte (``sb``) writes that byte only. A read returns
    the word lane the address selects. Responses (``bresp``/``rresp``) pass through;
    ``awprot``/``arprot`` too (PicoRV32 marks fetches 0b100, data 0b000).

    One transfer at a time: AW and W are taken from the CPU together, AR alone, and the
    next is taken only after the CPU has the response. ``awid``/``arid`` are 0.

    Parameters
    ----------
    data_width : int
        Bits per host line: 32 to 1024, a power of two.
    host_addr_width : int
        Host port byte address width.
    id_width : int
        Host port ID width.
    base : int
        CPU address of host byte address 0.

    Members
    -------
    cpu : In(AXI4LiteSignature(addr_width=32))
    host : Out(AXI4Signature(addr_width=host_addr_width, data_width=data_width,
                             id_width=id_width))
    """

    def __init__(self, *, data_width=64, host_addr_width=32, id_width=4, base=0x8000_0000):
        if (not isinstance(data_width, int) or not 32 <= data_width <= 1024
                or data_width & (data_width - 1)):
            raise ValueError(f"Data width must be a power of two from 32 to 1024 bits, "
                             f"not {data_width!r}")
        if not isinstance(base, int) or not 0 <= base < 1 << 32 or base % (data_width // 8):
            raise ValueError(f"Base must be a 32-bit address aligned to a line, not {base!r}")
        self._data_width = data_width
        self._base = base
        super().__init__({
            "cpu": In(AXI4LiteSignature(addr_width=32)),
            "host": Out(AXI4Signature(addr_width=host_addr_width, data_width=data_width,
                                      id_width=id_width)),
        })

    @property
    def data_width(self):
        return self._data_width

    def elaborate(self, platform):
        m = Module()
        cpu, host = self.cpu, self.host
        words = self._data_width // 32
        addr = Signal(32)
        prot = Signal(3)
        wdata = Signal(32)
        wstrb = Signal(4)
        resp = Signal(2)
        rdata = Signal(32)
        sent_a = Signal()       # AW (or AR) accepted by the host port
        sent_w = Signal()       # W accepted
        host_addr = addr - self._base
        lane = host_addr[2:2 + (words - 1).bit_length()] if words > 1 else 0
        m.d.comb += [
            host.awaddr.eq(host_addr), host.araddr.eq(host_addr),
            host.awprot.eq(prot), host.arprot.eq(prot),
            host.awsize.eq(2), host.arsize.eq(2),
            host.awburst.eq(Burst.INCR), host.arburst.eq(Burst.INCR),
            host.wdata.eq(Cat(*[wdata] * words)),
            host.wstrb.eq(wstrb << (lane * 4)), host.wlast.eq(1),
            cpu.bresp.eq(resp), cpu.rresp.eq(resp), cpu.rdata.eq(rdata),
        ]
        with m.FSM(name="bridge"):
            with m.State("IDLE"):
                m.d.comb += [cpu.awready.eq(cpu.wvalid), cpu.wready.eq(cpu.awvalid)]
                with m.If(cpu.awvalid & cpu.wvalid):
                    m.d.sync += [addr.eq(cpu.awaddr), prot.eq(cpu.awprot),
                                 wdata.eq(cpu.wdata), wstrb.eq(cpu.wstrb),
                                 sent_a.eq(0), sent_w.eq(0)]
                    m.next = "WRITE"
                with m.Elif(cpu.arvalid):
                    m.d.comb += cpu.arready.eq(1)
                    m.d.sync += [addr.eq(cpu.araddr), prot.eq(cpu.arprot), sent_a.eq(0)]
                    m.next = "READ"
            with m.State("WRITE"):
                m.d.comb += [host.awvalid.eq(~sent_a), host.wvalid.eq(~sent_w),
                             host.bready.eq(1)]
                m.d.sync += [sent_a.eq(sent_a | host.awready), sent_w.eq(sent_w | host.wready)]
                with m.If(host.bvalid):
                    m.d.sync += resp.eq(host.bresp)
                    m.next = "B"
            with m.State("B"):
                m.d.comb += cpu.bvalid.eq(1)
                with m.If(cpu.bready):
                    m.next = "IDLE"
            with m.State("READ"):
                m.d.comb += [host.arvalid.eq(~sent_a), host.rready.eq(1)]
                m.d.sync += sent_a.eq(sent_a | host.arready)
                with m.If(host.rvalid):
                    m.d.sync += [resp.eq(host.rresp),
                                 rdata.eq(host.rdata.word_select(lane, 32))]
                    m.next = "R"
            with m.State("R"):
                m.d.comb += cpu.rvalid.eq(1)
                with m.If(cpu.rready):
                    m.next = "IDLE"
        return m
