"""The home agent's memory-controller port."""

from amaranth.hdl import Module, Signal, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .signatures import AXI4Signature, HOST_ID, SWEEP_ID

__all__ = ["HomeAgent"]

_AR = ("araddr", "arlen", "arsize", "arburst", "arlock", "arcache", "arprot", "arqos")
_AW = ("awaddr", "awlen", "awsize", "awburst", "awlock", "awcache", "awprot", "awqos")
_W = ("wdata", "wstrb", "wlast")


class HomeAgent(wiring.Component):
    """Shares one module's AXI4 memory port between host traffic and the sweep.

    Two request sources reach a module: the host port (reads and writes of the range this
    agent serves, and writes forwarded to it as a mirror slave) and the sweep (reads of a
    master's lines, writes of the copy to a slave). Requests carry module-local byte
    addresses already. The agent arbitrates round-robin, tags each request with an AXI ID
    (``HOST_ID`` or ``SWEEP_ID``) and routes R and B back by that ID, so read data of the
    two sources may interleave as AXI allows.

    Invariants: an address or write burst once presented to the memory keeps its payload
    until accepted (the grant is locked); a write burst's W beats follow its AW with no
    other burst in between (the write channel is locked from AW grant to WLAST); responses
    reach only the source that issued the request.

    Members
    -------
    host_rd, host_wr, sweep_rd, sweep_wr : In(AXI4Signature(read/write half))
        Request sources (subordinate side). Their ID fields are ignored and responses
        carry ID 0: each source relies on the in-order return of its own requests.
    mem : Out(AXI4Signature)
        The memory controller port (manager side).
    """

    def __init__(self, *, addr_width=32, data_width=64, id_width=4):
        half = dict(addr_width=addr_width, data_width=data_width, id_width=id_width)
        super().__init__({
            "host_rd": In(AXI4Signature(**half, write=False)),
            "host_wr": In(AXI4Signature(**half, read=False)),
            "sweep_rd": In(AXI4Signature(**half, write=False)),
            "sweep_wr": In(AXI4Signature(**half, read=False)),
            "mem": Out(AXI4Signature(**half)),
        })

    def elaborate(self, platform):
        m = Module()
        mem = self.mem
        srcs_rd = (self.host_rd, self.sweep_rd)
        srcs_wr = (self.host_wr, self.sweep_wr)

        # ---- read address: round-robin, grant locked while the memory has not accepted ----
        rd_last = Signal()   # 1: the sweep had the last grant
        rd_lock = Signal()
        rd_lock_sel = Signal()
        rd_sel = Signal()
        prefer_sweep = rd_last == 0
        with m.If(rd_lock):
            m.d.comb += rd_sel.eq(rd_lock_sel)
        with m.Elif(self.host_rd.arvalid & self.sweep_rd.arvalid):
            m.d.comb += rd_sel.eq(prefer_sweep)
        with m.Else():
            m.d.comb += rd_sel.eq(self.sweep_rd.arvalid)
        for name in _AR:
            m.d.comb += getattr(mem, name).eq(Mux(rd_sel, getattr(self.sweep_rd, name),
                                                  getattr(self.host_rd, name)))
        m.d.comb += [
            mem.arid.eq(Mux(rd_sel, SWEEP_ID, HOST_ID)),
            mem.arvalid.eq(Mux(rd_sel, self.sweep_rd.arvalid, self.host_rd.arvalid)),
            self.host_rd.arready.eq(mem.arready & ~rd_sel),
            self.sweep_rd.arready.eq(mem.arready & rd_sel),
        ]
        with m.If(mem.arvalid & mem.arready):
            m.d.sync += [rd_last.eq(rd_sel), rd_lock.eq(0)]
        with m.Elif(mem.arvalid):
            m.d.sync += [rd_lock.eq(1), rd_lock_sel.eq(rd_sel)]

        # ---- read data: by ID ----------------------------------------------------------------
        # Gated by valid: a memory may leave the ID undriven (X) while idle.
        r_sweep = mem.rvalid & (mem.rid == SWEEP_ID)
        for src, mine in ((self.host_rd, mem.rvalid & ~r_sweep), (self.sweep_rd, r_sweep)):
            m.d.comb += [src.rdata.eq(mem.rdata), src.rresp.eq(mem.rresp),
                         src.rlast.eq(mem.rlast), src.rvalid.eq(mine)]
        m.d.comb += mem.rready.eq(Mux(r_sweep, self.sweep_rd.rready, self.host_rd.rready))

        # ---- write: a burst owns AW and W from its grant until both are through ---------------
        wr_busy = Signal()      # a burst holds the channel
        wr_sel_q = Signal()
        aw_done = Signal()      # its AW has been accepted
        w_done = Signal()       # its WLAST has been accepted
        wr_last = Signal()
        wr_sel = Signal()
        with m.If(wr_busy):
            m.d.comb += wr_sel.eq(wr_sel_q)
        with m.Elif(self.host_wr.awvalid & self.sweep_wr.awvalid):
            m.d.comb += wr_sel.eq(wr_last == 0)
        with m.Else():
            m.d.comb += wr_sel.eq(self.sweep_wr.awvalid)
        for name in _AW + _W:
            m.d.comb += getattr(mem, name).eq(Mux(wr_sel, getattr(self.sweep_wr, name),
                                                  getattr(self.host_wr, name)))
        src_awvalid = Mux(wr_sel, self.sweep_wr.awvalid, self.host_wr.awvalid)
        src_wvalid = Mux(wr_sel, self.sweep_wr.wvalid, self.host_wr.wvalid)
        # W may only pass once its burst holds the channel (a grant this cycle counts).
        owner = wr_busy | src_awvalid
        m.d.comb += [
            mem.awid.eq(Mux(wr_sel, SWEEP_ID, HOST_ID)),
            mem.awvalid.eq(src_awvalid & ~aw_done),
            mem.wvalid.eq(src_wvalid & owner & ~w_done),
            self.host_wr.awready.eq(mem.awready & ~wr_sel & ~aw_done),
            self.sweep_wr.awready.eq(mem.awready & wr_sel & ~aw_done),
            self.host_wr.wready.eq(mem.wready & ~wr_sel & owner & ~w_done),
            self.sweep_wr.wready.eq(mem.wready & wr_sel & owner & ~w_done),
        ]
        aw_fire = mem.awvalid & mem.awready
        wlast_fire = mem.wvalid & mem.wready & mem.wlast
        aw_now = aw_done | aw_fire
        w_now = w_done | wlast_fire
        with m.If(owner):
            with m.If(aw_now & w_now):
                m.d.sync += [wr_busy.eq(0), aw_done.eq(0), w_done.eq(0), wr_last.eq(wr_sel)]
            with m.Else():
                m.d.sync += [wr_busy.eq(1), wr_sel_q.eq(wr_sel), aw_done.eq(aw_now),
                             w_done.eq(w_now)]

        # ---- write response: by ID -----------------------------------------------------------
        b_sweep = mem.bvalid & (mem.bid == SWEEP_ID)
        for src, mine in ((self.host_wr, mem.bvalid & ~b_sweep), (self.sweep_wr, b_sweep)):
            m.d.comb += [src.bresp.eq(mem.bresp), src.bvalid.eq(mine)]
        m.d.comb += mem.bready.eq(Mux(b_sweep, self.sweep_wr.bready, self.host_wr.bready))

        return m
