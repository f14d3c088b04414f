"""The home agent's memory-controller port."""

from amaranth.hdl import Module, Signal, Mux
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from .signatures import AXI4Signature, Resp, HOST_ID, SWEEP_ID

__all__ = ["HomeAgent"]

_AR = ("araddr", "arlen", "arsize", "arburst", "arlock", "arcache", "arprot", "arqos")
_AW = ("awaddr", "awlen", "awsize", "awburst", "awlock", "awcache", "awprot", "awqos")
_W = ("wdata", "wstrb", "wlast")

#: Read bursts a source may have outstanding at one agent.
MAX_READS = 8
#: Write bursts a source may have outstanding at one agent.
MAX_WRITES = 7


class HomeAgent(wiring.Component):
    """Shares one module's AXI4 memory port between host traffic and the sweep.

    Two request sources reach a module: the host port (reads and writes of the range this
    agent serves, and writes forwarded to it as a mirror slave) and the sweep (reads of a
    master's lines, writes of the copy to a slave). Requests carry module-local byte
    addresses already. The agent arbitrates round-robin, tags each request with an AXI ID
    (``HOST_ID`` or ``SWEEP_ID``) and routes R and B back by that ID, so read data of the
    two sources may interleave as AXI allows.

    **A module that disappears never hangs a source.** The agent counts what it owes each
    source (the length of every read burst accepted, write bursts whose data or response
    is due). While ``alive`` is low (the slot lost presence or power) it stops talking to
    the memory and answers everything owed or newly asked itself: read beats and write
    responses with SLVERR, write data accepted and dropped. It talks to the memory again
    once ``alive`` is back and nothing is owed any more. This assumes what a slot without
    power implies: the memory controller behind ``mem`` is reset with its module and
    drops what it had in flight (a burst it had half received, responses it still owed).

    Invariants: an address or write burst once presented to the memory keeps its payload
    until accepted (the grant is locked); a write burst's W beats follow its AW with no
    other burst in between (the write channel is locked from AW grant to WLAST); responses
    reach only the source that issued the request, in the order it issued them.

    Members
    -------
    host_rd, host_wr, sweep_rd, sweep_wr : In(AXI4Signature(read/write half))
        Request sources (subordinate side). Their ID fields are ignored and responses
        carry ID 0: each source relies on the in-order return of its own requests.
    mem : Out(AXI4Signature)
        The memory controller port (manager side).
    alive : In(1)
        The module is present and powered.
    """

    def __init__(self, *, addr_width=32, data_width=64, id_width=4):
        half = dict(addr_width=addr_width, data_width=data_width, id_width=id_width)
        super().__init__({
            "host_rd": In(AXI4Signature(**half, write=False)),
            "host_wr": In(AXI4Signature(**half, read=False)),
            "sweep_rd": In(AXI4Signature(**half, write=False)),
            "sweep_wr": In(AXI4Signature(**half, read=False)),
            "mem": Out(AXI4Signature(**half)),
            "alive": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        mem = self.mem
        srcs_rd = (self.host_rd, self.sweep_rd)
        srcs_wr = (self.host_wr, self.sweep_wr)

        # dead: answer locally. Entered as soon as alive falls; left once nothing is owed.
        dead = Signal(init=1)
        owed = Signal()
        with m.If(~self.alive):
            m.d.sync += dead.eq(1)
        with m.Elif(~owed):
            m.d.sync += dead.eq(0)

        # ---- bookkeeping of what each source is owed ---------------------------------------
        rq = [SyncFIFO(width=8, depth=MAX_READS) for _ in srcs_rd]   # lengths of read bursts
        r_beat = [Signal(8, name=f"r_beat{k}") for k in range(2)]    # beats of the head burst
        wpend = [Signal(range(MAX_WRITES + 1), name=f"wpend{k}") for k in range(2)]  # W due
        bpend = [Signal(range(MAX_WRITES + 1), name=f"bpend{k}") for k in range(2)]  # B due
        for k, (src, q) in enumerate(zip(srcs_rd, rq)):
            m.submodules[f"rq{k}"] = q
            m.d.comb += [q.w_data.eq(src.arlen), q.w_en.eq(src.arvalid & src.arready)]
            with m.If(src.rvalid & src.rready):
                m.d.sync += r_beat[k].eq(r_beat[k] + 1)
                with m.If(src.rlast):
                    m.d.sync += r_beat[k].eq(0)
                    m.d.comb += q.r_en.eq(1)
        for k, src in enumerate(srcs_wr):
            aw = src.awvalid & src.awready
            wl = src.wvalid & src.wready & src.wlast
            b = src.bvalid & src.bready
            m.d.sync += [wpend[k].eq(wpend[k] + aw - wl), bpend[k].eq(bpend[k] + aw - b)]
        m.d.comb += owed.eq(rq[0].r_rdy | rq[1].r_rdy | (bpend[0] != 0) | (bpend[1] != 0))

        # ---- read address: round-robin, grant locked while the memory has not accepted ----
        rd_last = Signal()   # 1: the sweep had the last grant
        rd_lock = Signal()
        rd_lock_sel = Signal()
        rd_sel = Signal()
        with m.If(rd_lock):
            m.d.comb += rd_sel.eq(rd_lock_sel)
        with m.Elif(self.host_rd.arvalid & self.sweep_rd.arvalid):
            m.d.comb += rd_sel.eq(rd_last == 0)
        with m.Else():
            m.d.comb += rd_sel.eq(self.sweep_rd.arvalid)
        for name in _AR:
            m.d.comb += getattr(mem, name).eq(Mux(rd_sel, getattr(self.sweep_rd, name),
                                                  getattr(self.host_rd, name)))
        m.d.comb += mem.arid.eq(Mux(rd_sel, SWEEP_ID, HOST_ID))
        with m.If(mem.arvalid & mem.arready):
            m.d.sync += [rd_last.eq(rd_sel), rd_lock.eq(0)]
        with m.Elif(mem.arvalid):
            m.d.sync += [rd_lock.eq(1), rd_lock_sel.eq(rd_sel)]

        # ---- write: a burst owns AW and W from its grant until both are through ---------------
        wr_busy = Signal()
        wr_sel_q = Signal()
        aw_done = Signal()
        w_done = Signal()
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
        m.d.comb += mem.awid.eq(Mux(wr_sel, SWEEP_ID, HOST_ID))
        src_awvalid = Mux(wr_sel, self.sweep_wr.awvalid, self.host_wr.awvalid)
        src_wvalid = Mux(wr_sel, self.sweep_wr.wvalid, self.host_wr.wvalid)
        room = Mux(wr_sel, bpend[1] < MAX_WRITES, bpend[0] < MAX_WRITES)
        owner = wr_busy | src_awvalid   # W may pass once its burst holds the channel
        r_sweep = mem.rvalid & (mem.rid == SWEEP_ID)   # gated: an idle memory may drive X IDs
        b_sweep = mem.bvalid & (mem.bid == SWEEP_ID)

        with m.If(~dead):
            m.d.comb += [
                mem.arvalid.eq(Mux(rd_sel, self.sweep_rd.arvalid & rq[1].w_rdy,
                                   self.host_rd.arvalid & rq[0].w_rdy)),
                self.host_rd.arready.eq(mem.arready & ~rd_sel & rq[0].w_rdy),
                self.sweep_rd.arready.eq(mem.arready & rd_sel & rq[1].w_rdy),
                mem.awvalid.eq(src_awvalid & ~aw_done & room),
                mem.wvalid.eq(src_wvalid & owner & ~w_done),
                self.host_wr.awready.eq(mem.awready & ~wr_sel & ~aw_done & room),
                self.sweep_wr.awready.eq(mem.awready & wr_sel & ~aw_done & room),
                self.host_wr.wready.eq(mem.wready & ~wr_sel & owner & ~w_done),
                self.sweep_wr.wready.eq(mem.wready & wr_sel & owner & ~w_done),
                mem.rready.eq(Mux(r_sweep, self.sweep_rd.rready, self.host_rd.rready)),
                mem.bready.eq(Mux(b_sweep, self.sweep_wr.bready, self.host_wr.bready)),
            ]
            for src, mine in ((self.host_rd, mem.rvalid & ~r_sweep), (self.sweep_rd, r_sweep)):
                m.d.comb += [src.rdata.eq(mem.rdata), src.rresp.eq(mem.rresp),
                             src.rlast.eq(mem.rlast), src.rvalid.eq(mine)]
            for src, mine in ((self.host_wr, mem.bvalid & ~b_sweep), (self.sweep_wr, b_sweep)):
                m.d.comb += [src.bresp.eq(mem.bresp), src.bvalid.eq(mine)]
            aw_fire = mem.awvalid & mem.awready
            wlast_fire = mem.wvalid & mem.wready & mem.wlast
            aw_now = aw_done | aw_fire
            w_now = w_done | wlast_fire
            with m.If(owner):
                with m.If(aw_now & w_now):
                    m.d.sync += [wr_busy.eq(0), aw_done.eq(0), w_done.eq(0),
                                 wr_last.eq(wr_sel)]
                with m.Else():
                    m.d.sync += [wr_busy.eq(1), wr_sel_q.eq(wr_sel), aw_done.eq(aw_now),
                                 w_done.eq(w_now)]
        with m.Else():
            # Answer locally; whatever the memory still sends is taken and dropped.
            m.d.comb += [mem.rready.eq(1), mem.bready.eq(1)]
            m.d.sync += [rd_lock.eq(0), wr_busy.eq(0), aw_done.eq(0), w_done.eq(0)]
            for k, (src, q) in enumerate(zip(srcs_rd, rq)):
                m.d.comb += [
                    src.arready.eq(q.w_rdy),
                    src.rvalid.eq(q.r_rdy), src.rresp.eq(Resp.SLVERR),
                    src.rlast.eq(r_beat[k] == q.r_data),
                ]
            for k, src in enumerate(srcs_wr):
                m.d.comb += [
                    src.awready.eq(bpend[k] < MAX_WRITES),
                    src.wready.eq(wpend[k] != 0),
                    src.bvalid.eq(bpend[k] > wpend[k]), src.bresp.eq(Resp.SLVERR),
                ]

        return m
