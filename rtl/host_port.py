"""The host AXI4 port: decoding, mirror forwarding, error responses (SPEC sections 1, 5).

Two engines share the host's port, one per direction: :class:`HostWriteEngine` keeps up to
``outstanding`` (8) write bursts awaiting their responses, one more being written and one
being decoded; :class:`HostReadEngine` keeps up to ``outstanding`` (8) read bursts in
flight. Both decode a burst by its start address with :class:`AddressDecoder`.
"""

from types import SimpleNamespace

from amaranth.hdl import Module, Signal, Mux, Cat, Const
from amaranth.lib import data, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from .decoder import AddressDecoder
from mirrorswap.regmap import Mode
from .signatures import (AXI4Signature, Burst, Resp, ROUTE_LAYOUT, MIRROR_LAYOUT,
                         ErrorReportSignature,
                         HostClaimSignature, SweepClaimSignature, check_claim_bits,
                         check_int, line_geometry)

__all__ = ["HostWriteEngine", "HostReadEngine"]

_PAGE_BYTES = 4096


def _burst_geometry(m, addr, length, size, burst, line_shift):
    """Validity of a host burst and the lines it covers after its first.

    Returns ``(bad, span)``. ``bad`` is set when the burst is not INCR, its beat is wider
    than the bus (a line, ``2**line_shift`` bytes), or it crosses a 4 KiB page (an AXI
    rule; since ranges are 4 KiB aligned, this also means a valid burst never leaves the
    range it starts in). ``span`` is the number of lines after the first one (defined when
    ``bad`` is not set).

    A burst of ``2**size``-byte beats that starts at beat ``k`` of its first line
    (``k = addr[size:line_shift]``) and has ``length`` + 1 beats ends
    ``(k + length) >> (line_shift - size)`` lines further on: an 8-bit add and a small
    choice, one short carry chain, where the byte arithmetic of the AXI rule (aligned
    address + bytes - 1, with a barrel shift) needs three. tests/test_host_geometry.py
    proves the two equal for every input.
    """
    span = Signal(8, name="burst_span")
    with m.Switch(size):
        for k in range(line_shift + 1):
            with m.Case(k):
                beat = addr[k:line_shift] if k < line_shift else 0
                m.d.comb += span.eq((length + beat) >> (line_shift - k))
    crosses = (addr[line_shift:12] + span) >= (_PAGE_BYTES >> line_shift)
    bad = (burst != Burst.INCR) | (size > line_shift) | crosses
    return bad, span


class _Request:
    """A host AW or AR request latched at its handshake, decoded and checked.

    Both host engines take a request the same way: latch the address channel (``latch()``,
    at the handshake), look its start line up in a split :class:`AddressDecoder` and check
    the burst, and register the outcome (``decode()``, the next cycle: the match per
    agent, ``bad``, ``span``), so that decoding is a pipeline stage of its own. ``hit``,
    ``agent`` and ``offset`` are then combinational from the registered match in the cycle
    after, so that the range compares and the multiplexer that picks the owner's offset
    each have a cycle to themselves; ``lookup()`` registers them there (``hit_q``,
    ``agent_q``, ``offset_q``) for a caller that needs them a cycle later still. The
    latched request and the routes hold still across these cycles: the request changes
    only at the next handshake, which waits for the engine to be idle, and the routes only
    while the port is held and idle.
    """

    def __init__(self, m, s, ch, routes, agents, addr_width, geometry):
        self._s, self._ch = s, ch
        shift = geometry.line_shift
        self.id = Signal.like(getattr(s, f"{ch}id"), name=f"{ch}_id")
        self.addr = Signal.like(getattr(s, f"{ch}addr"), name=f"{ch}_addr")
        self.len = Signal(8, name=f"{ch}_len")
        self.size = Signal(3, name=f"{ch}_size")
        self.burst = Signal(2, name=f"{ch}_burst")
        m.submodules.decoder = self.dec = AddressDecoder(agents=agents,
                                                         line_addr_width=addr_width - shift,
                                                         page_lines=geometry.page_lines,
                                                         split=True)
        m.d.comb += [self.dec.routes.eq(routes), self.dec.line.eq(self.addr >> shift)]
        self._bad, self._span = _burst_geometry(m, self.addr, self.len, self.size,
                                                self.burst, shift)
        self._match = Signal(agents, name=f"{ch}_match")
        m.d.comb += self.dec.sel.eq(self._match)
        self.hit, self.agent, self.offset = self.dec.hit, self.dec.agent, self.dec.offset
        self.hit_q = Signal(name=f"{ch}_hit")
        self.agent_q = Signal(range(max(agents, 2)), name=f"{ch}_agent")
        self.offset_q = Signal(32, name=f"{ch}_offset")
        self.bad = Signal(name=f"{ch}_bad")
        self.span = Signal(32, name=f"{ch}_span")   # lines after the first one

    def decode(self):
        return [self._match.eq(self.dec.match), self.bad.eq(self._bad),
                self.span.eq(self._span)]

    def lookup(self):
        return [self.hit_q.eq(self.hit), self.agent_q.eq(self.agent),
                self.offset_q.eq(self.offset)]

    def latch(self):
        s, ch = self._s, self._ch
        return [self.id.eq(getattr(s, f"{ch}id")), self.addr.eq(getattr(s, f"{ch}addr")),
                self.len.eq(getattr(s, f"{ch}len")), self.size.eq(getattr(s, f"{ch}size")),
                self.burst.eq(getattr(s, f"{ch}burst"))]


class HostWriteEngine(wiring.Component):
    """Serves host writes, several bursts in flight, and forwards them to a mirror slave.

    A write to an ACTIVE agent goes to its module; a write to a MIRROR_MASTER goes to the
    master's module and, at the same module-local address, to its slave's, W beats
    broadcast to both (a host beat is taken once every target has taken it); the host's B
    waits for both and carries the master's response. A failed forwarded write is reported
    on ``fwd_err`` (the controller clears SWEPT_UPTO); a failed write at the master answers
    SLVERR and is reported on ``wr_err``. A forwarded write that failed at the slave also
    answers SLVERR while its master may fail over (``mirror`` failover set) or is OFF (it
    failed over, or died, meanwhile): the slave, which may own the range now or soon, does
    not hold it, so it must not be reported done (SPEC section 7). (A master back to ACTIVE
    because its slave died keeps the write: OKAY, as SPEC section 5.4 says.) Both reports name the master and the burst's
    first module-local line.

    **Pipeline.** Three parts, each busy with a different burst: the *front* accepts an AW
    and decodes it (DECODE, LOOKUP: registered stages, see :class:`_Request`); the *issue*
    side takes the decoded burst, sends its AW to every target and broadcasts its W beats;
    the *completion* side collects the memories' B responses of the bursts whose data has
    gone out (up to ``outstanding``, in the queue ``done``) and answers the host. So the
    next burst is decoded while one is written and up to ``outstanding`` wait for their
    responses. Writes reach each module in the order the AWs were accepted (one W burst at
    a time, as AXI4 orders W data), and B responses go to the host in that order too (in
    order per ID, as AXI requires, and across IDs).

    **Atomicity with the sweep** (see :class:`rtl.sweep.SweepEngine`): a write to a master
    starts (memory AW) only when its lines are outside the master's sweep claim, and it
    publishes its lines on ``claim`` from then until both B responses are back. Forwarded
    writes are in flight one at a time (a claim is one range); writes to ACTIVE agents are
    not checked (no sweep reads an ACTIVE agent's lines) and pipeline freely, also around a
    forwarded write in flight.

    Unowned start address: the W beats are taken, nothing is written, DECERR. A burst that
    is not INCR, wider than a line per beat or crossing 4 KiB: likewise, SLVERR. Either
    keeps its place in the order of responses. While ``hold`` is high no new burst is
    accepted; ``idle`` says none is accepted and unanswered.

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
        ``claim_bits`` not an integer from 1 to 32, ``outstanding`` below 1.

    Members
    -------
    s : In(AXI4Signature(read=False))
        The host's write half (subordinate side).
    routes : In(ArrayLayout(ROUTE_LAYOUT, agents))
        Every agent's mode, peer and range; changes only while ``hold`` is high and
        ``idle``.
    mirror : In(ArrayLayout(MIRROR_LAYOUT, agents))
        Every agent's failover state (only ``failover`` is used here).
    hold : In(1)
        Accept no new burst.
    idle : Out(1)
        No burst accepted and unanswered.
    claim : Out(HostClaimSignature())
        The lines of the forwarded write in flight, from its memory AW until both B
        responses.
    fwd_err, wr_err : Out(ErrorReportSignature())
        One-cycle reports of a failed write at the slave and at the master.
    sweep_claim : In(SweepClaimSignature()) per agent
        Each agent's sweep engine's claim (module-local lines).
    mem : Out(AXI4Signature(read=False)) per agent
        The write port to each agent's home agent (``mem<i>_*`` in Verilog), module-local
        addresses, always INCR.
    """

    def __init__(self, *, agents, addr_width=32, data_width=64, id_width=4, outstanding=8,
                 hazard_check=True, claim_bits=32):
        check_claim_bits(claim_bits)
        check_int("Outstanding bursts", outstanding, 1)
        self._claim_bits = claim_bits
        self._agents = agents
        self._addr_width = addr_width
        self._id_width = id_width
        self._outstanding = outstanding
        self._geometry = line_geometry(data_width)
        self._hazard_check = hazard_check
        half = dict(addr_width=addr_width, data_width=data_width, id_width=id_width)
        members = {
            "s": In(AXI4Signature(**half, read=False)),
            "routes": In(data.ArrayLayout(ROUTE_LAYOUT, agents)),
            "mirror": In(data.ArrayLayout(MIRROR_LAYOUT, agents)),
            "hold": In(1), "idle": Out(1),
            "claim": Out(HostClaimSignature()),
            "fwd_err": Out(ErrorReportSignature()), "wr_err": Out(ErrorReportSignature()),
        }
        members["sweep_claim"] = In(SweepClaimSignature()).array(agents)
        members["mem"] = Out(AXI4Signature(**half, read=False, user=True)).array(agents)
        super().__init__(members)

    def _entry_layout(self):
        """A burst whose data has gone out, until its host B: its ID, the agents it was
        written to, its agent and first line (for the reports), whether it was forwarded,
        and, for a burst that went nowhere (``drained``), its error answer."""
        return data.StructLayout({
            "id": self._id_width, "targets": self._agents, "agent": 4, "lo": 32,
            "forward": 1, "drained": 1, "resp": 2,
        })

    def elaborate(self, platform):
        m = Module()
        entry = self._entry_layout()
        m.submodules.done = done = SyncFIFO(width=entry.size, depth=self._outstanding)
        req = _Request(m, self.s, "aw", self.routes, self._agents, self._addr_width,
                       self._geometry)
        burst = self._burst_state()
        fwd = SimpleNamespace(busy=Signal(name="fwd_busy"),   # a forwarded burst in flight
                              agent=Signal(4, name="fwd_agent"),
                              lo=Signal(32, name="fwd_lo"), hi=Signal(32, name="fwd_hi"),
                              done=Signal(name="fwd_done"))   # it completes this cycle
        self._drive_outputs(m, burst, fwd)
        claim_hit = self._claim_check(m, burst)
        taken = self._front(m, req)
        issue = self._issue(m, req, burst, claim_hit, fwd, taken, done, entry)
        answered = self._complete(m, done, entry, fwd)
        m.d.comb += self.idle.eq(taken.idle & issue.ongoing("FREE") & ~done.r_rdy & answered)
        return m

    def _burst_state(self):
        """The burst at the issue side: its route, bounds and AXI fields (loaded when it is
        taken from the front, steady until the next), and its progress at each target."""
        n = self._agents
        return SimpleNamespace(
            agent=Signal(range(max(n, 2)), name="agent"),   # the agent its address decodes to
            peer=Signal(4, name="peer"),        # that agent's slave, if ``forward``
            forward=Signal(name="forward"),     # the agent is a MIRROR_MASTER
            local=Signal(self._addr_width, name="local"),  # module-local byte address of its first beat
            lo=Signal(32, name="lo"),           # its first module-local line
            hi=Signal(32, name="hi"),           # its last
            id=Signal(self._id_width, name="id"),
            len=Signal(8, name="len"), size=Signal(3, name="size"),
            resp=Signal(2, name="resp"),        # a burst that goes nowhere: its answer
            aw_done=Signal(n, name="aw_done"),  # per agent: AW accepted (AW state)
            w_done=Signal(n, name="w_done"),    # per agent: the current W beat taken
            targets=Signal(n, name="targets"),  # per agent: the burst goes there
        )

    def _drive_outputs(self, m, burst, fwd):
        """What every state shows alike: the burst's targets, the AW and W payload (the same
        to every memory; only valids select), and the claim of the forwarded burst."""
        s = self.s
        for i in range(self._agents):
            m.d.comb += burst.targets[i].eq((burst.agent == i) |
                                            (burst.forward & (burst.peer == i)))
        for mem in self.mem:
            m.d.comb += [
                mem.awaddr.eq(burst.local), mem.awlen.eq(burst.len), mem.awsize.eq(burst.size),
                mem.awburst.eq(Burst.INCR),
                mem.wdata.eq(s.wdata), mem.wstrb.eq(s.wstrb), mem.wlast.eq(s.wlast),
            ]
        m.d.comb += [
            # dropped as the burst completes, not a cycle later: the sweep's check of it
            # is registered already
            self.claim.active.eq(fwd.busy & ~fwd.done), self.claim.agent.eq(fwd.agent),
            self.claim.lo.eq(fwd.lo), self.claim.hi.eq(fwd.hi),
        ]

    def _claim_check(self, m, burst):
        """Whether the burst's lines meet its master's sweep claim, as a register.

        Registered, because it joins the claim registers of every sweep engine, placed far
        apart, with this engine's; so it is a cycle old, and the sweep claims two blocks
        ahead to make up for it (see SweepEngine, *Both checks registered*). Only a
        forwarded write (to a MIRROR_MASTER) can hit; with ``hazard_check`` off nothing
        does.
        """
        cb = self._claim_bits
        agent, lo, hi = burst.agent, burst.lo, burst.hi
        claim_hit = Signal()
        hits = [(agent == i) & burst.forward & c.active & (lo[:cb] < c.hi[:cb]) &
                (c.lo[:cb] <= hi[:cb])
                for i, c in enumerate(list(self.sweep_claim)[:self._agents
                                                            if self._hazard_check else 0])]
        m.d.sync += claim_hit.eq(Cat(*hits).any() if hits else 0)
        return claim_hit

    def _front(self, m, req):
        """Accept an AW (IDLE), decode it (DECODE, LOOKUP) and hold it (READY) until the
        issue side takes it. Returns ``ready`` (a decoded burst waits), ``take`` (driven
        by the issue side: it takes it this cycle) and ``idle``."""
        s = self.s
        front = SimpleNamespace(ready=Signal(name="front_ready"), take=Signal(name="take"),
                                idle=Signal(name="front_idle"))
        with m.FSM(name="front"):
            with m.State("IDLE"):
                m.d.comb += [front.idle.eq(1), s.awready.eq(~self.hold)]
                with m.If(s.awvalid & ~self.hold):
                    m.d.sync += req.latch()
                    m.next = "DECODE"
            with m.State("DECODE"):
                m.d.sync += req.decode()
                m.next = "LOOKUP"
            with m.State("LOOKUP"):
                # registered here so that taking the burst, which adds the span to the
                # offset and looks the route up, starts from flip-flops
                m.d.sync += req.lookup()
                m.next = "READY"
            with m.State("READY"):
                # the next AW may be accepted in the cycle this one is taken
                m.d.comb += [front.ready.eq(1), s.awready.eq(front.take & ~self.hold)]
                with m.If(front.take):
                    with m.If(s.awvalid & ~self.hold):
                        m.d.sync += req.latch()
                        m.next = "DECODE"
                    with m.Else():
                        m.next = "IDLE"
        return front

    def _issue(self, m, req, burst, claim_hit, fwd, front, done, entry):
        """The FSM of the issue side: take a decoded burst (in FREE, or with the last beat
        of the burst before, when the queue ``done`` has room for it), wait for the claim
        (WAIT, only a forwarded burst), then AW and W at every target and push the burst
        into ``done`` with its last beat; or, for a burst that goes nowhere, take its data
        (DRAIN) and push it with its error answer.

        ``checked``: the claim check has seen this burst's lines (set after the first
        WAIT cycle; ``lo``, ``hi`` and ``agent`` are loaded as it is taken). A forwarded
        burst also waits until the one before it has completed (``fwd.busy``).
        """
        s = self.s
        checked = Signal()
        push = data.View(entry, done.w_data)
        m.d.comb += [push.id.eq(burst.id), push.targets.eq(burst.targets),
                     push.agent.eq(burst.agent), push.lo.eq(burst.lo),
                     push.forward.eq(burst.forward), push.resp.eq(burst.resp)]
        # room for the next burst: in FREE, one entry; with the last beat of a burst, which
        # is pushed in the same cycle, two
        room_now = done.w_rdy
        room_after_push = done.level < self._outstanding - 1

        def take_next(room):
            """Take the front's burst, if any and ``room``: to its first state, else FREE."""
            with m.If(front.ready & room):
                m.d.comb += front.take.eq(1)
                forward = self._take(m, req, burst)
                with m.If(req.bad):
                    m.d.sync += burst.resp.eq(Resp.SLVERR)
                    m.next = "DRAIN"
                with m.Elif(~req.hit_q):
                    m.d.sync += burst.resp.eq(Resp.DECERR)
                    m.next = "DRAIN"
                with m.Elif(forward):
                    m.d.sync += [checked.eq(0), burst.resp.eq(Resp.OKAY)]
                    m.next = "WAIT"
                with m.Else():
                    # a plain (not forwarded) write is not checked and waits for nothing
                    m.d.sync += burst.resp.eq(Resp.OKAY)
                    m.next = "AW"
            with m.Else():
                m.next = "FREE"

        with m.FSM(name="write") as issue:
            with m.State("FREE"):
                take_next(room_now)
            with m.State("WAIT"):
                m.d.sync += checked.eq(1)
                with m.If(checked & ~claim_hit & ~fwd.busy):
                    m.d.sync += [fwd.busy.eq(1), fwd.agent.eq(burst.agent),
                                 fwd.lo.eq(burst.lo), fwd.hi.eq(burst.hi)]
                    m.next = "AW"
            with m.State("AW"):
                with m.If(self._issue_aw(m, burst)):
                    m.next = "W"
            with m.State("W"):
                with m.If(self._broadcast_w(m, burst)):
                    m.d.comb += [push.drained.eq(0), done.w_en.eq(1)]
                    take_next(room_after_push)
            with m.State("DRAIN"):
                m.d.comb += s.wready.eq(1)
                with m.If(s.wvalid & s.wlast):
                    m.d.comb += [push.drained.eq(1), done.w_en.eq(1)]
                    take_next(room_after_push)
        # the completion side clears it; the issue side sets it only while it is clear
        with m.If(fwd.done):
            m.d.sync += fwd.busy.eq(0)
        return issue

    def _take(self, m, req, burst):
        """Load the burst's registers from the front's lookup and its agent's route, and
        clear its progress. Returns whether the burst is forwarded (its agent is a
        MIRROR_MASTER)."""
        route = self.routes[req.agent_q]
        forward = route.mode == Mode.MIRROR_MASTER
        m.d.sync += [
            burst.agent.eq(req.agent_q), burst.peer.eq(route.peer),
            burst.forward.eq(forward),
            burst.local.eq(Cat(req.addr[:self._geometry.line_shift], req.offset_q)),
            burst.lo.eq(req.offset_q),
            burst.hi.eq(req.offset_q + req.span),
            burst.id.eq(req.id), burst.len.eq(req.len), burst.size.eq(req.size),
            burst.aw_done.eq(0), burst.w_done.eq(0),
        ]
        return forward

    def _issue_aw(self, m, burst):
        """AW: the AW to every target, each shown until it is taken. Returns the condition
        to move on: every target has taken its AW."""
        n, targets, aw_done = self._agents, burst.targets, burst.aw_done
        fired = Signal(n)
        for i, mem in enumerate(self.mem):
            m.d.comb += [mem.awvalid.eq(targets[i] & ~aw_done[i]),
                         fired[i].eq(mem.awvalid & mem.awready)]
        now = aw_done | fired | ~targets
        m.d.sync += aw_done.eq(aw_done | fired)
        return now.all()

    def _broadcast_w(self, m, burst):
        """W: each host beat to every target; the host's beat is taken once every target
        has taken it (``w_done`` remembers the targets that took it early). Returns the
        condition to move on: the last beat is taken."""
        s, n, targets, w_done = self.s, self._agents, burst.targets, burst.w_done
        taken = Signal(n)
        for i, mem in enumerate(self.mem):
            m.d.comb += [mem.wvalid.eq(s.wvalid & targets[i] & ~w_done[i]),
                         taken[i].eq(w_done[i] | ~targets[i] | mem.wready)]
        m.d.comb += s.wready.eq(taken.all())
        with m.If(s.wvalid):
            with m.If(taken.all()):
                m.d.sync += w_done.eq(0)
            with m.Else():
                for i, mem in enumerate(self.mem):
                    with m.If(mem.wvalid & mem.wready):
                        m.d.sync += w_done[i].eq(1)
        return s.wvalid & taken.all() & s.wlast

    def _complete(self, m, done, entry, fwd):
        """The completion side: the oldest burst in ``done`` collects a B from every target
        (each target answers its bursts in order, so its next B is the oldest burst's),
        the master's response kept in ``m_resp`` and the slave's in ``p_resp``; once all
        are in, the host's B is loaded (a register, shown until taken), the reports pulse
        and the burst leaves the queue. Returns whether no host B is pending."""
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
        for i, mem in enumerate(self.mem):
            m.d.comb += mem.bready.eq(collecting & head.targets[i] & ~b_done[i])
            with m.If(mem.bvalid & mem.bready):
                m.d.sync += b_done[i].eq(1)
                with m.If(head.agent == i):
                    m.d.sync += m_resp.eq(mem.bresp)
                with m.Else():
                    m.d.sync += p_resp.eq(mem.bresp)
        all_in = head.drained | (b_done | ~head.targets).all()
        # the slave missed the write while its master may fail over, or already has
        exposed = Signal()
        for i in range(n):
            with m.If(head.agent == i):
                m.d.comb += exposed.eq(self.mirror[i].failover |
                                       (self.routes[i].mode == Mode.OFF))
        lost = head.forward & (p_resp != Resp.OKAY) & exposed
        finish = done.r_rdy & all_in & (~b_valid | s.bready)
        with m.If(s.bvalid & s.bready):
            m.d.sync += b_valid.eq(0)
        m.d.comb += [
            self.fwd_err.agent.eq(head.agent), self.fwd_err.line.eq(head.lo),
            self.wr_err.agent.eq(head.agent), self.wr_err.line.eq(head.lo),
        ]
        with m.If(finish):
            m.d.comb += [
                done.r_en.eq(1), fwd.done.eq(head.forward & ~head.drained),
                self.fwd_err.valid.eq(~head.drained & head.forward & (p_resp != Resp.OKAY)),
                self.wr_err.valid.eq(~head.drained & (m_resp != Resp.OKAY)),
            ]
            m.d.sync += [
                b_valid.eq(1), b_id.eq(head.id),
                b_resp.eq(Mux(head.drained, head.resp,
                              Mux((m_resp == Resp.OKAY) & ~lost, Resp.OKAY,
                                  Resp.SLVERR))),
                b_done.eq(0), m_resp.eq(Resp.OKAY), p_resp.eq(Resp.OKAY),
            ]
        return ~b_valid


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

    Up to ``outstanding`` bursts are in flight at the memories at once (to one agent or
    several), one more may be decoding; their data is returned to the host in the order
    the bursts were accepted, each burst whole and with its own ID (so in order per ID, as
    AXI requires, and across IDs too). R beats come straight from the owning agent's
    module. A *bad* beat, one the memory answers with an error or with poison (``ruser``,
    looked at only with ``rvalid``: a memory may leave it undefined otherwise), is answered
    SLVERR (an error response is passed on as it is) and reported on ``rd_err`` with the
    agent and the beat's module-local line, ``corrected`` low: poison is never passed on
    as OKAY data. An unowned start address answers DECERR on every beat, a bad burst (see
    :class:`HostWriteEngine`) SLVERR; neither reaches a memory, and both keep their place
    in the order. While ``hold`` is high no new burst is accepted; ``idle`` says none is
    in flight.

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
      which no burst is routed, and routes change only while the engine is idle; so no
      other read of this engine is at the slave. The re-read's AR goes out only while
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
        Every agent's mode, peer and range; changes only while ``hold`` is high and
        ``idle``.
    mirror : In(ArrayLayout(MIRROR_LAYOUT, agents))
        Every agent's read failover state (SPEC section 7): ``failover`` (only ever set
        for a MIRROR_MASTER) and ``swept_upto`` (module-local lines valid at its slave).
    hold : In(1)
        Accept no new burst.
    idle : Out(1)
        No burst accepted and unanswered.
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
            "hold": In(1), "idle": Out(1),
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
        })
        # the oldest burst is held in ``head`` (see ``_head``), the others queue here
        m.submodules.queue = queue = SyncFIFO(width=entry.size, depth=self._outstanding - 1)
        reread = self._reread_port()
        issue = self._issue(m, entry, queue, reread)
        head = self._head(m, entry, queue)
        self._return_beats(m, head, reread)
        m.d.comb += self.idle.eq(issue.ongoing("IDLE") & ~queue.r_rdy & ~head.valid)
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
        """The issue side: accept a burst, decode it (DECODE, ROUTE), then send its AR to
        the owning agent and queue it as the AR is accepted (AR), or queue it with its
        error answer (QUEUE_ERROR). The AR waits for room in the queue, so every burst at
        a memory has its entry. Returns the FSM."""
        s, n = self.s, self._agents
        req = _Request(m, s, "ar", self.routes, n, self._addr_width, self._geometry)
        agent = Signal(range(max(n, 2)))
        local = Signal(self._addr_width)
        push = data.View(entry, queue.w_data)
        m.d.comb += [push.agent.eq(agent), push.id.eq(req.id), push.len.eq(req.len),
                     push.size.eq(req.size), push.local.eq(local)]
        want = Signal(n)      # the burst's AR is due at agent i
        taken = self._drive_ar(m, req, local, want, reread)

        with m.FSM(name="issue") as issue:
            with m.State("IDLE"):
                m.d.comb += s.arready.eq(~self.hold)
                with m.If(s.arvalid & ~self.hold):
                    m.d.sync += req.latch()
                    m.next = "DECODE"
            with m.State("DECODE"):
                m.d.sync += req.decode()
                m.next = "ROUTE"
            with m.State("ROUTE"):
                m.d.sync += [agent.eq(req.agent),
                             local.eq(Cat(req.addr[:self._geometry.line_shift], req.offset))]
                with m.If(req.bad | ~req.hit):
                    m.next = "QUEUE_ERROR"
                with m.Else():
                    m.next = "AR"
            with m.State("AR"):
                m.d.comb += [push.resp.eq(Resp.OKAY), queue.w_en.eq(taken)]
                for i in range(n):
                    m.d.comb += want[i].eq(queue.w_rdy & (agent == i))
                with m.If(taken):
                    m.next = "IDLE"
            with m.State("QUEUE_ERROR"):
                m.d.comb += [push.resp.eq(Mux(req.bad, Resp.SLVERR, Resp.DECERR)),
                             queue.w_en.eq(queue.w_rdy)]
                with m.If(queue.w_rdy):
                    m.next = "IDLE"
        return issue

    def _drive_ar(self, m, req, local, want, reread):
        """Each memory's AR: the issue side's (``want``: the request ``req`` at
        ``local``) or the failover re-read's (``reread``: one beat of the whole line),
        never both. The re-read takes a port only while the issue side is not showing an
        AR there, and once shown keeps it until taken (``reread.shown``), so neither's
        payload changes under ``arvalid``. Drives ``reread.fire`` and ``reread.shown``;
        returns whether the issue side's AR is taken this cycle."""
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
                mem.araddr.eq(Mux(own, reread.addr, local)),
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
