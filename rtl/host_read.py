"""The host port's read half: routing, read failover, errors (SPEC sections 1, 5, 7)."""

from types import SimpleNamespace

from amaranth.hdl import Module, Signal, Mux, Cat, Const
from amaranth.lib import data, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from mirrorswap.regmap import Mode
from .host_front import add_front, track_pending
from .signatures import (AXI4Signature, Burst, Resp, ROUTE_LAYOUT, MIRROR_LAYOUT,
                         ErrorReportSignature, check_int, line_geometry)

__all__ = ["HostReadEngine"]


def _pick(m, sel, values, name):
    """The one of ``values`` whose bit is set in the one-hot ``sel`` (0 when none), as a
    signal: an AND-OR multiplexer steered by flip-flops, not a decoder of an index."""
    picked = Signal.like(values[0], name=name)
    expr = 0
    for i, value in enumerate(values):
        expr = expr | Mux(sel[i], value, 0)
    m.d.comb += picked.eq(expr)
    return picked


class HostReadEngine(wiring.Component):
    """Serves host reads from the agent that owns each burst's start address; a beat that
    fails at a mirror master is read again from its slave.

    A :class:`rtl.host_front.RequestFront` takes one AR per cycle and decodes it in
    three registered stages; a decoded burst's AR goes to its owner the cycle it leaves
    the front. Up to ``outstanding`` bursts are in flight at the memories at once (to one
    agent or several); their data is returned to the host in the order the bursts were
    accepted, each burst whole and with its own ID (so in order per ID, as AXI requires,
    and across IDs too). R beats come straight from the owning agent's module. A *bad*
    beat, one the memory answers with an error or with poison (``ruser``, looked at only
    with ``rvalid``: a memory may leave it undefined otherwise), is answered SLVERR (an
    error response is passed on as it is) and reported on ``rd_err`` with the agent and
    the beat's module-local line, ``corrected`` low: poison is never passed on as OKAY
    data. An unowned start address answers DECERR on every beat, a bad burst (see
    :func:`rtl.host_front.burst_geometry`) SLVERR; neither reaches a memory, and both
    keep their place in the order. While ``hold`` is high no new burst is accepted;
    ``idle`` says none is in flight, and ``pending`` which agents some burst in flight
    may still read (see :func:`rtl.host_front.track_pending`): the agent it reads and,
    when that agent is a MIRROR_MASTER as the burst is decoded, its slave, which a
    failover re-read reads.

    The oldest burst sits in a register (``head``) and the others in a queue of
    ``outstanding - 1`` entries; a burst is queued when its memory AR is accepted (or,
    for an error answer, when it has been decoded), and leaves the head with its last R
    beat.

    **Read failover** (SPEC section 7). A bad beat of agent A's burst, while
    ``mirror[A].failover`` is set and the beat's module-local line is below
    ``mirror[A].swept_upto``, is not passed on: it is taken from A (its RLAST kept), and
    that line is read again from A's slave ``routes[A].peer`` (one beat, INCR, the whole
    line, so a narrow beat finds its lanes in it). The host gets the slave's beat in place
    of A's, with the burst's ID and A's RLAST: OKAY if the slave's beat is good, reported
    with ``corrected`` set; SLVERR otherwise, reported with ``corrected`` low. A's next
    beat follows, so a burst over several bad lines is served whole, each bad beat read
    again. A failed-over beat reaches the host 1 + Ls cycles after A's beat would have:
    A's beat is taken in the cycle it comes, the slave's AR is shown in the next, and Ls
    is the slave's latency from taking that AR to its R beat. Invariants:

    - *The slave's next R beat is the re-read's.* A master's slave is a MIRROR_SLAVE, to
      which no burst is routed, and an agent's route changes only while no burst is
      ``pending`` at it (the slave became one with none, and a read of its master counts
      at it); so no other read of this engine is at the slave. The re-read's AR goes out only while
      that holds as seen now, ``mirror[A].failover`` set and the peer a MIRROR_SLAVE
      (a master that failed over makes its slave ACTIVE, and bursts may then go to it);
      otherwise the beat is answered SLVERR, not corrected.
    - *Each memory port sees legal ARs.* The issue side and the re-read share a port's AR
      through a multiplexer; whichever shows its AR first keeps the port until it is
      taken (payload steady while ``arvalid``), the issue side first if both start in
      the same cycle. A failover is in progress at one port at a time.
    - *The slave is trusted only below SWEPT_UPTO.* Whether the current beat may fail
      over (``eligible``) is a register, made a cycle ahead for the beat that will be
      current: the first of the burst the head loads, the next one of the head's burst
      when a beat is taken, else the current one again. So only that flag, not the
      32-bit compare of the line with ``swept_upto``, is on the path from a memory's R
      to its ``rready``, and the compare sees ``mirror`` one cycle old. That is current
      enough: SWEPT_UPTO only grows, except that a failed forwarded write clears it, which
      the controller does the cycle after the one in which the host's B can first be
      taken; a read accepted after that B reaches the compare no sooner than the cycle
      after its memory AR, itself three cycles after acceptance (decode, route, AR), so
      it sees the cleared value. (A beat that comes in the cycle SWEPT_UPTO grows past
      its line is answered as it would have been a cycle earlier: SLVERR.)
    - *Without failover nothing changes.* With every ``mirror[*].failover`` low,
      ``eligible`` stays low, no beat is held back, and the engine takes the same cycles
      as a plain pass-through of R.

    Parameters
    ----------
    agents : int
        Number of agents (memory ports).
    addr_width, data_width, id_width : int
        Widths of the AXI4 ports (byte address, data: one line per beat, ID); host and
        memory ports alike.
    outstanding : int
        Bursts in flight at most, at least 2 (default 8). A failover re-read is one more
        read, at the slave.

    Raises
    ------
    ValueError
        ``outstanding`` below 2 or not an integer.

    Members
    -------
    s : In(AXI4Signature(write=False))
        The host's read half (subordinate side).
    routes : In(ArrayLayout(ROUTE_LAYOUT, agents))
        Every agent's mode, peer and range; an agent's changes only while ``hold`` is
        high and its ``pending`` bit low.
    mirror : In(ArrayLayout(MIRROR_LAYOUT, agents))
        Every agent's read failover state (SPEC section 7): ``failover`` (only ever set
        for a MIRROR_MASTER) and ``swept_upto`` (module-local lines valid at its slave).
    hold : In(1)
        Accept no new burst.
    idle : Out(1)
        No burst accepted and unanswered.
    pending : Out(agents)
        Per agent: a burst accepted and unanswered (its last R beat not yet taken) reads
        that agent, or reads a MIRROR_MASTER whose slave it is (a re-read may go there),
        or is not decoded yet (counts at every agent). The controller changes an agent's
        route only while its bit is low.
    rd_err : Out(ErrorReportSignature())
        One-cycle report, with the host's handshake, of a beat that was bad at the
        burst's agent (``agent``, module-local ``line``): ``corrected`` when the slave
        served it.
    mem : Out(AXI4Signature(write=False, user=True)) per agent
        The read port to each agent's home agent (``mem<i>_*`` in Verilog), module-local
        addresses, always INCR; ``ruser`` is poison.
    """

    def __init__(self, *, agents, addr_width=32, data_width=64, id_width=4, outstanding=8):
        check_int("Outstanding bursts", outstanding, 2)
        self._agents = agents
        self._addr_width = addr_width
        self._geometry = line_geometry(data_width)
        self._id_width = id_width
        self._outstanding = outstanding
        half = dict(addr_width=addr_width, data_width=data_width, id_width=id_width)
        members = {
            "s": In(AXI4Signature(**half, write=False)),
            "routes": In(data.ArrayLayout(ROUTE_LAYOUT, agents)),
            "mirror": In(data.ArrayLayout(MIRROR_LAYOUT, agents)),
            "hold": In(1), "idle": Out(1), "pending": Out(agents),
            "rd_err": Out(ErrorReportSignature()),
        }
        members["mem"] = Out(AXI4Signature(**half, write=False, user=True)).array(agents)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        # A burst in flight: where its data comes from and what the host must see.
        entry = data.StructLayout({
            "agent": 4, "id": self._id_width, "len": 8, "size": 3,
            "resp": 2,     # OKAY: from the agent's module; else answer every beat with it
            "local": self._addr_width,   # module-local byte address of the first beat
            "targets": self._agents,     # the agents it may read (``pending``)
        })
        # the oldest burst is held in ``head`` (see ``_head``), the others queue here
        m.submodules.queue = queue = SyncFIFO(width=entry.size, depth=self._outstanding - 1)
        reread = self._reread_port()
        front = self._issue(m, entry, queue, reread)
        head = self._head(m, entry, queue)
        self._return_beats(m, head, reread)
        m.d.comb += self.idle.eq(~front.busy & ~queue.r_rdy & ~head.valid)
        # a burst counts from leaving the front (queued) until its last beat is taken
        push = data.View(entry, queue.w_data)
        last_taken = self.s.rvalid & self.s.rready & self.s.rlast
        m.d.comb += self.pending.eq(track_pending(
            m, front=front, decoded=push.targets,
            inc=Mux(queue.w_en, push.targets, 0),
            dec=Mux(last_taken, head.burst.targets, 0), most=self._outstanding))
        return m

    def _reread_port(self):
        """What the failover side (``_return_beats``) and the AR multiplexer
        (``_drive_ar``) share: the slave to read (``sel``, one-hot, steady from the
        diverted beat to the slave's beat), the request (``ar``) and its line's address
        (``addr``); back from the multiplexer, ``fire`` (the slave takes the AR this
        cycle) and ``shown`` (a register: the AR is shown and not yet taken)."""
        return SimpleNamespace(sel=Signal(self._agents, name="reread_sel"),
                               ar=Signal(name="reread_ar"),
                               addr=Signal(self._addr_width, name="reread_addr"),
                               fire=Signal(name="reread_fire"),
                               shown=Signal(name="reread_shown"))

    def _issue(self, m, entry, queue, reread):
        """The issue side: a :class:`rtl.host_front.RequestFront` takes and decodes the
        host's ARs, one per cycle; the decoded burst's AR goes to its owner and the burst
        is queued as the AR is accepted, or it is queued at once with its error answer. Nothing leaves the
        front without room in the queue, so every burst at a memory has its entry. Returns
        the front (its ``busy`` is part of ``idle``)."""
        s, n = self.s, self._agents
        front = add_front(m, self, "ar")
        req = front.out.payload
        push = data.View(entry, queue.w_data)
        m.d.comb += [push.agent.eq(req.agent), push.id.eq(req.id), push.len.eq(req.len),
                     push.size.eq(req.size), push.local.eq(req.local),
                     push.resp.eq(req.resp)]
        # its agent and, if that is a master, its slave (a re-read reads there); the
        # agent's route holds still while the burst is pending, so this is what the
        # failover side sees (an error answer has no ``sel``: none)
        for j in range(n):
            slave_of = [req.sel[i] & (self.routes[i].mode == Mode.MIRROR_MASTER) &
                        (self.routes[i].peer == j) for i in range(n)]
            m.d.comb += push.targets[j].eq(req.sel[j] | Cat(*slave_of).any())
        want = Signal(n)      # the burst's AR is due at agent i
        m.d.comb += want.eq(Mux(front.out.valid & queue.w_rdy, req.sel, 0))
        taken = self._drive_ar(m, req, want, reread)
        # an error answer has no ``sel``: it is queued as soon as there is room
        go = queue.w_rdy & front.out.valid & ((req.resp != Resp.OKAY) | taken)
        m.d.comb += [front.out.ready.eq(go), queue.w_en.eq(go)]
        return front

    def _drive_ar(self, m, req, want, reread):
        """Each memory's AR: the issue side's (``want``: the decoded request ``req``) or
        the failover re-read's (``reread``: one beat of the whole line), never both. The
        re-read takes a port only while the issue side is not showing an AR there, and
        once shown keeps it until taken (``reread.shown``), so neither's payload changes
        under ``arvalid``. Drives ``reread.fire`` and ``reread.shown``; returns whether
        the issue side's AR is taken this cycle."""
        shift = self._geometry.line_shift
        n = self._agents
        taken = Signal(n)
        fired = Signal(n)
        shown = Signal(n)
        for i, mem in enumerate(self.mem):
            issue = Signal(name=f"issue_ar{i}")     # the issue side shows its AR at agent i
            own = Signal(name=f"reread_ar{i}")      # the re-read shows its AR at agent i
            m.d.comb += [
                issue.eq(want[i] & ~(reread.shown & reread.sel[i])),
                own.eq(reread.ar & reread.sel[i] & ~issue),
                mem.arvalid.eq(issue | own),
                mem.araddr.eq(Mux(own, reread.addr, req.local)),
                mem.arlen.eq(Mux(own, 0, req.len)),
                mem.arsize.eq(Mux(own, shift, req.size)),
                mem.arburst.eq(Burst.INCR),
                taken[i].eq(issue & mem.arready),
                fired[i].eq(own & mem.arready),
                shown[i].eq(own),
            ]
        m.d.comb += reread.fire.eq(fired.any())
        with m.If(reread.fire):
            m.d.sync += reread.shown.eq(0)
        with m.Elif(shown.any()):
            m.d.sync += reread.shown.eq(1)
        return taken.any()

    def _head(self, m, entry, queue):
        """The oldest burst, in a register: loaded from the queue when the head is empty
        or its last beat is taken, emptied with its last beat otherwise.

        The owner is decoded one-hot (``sel``) and the error answer kept as a flag
        (``err``) as the head is loaded, so that flip-flops steer the R handshake of the
        agents: not the queue's read data through a decode, which would also feed the
        agents' R valid back into the queue's own read logic. At most one of ``sel`` and
        ``err`` is set, and neither while the head is empty.

        Returns ``burst`` (the entry), ``valid``, ``sel``, ``err``, and ``load`` (the
        head takes ``next``, the queue's oldest entry, this cycle).
        """
        s, n = self.s, self._agents
        head = Signal(entry)
        head_valid = Signal()
        sel = Signal(n)          # the head's data comes from agent i's module
        err = Signal()           # the head is answered here, every beat with head.resp
        done = s.rvalid & s.rready & s.rlast
        load = Signal()
        next_head = data.View(entry, queue.r_data)
        m.d.comb += [load.eq(queue.r_rdy & (~head_valid | done)), queue.r_en.eq(load)]
        with m.If(load):
            m.d.sync += [head.eq(queue.r_data), head_valid.eq(1),
                         err.eq(next_head.resp != Resp.OKAY)]
            for i in range(n):
                m.d.sync += sel[i].eq((next_head.resp == Resp.OKAY) & (next_head.agent == i))
        with m.Elif(done):
            m.d.sync += [head_valid.eq(0), sel.eq(0), err.eq(0)]
        return SimpleNamespace(burst=head, valid=head_valid, sel=sel, err=err, load=load,
                               next=next_head)

    def _track_beats(self, m, head):
        """Where the head's beats are: the module-local byte address of the current beat
        (``cur``) and of the one after it (``next``), as AXI INCR addresses advance, and
        ``advance``: the current beat is handed to the host this cycle. The first beat's
        address is the burst's own (unaligned); each next one is aligned to the beat size
        plus one beat, the size decoded into a mask and an increment (a small choice)
        rather than shifted."""
        s, burst = self.s, head.burst
        shift = self._geometry.line_shift
        beat = Signal(8)
        beat_addr = Signal(self._addr_width)   # the current beat's, after the first
        cur = Signal(self._addr_width, name="beat_cur")
        nxt = Signal(self._addr_width, name="beat_next")
        advance = Signal(name="beat_advance")
        incr = Signal(shift + 1)   # beat bytes (wider sizes answer an error, not memory data)
        low = Signal(shift)        # the address bits below the beat size
        with m.Switch(burst.size):
            for k in range(shift + 1):
                with m.Case(k):
                    m.d.comb += [incr.eq(1 << k), low.eq((1 << k) - 1)]
        m.d.comb += [
            cur.eq(Mux(beat == 0, burst.local, beat_addr)),
            nxt.eq(Cat(cur[:shift] & ~low, cur[shift:]) + incr),
            advance.eq(s.rvalid & s.rready),
        ]
        with m.If(advance):
            m.d.sync += [beat.eq(beat + 1), beat_addr.eq(nxt)]
            with m.If(s.rlast):
                m.d.sync += beat.eq(0)
        return SimpleNamespace(beat=beat, cur=cur, next=nxt, advance=advance)

    def _eligible(self, m, head, beats):
        """Whether the head's current beat may fail over, as a register (see the class's
        invariants): its agent's ``failover`` is set and its line is below that agent's
        ``swept_upto``. Made a cycle ahead for the beat current in the next cycle: the
        first beat of the burst the head loads, the next beat of the head's burst when
        one is handed over, else the current one again (``mirror`` may change)."""
        n, shift = self._agents, self._geometry.line_shift
        failover = [mirror.failover for mirror in self.mirror]
        swept = [mirror.swept_upto for mirror in self.mirror]
        coming = Signal(n)    # one-hot: the agent of the burst at the queue's head
        for i in range(n):
            m.d.comb += coming[i].eq((head.next.resp == Resp.OKAY) & (head.next.agent == i))
        head_on = _pick(m, head.sel, failover, "head_failover")
        head_upto = _pick(m, head.sel, swept, "head_swept_upto")
        coming_on = _pick(m, coming, failover, "coming_failover")
        coming_upto = _pick(m, coming, swept, "coming_swept_upto")
        eligible = Signal()
        with m.If(head.load):
            m.d.sync += eligible.eq(coming_on & ((head.next.local >> shift) < coming_upto))
        with m.Elif(beats.advance):
            m.d.sync += eligible.eq(head_on & ((beats.next >> shift) < head_upto))
        with m.Else():
            m.d.sync += eligible.eq(head_on & ((beats.cur >> shift) < head_upto))
        return eligible

    def _r_from(self, m, sel):
        """The R channel of the agent named by the one-hot ``sel`` (all 0 when none),
        with ``poison`` (``ruser`` while ``rvalid``) and ``bad`` (an error response or
        poison)."""
        r = SimpleNamespace(valid=Signal(name="src_rvalid"),
                            data=Signal.like(self.s.rdata, name="src_rdata"),
                            resp=Signal(2, name="src_rresp"), last=Signal(name="src_rlast"),
                            poison=Signal(name="src_poison"), bad=Signal(name="src_bad"))
        for i, mem in enumerate(self.mem):
            with m.If(sel[i]):
                m.d.comb += [r.valid.eq(mem.rvalid), r.data.eq(mem.rdata),
                             r.resp.eq(mem.rresp), r.last.eq(mem.rlast),
                             r.poison.eq(mem.ruser & mem.rvalid)]
        m.d.comb += r.bad.eq((r.resp != Resp.OKAY) | r.poison)
        return r

    def _return_beats(self, m, head, reread):
        """The head burst's R beats to the host, one state machine (``failover``):

        - NORMAL: from the head's agent, R handshake passed through (or answered here
          with the head's error); a bad beat is answered SLVERR and reported, unless it
          is ``eligible``: then it is taken from the agent (its RLAST kept) and the slave
          chosen (REREAD_AR).
        - REREAD_AR: the line's AR is shown at the slave while the pair stands (REREAD_R
          once taken), else the beat is answered SLVERR (REFUSED).
        - REREAD_R: the slave's beat to the host, OKAY if good, SLVERR if not; reported
          (``corrected`` if good).
        - REFUSED: the beat answered SLVERR here, reported.
        """
        s, n = self.s, self._agents
        burst = head.burst
        shift = self._geometry.line_shift
        beats = self._track_beats(m, head)
        eligible = self._eligible(m, head, beats)
        from_slave = Signal()     # REREAD_R: the slave's R is passed to the host
        src = Signal(n)           # one-hot: the agent whose R is passed to the host
        take = Signal()           # that agent's rready
        m.d.comb += src.eq(Mux(from_slave, reread.sel, head.sel))
        r = self._r_from(m, src)
        for i, mem in enumerate(self.mem):
            m.d.comb += mem.rready.eq(src[i] & take)
        pair_on = _pick(m, head.sel, [mirror.failover for mirror in self.mirror],
                        "pair_failover")
        peer = _pick(m, head.sel, [route.peer for route in self.routes], "pair_peer")
        peer_slave = _pick(m, reread.sel,
                           [route.mode == Mode.MIRROR_SLAVE for route in self.routes],
                           "peer_is_slave")
        last = Signal()           # RLAST of the beat taken from the master
        divert = Signal()         # that beat is taken now, to be read again
        m.d.comb += [
            s.rid.eq(burst.id), self.rd_err.agent.eq(burst.agent),
            self.rd_err.line.eq(beats.cur >> shift),
            reread.addr.eq(Cat(Const(0, shift), beats.cur[shift:])),
            divert.eq(r.valid & r.bad & eligible),
        ]
        with m.FSM(name="failover"):
            with m.State("NORMAL"):
                with m.If(head.err):
                    m.d.comb += [s.rvalid.eq(1), s.rresp.eq(burst.resp),
                                 s.rlast.eq(beats.beat == burst.len)]
                with m.Else():
                    m.d.comb += [
                        s.rvalid.eq(r.valid & ~divert), s.rdata.eq(r.data),
                        s.rresp.eq(Mux(r.poison & (r.resp == Resp.OKAY), Resp.SLVERR,
                                       r.resp)),
                        s.rlast.eq(r.last), take.eq(s.rready | divert),
                        self.rd_err.valid.eq(s.rvalid & s.rready & (s.rresp != Resp.OKAY)),
                    ]
                    with m.If(divert):
                        m.d.sync += last.eq(r.last)
                        for i in range(n):
                            m.d.sync += reread.sel[i].eq(peer == i)
                        m.next = "REREAD_AR"
            with m.State("REREAD_AR"):
                m.d.comb += reread.ar.eq((pair_on & peer_slave) | reread.shown)
                with m.If(reread.fire):
                    m.next = "REREAD_R"
                with m.Elif(~reread.ar):
                    m.next = "REFUSED"
            with m.State("REREAD_R"):
                m.d.comb += [
                    from_slave.eq(1), s.rvalid.eq(r.valid), s.rdata.eq(r.data),
                    s.rresp.eq(Mux(r.bad, Resp.SLVERR, Resp.OKAY)), s.rlast.eq(last),
                    take.eq(s.rready),
                    self.rd_err.valid.eq(s.rvalid & s.rready),
                    self.rd_err.corrected.eq(~r.bad),
                ]
                with m.If(s.rvalid & s.rready):
                    m.next = "NORMAL"
            with m.State("REFUSED"):
                m.d.comb += [s.rvalid.eq(1), s.rresp.eq(Resp.SLVERR), s.rlast.eq(last),
                             self.rd_err.valid.eq(s.rready)]
                with m.If(s.rready):
                    m.next = "NORMAL"
