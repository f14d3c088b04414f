"""The home agent: one module's memory port, shared by the host and the sweep."""

from types import SimpleNamespace

from amaranth.hdl import Module, Signal, Mux
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from .signatures import AXI4Signature, Resp, HOST_ID, SWEEP_ID, check_int

__all__ = ["HomeAgent"]

# Request payloads the agent passes from the granted source to the memory (the ID is its
# own: HOST_ID or SWEEP_ID).
_AR = AXI4Signature.channel_members("ar", ids=False, handshake=False)
_AW = AXI4Signature.channel_members("aw", ids=False, handshake=False)
_W = AXI4Signature.channel_members("w", handshake=False)

#: Read bursts a source may have outstanding at one agent (default of ``max_reads``).
MAX_READS = 8
#: Write bursts a source may have outstanding at one agent (default of ``max_writes``; the
#: sweep writes in short bursts and needs about latency/8 of them in flight to keep the
#: port busy).
MAX_WRITES = 15
#: While the host reads little (see HOST_HEAVY), a sweep read burst may join the memory's
#: queue as long as the two sources together have fewer beats outstanding than this.
SWEEP_READ_QUEUE = 80
#: The host reads heavily when it took more than HOST_HEAVY read beats in the last window
#: of HOST_WINDOW cycles (a little over half); then the sweep keeps one burst in flight.
HOST_WINDOW = 1024
HOST_HEAVY = HOST_WINDOW * 17 // 32
#: Contested grants the host may win in a row before a waiting sweep request goes first.
SWEEP_AGE = 4


class HomeAgent(wiring.Component):
    """Shares one module's AXI4 memory port between host traffic and the sweep.

    Two request sources reach a module: the host port (reads and writes of the range this
    agent serves, and writes forwarded to it as a mirror slave) and the sweep (reads of a
    master's lines, writes of the copy to a slave). Requests carry module-local byte
    addresses already. The agent tags each request with an AXI ID (``HOST_ID`` or
    ``SWEEP_ID``) and routes R and B back by that ID, so read data of the two sources may
    interleave as AXI allows.

    **The host goes first; the sweep uses what is left.** On the read address channel and
    on the write channel (a write burst holds AW and W from its grant to its WLAST) a host
    request wins over a sweep request presented in the same cycle. (The read grant is
    registered: it is decided a cycle ahead and rests with the host, so a sweep read
    waits a cycle for it and a host read arriving just then waits behind that one.)
    Arbitration alone does not protect host reads, though: a memory serves the reads it
    has accepted in order, so a host read waits behind every sweep beat already queued
    there. So while the host has reads waiting or in flight here, a new sweep read burst
    goes to the memory only when the sweep has none outstanding, or, while the host reads
    lightly (at most ``HOST_HEAVY`` beats in the last ``HOST_WINDOW`` cycles), when the
    two sources together have fewer than ``SWEEP_READ_QUEUE`` beats outstanding. When the
    host does not read, the sweep keeps as many reads in flight as its engine allows
    (about the memory latency's worth are needed for one line per cycle). On the write
    side the sweep's bursts are short (see :class:`rtl.sweep.SweepEngine`), so a host
    write waits at most that long for the channel. These are throughput heuristics; the
    guarantees are the next paragraph's.

    **Neither side starves.** A sweep request that may go (for reads: always when the
    sweep has nothing outstanding) and has lost ``SWEEP_AGE`` contested grants in a row
    to the host wins the next one. So under any host load the sweep gets at least one
    grant in ``SWEEP_AGE + 1`` on each channel and always gets a read burst in flight,
    and when both keep asking the host gets at least ``SWEEP_AGE`` grants in
    ``SWEEP_AGE + 1``.

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

    Parameters
    ----------
    addr_width, data_width, id_width : int
        Widths of the AXI4 ports.
    max_reads : int
        Read bursts each source may have outstanding here, at least 1 (default
        ``MAX_READS`` = 8); sizes the queues of read burst lengths.
    max_writes : int
        Write bursts each source may have outstanding here, at least 2 (default
        ``MAX_WRITES`` = 15; the room check is a cycle old, so a source is held at
        ``max_writes - 1`` or ``max_writes``); sizes the write counters. Smaller values
        than the defaults are for small configurations (formal proofs).

    Raises
    ------
    ValueError
        ``max_reads`` below 1 or ``max_writes`` below 2, or either not an integer.

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

    def __init__(self, *, addr_width=32, data_width=64, id_width=4, max_reads=MAX_READS,
                 max_writes=MAX_WRITES):
        check_int("Max reads", max_reads, 1)
        check_int("Max writes", max_writes, 2)
        self._max_reads = max_reads
        self._max_writes = max_writes
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
        # The arbiters and the response routing drive the handshakes only while the agent
        # is not ``dead``; ``_answer_locally`` drives them while it is.
        ledger = self._ledger(m)
        dead = self._dead(m, ledger.owed)
        self._read_arbiter(m, ledger, dead)
        self._write_channel(m, ledger, dead)
        self._route_responses(m, dead)
        self._answer_locally(m, ledger, dead)
        return m

    def _ledger(self, m):
        """What each source is owed, counted at the source's own handshakes, so the count
        holds whoever answers (the memory, or the agent while dead).

        Returns ``rq`` (per source, a queue of the lengths of its read bursts accepted and
        not yet answered to their last beat; its head is the burst being answered),
        ``r_beat`` (beats of that head burst answered), ``wpend`` (write bursts whose W
        beats are due), ``bpend`` (write bursts whose B is due), ``rq_room`` (room in
        ``rq``, registered) and ``owed`` (anything at all is owed).
        """
        max_reads, max_writes = self._max_reads, self._max_writes
        srcs_rd = (self.host_rd, self.sweep_rd)
        srcs_wr = (self.host_wr, self.sweep_wr)
        rq = [SyncFIFO(width=8, depth=max_reads) for _ in srcs_rd]   # lengths of read bursts
        r_beat = [Signal(8, name=f"r_beat{k}") for k in range(2)]    # beats of the head burst
        wpend = [Signal(range(max_writes + 1), name=f"wpend{k}") for k in range(2)]  # W due
        bpend = [Signal(range(max_writes + 1), name=f"bpend{k}") for k in range(2)]  # B due
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
        owed = Signal()
        m.d.comb += owed.eq(rq[0].r_rdy | rq[1].r_rdy | (bpend[0] != 0) | (bpend[1] != 0))
        # Room in each read queue, as a flip-flop, so that no compare of the queue's level
        # sits between a source's AR valid and its AR ready (nor reaches through the
        # register slices beyond). Exact, not merely safe: it is the queue's ``w_rdy`` of
        # the next cycle, from the level and this cycle's push and pop.
        rq_room = [Signal(name=f"rq_room{k}", init=1) for k in range(2)]
        for k, q in enumerate(rq):
            m.d.sync += rq_room[k].eq(q.level + (q.w_en & q.w_rdy) - (q.r_en & q.r_rdy)
                                      < max_reads)
        return SimpleNamespace(rq=rq, r_beat=r_beat, wpend=wpend, bpend=bpend,
                               rq_room=rq_room, owed=owed)

    def _dead(self, m, owed):
        """The agent answers locally (``dead``, high out of reset): entered as soon as
        ``alive`` falls, left once ``alive`` is back and nothing is ``owed``."""
        dead = Signal(init=1)
        with m.If(~self.alive):
            m.d.sync += dead.eq(1)
        with m.Elif(~owed):
            m.d.sync += dead.eq(0)
        return dead

    def _sweep_read_room(self, m):
        """Whether a sweep read burst may join the memory's queue as far as the host's
        reads are concerned (see the class docstring), as a register.

        Registered, which keeps the sums of outstanding beats off the AR path. Being a
        cycle late is harmless: the sweep engine never issues two bursts in consecutive
        cycles, so no second sweep burst can pass on a stale value.
        """
        max_reads = self._max_reads
        # Beats each source has outstanding at the memory (at most max_reads bursts of at
        # most 256 beats).
        out = [Signal(range(max_reads * 256 + 1), name=f"rd_out{k}") for k in range(2)]
        for k, src in enumerate((self.host_rd, self.sweep_rd)):
            m.d.sync += out[k].eq(out[k] + Mux(src.arvalid & src.arready, src.arlen + 1, 0)
                                  - (src.rvalid & src.rready))
        # How much the host read in the last window. Being slow and one-sided matters:
        # deciding from the host's instantaneous backlog would let a dip in it admit sweep
        # bursts that then slow the host down further, which settles with the host
        # getting less (``make bench`` measures it).
        win = Signal(range(HOST_WINDOW))
        win_beats = Signal(range(HOST_WINDOW + 1))
        host_heavy = Signal()
        h_r = self.host_rd.rvalid & self.host_rd.rready
        m.d.sync += [win.eq(win + 1), win_beats.eq(win_beats + h_r)]
        with m.If(win == HOST_WINDOW - 1):
            m.d.sync += [host_heavy.eq(win_beats + h_r > HOST_HEAVY),
                         win_beats.eq(0)]
        sweep_room = Signal()
        m.d.sync += sweep_room.eq((out[1] == 0) |
                                  (~host_heavy & (out[0] + out[1] < SWEEP_READ_QUEUE)))
        return sweep_room

    def _read_arbiter(self, m, ledger, dead):
        """The read address channel: host first, the sweep limited while the host reads,
        the grant decided a cycle ahead; AR payload, ID and handshake to the memory.

        The grant (``rd_gnt``) is a flip-flop, decided from the requests waiting a cycle
        before, so that no source's AR valid reaches any source's AR ready through the
        arbiter (with the register slices in front of the sources, that would be a
        combinational round trip between blocks far apart). It parks on the host: an
        idle agent passes a host read at once. A sweep read waits a cycle for its grant,
        and the grant returns to the host after each sweep read (the sweep never issues
        two in consecutive cycles). A request once granted is still there when its grant
        comes: AR valid holds until accepted, and a source's queue room falls only when
        it is accepted. While ``dead`` the grant rests with the host and nothing reaches
        the memory.
        """
        mem, rq_room = self.mem, ledger.rq_room
        sweep_room = self._sweep_read_room(m)
        host_reading = ledger.rq[0].r_rdy | self.host_rd.arvalid
        rd_host_ok = self.host_rd.arvalid & rq_room[0]
        sweep_ar = self.sweep_rd.arvalid & rq_room[1]
        rd_sweep_ok = sweep_ar & (~host_reading | sweep_room)
        rd_age = Signal(range(SWEEP_AGE + 1))   # host grants in a row the sweep waited for
        rd_gnt = Signal()        # 1: the sweep holds the read address channel
        rd_hold = Signal()       # an AR presented to the memory stays until it is accepted
        m.d.comb += rd_hold.eq(mem.arvalid & ~mem.arready)
        for name in _AR:
            m.d.comb += getattr(mem, name).eq(Mux(rd_gnt, getattr(self.sweep_rd, name),
                                                  getattr(self.host_rd, name)))
        m.d.comb += mem.arid.eq(Mux(rd_gnt, SWEEP_ID, HOST_ID))
        with m.If(~rd_hold & ~rd_gnt):
            # the host went if it asked; count that against a waiting sweep read
            age = Mux(rd_host_ok & rd_sweep_ok & (rd_age != SWEEP_AGE), rd_age + 1, rd_age)
            m.d.sync += [rd_age.eq(age),
                         rd_gnt.eq(rd_sweep_ok & (~rd_host_ok | (age == SWEEP_AGE)))]
        with m.Elif(~rd_hold):
            m.d.sync += rd_gnt.eq(0)
            with m.If(sweep_ar):
                m.d.sync += rd_age.eq(0)

        with m.If(~dead):
            m.d.comb += [
                mem.arvalid.eq(Mux(rd_gnt, sweep_ar, rd_host_ok)),
                self.host_rd.arready.eq(mem.arready & ~rd_gnt & rq_room[0]),
                self.sweep_rd.arready.eq(mem.arready & rd_gnt & rq_room[1]),
            ]
        with m.Else():
            m.d.sync += rd_gnt.eq(0)

    def _write_grant(self, m, ledger, burst, dead):
        """Which source the write channel serves: the owner of the burst in progress
        (``burst.busy``), else host first, as for reads, the sweep after ``SWEEP_AGE``
        contested losses. Room for a burst is part of being eligible, so that a source
        with no room does not hold the channel from the other; with no eligible request
        the channel shows the sweep's AW if there is one, else the host's.

        Returns ``sel`` (1: the sweep), ``awvalid`` (the selected source's AW valid) and
        ``room`` (the selected source may start a burst, or its AW is already shown).
        """
        max_writes = self._max_writes
        wr_age = Signal(range(SWEEP_AGE + 1))   # contested write grants the host won in a row
        wr_sel = Signal()        # 1: the sweep
        # Room for one more write burst per source, one cycle old, which keeps the
        # counters' compare off the grant and the ready. Safe: a source gets at most one
        # AW per cycle, so a count a cycle ago below max_writes - 1 is below max_writes.
        # An AW shown to the memory stays until accepted (``aw_shown``), whatever the
        # stale flag says next; meanwhile its source's count cannot grow.
        bp_room = [Signal(name=f"bp_room{k}", init=1) for k in range(2)]
        for k in range(2):
            m.d.sync += bp_room[k].eq(ledger.bpend[k] < max_writes - 1)
        wr_host_ok = self.host_wr.awvalid & bp_room[0]
        wr_sweep_ok = self.sweep_wr.awvalid & bp_room[1]
        with m.If(burst.busy):
            m.d.comb += wr_sel.eq(burst.sel_q)
        with m.Elif(wr_host_ok & wr_sweep_ok):
            m.d.comb += wr_sel.eq(wr_age == SWEEP_AGE)
        with m.Elif(wr_host_ok | wr_sweep_ok):
            m.d.comb += wr_sel.eq(wr_sweep_ok)
        with m.Else():
            m.d.comb += wr_sel.eq(self.sweep_wr.awvalid)
        src_awvalid = Mux(wr_sel, self.sweep_wr.awvalid, self.host_wr.awvalid)
        # the age is counted at the grant: the first cycle of a burst, its AW shown
        with m.If(~dead & ~burst.busy & src_awvalid):
            with m.If(wr_sel):
                m.d.sync += wr_age.eq(0)
            with m.Elif(wr_sweep_ok & (wr_age != SWEEP_AGE)):
                m.d.sync += wr_age.eq(wr_age + 1)
        room = Mux(wr_sel, bp_room[1], bp_room[0]) | burst.aw_shown
        return SimpleNamespace(sel=wr_sel, awvalid=src_awvalid, room=room)

    def _write_channel(self, m, ledger, dead):
        """The write channel: a burst owns AW and W from its grant until both are through
        (its AW accepted and its WLAST taken, in either order); AW and W payload, ID and
        handshakes to the memory from the owner only. While ``dead`` no burst holds the
        channel and nothing reaches the memory.
        """
        mem = self.mem
        burst = SimpleNamespace(
            busy=Signal(name="wr_busy"),       # a burst holds the channel
            sel_q=Signal(name="wr_sel_q"),     # its source while ``busy`` (1: the sweep)
            aw_done=Signal(name="aw_done"),    # its AW is accepted
            w_done=Signal(name="w_done"),      # its WLAST is taken
            aw_shown=Signal(name="aw_shown"),  # an AW shown to the memory, not accepted
        )
        grant = self._write_grant(m, ledger, burst, dead)
        wr_sel, room = grant.sel, grant.room
        for name in _AW + _W:
            m.d.comb += getattr(mem, name).eq(Mux(wr_sel, getattr(self.sweep_wr, name),
                                                  getattr(self.host_wr, name)))
        m.d.comb += mem.awid.eq(Mux(wr_sel, SWEEP_ID, HOST_ID))
        src_wvalid = Mux(wr_sel, self.sweep_wr.wvalid, self.host_wr.wvalid)
        owner = burst.busy | grant.awvalid   # W may pass once its burst holds the channel
        aw_done, w_done = burst.aw_done, burst.w_done

        with m.If(~dead):
            m.d.comb += [
                mem.awvalid.eq(grant.awvalid & ~aw_done & room),
                mem.wvalid.eq(src_wvalid & owner & ~w_done),
                self.host_wr.awready.eq(mem.awready & ~wr_sel & ~aw_done & room),
                self.sweep_wr.awready.eq(mem.awready & wr_sel & ~aw_done & room),
                self.host_wr.wready.eq(mem.wready & ~wr_sel & owner & ~w_done),
                self.sweep_wr.wready.eq(mem.wready & wr_sel & owner & ~w_done),
            ]
            aw_fire = mem.awvalid & mem.awready
            m.d.sync += burst.aw_shown.eq(mem.awvalid & ~mem.awready)
            wlast_fire = mem.wvalid & mem.wready & mem.wlast
            aw_now = aw_done | aw_fire
            w_now = w_done | wlast_fire
            with m.If(owner):
                with m.If(aw_now & w_now):
                    m.d.sync += [burst.busy.eq(0), aw_done.eq(0), w_done.eq(0)]
                with m.Else():
                    m.d.sync += [burst.busy.eq(1), burst.sel_q.eq(wr_sel),
                                 aw_done.eq(aw_now), w_done.eq(w_now)]
        with m.Else():
            m.d.sync += [burst.busy.eq(0), aw_done.eq(0), w_done.eq(0),
                         burst.aw_shown.eq(0)]

    def _route_responses(self, m, dead):
        """R and B from the memory to the source whose ID they carry (while not
        ``dead``); a response with any other ID than ``SWEEP_ID`` goes to the host."""
        mem = self.mem
        r_sweep = mem.rvalid & (mem.rid == SWEEP_ID)   # gated: an idle memory may drive X IDs
        b_sweep = mem.bvalid & (mem.bid == SWEEP_ID)
        with m.If(~dead):
            m.d.comb += [
                mem.rready.eq(Mux(r_sweep, self.sweep_rd.rready, self.host_rd.rready)),
                mem.bready.eq(Mux(b_sweep, self.sweep_wr.bready, self.host_wr.bready)),
            ]
            for src, mine in ((self.host_rd, mem.rvalid & ~r_sweep), (self.sweep_rd, r_sweep)):
                m.d.comb += [src.rdata.eq(mem.rdata), src.rresp.eq(mem.rresp),
                             src.rlast.eq(mem.rlast), src.rvalid.eq(mine)]
            for src, mine in ((self.host_wr, mem.bvalid & ~b_sweep), (self.sweep_wr, b_sweep)):
                m.d.comb += [src.bresp.eq(mem.bresp), src.bvalid.eq(mine)]

    def _answer_locally(self, m, ledger, dead):
        """While ``dead``: every source is answered from the ledger, read beats and write
        responses with SLVERR, write data taken and dropped; new requests are taken while
        their counts have room. Whatever the memory still sends is taken and dropped."""
        max_writes = self._max_writes
        with m.If(dead):
            m.d.comb += [self.mem.rready.eq(1), self.mem.bready.eq(1)]
            for k, (src, q) in enumerate(zip((self.host_rd, self.sweep_rd), ledger.rq)):
                m.d.comb += [
                    src.arready.eq(ledger.rq_room[k]),
                    src.rvalid.eq(q.r_rdy), src.rresp.eq(Resp.SLVERR),
                    src.rlast.eq(ledger.r_beat[k] == q.r_data),
                ]
            for k, src in enumerate((self.host_wr, self.sweep_wr)):
                m.d.comb += [
                    src.awready.eq(ledger.bpend[k] < max_writes),
                    src.wready.eq(ledger.wpend[k] != 0),
                    src.bvalid.eq(ledger.bpend[k] > ledger.wpend[k]),
                    src.bresp.eq(Resp.SLVERR),
                ]
