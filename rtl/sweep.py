"""The sweep (copy) engine of a mirror pair, and its line buffer."""

from types import SimpleNamespace

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO, SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from .signatures import (AXI4Signature, Burst, Resp, SweepControlSignature,
                         HostClaimSignature, SweepClaimSignature, HOST_CLAIMS, check_int,
                         check_claim_bits, line_geometry, pack_struct)

__all__ = ["SweepEngine", "SweepLineBuffer", "line_layout"]

#: Default of ``max_blocks``: blocks from read issue to write response; every block queue
#: holds this many.
_MAX_BLOCKS = 8
#: Default of ``max_sub_bursts``: write sub-bursts awaiting their response (enough for a
#: latency of about 100 cycles).
_MAX_SUB_BURSTS = 16

#: A write sub-burst, planned before it starts so that starting it only loads registers:
#: ``axi_len`` its lines - 1 (AWLEN), ``one_line`` whether it is a single line, ``left``
#: the lines of its block after it, ``more`` whether there are any, ``end`` the line after
#: its last.
SUB_BURST_LAYOUT = data.StructLayout({
    "axi_len": 8, "one_line": 1, "left": 9, "more": 1, "end": 32,
})

#: A block (one read burst) from its read issue until its data has arrived: ``first`` its
#: first line, ``axi_len`` its lines - 1 (ARLEN), ``one_line`` whether it is a single
#: line, and its first write sub-burst.
BLOCK_LAYOUT = data.StructLayout({
    "first": 32, "axi_len": 8, "one_line": 1, "first_sub": SUB_BURST_LAYOUT,
})

#: A block whose data has arrived, waiting for the write side: ``err`` if any of its
#: reads failed outside poison mode (see :class:`SweepEngine`, *Poison copy*), ``err_line``
#: the first line that did.
WRITE_BLOCK_LAYOUT = data.StructLayout({
    "block": BLOCK_LAYOUT, "err": 1, "err_line": 32,
})

def line_layout(data_width):
    """One line of the sweep's line buffer: ``data`` as read, and ``poison``: its read
    failed (SLVERR or ``ruser``), so it is written to the slave with ``wuser`` = 1 (in
    poison mode; outside it, its block is discarded)."""
    return data.StructLayout({"data": data_width, "poison": 1})


#: A write sub-burst from its AW to its B response: lines ``[first, end)``; ``last`` if it
#: is the last of its block.
RESPONSE_LAYOUT = data.StructLayout({"first": 32, "end": 32, "last": 1})


class SweepLineBuffer(wiring.Component):
    """The sweep's read data, in arrival order: a FIFO of ``depth`` lines in block RAM
    followed by a two-line FIFO in logic, which the reader pops.

    The block-RAM FIFO's read enable depends only on the small FIFO's own ``w_rdy``, never
    on the reader's handshake, so the reader's logic stays local and the block RAM's
    control logic is reached only by registers of its own side. The small FIFO streams a
    line per cycle. ``r_stream.valid`` comes from a copy of the small FIFO's level kept in
    a register of this component: it moves exactly as that level does (+1 on a line the
    small FIFO accepts, -1 on a line read), so it is the FIFO's ``r_rdy`` without the
    FIFO's own logic on the reader's paths.

    The writer is never held: ``w_stream`` has no ``ready``. The writer keeps at most
    ``depth`` lines in the buffer (the sweep engine reserves room for a whole block before
    it issues its read).

    A line is opaque here: the sweep engine stores a :func:`line_layout` per line, its data
    and its poison bit, so each line leaves with the outcome of its own read.

    Parameters
    ----------
    width : int
        Bits per line (the engine's: ``line_layout(data_width).size``).
    depth : int
        Lines of the block-RAM FIFO.

    Members
    -------
    w_stream : In(stream.Signature(width, always_ready=True))
        Lines in.
    r_stream : Out(stream.Signature(width))
        Lines out, in the same order.
    """

    def __init__(self, *, width, depth):
        check_int("Width", width, 1)
        check_int("Depth", depth, 1)
        self._width = width
        self._depth = depth
        super().__init__({
            "w_stream": In(stream.Signature(width, always_ready=True)),
            "r_stream": Out(stream.Signature(width)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.ram = ram = SyncFIFOBuffered(width=self._width, depth=self._depth)
        m.submodules.out = out = SyncFIFO(width=self._width, depth=2)
        m.d.comb += [
            ram.w_data.eq(self.w_stream.payload), ram.w_en.eq(self.w_stream.valid),
            out.w_data.eq(ram.r_data), out.w_en.eq(ram.r_rdy), ram.r_en.eq(out.w_rdy),
        ]
        read = self.r_stream.valid & self.r_stream.ready
        out_level = Signal(range(3))
        m.d.sync += out_level.eq(out_level + (out.w_en & out.w_rdy) - read)
        m.d.comb += [
            self.r_stream.payload.eq(out.r_data),
            self.r_stream.valid.eq(out_level != 0),
            out.r_en.eq(read),
        ]
        return m


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
    overlap its engine's claim, and the engine does not issue a block read while a host
    write in progress (each entry of ``host``: from memory AW until both B responses)
    overlaps ``[next, next+burst)``. So a line is copied either wholly before a host write to it
    begins (and the forwarded write then overwrites the copy at the slave) or wholly after
    it has completed on both modules (and the copy carries the new data): the slave never
    ends up with data older than the master's. Both sides progress: the engine waits for
    at most the ``host_claims`` host writes in flight when it got there (a new one to its
    next block waits for the claim), the host write waits only until the engine has moved
    past its lines.

    **Both checks registered.** Each check compares registers of an engine with registers
    of the host port; a register on each side keeps those compares off the paths into the
    issue and AW decisions. The host write engine starts its AW at cycle t+1 on a check of
    the claim of cycle t-1; the engine issues at cycle u on a check of the host write of
    cycle u-1. Both cannot miss each other: if u >= t+2, the engine saw the write active;
    otherwise the issue comes at most two cycles after t-1, and the engine issues at most
    one block in any two cycles (``settle``), so the claim of cycle t-1 already covered
    the lines of both blocks it can issue by then (hence two bursts ahead). A start holds
    the first issue for two cycles, so a host check that saw the engine idle at t-1 is
    followed by no issue before t+2. ``formal`` checks this with two-block sweeps
    (bounded): ``no_lost_write_two_blocks`` reads through a home agent, as shipped, and
    ``no_lost_write_two_blocks_memory`` reads the master's memory port directly, so that
    blocks can go every other cycle; its ``claim_ahead=1`` variant, whose claim is one
    burst short, loses a host write (``no_lost_write_two_blocks_broken``, a
    counterexample at step 20). Through a home agent one burst happens to suffice: its
    registered read grant takes a sweep AR a cycle after it is shown at the earliest, so
    blocks go at least three cycles apart; the claim does not count on that.

    **Watermark.** Write bursts complete in order (one AXI ID per port), so
    ``progress_end`` (the end of the last acknowledged one) is a line below which every
    line of this sweep is copied. On a memory error (read at the
    master or write at the slave) the engine stops issuing, drains what is in flight,
    reports nothing at or past the lowest failing line, and finishes with ``failed`` and
    ``err_line`` (that line: a write error of an earlier block that is answered after a
    later block's read error still wins). A read beat *fails* when it is answered with a
    ``rresp`` other than OKAY or with ``ruser`` = 1 (poison, looked at only with
    ``rvalid``): poisoned data is never copied as good data, even when it comes with OKAY.

    **Poison copy** (SPEC section 7). ``ctrl.poison_en``, sampled at ``ctrl.start``, puts
    the sweep in *poison mode*: a failed read beat is then no error. Its line goes through
    the line buffer like any other, with its poison bit set, and is written to the slave
    in its place in the write burst with ``wuser`` = 1 and the data as read (which the
    slave ignores: it stores poison). Good lines are written with ``wuser`` = 0. Each
    poisoned W beat the slave accepts pulses ``ctrl.poison_valid`` once, a cycle later,
    with ``ctrl.poison_line`` (the module-local line), before ``done``; a line discarded
    by a cancel is not copied and not reported. A poisoned line is a copied line for
    everything else: the watermark and ``progress_end`` pass it on its write response,
    and its poison write is a write of the copy under the same claim as a good line's: a
    host write to that line either overwrites the poison at the slave (the copy came
    first) or has completed on both modules before the line is read (then the read gets
    the host's data, and the poison is gone from the master too). The sweep ends with
    ``failed`` = 0 unless a write to the slave fails. Outside poison mode
    a failed read beat stops the sweep as described under *Watermark*.

    **Parts.** ``elaborate`` builds four parts around the block queues: the read issue
    (:meth:`_read_issue`: the next block, the claim and the AR channel), the read data
    (:meth:`_read_data`: R beats into the :class:`SweepLineBuffer`, the outcome of each
    block), the write side (:meth:`_write_side`: blocks into write sub-bursts on AW and W)
    and the responses (:meth:`_responses`: B, the watermark, the failing line), and then
    the bookkeeping that ties them (:meth:`_bookkeeping`: lines and blocks in flight,
    start, cancel, done). Every block is in exactly one of the queues ``rdesc`` (read
    issued) and ``wdesc`` (data arrived), in the write side's prefetch register, or being
    written, from its read issue to its write response, and at most ``max_blocks`` are:
    no queue can overflow.

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
        registered checks need; 1 builds the variant one burst short, see *Both checks
        registered*).
    claim_bits : int
        Low bits of the module-local line numbers that the claim compares look at; every
        line number and claim bound must be below ``2**claim_bits``. Default 32, all of
        them; the top passes :func:`rtl.signatures.claim_bits`.
    host_claims : int
        Entries of ``host``: the host write engine's ``claims`` (default ``HOST_CLAIMS``).

    Members
    -------
    ctrl : In(SweepControlSignature())
    throttle : In(16)
    claim : Out(SweepClaimSignature())
    host : In(HostClaimSignature()) per host claim (``host_claims``)
    rd : Out(AXI4Signature(read half, user))   to the master's home agent; ``ruser``: poison
    wr : Out(AXI4Signature(write half, user))  to the slave's home agent; ``wuser``: poison

    Raises
    ------
    ValueError
        If a parameter is out of its range.
    """

    def __init__(self, *, agent, burst=32, depth=128, write_burst=8, addr_width=32,
                 data_width=64, id_width=4, max_blocks=_MAX_BLOCKS,
                 max_sub_bursts=_MAX_SUB_BURSTS, hazard_check=True, claim_bits=32,
                 claim_ahead=2, host_claims=HOST_CLAIMS):
        if not isinstance(burst, int) or not 1 <= burst <= 256:
            raise ValueError(f"Burst must be an integer from 1 to 256 lines, not {burst!r}")
        if not isinstance(depth, int) or depth < burst:
            raise ValueError(f"Depth must be an integer of at least the burst ({burst}), "
                             f"not {depth!r}")
        check_int("Max blocks", max_blocks, 1)
        check_int("Max sub-bursts", max_sub_bursts, 2)
        check_int("Host claims", host_claims, 1)
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
        # a line is one beat: its byte address is its number shifted by ``line_shift``,
        # which is also the AXI burst size; no burst crosses a 4 KiB page (AXI rule)
        self._geometry = line_geometry(data_width)
        self._addr_width = addr_width
        half = dict(addr_width=addr_width, data_width=data_width, id_width=id_width)
        super().__init__({
            "ctrl": In(SweepControlSignature()),
            "throttle": In(16),
            "claim": Out(SweepClaimSignature()),
            "host": In(HostClaimSignature()).array(host_claims),
            "rd": Out(AXI4Signature(**half, write=False, user=True)),
            "wr": Out(AXI4Signature(**half, read=False, user=True)),
        })

    @property
    def _sub_burst_lines(self):
        """Lines per write sub-burst: ``write_burst``, but never more than a block."""
        return min(self._write_burst, self._burst)

    def elaborate(self, platform):
        m = Module()
        m.submodules.lines = lines = SweepLineBuffer(
            width=line_layout(self._data_width).size, depth=self._depth)
        m.submodules.rdesc = rdesc = SyncFIFO(width=BLOCK_LAYOUT.size,
                                              depth=self._max_blocks)
        m.submodules.wdesc = wdesc = SyncFIFO(width=WRITE_BLOCK_LAYOUT.size,
                                              depth=self._max_blocks)
        # Write sub-bursts from AW to B response; AW waits while this is full.
        m.submodules.bdesc = bdesc = SyncFIFO(width=RESPONSE_LAYOUT.size,
                                              depth=self._max_sub_bursts)

        # The engine's state, shared by the parts below.
        status = SimpleNamespace(
            running=Signal(name="running"),
            # cancelled: issue nothing more, drop buffered blocks
            stopping=Signal(name="stopping"),
            # a memory error was seen: the same, and report it
            failing=Signal(name="failing"),
            # the write side took the first failed block a cycle ago
            read_failed=Signal(name="read_failed"),
            # ``ctrl.poison_en`` of the last start: a failed read is copied as poison
            poison_mode=Signal(name="poison_mode"),
            # lines read, not yet written; blocks read, not yet answered
            inflight=Signal(range(self._depth + 1), name="inflight"),
            blocks=Signal(range(self._max_blocks + 1), name="blocks"),
        )

        read = self._read_issue(m, rdesc, status)
        self._read_data(m, rdesc, wdesc, lines, status)
        write = self._write_side(m, wdesc, bdesc, lines, status)
        responses = self._responses(m, bdesc, write.head, status)
        self._bookkeeping(m, read, write, responses, status,
                          queues=(rdesc, wdesc, bdesc))
        return m

    def _read_issue(self, m, rdesc, status):
        """The next block: when to issue its read, its AR, its descriptor into ``rdesc``,
        and the claim's upper bound.

        Every term of the issue decision is a register: each is a 32-bit add or compare,
        kept off the path into the decision. They are exact because an issue is always
        followed by at least one cycle without one (``ar_pending`` until the AR handshake,
        ``settle`` after an issue and for two cycles after a start), in which they are
        recomputed from the new ``next_line``. The host check may be one cycle old, which
        is safe: see the class docstring (*Both checks registered*).

        Returns ``issue`` (a read is issued this cycle), ``block_lines`` (its lines),
        ``lines_left`` (lines of the sweep not yet issued) and ``ar_pending``.
        """
        burst, cb = self._burst, self._claim_bits
        ctrl, rd = self.ctrl, self.rd

        next_line = Signal(32)        # first line of the next block
        lines_left = Signal(33)       # end - next_line
        next_burst_end = Signal(32)   # next_line + burst
        claim_hi = Signal(32)         # next_line + claim_ahead * burst
        throttle_wait = Signal(16)    # idle cycles left before the next read (THROTTLE)
        ar_pending = Signal()         # the AR of the last block issued is not yet accepted
        ar_addr = Signal(self._addr_width)
        ar_len = Signal(8)
        shift = self._geometry.line_shift
        page_bits, page_lines = self._geometry.page_shift, self._geometry.page_lines
        m.d.comb += self.claim.hi.eq(claim_hi)

        lines_to_page = Signal(range(page_lines + 1))
        lines_upto_burst = Signal(range(burst + 1))
        m.d.comb += [
            lines_to_page.eq(page_lines - next_line[:page_bits]),
            lines_upto_burst.eq(Mux(lines_left < burst, lines_left, burst)),
        ]
        # the registered terms of the issue decision
        block_lines = Signal(range(burst + 1))   # lines of the next block
        lines_remain = Signal()                  # lines_left != 0
        buffer_room = Signal()                   # a whole block fits the line buffer
        host_overlap = Signal()                  # the host write overlaps the next block
        settle = Signal()                        # no issue in this cycle
        settle_start = Signal()                  # a start: ``settle`` for one more cycle
        m.d.sync += [
            block_lines.eq(Mux(self.throttle != 0, 1,
                               Mux(lines_to_page < lines_upto_burst, lines_to_page,
                                   lines_upto_burst))),
            lines_remain.eq(lines_left != 0),
            buffer_room.eq(status.inflight <= self._depth - burst),
            host_overlap.eq(Cat(host.active & (host.agent == self._agent) &
                                (host.lo[:cb] < next_burst_end[:cb]) &
                                (host.hi[:cb] >= next_line[:cb])
                                for host in self.host).any()),
            settle.eq(settle_start), settle_start.eq(0),
        ]
        if not self._hazard_check:
            host_overlap = 0

        issue = Signal()
        m.d.comb += issue.eq(status.running & ~status.failing & ~status.stopping &
                             lines_remain & ~settle & buffer_room &
                             (status.blocks < self._max_blocks) & ~ar_pending &
                             (throttle_wait == 0) & ~host_overlap)

        # The block's descriptor; the block is never empty when issued (``lines_remain``
        # and ``block_lines`` are registered from the same ``lines_left``).
        block_axi_len = Signal(range(burst))
        m.d.comb += block_axi_len.eq(block_lines - 1)
        m.d.comb += [
            rdesc.w_data.eq(pack_struct(BLOCK_LAYOUT, {
                "first": next_line, "axi_len": block_axi_len,
                "one_line": block_lines == 1,
                "first_sub": self._plan_sub_burst(lines=block_lines, first=next_line),
            })),
            rdesc.w_en.eq(issue),
        ]

        m.d.comb += [
            rd.araddr.eq(ar_addr), rd.arlen.eq(ar_len), rd.arsize.eq(shift),
            rd.arburst.eq(Burst.INCR), rd.arvalid.eq(ar_pending),
        ]
        with m.If(rd.arvalid & rd.arready):
            m.d.sync += ar_pending.eq(0)
        with m.If(throttle_wait != 0):
            m.d.sync += throttle_wait.eq(throttle_wait - 1)
        with m.If(issue):
            m.d.sync += [ar_pending.eq(1), ar_addr.eq(next_line << shift),
                         ar_len.eq(block_axi_len),
                         next_line.eq(next_line + block_lines),
                         lines_left.eq(lines_left - block_lines),
                         claim_hi.eq(claim_hi + block_lines),
                         next_burst_end.eq(next_burst_end + block_lines),
                         throttle_wait.eq(self.throttle), settle.eq(1)]
        with m.If(ctrl.start):
            m.d.sync += [next_line.eq(ctrl.start_line), lines_left.eq(ctrl.count),
                         claim_hi.eq(ctrl.start_line + self._claim_ahead * burst),
                         next_burst_end.eq(ctrl.start_line + burst),
                         throttle_wait.eq(0), settle.eq(1), settle_start.eq(1)]
        return SimpleNamespace(issue=issue, block_lines=block_lines, lines_left=lines_left,
                               ar_pending=ar_pending)

    def _plan_sub_burst(self, *, lines, first):
        """The fields of :data:`SUB_BURST_LAYOUT` for the write sub-burst that starts at
        line ``first`` with ``lines`` lines of its block from there on."""
        size = self._sub_burst_lines
        n = Mux(lines > size, size, lines)
        return {"axi_len": n - 1, "one_line": n == 1, "end": first + n,
                "left": lines - n, "more": lines > size}

    def _read_data(self, m, rdesc, wdesc, lines, status):
        """R beats into the line buffer, each with its poison bit (its read failed); at
        each block's last beat its descriptor moves from ``rdesc`` to ``wdesc`` with the
        outcome of its reads: outside poison mode a failed beat is an error (the first
        failing line), in poison mode none is. R is always accepted: the read issue
        reserved buffer room for the block."""
        rd = self.rd
        block = data.View(BLOCK_LAYOUT, rdesc.r_data)
        beat = Signal(9)                 # beats of the block received so far
        block_err = Signal()             # a beat of the block failed (outside poison mode)
        block_err_line = Signal(32)      # the first that did
        # ``ruser`` only counts with ``rvalid``: a memory may leave it undefined otherwise
        beat_bad = (rd.rresp != Resp.OKAY) | (rd.ruser & rd.rvalid)
        beat_err = beat_bad & ~status.poison_mode
        line_in = data.View(line_layout(self._data_width), lines.w_stream.payload)
        m.d.comb += [
            rd.rready.eq(1),
            line_in.data.eq(rd.rdata), line_in.poison.eq(beat_bad),
            lines.w_stream.valid.eq(rd.rvalid),
        ]
        done_block = data.View(WRITE_BLOCK_LAYOUT, wdesc.w_data)
        with m.If(rd.rvalid):
            m.d.sync += beat.eq(beat + 1)
            with m.If(beat_err & ~block_err):
                m.d.sync += [block_err.eq(1), block_err_line.eq(block.first + beat)]
            with m.If(rd.rlast):
                m.d.sync += [beat.eq(0), block_err.eq(0)]
                m.d.comb += [
                    rdesc.r_en.eq(1),
                    wdesc.w_en.eq(1),
                    done_block.block.eq(rdesc.r_data),
                    done_block.err.eq(block_err | beat_err),
                    done_block.err_line.eq(Mux(block_err, block_err_line,
                                               block.first + beat)),
                ]

    def _write_side(self, m, wdesc, bdesc, lines, status):
        """Blocks from ``wdesc`` to the slave: each in sub-bursts of up to ``write_burst``
        lines, AW presented together with the first W beat, each sub-burst recorded in
        ``bdesc`` until its response. A failed block, and every block once the sweep is
        failing or cancelled, is discarded from the line buffer instead. Each line is
        written with its poison bit on ``wuser``; a poisoned line written (its W beat
        accepted) is reported on ``ctrl.poison_valid`` / ``ctrl.poison_line`` a cycle later,
        from registers.

        Short sub-bursts cost no bandwidth and bound how long a forwarded host write waits
        for the slave's write channel (see HomeAgent). The next block is taken off
        ``wdesc`` into a register (``head``) ahead of time, so the end of a sub-burst never
        decides the queue's read and level in the same cycle, and the queue's read data
        never feeds the sub-burst registers. While the write side is busy this costs no
        write cycles; a write side that is idle starts a block one cycle later.

        Returns ``head`` (the prefetched block), ``head_valid``, ``pop`` (a line leaves
        the line buffer) and ``discarded`` (a block's last line was discarded).
        """
        wr = self.wr
        size = self._sub_burst_lines

        head = Signal(WRITE_BLOCK_LAYOUT)
        head_valid = Signal()
        take = Signal()            # the write side takes ``head`` this cycle
        m.d.comb += wdesc.r_en.eq(~head_valid)
        with m.If(take):
            m.d.sync += head_valid.eq(0)

        # the sub-burst being written
        sub_first = Signal(32)     # its first line
        sub_axi_len = Signal(8)    # its lines - 1 (AWLEN)
        sub_end = Signal(32)       # the line after its last
        sub_left = Signal(9)       # lines of the block after it
        sub_more = Signal()        # sub_left != 0
        beats_left = Signal(9)     # beats after the current one (DISCARD: of the whole block)
        last_beat = Signal()       # the current beat is the last
        aw_pending = Signal()      # its AW is not yet accepted
        w_done = Signal()          # all of its W beats are sent
        pop = Signal()
        discarded = Signal()
        new_response = data.View(RESPONSE_LAYOUT, bdesc.w_data)
        line_out = data.View(line_layout(self._data_width), lines.r_stream.payload)
        poison_valid = Signal()
        poison_line = Signal(32)
        m.d.sync += poison_valid.eq(0)
        m.d.comb += [self.ctrl.poison_valid.eq(poison_valid),
                     self.ctrl.poison_line.eq(poison_line)]
        m.d.comb += [
            wr.awaddr.eq(sub_first << self._geometry.line_shift), wr.awlen.eq(sub_axi_len),
            wr.awsize.eq(self._geometry.line_shift), wr.awburst.eq(Burst.INCR),
            wr.wdata.eq(line_out.data), wr.wuser.eq(line_out.poison),
            wr.wstrb.eq(~0), wr.wlast.eq(last_beat),
            new_response.first.eq(sub_first), new_response.end.eq(sub_end),
            new_response.last.eq(~sub_more),
            pop.eq(lines.r_stream.valid & lines.r_stream.ready),
        ]

        # The sub-burst after the current one (same block), planned one cycle behind
        # ``sub_end``/``sub_left`` so that its 32-bit add is off the handshake path. Exact:
        # that sub-burst follows only a full one of ``size`` >= 2 beats, which lasts at
        # least two cycles. With ``size`` = 1 a sub-burst can end in its first cycle, so
        # there the plan is combinational.
        next_sub = Signal(SUB_BURST_LAYOUT)
        domain = m.d.sync if size >= 2 else m.d.comb
        domain += next_sub.eq(pack_struct(SUB_BURST_LAYOUT,
                                    self._plan_sub_burst(lines=sub_left, first=sub_end)))

        def start_sub_burst(first, plan):
            # Only registers are loaded here: the sub-burst was planned ahead.
            m.d.sync += [sub_first.eq(first), sub_axi_len.eq(plan.axi_len),
                         sub_end.eq(plan.end), sub_left.eq(plan.left),
                         sub_more.eq(plan.more), beats_left.eq(plan.axi_len),
                         last_beat.eq(plan.one_line), aw_pending.eq(1), w_done.eq(0)]

        def take_next_block(otherwise):
            # Taking the next block in the cycle the previous one ends saves a bubble per
            # block: the write side then runs at one line per cycle.
            block = head.block
            with m.If(head_valid):
                m.d.comb += take.eq(1)
                with m.If(head.err | status.failing | status.stopping):
                    m.d.sync += [sub_first.eq(block.first), beats_left.eq(block.axi_len),
                                 last_beat.eq(block.one_line)]
                    with m.If(head.err & ~status.failing):
                        m.d.sync += [status.failing.eq(1), status.read_failed.eq(1)]
                    m.next = "DISCARD"
                with m.Else():
                    start_sub_burst(block.first, block.first_sub)
                    m.next = "BURST"
            with m.Else():
                m.next = otherwise

        # Room in the response queue, one cycle old, which keeps the queue's level off the
        # AW handshake. Safe: at most one entry is added per cycle, so a queue that had two
        # free entries a cycle ago has one now. An AW once shown stays until accepted
        # (``aw_shown``), whatever the stale flag says next: the queue cannot fill
        # meanwhile, only this AW adds to it.
        response_room = Signal()
        aw_shown = Signal()
        m.d.sync += [response_room.eq(bdesc.level < self._max_sub_bursts - 1),
                     aw_shown.eq(wr.awvalid & ~wr.awready)]

        m.d.sync += status.read_failed.eq(0)
        with m.FSM(name="write"):
            with m.State("IDLE"):
                take_next_block("IDLE")
            with m.State("BURST"):
                aw_fire = wr.awvalid & wr.awready
                m.d.comb += [
                    wr.awvalid.eq(aw_pending & (response_room | aw_shown)),
                    bdesc.w_en.eq(aw_fire),
                    wr.wvalid.eq(lines.r_stream.valid & ~w_done),
                    lines.r_stream.ready.eq(wr.wready & ~w_done),
                ]
                with m.If(aw_fire):
                    m.d.sync += aw_pending.eq(0)
                with m.If(pop):
                    m.d.sync += [beats_left.eq(beats_left - 1), last_beat.eq(beats_left == 1)]
                    with m.If(wr.wlast):
                        m.d.sync += w_done.eq(1)
                    with m.If(line_out.poison):
                        # the line of this beat: ``beats_left`` more follow up to ``sub_end``
                        m.d.sync += [poison_valid.eq(1),
                                     poison_line.eq(sub_end - 1 - beats_left)]
                with m.If((~aw_pending | aw_fire) & (w_done | (pop & wr.wlast))):
                    with m.If(sub_more):
                        start_sub_burst(sub_end, next_sub)
                    with m.Else():
                        take_next_block("IDLE")
            with m.State("DISCARD"):
                m.d.comb += lines.r_stream.ready.eq(1)
                with m.If(pop):
                    m.d.sync += [beats_left.eq(beats_left - 1), last_beat.eq(beats_left == 1)]
                    with m.If(last_beat):
                        m.d.comb += discarded.eq(1)
                        m.next = "IDLE"

        # the prefetch: ``wdesc``'s read enable is ``~head_valid``
        with m.If(wdesc.r_rdy & ~head_valid):
            m.d.sync += [head.eq(wdesc.r_data), head_valid.eq(1)]
        return SimpleNamespace(head=head, head_valid=head_valid, pop=pop,
                               discarded=discarded)

    def _responses(self, m, bdesc, head, status):
        """B responses: each good one moves the watermark (``ctrl.progress_*`` and the
        claim's lower bound); the first error stops the sweep. Also the failing line
        (``ctrl.err_line``) of a read error, taken from ``head``.

        The progress report is registered, which keeps the controller's compare with
        SWEPT_UPTO off this engine's paths; it reaches the controller no later than
        ``done``, which waits for the response queue to drain. Sub-bursts are answered in
        order, so each response moves the watermark.

        Returns ``answered_block`` (the last response of a block is taken this cycle).
        """
        ctrl, wr = self.ctrl, self.wr
        oldest = data.View(RESPONSE_LAYOUT, bdesc.r_data)
        progress_valid = Signal()
        progress_end = Signal(32)
        watermark = Signal(32)       # lines below it are copied: the claim's lower bound
        err_line = Signal(32)
        m.d.sync += progress_valid.eq(0)
        m.d.comb += [
            ctrl.progress_valid.eq(progress_valid), ctrl.progress_end.eq(progress_end),
            ctrl.failed.eq(status.failing), ctrl.err_line.eq(err_line),
            self.claim.lo.eq(watermark),
            wr.bready.eq(1),
        ]
        # A write error always names a line below one of a read error already seen: the
        # read error stopped the write side at its block, and every sub-burst still
        # awaiting its response belongs to an earlier block. So the first write error
        # replaces a read error's line (SWEPT_UPTO must stop at the lowest failing line,
        # not at the first one noticed), and a later write error, further up, does not.
        write_failed = Signal()
        # A read error's line is loaded the cycle after the write side takes its block,
        # which keeps the take decision (deep in the W handshake) off ``err_line``'s
        # input. ``head`` still holds that block then (the prefetch refills it a cycle
        # later), and nothing reads ``err_line`` before ``done``, which is at least two
        # cycles away (DISCARD pops first). A write error in the cycle of the take or the
        # next one still wins.
        with m.If(status.read_failed & ~write_failed):
            m.d.sync += err_line.eq(head.err_line)
        with m.If(wr.bvalid):
            m.d.comb += bdesc.r_en.eq(1)
            with m.If(wr.bresp != Resp.OKAY):
                with m.If(~write_failed):
                    m.d.sync += [status.failing.eq(1), write_failed.eq(1),
                                 err_line.eq(oldest.first)]
            with m.Elif(~write_failed):
                # Without a write error every response moves the watermark, also after a
                # read error: that error stopped the write side at its block, so every
                # sub-burst still answered ends at or below the failing line. After one,
                # every later response is of a sub-burst further up (in order): none does.
                m.d.sync += [progress_valid.eq(1), progress_end.eq(oldest.end),
                             watermark.eq(oldest.end)]
        with m.If(self.ctrl.start):
            m.d.sync += [write_failed.eq(0), err_line.eq(0),
                         watermark.eq(self.ctrl.start_line)]
        return SimpleNamespace(answered_block=wr.bvalid & wr.bready & oldest.last)

    def _bookkeeping(self, m, read, write, responses, status, *, queues):
        """Lines and blocks in flight; start, cancel and done.

        ``done`` is a register, set a cycle after the engine stops running, which keeps
        the drain terms off the controller's state of this agent. Nothing is in flight
        then, and ``failed``/``err_line`` hold until the next start, which the controller
        gives only after it has seen ``done``; so does the poison mode, which therefore
        never changes while a line is in flight.
        """
        ctrl = self.ctrl
        m.d.sync += [
            status.inflight.eq(status.inflight + Mux(read.issue, read.block_lines, 0) -
                               write.pop),
            status.blocks.eq(status.blocks + read.issue - write.discarded -
                             responses.answered_block),
        ]
        m.d.comb += self.claim.active.eq(status.running)
        with m.If(ctrl.cancel & status.running):
            m.d.sync += status.stopping.eq(1)
        # No ``~issue`` term, which keeps the issue decision off ``done``: none is needed,
        # as every reason to finish rules an issue out in that cycle. ``failing`` and
        # ``stopping`` do directly; so does ``lines_left == 0``: ``lines_remain`` is
        # ``lines_left != 0`` a cycle ago, and if ``lines_left`` was not 0 then, the issue
        # that zeroed it set ``settle``, which blocks an issue now.
        rdesc, wdesc, bdesc = queues
        drained = (~read.ar_pending & ~rdesc.r_rdy & ~wdesc.r_rdy & ~write.head_valid &
                   ~bdesc.r_rdy & (status.inflight == 0))
        done = Signal()
        m.d.sync += done.eq(0)
        m.d.comb += ctrl.done.eq(done)
        with m.If(status.running & drained &
                  ((read.lines_left == 0) | status.failing | status.stopping)):
            m.d.sync += [status.running.eq(0), done.eq(1)]
        with m.If(ctrl.start):
            m.d.sync += [status.running.eq(1), status.stopping.eq(0), status.failing.eq(0),
                         status.poison_mode.eq(ctrl.poison_en)]
