"""The host port's write half: routing, mirror forwarding, error responses (SPEC sections 1, 5, 7)."""

from types import SimpleNamespace

from amaranth.hdl import Module, Signal, Mux, Cat
from amaranth.lib import data, wiring
from amaranth.lib.fifo import SyncFIFO, SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from mirrorswap.regmap import Mode
from .host_front import add_front, track_pending
from .signatures import (AXI4Signature, Burst, Resp, ROUTE_LAYOUT, MIRROR_LAYOUT,
                         ErrorReportSignature, HostClaimSignature, SweepClaimSignature,
                         HOST_CLAIMS, check_claim_bits, check_int)

__all__ = ["HostWriteEngine"]


class HostWriteEngine(wiring.Component):
    """Serves host writes, many bursts in flight, and forwards them to a mirror slave.

    A write to an ACTIVE agent goes to its module; a write to a MIRROR_MASTER goes to the
    master's module and, at the same module-local address, to its slave's, W beats
    broadcast to both (a host beat is taken once every target has taken it); the host's B
    waits for both and carries the master's response. A failed forwarded write is reported
    on ``fwd_err`` (the controller clears SWEPT_UPTO); a failed write at the master answers
    SLVERR and is reported on ``wr_err``. A forwarded write that failed at the slave also
    answers SLVERR while its master may fail over (``mirror`` failover set) or is OFF (it
    failed over, or died, meanwhile): the slave, which may own the range now or soon, does
    not hold it, so it must not be reported done (SPEC section 7). (A master back to ACTIVE
    because its slave died keeps the write: OKAY, as SPEC section 5.4 says.) Both reports
    name the master and the burst's first module-local line.

    **Pipeline.** Four parts, each busy with different bursts, each taking one burst per
    cycle: the *front* (:class:`rtl.host_front.RequestFront`) accepts AWs and decodes them; the *AW side*
    shows the decoded burst's AW to every target and queues the burst for its data
    (``wq``, up to ``w_ahead`` bursts whose AW went out before their data); the *W side*
    broadcasts the host's W beats to the targets of the oldest burst in ``wq`` and, with
    its last beat, moves it to the bursts awaiting their responses (``done``, up to
    ``outstanding``); the *completion* side collects the memories' B responses for the
    oldest of those and answers the host. So a burst of one beat is written per cycle,
    AW and W of consecutive bursts overlapping. Writes reach each module in the order the
    AWs were accepted (AW and W alike: AXI4 orders W data as its AWs), and B responses go
    to the host in that order too (in order per ID, as AXI requires, and across IDs).

    **Atomicity with the sweep** (see :class:`rtl.sweep.SweepEngine`): a write to a master
    starts (memory AW) only when its lines are outside the master's sweep claim, and it
    publishes its lines on one of the ``claims`` entries of ``claim`` from then until both
    B responses are back. Up to ``claims`` forwarded writes are in flight at once, to one
    master or several; a forwarded write waits at the AW side while every entry is in
    use. Writes to ACTIVE agents are not checked (no sweep reads an ACTIVE agent's lines).
    The check is a register (see :meth:`_claim_check`), so a forwarded write spends a
    cycle at the AW side before it may go, and a cycle more to take its claim entry.

    **A write held by the claim waits alone.** A forwarded write whose lines meet the
    claim, of at most ``park_beats`` beats, is *parked*: it leaves the AW side, its W
    beats are taken into the park buffer, and the bursts behind it go on. Once its lines
    are clear it goes before the next burst of the AW side (under its own claim entry,
    data from the park buffer), so it waits for nothing but the sweep. Until its AW has
    gone, a burst with its ID (B in order per ID) or to lines of its master that meet its
    lines (a module applies overlapping writes in the order the host issued them) waits
    behind it. One burst is parked at a time; a second held write, or a longer one, waits
    at the AW side as before. The host's B of the parked burst comes after those of the
    bursts that overtook it (AXI allows it across IDs).

    Unowned start address: the W beats are taken, nothing is written, DECERR. A burst that
    is not INCR, wider than a line per beat or crossing 4 KiB: likewise, SLVERR. Either
    keeps its place in the order of responses. While ``hold`` is high no new burst is
    accepted; ``idle`` says none is accepted and unanswered, and ``pending`` which agents
    some such burst may still touch (see :func:`rtl.host_front.track_pending`).

    Parameters
    ----------
    agents : int
        Number of agents (memory ports and sweep claims).
    addr_width, data_width, id_width : int
        Widths of the AXI4 ports (byte address, data: one line per beat, ID); host and
        memory ports alike.
    outstanding : int
        Bursts whose data has gone out and whose responses are awaited, at most; at least
        1 (default 8).
    w_ahead : int
        Bursts whose AW has gone out and whose data has not, at most, and host W beats
        taken ahead of their burst's turn; at least 1 (default 4).
    claims : int
        Forwarded writes in flight at most (entries of ``claim``); at least 1 (default
        ``HOST_CLAIMS``, 4).
    park_beats : int
        Beats of the park buffer: the longest write that is parked while held by the
        sweep's claim (default 16; 0: none is).
    hazard_check : bool
        Wait for the sweep claim (default True). False only for tests that show what
        the check prevents.
    claim_bits : int
        Low bits of the module-local line numbers that the claim compares look at
        (default 32); every line number and claim bound must be below ``2**claim_bits``
        (the top passes :func:`rtl.signatures.claim_bits`).

    Raises
    ------
    ValueError
        ``claim_bits`` not an integer from 1 to 32; ``outstanding``, ``w_ahead`` or
        ``claims`` below 1, ``park_beats`` below 0.

    Members
    -------
    s : In(AXI4Signature(read=False))
        The host's write half (subordinate side).
    routes : In(ArrayLayout(ROUTE_LAYOUT, agents))
        Every agent's mode, peer and range; an agent's changes only while ``hold`` is
        high and its ``pending`` bit low.
    mirror : In(ArrayLayout(MIRROR_LAYOUT, agents))
        Every agent's failover state (only ``failover`` is used here).
    hold : In(1)
        Accept no new burst.
    idle : Out(1)
        No burst accepted and unanswered.
    pending : Out(agents)
        Per agent: a burst accepted and unanswered (its host B not yet taken) has that
        agent among its ``targets`` (the agent, and the slave a forwarded write goes to;
        the parked write too), or is not decoded yet (counts at every agent). The
        controller changes an agent's route only while its bit is low.
    claim : Out(HostClaimSignature()) per entry (``claims``)
        The lines of each forwarded write in flight, from its memory AW until both B
        responses; entries are taken and released in the order of the writes.
    fwd_err, wr_err : Out(ErrorReportSignature())
        One-cycle reports of a failed write at the slave and at the master.
    sweep_claim : In(SweepClaimSignature()) per agent
        Each agent's sweep engine's claim (module-local lines).
    mem : Out(AXI4Signature(read=False)) per agent
        The write port to each agent's home agent (``mem<i>_*`` in Verilog), module-local
        addresses, always INCR.
    """

    def __init__(self, *, agents, addr_width=32, data_width=64, id_width=4, outstanding=8,
                 w_ahead=4, claims=HOST_CLAIMS, park_beats=16, hazard_check=True,
                 claim_bits=32):
        check_claim_bits(claim_bits)
        check_int("Outstanding bursts", outstanding, 1)
        check_int("Bursts ahead of their data", w_ahead, 1)
        check_int("Claims", claims, 1)
        check_int("Park beats", park_beats, 0)
        self._park_beats = park_beats
        self._claim_bits = claim_bits
        self._agents = agents
        self._id_width = id_width
        self._outstanding = outstanding
        self._w_ahead = w_ahead
        self._claims = claims
        self._hazard_check = hazard_check
        half = dict(addr_width=addr_width, data_width=data_width, id_width=id_width)
        members = {
            "s": In(AXI4Signature(**half, read=False)),
            "routes": In(data.ArrayLayout(ROUTE_LAYOUT, agents)),
            "mirror": In(data.ArrayLayout(MIRROR_LAYOUT, agents)),
            "hold": In(1), "idle": Out(1), "pending": Out(agents),
            "fwd_err": Out(ErrorReportSignature()), "wr_err": Out(ErrorReportSignature()),
        }
        members["claim"] = Out(HostClaimSignature()).array(claims)
        members["sweep_claim"] = In(SweepClaimSignature()).array(agents)
        members["mem"] = Out(AXI4Signature(**half, read=False, user=True)).array(agents)
        super().__init__(members)

    def _entry_layout(self):
        """A burst in ``wq`` and ``done``: its ID, the agents it is written to, its agent
        and first line (for the reports), whether it is forwarded, and, for a burst that
        goes nowhere (``drained``), its error answer. In ``wq`` only: ``park``, its data
        goes into the park buffer (the burst is parked, see the class docstring), and
        ``from_park``, its data comes from there (the parked burst, its AW gone out)."""
        return data.StructLayout({
            "id": self._id_width, "targets": self._agents, "agent": 4, "lo": 32,
            "forward": 1, "drained": 1, "resp": 2, "park": 1, "from_park": 1,
        })

    def elaborate(self, platform):
        m = Module()
        entry = self._entry_layout()
        m.submodules.wq = wq = SyncFIFO(width=entry.size, depth=self._w_ahead)
        m.submodules.done = done = SyncFIFO(width=entry.size, depth=self._outstanding)
        front = add_front(m, self, "aw", forwarding=True)
        s = self.s
        w_fields = len(s.wdata) + len(s.wstrb) + 1
        m.submodules.park_buf = park_buf = SyncFIFOBuffered(width=w_fields,
                                                            depth=max(self._park_beats, 1))
        claims = self._claim_table(m)
        park = self._aw_side(m, front, claims, wq, entry)
        self._w_side(m, wq, done, entry, park_buf)
        b_targets = Signal(self._agents)    # the agents of the burst whose host B is shown
        answered = self._complete(m, done, entry, claims, b_targets)
        m.d.comb += self.idle.eq(~front.busy & ~park.busy & ~wq.r_rdy & ~done.r_rdy &
                                 answered)
        # a burst counts from leaving the front (to ``wq`` or the park) until its host B
        # is taken; an error answer has no targets
        req = front.out.payload
        decoded = Mux(req.resp == Resp.OKAY, req.targets, 0)
        m.d.comb += self.pending.eq(track_pending(
            m, front=front, decoded=decoded,
            inc=Mux(front.out.valid & front.out.ready, decoded, 0),
            dec=Mux(s.bvalid & s.bready, b_targets, 0),
            most=self._w_ahead + self._outstanding + 2))   # and the parked one, and B
        return m

    def _claim_table(self, m):
        """The ``claims`` entries of ``claim`` as a ring: ``take`` (driven by the AW side)
        fills the entry at ``alloc`` with ``agent``, ``lo`` and ``hi`` for the next cycle;
        ``free`` (driven by the completion side, in the cycle the write's last B comes)
        empties the entry at ``oldest`` for the next cycle: the claim covers the write up
        to and including its last B handshake, as the sweep's registered check needs no
        more. ``full``: no entry to take."""
        k = self._claims
        valid = Signal(k)
        table = SimpleNamespace(
            take=Signal(name="claim_take"), free=Signal(name="claim_free"),
            agent=Signal(4, name="claim_agent"), lo=Signal(32, name="claim_lo"),
            hi=Signal(32, name="claim_hi"), alloc=Signal(range(k), name="claim_alloc"),
            oldest=Signal(range(k), name="claim_oldest"), full=Signal(name="claim_full"))
        m.d.comb += table.full.eq(valid.bit_select(table.alloc, 1))
        for i, c in enumerate(self.claim):
            freeing = table.free & (table.oldest == i)
            m.d.comb += c.active.eq(valid[i])
            with m.If(table.take & (table.alloc == i)):
                m.d.sync += [valid[i].eq(1), c.agent.eq(table.agent), c.lo.eq(table.lo),
                             c.hi.eq(table.hi)]
            with m.Elif(freeing):
                m.d.sync += valid[i].eq(0)
        with m.If(table.take):
            m.d.sync += table.alloc.eq(Mux(table.alloc == k - 1, 0, table.alloc + 1))
        with m.If(table.free):
            m.d.sync += table.oldest.eq(Mux(table.oldest == k - 1, 0, table.oldest + 1))
        return table

    def _claim_check(self, m, req, name):
        """Whether the burst ``req`` (a :func:`request_layout` value) is forwarded and its
        lines meet its master's sweep claim, as a register.

        Registered, because it joins the claim registers of every sweep engine, placed far
        apart, with this engine's; so it is a cycle old, and the sweep claims two blocks
        ahead to make up for it (see SweepEngine, *Both checks registered*). Only a
        forwarded write (to a MIRROR_MASTER) can hit; with ``hazard_check`` off nothing
        does.
        """
        cb = self._claim_bits
        lo, hi = req.lo, req.hi
        claim_hit = Signal(name=name)
        hits = [req.sel[i] & req.forward & c.active & (lo[:cb] < c.hi[:cb]) &
                (c.lo[:cb] <= hi[:cb])
                for i, c in enumerate(list(self.sweep_claim)[:self._agents
                                                            if self._hazard_check else 0])]
        m.d.sync += claim_hit.eq(Cat(*hits).any() if hits else 0)
        return claim_hit

    def _aw_side(self, m, front, claims, wq, entry):
        """The AW side. It serves the front's decoded burst (``req``), or the parked one:

        - a plain burst shows its AW to its agent at once;
        - a forwarded one first waits a cycle for the claim check (``checked``); then, if
          its lines meet the sweep claim and the park is free and fits it, it is *parked*
          (it leaves the front, and ``wq`` gets an entry that steers its data into the
          park buffer); else it waits until its lines are clear and a claim entry is
          free, takes the entry (``granted``) and shows its AW to both targets from the
          next cycle;
        - while a burst is parked, a burst with its ID or lines of its agent that meet its
          lines waits at the front (a cycle of check first, ``checked``): it must not
          overtake it;
        - the parked burst, once its lines are clear (its own registered check) and a
          claim entry is free, takes the entry while the front's burst has shown no AW
          (``serving`` from the next cycle: the AW side shows the parked burst's AW) and
          goes to ``wq`` as ``from_park``.

        Once every target has taken the AW (``aw_done`` remembers the early ones) the
        burst moves to ``wq``; an error burst moves there at once, to be drained. Returns
        the park (``busy``: a burst is parked or being served from there).
        """
        req, n = front.out.payload, self._agents
        checked = Signal()       # the burst was here last cycle: the checks are its own
        granted = Signal()       # the forwarded burst holds its claim entry
        serving = Signal()       # the parked burst holds its claim entry: its AW is shown
        aw_done = Signal(n)      # per agent: AW taken
        park = SimpleNamespace(busy=Signal(name="park_busy"),
                               req=Signal(front.layout, name="parked"))
        claim_hit = self._claim_check(m, req, "claim_hit")
        park_hit = self._claim_check(m, park.req, "park_claim_hit")
        park_checked = Signal()  # ``park_hit`` is the parked burst's own
        m.d.sync += park_checked.eq(park.busy)
        # a burst that must not overtake the parked one (registered, as ``claim_hit``)
        behind = Signal()
        cb = self._claim_bits
        meets = (req.sel & park.req.sel).any() & (req.lo[:cb] <= park.req.hi[:cb]) & \
            (park.req.lo[:cb] <= req.hi[:cb])
        m.d.sync += behind.eq((req.id == park.req.id) | meets)
        blocked = park.busy & ~serving & (~checked | behind)

        # the parked burst goes first once it may (its lines clear, a claim entry free),
        # as soon as the front's burst has not begun its AW (shown, granted or partly
        # taken: an AW once shown stays until taken)
        shown = Signal()         # the front's burst showed its AW last cycle, not all taken
        front_mid = granted | shown | aw_done.any()
        park_go = Signal()
        m.d.comb += park_go.eq(park.busy & ~serving & park_checked & ~park_hit &
                               ~claims.full & ~front_mid)
        cur = Signal(front.layout, name="aw_burst")   # the burst whose AW is shown
        m.d.comb += cur.eq(Mux(serving, park.req, req))
        ok = req.resp == Resp.OKAY
        show_front = Signal()
        m.d.comb += show_front.eq(~serving & ~park_go & front.out.valid & ok &
                                  (~req.forward | granted) & ~blocked & wq.w_rdy)
        show = serving | show_front
        fired = Signal(n)
        for i, mem in enumerate(self.mem):
            m.d.comb += [
                mem.awaddr.eq(cur.local), mem.awlen.eq(cur.len), mem.awsize.eq(cur.size),
                mem.awburst.eq(Burst.INCR),
                mem.awvalid.eq(show & cur.targets[i] & ~aw_done[i]),
                fired[i].eq(mem.awvalid & mem.awready),
            ]
        # ``wq`` has room while an AW is shown: only these pushes fill it
        all_aw = show & wq.w_rdy & (aw_done | fired | ~cur.targets).all()
        parking = Signal()
        m.d.comb += parking.eq(~serving & ~front_mid & front.out.valid & ok & req.forward &
                               checked & claim_hit & ~park.busy &
                               (req.len < self._park_beats) & wq.w_rdy)
        drain = ~serving & front.out.valid & ~ok & ~blocked & wq.w_rdy
        leave = Signal()         # the front's burst leaves this cycle
        m.d.comb += leave.eq(drain | parking | (show_front & all_aw))
        push = data.View(entry, wq.w_data)
        m.d.comb += [
            front.out.ready.eq(leave), wq.w_en.eq(leave | (serving & all_aw)),
            push.id.eq(cur.id), push.targets.eq(cur.targets), push.agent.eq(cur.agent),
            push.lo.eq(cur.lo), push.forward.eq(cur.forward), push.drained.eq(drain),
            push.resp.eq(Mux(serving, Resp.OKAY, req.resp)), push.park.eq(parking),
            push.from_park.eq(serving),
        ]
        front_go = (~serving & ~park_go & front.out.valid & ok & req.forward & checked &
                    ~granted & ~claim_hit & ~claims.full & ~blocked)
        m.d.comb += [claims.take.eq(park_go | front_go),
                     claims.agent.eq(Mux(park_go, park.req.agent, req.agent)),
                     claims.lo.eq(Mux(park_go, park.req.lo, req.lo)),
                     claims.hi.eq(Mux(park_go, park.req.hi, req.hi))]
        with m.If(park_go):
            m.d.sync += serving.eq(1)
        with m.If(front_go):
            m.d.sync += granted.eq(1)
        with m.If(parking):
            m.d.sync += [park.busy.eq(1), park.req.eq(req)]
        with m.If(serving & all_aw):
            m.d.sync += [park.busy.eq(0), serving.eq(0), aw_done.eq(0)]
        with m.Elif(leave):
            m.d.sync += [checked.eq(0), granted.eq(0), aw_done.eq(0), shown.eq(0)]
        with m.Else():
            m.d.sync += [checked.eq(front.out.valid), aw_done.eq(aw_done | fired),
                         shown.eq(show_front)]
        return park

    def _w_side(self, m, wq, done, entry, park_buf):
        """The W side, on the oldest burst in ``wq``: its beats, from the host or, for the
        parked burst, from the park buffer, to every target; a beat is taken once every
        target has taken it (``w_done`` remembers the targets that took it early). A
        drained burst's beats are taken and dropped; a parking burst's go into the park
        buffer. With its last beat the burst moves to ``done`` (beats wait while ``done``
        is full), or, parking, just leaves ``wq``.

        The host's beats come through a small queue (``w_in``, ``w_ahead`` beats), so
        that a host which sends a burst's first beats while its AW is still being decoded
        is not held for it (AXI lets W come before or with its AW): the next burst's data
        follows the last one's without a gap. The queue also keeps the memories' W
        ready off the host's."""
        s, n = self.s, self._agents
        beat_layout = data.StructLayout({"data": len(s.wdata), "strb": len(s.wstrb),
                                         "last": 1})
        m.submodules.w_in = w_in = SyncFIFO(width=beat_layout.size, depth=self._w_ahead)
        m.d.comb += [w_in.w_data.eq(Cat(s.wdata, s.wstrb, s.wlast)),
                     w_in.w_en.eq(s.wvalid), s.wready.eq(w_in.w_rdy)]
        host = data.View(beat_layout, w_in.r_data)
        head = data.View(entry, wq.r_data)
        w_done = Signal(n)
        buf = data.View(beat_layout, park_buf.r_data)
        m.d.comb += park_buf.w_data.eq(w_in.r_data)
        valid = Mux(head.from_park, park_buf.r_rdy, w_in.r_rdy)
        last = Mux(head.from_park, buf.last, host.last)
        go = wq.r_rdy & (done.w_rdy | head.park)
        taken = Signal(n)
        for i, mem in enumerate(self.mem):
            m.d.comb += [mem.wdata.eq(Mux(head.from_park, buf.data, host.data)),
                         mem.wstrb.eq(Mux(head.from_park, buf.strb, host.strb)),
                         mem.wlast.eq(last),
                         mem.wvalid.eq(go & valid & head.targets[i] & ~w_done[i] &
                                       ~head.park),
                         taken[i].eq(w_done[i] | ~head.targets[i] | mem.wready)]
        ready = go & Mux(head.park, park_buf.w_rdy, taken.all())
        m.d.comb += [w_in.r_en.eq(ready & ~head.from_park),
                     park_buf.w_en.eq(go & head.park & w_in.r_rdy),
                     park_buf.r_en.eq(ready & head.from_park)]
        beat = valid & ready
        with m.If(beat):
            m.d.sync += w_done.eq(0)
        with m.Else():
            for i, mem in enumerate(self.mem):
                with m.If(mem.wvalid & mem.wready):
                    m.d.sync += w_done[i].eq(1)
        end = beat & last
        m.d.comb += [done.w_data.eq(wq.r_data), done.w_en.eq(end & ~head.park),
                     wq.r_en.eq(end)]

    def _complete(self, m, done, entry, claims, b_targets):
        """The completion side: the oldest burst in ``done`` collects a B from every target
        (each target answers its bursts in order, so its next B is the oldest burst's),
        the master's response kept in ``m_resp`` and the slave's in ``p_resp``; once all
        are in (the last may come in the same cycle), the host's B is loaded (a register, shown until taken), the reports pulse,
        a forwarded burst frees its claim entry, and the burst leaves the queue (its
        targets go to ``b_targets``, none for a drained burst). Returns whether no host B
        is pending."""
        s, n = self.s, self._agents
        head = data.View(entry, done.r_data)
        b_done = Signal(n)               # per agent: the oldest burst's B received
        m_resp = Signal(2)
        p_resp = Signal(2)
        b_valid = Signal()
        b_id = Signal(self._id_width)
        b_resp = Signal(2)
        m.d.comb += [s.bvalid.eq(b_valid), s.bid.eq(b_id), s.bresp.eq(b_resp)]
        collecting = done.r_rdy & ~head.drained
        fired = Signal(n)                # per agent: its B for the oldest burst comes now
        m_now = Signal(2)                # the master's and the slave's responses, with the
        p_now = Signal(2)                # ones coming this cycle
        m.d.comb += [m_now.eq(m_resp), p_now.eq(p_resp)]
        for i, mem in enumerate(self.mem):
            m.d.comb += [mem.bready.eq(collecting & head.targets[i] & ~b_done[i]),
                         fired[i].eq(mem.bvalid & mem.bready)]
            with m.If(fired[i]):
                m.d.sync += b_done[i].eq(1)
                with m.If(head.agent == i):
                    m.d.comb += m_now.eq(mem.bresp)
                with m.Else():
                    m.d.comb += p_now.eq(mem.bresp)
        m.d.sync += [m_resp.eq(m_now), p_resp.eq(p_now)]
        # the burst may finish in the cycle its last B comes: one burst per cycle
        all_in = head.drained | (b_done | fired | ~head.targets).all()
        # the slave missed the write while its master may fail over, or already has
        exposed = Signal()
        for i in range(n):
            with m.If(head.agent == i):
                m.d.comb += exposed.eq(self.mirror[i].failover |
                                       (self.routes[i].mode == Mode.OFF))
        lost = head.forward & (p_now != Resp.OKAY) & exposed
        finish = done.r_rdy & all_in & (~b_valid | s.bready)
        with m.If(s.bvalid & s.bready):
            m.d.sync += b_valid.eq(0)
        m.d.comb += [
            self.fwd_err.agent.eq(head.agent), self.fwd_err.line.eq(head.lo),
            self.wr_err.agent.eq(head.agent), self.wr_err.line.eq(head.lo),
        ]
        with m.If(finish):
            m.d.comb += [
                done.r_en.eq(1), claims.free.eq(head.forward),
                self.fwd_err.valid.eq(~head.drained & head.forward & (p_now != Resp.OKAY)),
                self.wr_err.valid.eq(~head.drained & (m_now != Resp.OKAY)),
            ]
            m.d.sync += [
                b_valid.eq(1), b_id.eq(head.id),
                b_targets.eq(Mux(head.drained, 0, head.targets)),
                b_resp.eq(Mux(head.drained, head.resp,
                              Mux((m_now == Resp.OKAY) & ~lost, Resp.OKAY,
                                  Resp.SLVERR))),
                b_done.eq(0), m_resp.eq(Resp.OKAY), p_resp.eq(Resp.OKAY),
            ]
        return ~b_valid
