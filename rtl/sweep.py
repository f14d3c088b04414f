"""The sweep (copy) engine of a mirror pair."""

from amaranth.hdl import Module, Signal, Mux, Cat, Const
from amaranth.lib import data, wiring
from amaranth.lib.fifo import SyncFIFO, SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from .signatures import (AXI4Signature, Burst, Resp, SweepControlSignature,
                         HostClaimSignature, SweepClaimSignature, check_int,
                         check_claim_bits)

__all__ = ["SweepEngine"]

_PAGE_LINES = 512  # 4 KiB of 8-byte lines: memory bursts never cross it (AXI rule)
#: Default of ``max_blocks``: blocks from read issue to write response; every block queue
#: holds this many.
_MAX_BLOCKS = 8
#: Default of ``max_sub_bursts``: write sub-bursts awaiting their response (enough for a
#: latency of about 100 cycles).
_MAX_SUB_BURSTS = 16


class SweepEngine(wiring.Component):
    """Copies lines ``[start, start+count)`` from a master's module to its slave's.

    Reads go to the master's memory port in bursts (*blocks*) of up to ``burst`` lines
    (never across a 4 KiB page), with up to ``depth`` lines and ``max_blocks`` blocks in
    flight; each block is written to the slave's port once all of its data has arrived, in
    write bursts of up to ``write_burst`` lines whose AW goes out with the first W beat, so
    the write side runs at one line per cycle while a host write forwarded to the slave
    waits at most ``write_burst`` cycles for the port (the home agent gives the host
    priority).

    ``throttle`` > 0 copies one line at a time with at least ``throttle`` idle cycles
    between two line reads: at most 1/(throttle+1) lines per cycle. Each line then being
    a block of its own, the ``max_blocks`` blocks in flight (read issue to write response)
    also bound the rate, to about ``max_blocks`` / (read latency + write-response latency
    + ~6) lines per cycle, which is below the THROTTLE cap for small values at a high
    memory latency (THROTTLE 1 at latency 20 gives about 0.17 lines per cycle with the
    default of 8 blocks).

    **Atomicity with host writes.** A host write and a sweep copy of the same line never
    overlap in time. The engine *claims* lines ``[lo, next+2*burst)``: every line from the
    oldest write burst not yet acknowledged by the slave up to the two blocks it may issue
    next. The host write path does not start a write (memory AW) to a master's lines that
    overlap its engine's claim, and the engine does not issue a block read while the host
    write in progress (``host``: from memory AW until both B responses) overlaps
    ``[next, next+burst)``. So a line is copied either wholly before a host write to it
    begins (and the forwarded write then overwrites the copy at the slave) or wholly after
    it has completed on both modules (and the copy carries the new data): the slave never
    ends up with data older than the master's. Both sides progress: the engine waits for
    at most one host write, the host write waits only until the engine has moved past its
    lines.

    **Both checks registered** (timing: the compares join registers of every engine and
    the host port). The host write engine starts its AW at cycle t+1 on a check of the
    claim of cycle t-1; the engine issues at cycle u on a check of the host write of
    cycle u-1. Both cannot miss each other: if u >= t+2, the engine saw the write active;
    otherwise the issue comes at most two cycles after t-1, and the engine issues at most
    one block in any two cycles (``settle``), so the claim of cycle t-1 already covered
    the lines of both blocks it can issue by then (hence two bursts ahead). A start holds
    the first issue for two cycles, so a host check that saw the engine idle at t-1 is
    followed by no issue before t+2. Proved in ``formal`` (``no_lost_write_two_blocks``;
    its ``claim_ahead=1`` variant fails).

    **Watermark.** Write bursts complete in order (one AXI ID per port), so
    ``progress_end`` (the end of the last acknowledged one) is a line below which every
    line of this sweep is copied. On a memory error (read at the
    master or write at the slave) the engine stops issuing, drains what is in flight,
    reports nothing at or past the lowest failing line, and finishes with ``failed`` and
    ``err_line`` (that line: a write error of an earlier block that is answered after a
    later block's read error still wins).

    Parameters
    ----------
    agent : int
        Index of the master this engine belongs to (to match ``host.agent``).
    burst : int
        Lines per memory burst, at most 256.
    depth : int
        Lines of read data buffered; bounds the lines in flight.
    write_burst : int
        Lines per write burst to the slave (at most ``burst`` are used): the longest a
        forwarded host write waits for the slave's write channel.
    max_blocks : int
        Blocks (read bursts) in flight from read issue to write response, at least 1
        (default 8); sizes the block descriptor queues.
    max_sub_bursts : int
        Write sub-bursts awaiting their response, at least 2 (default 16; the room check
        is a cycle old and keeps one entry spare); sizes the response queue. Smaller
        values than the defaults are for small configurations (formal proofs).
    hazard_check : bool
        Only for tests: ``False`` builds the deliberately broken variant that ignores the
        host write in progress, to show that the race tests detect the lost update.
    claim_ahead : int
        Only for tests: bursts the claim reaches past ``next`` (default 2, which the
        registered checks need; 1 builds the broken variant that shows it, see
        ``formal``).
    claim_bits : int
        Low bits of the module-local line numbers that the claim compares look at; every
        line number and claim bound must be below ``2**claim_bits``. Default 32, all of
        them; the top passes :func:`rtl.signatures.claim_bits`.

    Members
    -------
    ctrl : In(SweepControlSignature())
    throttle : In(16)
    claim : Out(SweepClaimSignature())
    host : In(HostClaimSignature())
    rd : Out(AXI4Signature(read half))   to the master's home agent
    wr : Out(AXI4Signature(write half))  to the slave's home agent
    """

    def __init__(self, *, agent, burst=32, depth=128, write_burst=8, addr_width=32,
                 data_width=64, id_width=4, max_blocks=_MAX_BLOCKS,
                 max_sub_bursts=_MAX_SUB_BURSTS, hazard_check=True, claim_bits=32,
                 claim_ahead=2):
        if not isinstance(burst, int) or not 1 <= burst <= 256:
            raise ValueError(f"Burst must be an integer from 1 to 256 lines, not {burst!r}")
        if not isinstance(depth, int) or depth < burst:
            raise ValueError(f"Depth must be an integer of at least the burst ({burst}), "
                             f"not {depth!r}")
        check_int("Max blocks", max_blocks, 1)
        check_int("Max sub-bursts", max_sub_bursts, 2)
        self._max_blocks = max_blocks
        self._max_sub_bursts = max_sub_bursts
        self._agent = agent
        self._hazard_check = hazard_check
        if claim_ahead not in (1, 2):
            raise ValueError(f"Claim ahead must be 1 or 2 bursts, not {claim_ahead!r}")
        self._claim_ahead = claim_ahead
        check_claim_bits(claim_bits)
        self._claim_bits = claim_bits
        if not isinstance(write_burst, int) or not 1 <= write_burst <= 256:
            raise ValueError(f"Write burst must be an integer from 1 to 256 lines, "
                             f"not {write_burst!r}")
        self._burst = burst
        self._write_burst = write_burst
        self._depth = depth
        self._data_width = data_width
        half = dict(addr_width=addr_width, data_width=data_width, id_width=id_width)
        super().__init__({
            "ctrl": In(SweepControlSignature()),
            "throttle": In(16),
            "claim": Out(SweepClaimSignature()),
            "host": In(HostClaimSignature()),
            "rd": Out(AXI4Signature(**half, write=False)),
            "wr": Out(AXI4Signature(**half, read=False)),
        })

    def elaborate(self, platform):
        m = Module()
        burst, depth = self._burst, self._depth
        cb = self._claim_bits
        max_blocks, max_sub_bursts = self._max_blocks, self._max_sub_bursts
        ctrl, rd, wr = self.ctrl, self.rd, self.wr

        # A block's lines - 1 (and whether it is one line), and its first write sub-burst
        # (lines - 1, whether that is one line, its end, the lines of the block left after
        # it and whether there are any) are computed when the block's read is issued and
        # travel with the block, so starting that sub-burst, or discarding the block, needs
        # no arithmetic (timing). A block's write descriptor is its read descriptor and the
        # outcome of its read.
        block_fields = {"offset": 32, "lenm1": 8, "len1": 1, "n1m1": 8, "one1": 1,
                        "left1": 9, "more1": 1, "end1": 32}
        desc = data.StructLayout(block_fields)
        bdesc_layout = data.StructLayout({"offset": 32, "end": 32, "last": 1})
        wdesc_layout = data.StructLayout({**block_fields, "err": 1, "err_line": 32})

        m.submodules.data = buf = SyncFIFOBuffered(width=self._data_width, depth=depth)
        # A two-line queue in logic after the block-RAM buffer: the write side pops this
        # one, and the buffer's read enable depends only on its registered level (timing:
        # the W handshake otherwise reached the buffer's control logic, placed by its
        # block RAM far from the write side, and came back). It streams a line per cycle.
        # ``inflight`` counts lines in both, so ``room`` stays exact on the buffer's side.
        m.submodules.obuf = dfifo = SyncFIFO(width=self._data_width, depth=2)
        m.d.comb += [dfifo.w_data.eq(buf.r_data), dfifo.w_en.eq(buf.r_rdy),
                     buf.r_en.eq(dfifo.w_rdy)]
        # Every block is in exactly one of these queues (or in ``whead``, or being written)
        # from its read issue to its write response, and at most max_blocks are: none can
        # overflow.
        m.submodules.rdesc = rdesc = SyncFIFO(width=desc.size, depth=max_blocks)
        m.submodules.wdesc = wdesc = SyncFIFO(width=wdesc_layout.size, depth=max_blocks)
        # Write sub-bursts from AW to B response; AW waits while this is full.
        m.submodules.bdesc = bdesc = SyncFIFO(width=bdesc_layout.size, depth=max_sub_bursts)
        bhead = data.View(bdesc_layout, bdesc.r_data)
        bhead_last = bhead.last  # the block's last sub-burst
        blocks = Signal(range(max_blocks + 1))

        running = Signal()
        stopping = Signal()      # cancelled: issue nothing more, drop buffered blocks
        failing = Signal()       # a memory error was seen: same, and report it
        rd_failed = Signal()     # the write side took the first failed block a cycle ago
        m.d.sync += rd_failed.eq(0)
        err_line = Signal(32)
        nxt = Signal(32)
        remain = Signal(33)      # end - nxt, kept as a register
        lo = Signal(32)
        claim_hi = Signal(32)    # nxt + claim_ahead * burst, kept as a register
        ahead = Signal(32)       # nxt + burst, kept as a register
        inflight = Signal(range(depth + 1))
        thr_cnt = Signal(16)
        ar_pending = Signal()
        ar_addr = Signal(32)
        ar_len = Signal(8)

        m.d.comb += [
            self.claim.active.eq(running),
            self.claim.lo.eq(lo),
            self.claim.hi.eq(claim_hi),
            ctrl.failed.eq(failing),
            ctrl.err_line.eq(err_line),
        ]

        # ---- read issue -----------------------------------------------------------------------
        # The terms of the issue decision are registered (timing: each is a 32-bit add or
        # compare). That is exact because an issue is always followed by at least one cycle
        # without issue (``ar_pending`` until the AR handshake, ``settle`` after an issue
        # and for two cycles after a start), in which they are recomputed from the new
        # ``nxt``. The host check may be one cycle old, which is safe: see the class
        # docstring (*Both checks registered*).
        to_page = Signal(range(_PAGE_LINES + 1))
        upto_burst = Signal(range(burst + 1))
        blk = Signal(range(burst + 1))        # registered: lines of the next block
        more = Signal()                       # registered: lines remain
        room = Signal()                       # registered: a full block fits the buffer
        host_hit = Signal()                   # registered: the host write overlaps
        settle = Signal()
        settle2 = Signal()                    # a start: ``settle`` for one more cycle
        m.d.comb += [
            to_page.eq(_PAGE_LINES - nxt[:9]),
            upto_burst.eq(Mux(remain < burst, remain, burst)),
        ]
        m.d.sync += [
            blk.eq(Mux(self.throttle != 0, 1, Mux(to_page < upto_burst, to_page, upto_burst))),
            more.eq(remain != 0),
            room.eq(inflight <= depth - burst),
            host_hit.eq(self.host.active & (self.host.agent == self._agent) &
                        (self.host.lo[:cb] < ahead[:cb]) &
                        (self.host.hi[:cb] >= nxt[:cb])),
            settle.eq(settle2), settle2.eq(0),
        ]
        if not self._hazard_check:
            host_hit = 0
        wburst = min(self._write_burst, burst)
        # The block's descriptor, each field a named signal at its own width, zero-padded
        # into the queue (Verilator takes a vector assigned field by field, or a
        # subtraction's borrow bits copied from one another, for a combinational loop).
        blk_lenm1 = Signal(range(burst))
        n1 = Signal(range(wburst + 1))
        n1m1 = Signal(range(wburst))
        left1 = Signal(range(burst + 1))
        end1 = Signal(32)
        m.d.comb += [blk_lenm1.eq(blk - 1), n1.eq(Mux(blk > wburst, wburst, blk)),
                     n1m1.eq(n1 - 1), left1.eq(blk - n1), end1.eq(nxt + n1)]

        def pad(value, width):
            return Cat(value, Const(0, width - len(value)))
        issue = Signal()
        m.d.comb += issue.eq(running & ~failing & ~stopping & more & ~settle & room &
                             (blocks < max_blocks) & ~ar_pending & (thr_cnt == 0) &
                             ~host_hit)
        m.d.comb += [
            rd.araddr.eq(ar_addr), rd.arlen.eq(ar_len), rd.arsize.eq(3),
            rd.arburst.eq(Burst.INCR), rd.arvalid.eq(ar_pending),
            rdesc.w_data.eq(Cat(nxt, pad(blk_lenm1, 8), blk == 1, pad(n1m1, 8), n1 == 1,
                                pad(left1, 9), blk > wburst, end1)),
            rdesc.w_en.eq(issue),
        ]
        with m.If(rd.arvalid & rd.arready):
            m.d.sync += ar_pending.eq(0)
        with m.If(thr_cnt != 0):
            m.d.sync += thr_cnt.eq(thr_cnt - 1)
        with m.If(issue):
            m.d.sync += [ar_pending.eq(1), ar_addr.eq(nxt << 3), ar_len.eq(blk_lenm1),
                         nxt.eq(nxt + blk), remain.eq(remain - blk),
                         claim_hi.eq(claim_hi + blk), ahead.eq(ahead + blk),
                         thr_cnt.eq(self.throttle), settle.eq(1)]

        # ---- read data: into the buffer, block by block ------------------------------------------
        rhead = data.View(desc, rdesc.r_data)
        r_beat = Signal(9)
        blk_err = Signal()
        blk_err_line = Signal(32)
        beat_err = rd.rresp != Resp.OKAY
        m.d.comb += [
            rd.rready.eq(1),
            buf.w_data.eq(rd.rdata),
            buf.w_en.eq(rd.rvalid),
        ]
        with m.If(rd.rvalid):
            m.d.sync += r_beat.eq(r_beat + 1)
            with m.If(beat_err & ~blk_err):
                m.d.sync += [blk_err.eq(1), blk_err_line.eq(rhead.offset + r_beat)]
            with m.If(rd.rlast):
                m.d.sync += [r_beat.eq(0), blk_err.eq(0)]
                m.d.comb += [
                    rdesc.r_en.eq(1),
                    wdesc.w_en.eq(1),
                    wdesc.w_data.eq(Cat(rdesc.r_data, blk_err | beat_err,
                                        Mux(blk_err, blk_err_line, rhead.offset + r_beat))),
                ]

        # ---- write side -------------------------------------------------------------------------
        # A block is written in sub-bursts of up to ``write_burst`` lines, each AW presented
        # together with its first W beat, so short bursts cost no bandwidth; they bound how
        # long a host write waits for the slave's write channel (see HomeAgent).
        # The next block to write, taken off its queue into a register ahead of time
        # (timing: the end of a sub-burst otherwise decided the queue's read and level in
        # the same cycle, through its read multiplexer, and the queue's read data fed the
        # sub-burst registers). While the write side is busy this costs no write cycles;
        # a write side that is idle starts the block one cycle later.
        whead = Signal(wdesc_layout)
        whead_valid = Signal()
        take = Signal()         # the write side takes ``whead`` this cycle
        m.d.comb += wdesc.r_en.eq(~whead_valid)
        with m.If(take):
            m.d.sync += whead_valid.eq(0)
        w_offset = Signal(32)    # first line of the current sub-burst
        w_lenm1 = Signal(8)      # its lines - 1 (awlen)
        w_end = Signal(32)       # w_offset + its lines, kept as a register
        w_left = Signal(9)       # lines of the block after this sub-burst
        w_more = Signal()        # w_left != 0, kept as a register
        w_rem = Signal(9)        # beats after the current one (DISCARD: of the whole block)
        w_last = Signal()        # the current beat is the last: registered (timing)
        aw_pend = Signal()       # the sub-burst's AW is not yet accepted
        w_fin = Signal()         # all of its W beats are sent
        pop = Signal()
        discarded = Signal()   # a block's buffered data was dropped (a failed or cancelled sweep)
        m.d.comb += [
            wr.awaddr.eq(w_offset << 3), wr.awlen.eq(w_lenm1), wr.awsize.eq(3),
            wr.awburst.eq(Burst.INCR),
            wr.wdata.eq(dfifo.r_data), wr.wstrb.eq(~0), wr.wlast.eq(w_last),
            bdesc.w_data.eq(Cat(w_offset, w_end, ~w_more)),
            dfifo.r_en.eq(pop),
        ]

        # The terms of the sub-burst after the current one (same block), one cycle behind
        # ``w_end``/``w_left`` (timing: the 32-bit add then is off the handshake path).
        # Exact: that sub-burst follows only a full one of ``wburst`` >= 2 beats, which
        # lasts at least two cycles. With ``wburst`` = 1 a sub-burst can end in its first
        # cycle, so there they are combinational.
        nb_nm1 = Signal(8)       # its lines - 1
        nb_one = Signal()        # it is one line
        nb_end = Signal(32)
        nb_left = Signal(9)
        nb_more = Signal()       # lines are left after it
        nb_domain = m.d.sync if wburst >= 2 else m.d.comb
        nb_n_value = Mux(w_left > wburst, wburst, w_left)
        nb_domain += [nb_nm1.eq(nb_n_value - 1), nb_one.eq(nb_n_value == 1),
                      nb_end.eq(w_end + nb_n_value), nb_left.eq(w_left - nb_n_value),
                      nb_more.eq(w_left > wburst)]

        def sub_burst(offset, nm1, one, end, left, more):
            # the next sub-burst: lines [offset, end), nm1 + 1 of them (``one``: just one),
            # and ``left`` lines of the block after it (``more``: some). Only registers
            # are loaded here, nothing is computed (timing).
            m.d.sync += [w_offset.eq(offset), w_lenm1.eq(nm1), w_end.eq(end),
                         w_left.eq(left), w_more.eq(more), w_rem.eq(nm1),
                         w_last.eq(one), aw_pend.eq(1), w_fin.eq(0)]

        def next_block(otherwise):
            # Taking the next block in the cycle the previous one ends saves a bubble per
            # burst: the write side then runs at one line per cycle.
            with m.If(whead_valid):
                m.d.comb += take.eq(1)
                with m.If(whead.err | failing | stopping):
                    m.d.sync += [w_offset.eq(whead.offset), w_rem.eq(whead.lenm1),
                                 w_last.eq(whead.len1)]
                    with m.If(whead.err & ~failing):
                        m.d.sync += [failing.eq(1), rd_failed.eq(1)]
                    m.next = "DISCARD"
                with m.Else():
                    sub_burst(whead.offset, whead.n1m1, whead.one1, whead.end1, whead.left1,
                              whead.more1)
                    m.next = "BURST"
            with m.Else():
                m.next = otherwise

        # A copy of the line queue's level, kept next to the write side (timing: the
        # queue sits by the block RAM and its data path, far from here; its level, read
        # through W valid, the handshake and the end of a sub-burst into the sub-burst
        # registers, was the critical path). It moves exactly as the queue's level does:
        # +1 on a write the queue accepts, -1 on ``pop`` (only ever while not empty).
        o_level = Signal(range(3))
        o_rdy = Signal()
        m.d.comb += o_rdy.eq(o_level != 0)
        m.d.sync += o_level.eq(o_level + (dfifo.w_en & dfifo.w_rdy) - pop)

        # Room in the response queue, one cycle old (timing: keeps the queue's level off
        # the AW handshake). Safe: at most one entry is added per cycle, so a queue that
        # had two free entries a cycle ago has one now. An AW once shown stays until
        # accepted (``aw_shown``), whatever the stale flag says next: the queue cannot
        # fill meanwhile, only this AW adds to it.
        b_room = Signal()
        aw_shown = Signal()
        m.d.sync += [b_room.eq(bdesc.level < max_sub_bursts - 1),
                     aw_shown.eq(wr.awvalid & ~wr.awready)]

        with m.FSM(name="write"):
            with m.State("IDLE"):
                next_block("IDLE")
            with m.State("BURST"):
                # AW waits for room to record the burst until its response
                aw_fire = wr.awvalid & wr.awready
                m.d.comb += [wr.awvalid.eq(aw_pend & (b_room | aw_shown)), bdesc.w_en.eq(aw_fire),
                             wr.wvalid.eq(o_rdy & ~w_fin),
                             pop.eq(wr.wvalid & wr.wready)]
                with m.If(aw_fire):
                    m.d.sync += aw_pend.eq(0)
                with m.If(pop):
                    m.d.sync += [w_rem.eq(w_rem - 1), w_last.eq(w_rem == 1)]
                    with m.If(wr.wlast):
                        m.d.sync += w_fin.eq(1)
                with m.If((~aw_pend | aw_fire) & (w_fin | (pop & wr.wlast))):
                    with m.If(w_more):
                        sub_burst(w_end, nb_nm1, nb_one, nb_end, nb_left, nb_more)
                    with m.Else():
                        next_block("IDLE")
            with m.State("DISCARD"):
                m.d.comb += pop.eq(o_rdy)
                with m.If(pop):
                    m.d.sync += [w_rem.eq(w_rem - 1), w_last.eq(w_rem == 1)]
                    with m.If(w_last):
                        m.d.comb += discarded.eq(1)
                        m.next = "IDLE"

        # the prefetch (a read of the queue, whose r_en is ~whead_valid)
        with m.If(wdesc.r_rdy & ~whead_valid):
            m.d.sync += [whead.eq(wdesc.r_data), whead_valid.eq(1)]

        m.d.sync += inflight.eq(inflight + Mux(issue, blk, 0) - pop)
        b_fire = wr.bvalid & wr.bready
        m.d.sync += blocks.eq(blocks + issue - discarded - (b_fire & bhead_last))

        # ---- write responses: the watermark ---------------------------------------------------
        # The report is registered (timing: the controller compares it with SWEPT_UPTO); it
        # reaches the controller no later than ``done``, which waits for the queue to drain.
        # Sub-bursts are answered in order, so each response moves the watermark.
        bend = bhead.end
        progress_valid = Signal()
        progress_end = Signal(32)
        m.d.sync += progress_valid.eq(0)
        m.d.comb += [ctrl.progress_valid.eq(progress_valid),
                     ctrl.progress_end.eq(progress_end)]
        m.d.comb += wr.bready.eq(1)
        # A write error always names a line below one of a read error already seen: the
        # read error stopped the write side at its block, and every sub-burst still
        # awaiting its response belongs to an earlier block. So the first write error
        # replaces a read error's line (SWEPT_UPTO must stop at the lowest failing line,
        # not at the first one noticed), and a later write error, further up, does not.
        wr_failed = Signal()
        # A read error's line is loaded the cycle after the write side takes its block
        # (timing: the take decision, deep in the W handshake, selected ``err_line``'s
        # input). ``whead`` still holds that block then (the prefetch refills it a cycle
        # later), and nothing reads ``err_line`` before ``done``, which is at least two
        # cycles away (DISCARD pops first). A write error in the cycle of the take or the
        # next one still wins, as it would have without the delay.
        with m.If(rd_failed & ~wr_failed):
            m.d.sync += err_line.eq(whead.err_line)
        with m.If(wr.bvalid):
            m.d.comb += bdesc.r_en.eq(1)
            with m.If(wr.bresp != Resp.OKAY):
                with m.If(~wr_failed):
                    m.d.sync += [failing.eq(1), wr_failed.eq(1), err_line.eq(bhead.offset)]
            with m.Elif(~wr_failed):
                # Without a write error every response moves the watermark, also after a
                # read error: that error stopped the write side at its block, so every
                # sub-burst still answered ends at or below the failing line. After one,
                # every later response is of a sub-burst further up (in order): none does.
                m.d.sync += [progress_valid.eq(1), progress_end.eq(bend), lo.eq(bend)]

        # ---- start, cancel, done ----------------------------------------------------------------
        with m.If(ctrl.cancel & running):
            m.d.sync += stopping.eq(1)
        # No ``~issue`` term (timing: the issue decision fed ``done`` into the controller):
        # none is needed, as every reason to finish rules an issue out in that cycle.
        # ``failing`` and ``stopping`` do directly; so does ``remain == 0``: ``more`` is
        # ``remain != 0`` a cycle ago, and if ``remain`` was not 0 then, the issue that
        # zeroed it set ``settle``, which blocks an issue now.
        drained = (~ar_pending & ~rdesc.r_rdy & ~wdesc.r_rdy & ~whead_valid & ~bdesc.r_rdy &
                   (inflight == 0))
        # ``done`` comes from a flip-flop, a cycle after the engine stops running (timing:
        # the drain terms reached the controller's state of this agent through ``done``).
        # Nothing is in flight then, and ``failed``/``err_line`` hold until the next start,
        # which the controller gives only after it has seen ``done``.
        done = Signal()
        m.d.sync += done.eq(0)
        m.d.comb += ctrl.done.eq(done)
        with m.If(running & drained & ((remain == 0) | failing | stopping)):
            m.d.sync += [running.eq(0), done.eq(1)]
        with m.If(ctrl.start):
            m.d.sync += [running.eq(1), stopping.eq(0), failing.eq(0), wr_failed.eq(0),
                         err_line.eq(0),
                         nxt.eq(ctrl.start_line), remain.eq(ctrl.count),
                         lo.eq(ctrl.start_line), claim_hi.eq(ctrl.start_line + self._claim_ahead * burst),
                         ahead.eq(ctrl.start_line + burst),
                         thr_cnt.eq(0), settle.eq(1), settle2.eq(1)]

        return m
