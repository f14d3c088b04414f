"""An AXI4 memory on FPGA block RAM, for the example board top (in place of DDR)."""

from amaranth.hdl import Module, Signal, Mux
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In

from mirrorswap.geometry import Geometry
from mirrorswap.rtl.signatures import AXI4Signature, Resp

__all__ = ["AxiBlockRam"]


class AxiBlockRam(wiring.Component):
    """AXI4 subordinate holding ``depth`` lines of ``data_width`` bits in one true dual-port
    block RAM.

    Reads and writes run independently, each one burst at a time; the read side streams
    one beat per cycle (the RAM's read enable follows ``rready``, so back-pressure holds
    the data), the write side takes one beat per cycle, with byte strobes. INCR bursts of
    any size up to a line per beat; FIXED and WRAP bursts are treated as INCR (the home
    agents issue only INCR). An access to a line at or past ``depth`` answers SLVERR and
    writes nothing: that is how a module smaller than its address window behaves.

    Parameters
    ----------
    depth : int
        Lines (a power of two).
    data_width, addr_width, id_width : int
        Of the AXI4 port; one line is one beat of ``data_width`` bits (64 to 512).

    Members
    -------
    bus : In(AXI4Signature(addr_width, data_width, id_width, user=True))
        The memory port; without poison support (``ruser`` 0, ``wuser`` ignored).
    """

    def __init__(self, *, depth=4096, data_width=64, addr_width=32, id_width=4):
        if not isinstance(depth, int) or depth < 2 or depth & (depth - 1):
            raise ValueError(f"Depth must be a power of two of at least 2, not {depth!r}")
        self._depth = depth
        self._geometry = Geometry(data_width)
        super().__init__({
            # a memory without poison support: ruser stays 0, wuser is not stored
            "bus": In(AXI4Signature(addr_width=addr_width, data_width=data_width,
                                    id_width=id_width, user=True)),
        })

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        shift = self._geometry.line_shift
        m.submodules.mem = mem = Memory(shape=self._geometry.data_width, depth=self._depth,
                                        init=[])
        wp = mem.write_port(granularity=8)
        rp = mem.read_port(domain="sync")
        lines_log2 = (self._depth - 1).bit_length()

        def inside(byte_addr):
            return (byte_addr >> (shift + lines_log2)) == 0

        # ---- write side: AW, then the beats, then B -----------------------------------------
        w_addr = Signal.like(bus.awaddr)
        w_size = Signal(3)
        w_bad = Signal()
        m.d.comb += [wp.addr.eq(w_addr >> shift), wp.data.eq(bus.wdata)]
        with m.FSM(name="write"):
            with m.State("AW"):
                m.d.comb += bus.awready.eq(1)
                with m.If(bus.awvalid):
                    m.d.sync += [w_addr.eq(bus.awaddr), w_size.eq(bus.awsize),
                                 bus.bid.eq(bus.awid), w_bad.eq(0)]
                    m.next = "W"
            with m.State("W"):
                m.d.comb += bus.wready.eq(1)
                with m.If(bus.wvalid):
                    with m.If(inside(w_addr)):
                        m.d.comb += wp.en.eq(bus.wstrb)
                    with m.Else():
                        m.d.sync += w_bad.eq(1)
                    m.d.sync += w_addr.eq(w_addr + (1 << w_size))
                    with m.If(bus.wlast):
                        m.next = "B"
            with m.State("B"):
                m.d.comb += [bus.bvalid.eq(1),
                             bus.bresp.eq(Mux(w_bad, Resp.SLVERR, Resp.OKAY))]
                with m.If(bus.bready):
                    m.next = "AW"

        # ---- read side: the RAM read enable is the output register's enable -----------------
        r_addr = Signal.like(bus.araddr)
        r_size = Signal(3)
        r_left = Signal(8)      # beats still to read after the current one
        r_active = Signal()     # beats remain to be read
        r_valid = Signal()
        r_last = Signal()
        r_bad = Signal()
        advance = ~r_valid | bus.rready
        m.d.comb += [
            rp.addr.eq(r_addr >> shift), rp.en.eq(advance),
            bus.rvalid.eq(r_valid), bus.rlast.eq(r_last), bus.rdata.eq(rp.data),
            bus.rresp.eq(Mux(r_bad, Resp.SLVERR, Resp.OKAY)),
            bus.arready.eq(~r_active & ~r_valid),
        ]
        with m.If(bus.arvalid & bus.arready):
            m.d.sync += [r_addr.eq(bus.araddr), r_size.eq(bus.arsize), r_left.eq(bus.arlen),
                         r_active.eq(1), bus.rid.eq(bus.arid)]
        with m.If(advance):
            m.d.sync += [r_valid.eq(r_active), r_last.eq(r_active & (r_left == 0)),
                         r_bad.eq(~inside(r_addr))]
            with m.If(r_active):
                m.d.sync += [r_addr.eq(r_addr + (1 << r_size)), r_left.eq(r_left - 1)]
                with m.If(r_left == 0):
                    m.d.sync += r_active.eq(0)
        return m
