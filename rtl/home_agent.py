"""The home agent: one module's memory port, shared by the host and the sweep."""

from types import SimpleNamespace

from amaranth.hdl import Cat, Module, Signal, Mux
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from .signatures import AXI4Signature, Burst, Resp, HOST_ID, SWEEP_ID, check_int

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
#: The host reads heavily when it took more than HOST_HEAVY read beats in the last window
#: of HOST_WINDOW cycles (a little over half); then the sweep keeps one burst in flight.
HOST_WINDOW = 1024
HOST_HEAVY = HOST_WINDOW * 17 // 32
#: The host reads *lately* while it presented a read in the last HOST_RECENT cycles;
#: after that long without one the sweep has the memory to itself.
HOST_RECENT = 256
#: Beats of each memory read of the sweep while the host reads lightly: its bursts are
#: cut into pieces this long, which is about the most a host read waits behind the sweep.
SWEEP_PIECE = 8
#: Beats the sweep may have at the memory beyond its read latency when a piece joins them
#: while the host reads lightly: covers the cycles from the decision to the memory's AR.
SWEEP_LEAD = 2
#: The read latency assumed until the agent has measured one (cycles).
LATENCY_INIT = 16
#: Contested grants the host may win in a row before a waiting sweep request goes first.
SWEEP_AGE = 4
#: Write bursts whose AW the agent may have shown to the memory ahead of their last W beat
#: (the depth of its W-order queue). Back-to-back 1-beat writes go at one per cycle while
#: each W beat comes at most W_AHEAD - 1 cycles after its AW: 4 covers the register slices
#: in front of the agent (W a cycle or two behind) with room, in four flip-flops a side.
W_AHEAD = 4


class HomeAgent(wiring.Component):
    """Shares one module's AXI4 memory port between host traffic and the sweep.

    Two request sources reach a module: the host port (reads and writes of the range this
    agent serves, and writes forwarded to it as a mirror slave) and the sweep (reads of a
    master's lines, writes of the copy to a slave). Requests carry module-local byte
    addresses already. The agent tags each request with an AXI ID (``HOST_ID`` or
    ``SWEEP_ID``) and routes R and B back by that ID, so read data of the two sources may
    interleave as AXI allows.

    **The host goes first; the sweep uses what is left.** On the read and the write
    address channels a host request wins over a sweep request presented in the same
    cycle. (The read grant is registered: it is decided a cycle ahead and rests with the
    host, so a sweep read waits a cycle for it and a host read arriving just then waits
    behind that one.) Arbitration alone does not protect host reads, though: a memory
    serves the reads it has accepted in order, so a host read waits behind every sweep
    beat already queued there. So the sweep's reads follow what the host has read
    lately:

    - *Host quiet* (no host read presented for ``HOST_RECENT`` cycles): the sweep's
      bursts go whole, as many as its engine keeps in flight (about the memory latency's
      worth are needed for one line per cycle).
    - *Host reading lightly* (a read in the last ``HOST_RECENT`` cycles, at most
      ``HOST_HEAVY`` beats in the last ``HOST_WINDOW``): each sweep burst reaches the
      memory in pieces of ``SWEEP_PIECE`` beats, and a piece goes only while the sweep's
      beats owed by the memory are at most its read latency plus ``SWEEP_LEAD``. The
      agent measures that latency itself (AR handshake to first R beat of a read issued
      with nothing else owed, the latest one). So the sweep's reads keep the memory's
      pipeline just full (one line per cycle at any latency), while a host read waits
      behind at most about a piece and ``SWEEP_LEAD`` beats more than the latency it
      pays anyway.
    - *Host reading heavily*: the sweep keeps one burst at the memory at a time.

    The sweep's burst is accepted with its first piece, which the ledger counts; the
    sweep's RLAST is the ledger's last beat of that burst.

    **Writes: AW and W apart, as an AXI interconnect's.** A write burst's AW goes to the
    memory as soon as it wins the write address channel; the burst then joins the
    *W-order queue* (up to ``W_AHEAD`` bursts, by source, in AW order), and the memory's
    W channel serves the oldest burst in it, whole, from its source. So the next AW
    need not wait for the last burst's data: 1-beat writes go at one per cycle whether
    each W beat comes with its AW or up to ``W_AHEAD - 1`` cycles after it (or before
    it). The W beats of the two sources never interleave, and a host write's W waits at
    most behind the W of the bursts whose AW went first; the sweep's write bursts are
    short (see :class:`rtl.sweep.SweepEngine`). These are throughput heuristics; the
    guarantees are the next paragraph's.

    **Neither side starves.** A sweep request that may go (for reads: always when the
    memory owes the sweep nothing) and has lost ``SWEEP_AGE`` contested grants in a row
    to the host wins the next one. So under any host load the sweep gets at least one
    grant in ``SWEEP_AGE + 1`` on each address channel and always gets a read burst in
    flight, and when both keep asking the host gets at least ``SWEEP_AGE`` grants in
    ``SWEEP_AGE + 1``.

    **A module that disappears never hangs a source.** The agent counts what it owes each
    source (the length of every read burst accepted, write bursts whose data or response
    is due). While ``alive`` is low (the slot lost presence or power) it stops talking to
    the memory and answers everything owed or newly asked itself: read beats and write
    responses with SLVERR, write data accepted and dropped (the W-order queue is
    emptied: the ledger says whose data is still due). It talks to the memory again
    once ``alive`` is back and nothing is owed any more. This assumes what a slot without
    power implies: the memory controller behind ``mem`` is reset with its module and
    drops what it had in flight (a burst it had half received, responses it still owed).

    Invariants: an address once presented to the memory keeps its payload until accepted
    (the read grant is locked, and the write address grant too while its AW is shown:
    ``aw_shown``; whether a sweep burst is cut changes only while the sweep holds no read
    grant); W bursts reach the memory whole, each from the source of its AW, in the
    order of their AWs (the W-order queue; AXI orders W data by AW on a port); a burst's
    W beats never reach the memory before its AW is shown, may before it is accepted (W
    never waits for the memory's AW ready, which a subordinate may withhold until it sees
    W), and at most ``W_AHEAD`` bursts are shown and not through their WLAST; responses
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
    host_rd, host_wr, sweep_rd, sweep_wr : In(AXI4Signature(read/write half, user=True))
        Request sources (subordinate side); ``wuser`` / ``ruser`` (poison) pass
        through. Their ID fields are ignored and responses carry ID 0: each source
        relies on the in-order return of its own requests.
    mem : Out(AXI4Signature(user=True))
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
        self._beat_shift = (data_width // 8).bit_length() - 1   # log2 of the bus's bytes
        # every port carries the poison bit (wuser / ruser, SPEC section 7): the agent
        # passes it between its sources and the memory untouched
        half = dict(addr_width=addr_width, data_width=data_width, id_width=id_width,
                    user=True)
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
        self._route_responses(m, ledger, dead)
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

    def _sweep_read_policy(self, m, dead, rd_gnt, sweep_beats):
        """How the sweep's reads may use the memory, from what the host has read lately
        (see the class docstring), as registers.

        Returns ``quiet`` (no host read seen for ``HOST_RECENT`` cycles: the sweep goes
        unhindered, in whole bursts), ``split`` (the host reads lightly: the sweep's
        bursts are cut into pieces of ``SWEEP_PIECE`` beats) and ``room`` (else a sweep
        read, burst or piece, may join the memory's queue now).

        ``room`` is exact where it is used although registered and counted a cycle late:
        the beats of a read the memory accepts are added to the counts the cycle after
        (``pending``, a register, which keeps the multiplexed AR and its handshake off the
        adders), and ``room`` is not used in the cycle after a sweep read was accepted
        (``sweep_fired``), so no stale value admits a second read. ``split``
        changes only while the sweep holds no grant, so the length of a sweep AR shown to
        the memory never changes before it is accepted.

        ``sweep_beats`` is the beat count of the sweep's AR shown to the memory (its
        ``arlen`` + 1, from registers of :meth:`_sweep_pieces`).
        """
        mem = self.mem
        ar_fire = mem.arvalid & mem.arready
        r_fire = mem.rvalid & mem.rready
        r_sweep = r_fire & (mem.rid == SWEEP_ID)
        # Beats the memory owes, in all and to the sweep (bursts of at most 256 beats, at
        # most max_reads of each source, each cut into at most 256/SWEEP_PIECE pieces).
        # The memory drops what it owed when the module goes away: so do the counts.
        limit = 2 * self._max_reads * 256
        mem_out = Signal(range(limit + 1))
        sweep_out = Signal(range(limit + 1))
        sweep_next = Signal(range(limit + 1))
        host_beats = self.host_rd.arlen + 1
        mem_pending = Signal(9)      # beats of the read the memory accepted last cycle
        sweep_pending = Signal(9)    # ... if it was the sweep's
        sweep_fired = Signal()       # the memory accepted a sweep read last cycle
        m.d.sync += [mem_pending.eq(Mux(ar_fire, Mux(rd_gnt, sweep_beats, host_beats), 0)),
                     sweep_pending.eq(Mux(ar_fire & rd_gnt, sweep_beats, 0)),
                     sweep_fired.eq(ar_fire & rd_gnt)]
        sweep_sum = sweep_out + sweep_pending   # from flip-flops only
        m.d.comb += sweep_next.eq(sweep_sum - r_sweep)
        m.d.sync += [mem_out.eq(mem_out + mem_pending - r_fire),
                     sweep_out.eq(sweep_next)]
        with m.If(dead):
            m.d.sync += [mem_out.eq(0), sweep_out.eq(0), mem_pending.eq(0),
                         sweep_pending.eq(0)]

        # The memory's read latency: cycles from an AR handshake with nothing else owed
        # to its first R beat, the latest such measurement.
        latency = Signal(8, init=LATENCY_INIT)
        timing = Signal()
        count = Signal(8)
        with m.If(timing):
            m.d.sync += count.eq(count + (count != 255))
            with m.If(mem.rvalid):
                m.d.sync += [latency.eq(count), timing.eq(0)]
        with m.Elif(ar_fire & (mem_out == 0) & (mem_pending == 0)):
            m.d.sync += [timing.eq(1), count.eq(1)]
        with m.If(dead):
            m.d.sync += timing.eq(0)

        # How much the host read in the last window. Being slow and one-sided matters:
        # deciding from the host's instantaneous backlog would let a dip in it admit sweep
        # bursts that then slow the host down further, which settles with the host
        # getting less (``make bench`` measures it).
        win = Signal(range(HOST_WINDOW))
        win_beats = Signal(range(HOST_WINDOW + 1))
        host_heavy = Signal()
        # a host beat is counted the cycle after it goes (a register: the R handshake
        # comes from the memory's port, far away)
        h_r = Signal()
        m.d.sync += h_r.eq(self.host_rd.rvalid & self.host_rd.rready)
        m.d.sync += [win.eq(win + 1), win_beats.eq(win_beats + h_r)]
        with m.If(win == HOST_WINDOW - 1):
            m.d.sync += [host_heavy.eq(win_beats + h_r > HOST_HEAVY),
                         win_beats.eq(0)]
        # Whether the host read lately: a read presented in the last HOST_RECENT cycles.
        since = Signal(range(HOST_RECENT))
        with m.If(self.host_rd.arvalid):
            m.d.sync += since.eq(HOST_RECENT - 1)
        with m.Elif(since != 0):
            m.d.sync += since.eq(since - 1)
        quiet = Signal(init=1)
        m.d.sync += quiet.eq(~self.host_rd.arvalid & (since <= 1))

        split = Signal()
        with m.If(~rd_gnt):
            m.d.sync += split.eq(~quiet & ~host_heavy)
        # Heavy: one sweep read at the memory at a time. Light: the sweep's beats at the
        # memory may reach its latency plus SWEEP_LEAD before a piece joins them: a piece
        # arrives as the last one drains, so the sweep streams, and a host read waits for
        # at most a piece and SWEEP_LEAD beats more than the latency it pays anyway.
        # (Compared as ``sweep_next`` is, but on the sum of the flip-flops, both ways: the
        # R handshake, which comes late from the memory's port, only picks one; timing.)
        room = Signal()
        lead = latency + SWEEP_LEAD
        m.d.sync += room.eq(Mux(host_heavy,
                                Mux(r_sweep, sweep_sum == 1, sweep_sum == 0),
                                Mux(r_sweep, sweep_sum <= lead + 1, sweep_sum <= lead)))
        return SimpleNamespace(quiet=quiet, split=split, room=room & ~sweep_fired)

    def _sweep_pieces(self, m, split, rd_gnt, room, dead):
        """The sweep's read requests as the memory sees them: its bursts whole, or while
        ``split``, cut into pieces of up to ``SWEEP_PIECE`` beats (INCR bursts of
        full-width beats from an aligned address only, which is what the sweep issues:
        then each piece starts a constant ``SWEEP_PIECE`` beats after the last).

        The sweep's burst is accepted (its AR handshake, which the ledger counts) with its
        first piece; the rest wait here (``busy``) and go before the sweep's next burst.
        The ledger's count of beats answered gives the sweep its RLAST at the end of the
        whole burst (see :meth:`_route_responses`), not at the end of each piece.

        Returns ``valid`` (a sweep read is waiting: a piece here, or the sweep's AR with
        ``room`` in its read queue), ``payload`` (its AR members, by name), ``beats`` (its
        length in beats), ``busy`` and ``fire`` (the memory accepts a sweep read this
        cycle).

        The next piece's length is a register (``piece_arlen``), computed with the
        remaining count as a piece goes, so that no subtraction or compare of the
        remaining count sits between a flip-flop and the memory's ``arlen`` (timing).
        """
        src, mem = self.sweep_rd, self.mem
        busy = Signal(name="piece_busy")
        addr = Signal(len(src.araddr), name="piece_addr")
        left = Signal(9, name="piece_left")          # beats of the burst not yet asked
        arlen = Signal(8, name="piece_arlen")        # the next piece's length - 1
        held = {name: Signal.like(getattr(src, name), name=f"piece_{name}")
                for name in _AR if name not in ("araddr", "arlen")}
        shift = self._beat_shift
        aligned = (src.araddr[:shift] == 0) if shift else 1
        cut = (split & (src.arburst == Burst.INCR) & (src.arlen >= SWEEP_PIECE) &
               (src.arsize == shift) & aligned)
        payload = {name: Mux(busy, held[name], getattr(src, name)) for name in held}
        payload["araddr"] = Mux(busy, addr, src.araddr)
        payload["arlen"] = Mux(busy, arlen, Mux(cut, SWEEP_PIECE - 1, src.arlen))
        beats = Mux(busy, arlen + 1, Mux(cut, SWEEP_PIECE, src.arlen + 1))
        fire = mem.arvalid & mem.arready & rd_gnt
        after = Mux(busy, addr, src.araddr) + (SWEEP_PIECE << shift)   # the next piece
        # beats left once this piece goes, and the next piece's arlen (each from the
        # registers directly, side by side rather than one after the other)
        rest = Mux(busy, left - SWEEP_PIECE, src.arlen + 1 - SWEEP_PIECE)
        next_arlen = Mux(busy,
                         Mux(left > 2 * SWEEP_PIECE, SWEEP_PIECE - 1, left - SWEEP_PIECE - 1),
                         Mux(src.arlen >= 2 * SWEEP_PIECE, SWEEP_PIECE - 1,
                             src.arlen - SWEEP_PIECE))
        with m.If(fire & (busy | cut)):
            m.d.sync += [addr.eq(after), left.eq(rest), arlen.eq(next_arlen)]
            with m.If(busy):
                with m.If(left <= SWEEP_PIECE):
                    m.d.sync += busy.eq(0)
            with m.Else():
                m.d.sync += busy.eq(1)
                m.d.sync += [held[name].eq(getattr(src, name)) for name in held]
        with m.If(dead):
            m.d.sync += busy.eq(0)
        return SimpleNamespace(busy=busy, payload=payload, beats=beats, fire=fire,
                               valid=busy | (src.arvalid & room))

    def _read_arbiter(self, m, ledger, dead):
        """The read address channel: host first, the sweep limited while the host reads,
        the grant decided a cycle ahead; AR payload, ID and handshake to the memory.

        The grant (``rd_gnt``) is a flip-flop, decided from the requests waiting a cycle
        before, so that no source's AR valid reaches any source's AR ready through the
        arbiter (with the register slices in front of the sources, that would be a
        combinational round trip between blocks far apart). It parks on the host: an
        idle agent passes a host read at once. A sweep read waits a cycle for its grant,
        and the grant returns to the host after each sweep read, so sweep reads (bursts
        or pieces) reach the memory at most every other cycle. A request once granted is
        still there when its grant comes: AR valid holds until accepted, a source's queue
        room falls only when it is accepted, and a piece waits until it is accepted.
        While ``dead`` the grant rests with the host and nothing reaches the memory.
        """
        mem, rq_room = self.mem, ledger.rq_room
        rd_gnt = Signal()        # 1: the sweep holds the read address channel
        sweep_beats = Signal(9)
        policy = self._sweep_read_policy(m, dead, rd_gnt, sweep_beats)
        sweep = self._sweep_pieces(m, policy.split, rd_gnt, rq_room[1], dead)
        m.d.comb += sweep_beats.eq(sweep.beats)
        rd_host_ok = self.host_rd.arvalid & rq_room[0]
        sweep_ar = sweep.valid
        rd_sweep_ok = sweep_ar & (policy.quiet | policy.room)
        rd_age = Signal(range(SWEEP_AGE + 1))   # host grants in a row the sweep waited for
        rd_hold = Signal()       # an AR presented to the memory stays until it is accepted
        m.d.comb += rd_hold.eq(mem.arvalid & ~mem.arready)
        for name in _AR:
            m.d.comb += getattr(mem, name).eq(Mux(rd_gnt, sweep.payload[name],
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
                self.sweep_rd.arready.eq(mem.arready & rd_gnt & rq_room[1] & ~sweep.busy),
            ]
        with m.Else():
            m.d.sync += rd_gnt.eq(0)

    def _write_grant(self, m, ledger, order, dead):
        """Which source's AW the write address channel shows: the source of the AW shown
        and not yet accepted (``order.aw_shown``, its source in ``order.aw_sel``), else
        host first, as for reads, the sweep after ``SWEEP_AGE`` contested losses. Room for
        a burst is part of being eligible, so that a source with no room does not hold
        the channel from the other; with no eligible request the channel shows the
        sweep's AW if there is one, else the host's.

        Returns ``sel`` (1: the sweep), ``awvalid`` (the selected source's AW valid) and
        ``room`` (the selected source may start a burst and the W-order queue has room
        for it, or its AW is already shown).
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
        with m.If(order.aw_shown):
            m.d.comb += wr_sel.eq(order.aw_sel)
        with m.Elif(wr_host_ok & wr_sweep_ok):
            m.d.comb += wr_sel.eq(wr_age == SWEEP_AGE)
        with m.Elif(wr_host_ok | wr_sweep_ok):
            m.d.comb += wr_sel.eq(wr_sweep_ok)
        with m.Else():
            m.d.comb += wr_sel.eq(self.sweep_wr.awvalid)
        src_awvalid = Mux(wr_sel, self.sweep_wr.awvalid, self.host_wr.awvalid)
        room = (Mux(wr_sel, bp_room[1], bp_room[0]) & order.room) | order.aw_shown
        # the age is counted at the grant: the cycle a burst's AW is first shown
        with m.If(~dead & ~order.aw_shown & src_awvalid & room):
            with m.If(wr_sel):
                m.d.sync += wr_age.eq(0)
            with m.Elif(wr_sweep_ok & (wr_age != SWEEP_AGE)):
                m.d.sync += wr_age.eq(wr_age + 1)
        return SimpleNamespace(sel=wr_sel, awvalid=src_awvalid, room=room)

    def _write_channel(self, m, ledger, dead):
        """The write channels, AW and W apart: AW goes to the memory from the granted
        source (held, once shown, until accepted), and each burst whose AW has been shown
        joins the W-order queue (``wq``, ``W_AHEAD`` bursts at most, their sources in AW
        order); W is served from the source of the queue's oldest burst until its WLAST,
        or, with the queue empty, from the source whose AW is shown for the first time
        this very cycle (so a burst's AW and W may go together). AW and W payload, ID
        and handshakes to the memory. While ``dead`` the queue is emptied, no AW is held
        and nothing reaches the memory.

        A burst joins the queue when its AW is first shown, not when it is accepted, so
        that W never waits for the memory's AW ready (a subordinate may wait for W before
        it takes an AW); its W beats may reach the memory before its AW is accepted,
        which AXI allows. A burst whose WLAST goes in the cycle its AW is first shown
        does not join the queue.
        """
        mem = self.mem
        depth = W_AHEAD
        # The queue as a thermometer of entries (``wq_valid``: bit i holds an entry, the
        # oldest in bit 0) and their sources (``wq_src``, 1: the sweep), so that the head
        # and the room are each one flip-flop, not a compare of a level.
        wq_valid = Signal(depth, name="wq_valid")
        wq_src = Signal(depth, name="wq_src")
        order = SimpleNamespace(
            aw_shown=Signal(name="aw_shown"),   # an AW shown to the memory, not accepted
            aw_sel=Signal(name="aw_sel"),       # its source (1: the sweep)
            room=~wq_valid[depth - 1],          # the queue can take one more burst
        )
        grant = self._write_grant(m, ledger, order, dead)
        wr_sel = grant.sel
        for name in _AW:
            m.d.comb += getattr(mem, name).eq(Mux(wr_sel, getattr(self.sweep_wr, name),
                                                  getattr(self.host_wr, name)))
        m.d.comb += mem.awid.eq(Mux(wr_sel, SWEEP_ID, HOST_ID))
        aw_valid = grant.awvalid & grant.room
        first = aw_valid & ~order.aw_shown     # a burst's AW shown for the first time
        head = wq_valid[0]
        w_sel = Mux(head, wq_src[0], wr_sel)   # the source W is served from
        w_on = head | first
        for name in _W:
            m.d.comb += getattr(mem, name).eq(Mux(w_sel, getattr(self.sweep_wr, name),
                                                  getattr(self.host_wr, name)))
        src_wvalid = Mux(w_sel, self.sweep_wr.wvalid, self.host_wr.wvalid)

        with m.If(~dead):
            m.d.comb += [
                mem.awvalid.eq(aw_valid),
                self.host_wr.awready.eq(mem.awready & ~wr_sel & grant.room),
                self.sweep_wr.awready.eq(mem.awready & wr_sel & grant.room),
                mem.wvalid.eq(src_wvalid & w_on),
                self.host_wr.wready.eq(mem.wready & ~w_sel & w_on),
                self.sweep_wr.wready.eq(mem.wready & w_sel & w_on),
            ]
            m.d.sync += [order.aw_shown.eq(mem.awvalid & ~mem.awready),
                         order.aw_sel.eq(wr_sel)]
            wlast_fire = mem.wvalid & mem.wready & mem.wlast
            pop = head & wlast_fire
            push = first & ~(~head & wlast_fire)
            kept_valid = Mux(pop, Cat(wq_valid[1:], 0), wq_valid)
            kept_src = Mux(pop, Cat(wq_src[1:], 0), wq_src)
            m.d.sync += [wq_valid.eq(kept_valid), wq_src.eq(kept_src)]
            with m.If(push):   # into the first free place (the queue has room: ``first``)
                for i in range(depth):
                    with m.If(~kept_valid[i] & (kept_valid[i - 1] if i else 1)):
                        m.d.sync += [wq_valid[i].eq(1), wq_src[i].eq(wr_sel)]
        with m.Else():
            m.d.sync += [order.aw_shown.eq(0), wq_valid.eq(0)]

    def _route_responses(self, m, ledger, dead):
        """R and B from the memory to the source whose ID they carry (while not
        ``dead``); a response with any other ID than ``SWEEP_ID`` goes to the host. The
        sweep's RLAST comes from the ledger (the last beat of its burst), as its burst may
        have reached the memory in pieces; the host's is the memory's."""
        mem = self.mem
        r_sweep = mem.rvalid & (mem.rid == SWEEP_ID)   # gated: an idle memory may drive X IDs
        b_sweep = mem.bvalid & (mem.bid == SWEEP_ID)
        with m.If(~dead):
            m.d.comb += [
                mem.rready.eq(Mux(r_sweep, self.sweep_rd.rready, self.host_rd.rready)),
                mem.bready.eq(Mux(b_sweep, self.sweep_wr.bready, self.host_wr.bready)),
            ]
            sweep_rlast = ledger.r_beat[1] == ledger.rq[1].r_data
            for src, mine, last in ((self.host_rd, mem.rvalid & ~r_sweep, mem.rlast),
                                    (self.sweep_rd, r_sweep, sweep_rlast)):
                m.d.comb += [src.rdata.eq(mem.rdata), src.rresp.eq(mem.rresp),
                             src.ruser.eq(mem.ruser), src.rlast.eq(last),
                             src.rvalid.eq(mine)]
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
