"""Agent modes and the command sequencer (SPEC sections 2, 4 and 7)."""

from types import SimpleNamespace

from amaranth.hdl import Module, Signal, Array, Const, Mux
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from mirrorswap.geometry import DEFAULT
from mirrorswap.regmap import Mode, Op, Err, Event
from .registers import AgentRegsSignature
from .signatures import (ROUTE_LAYOUT, MIRROR_LAYOUT, SLOT_STATE_LAYOUT,
                         ErrorReportSignature, SweepControlSignature)

__all__ = ["MirrorController"]


class MirrorController(wiring.Component):
    """Holds every agent's mode, peer, error and sweep watermark, and executes commands.

    A CMD write is checked at once for its opcode and for ``busy`` (BAD_OPCODE, BUSY).
    Any other command is queued (``busy`` = 1) and run by one sequencer, one command at a
    time, so that commands on different agents see each other's effects in order; when
    several are queued it serves the agents round-robin (the first after the one it served
    last). The sequencer's cycles for one command:

    ========  ==================================================================
    IDLE      Picks the next queued command.
    CHECK1    ``freeze``. Check stage 1 registers the sums and the plain
              compares: range ends, sweep end, the peer's capacity, the range shape.
    CHECK2    Check stage 2 registers the compares of those sums: range past the
              host address space, overlap, sweep past SIZE, peer too small.
    CHECK3    Check stage 3 registers the error code of SPEC section 4, the
              first failing check in the SPEC's order for the command and mode,
              and whether EXEC must drain the host port first.
    EXEC      A command that passed and changes routes (all but SWEEP) raises
              ``hold`` (the host port takes no new request) and waits until no
              burst is ``pending`` at the agents whose routes it changes (or the
              port is ``quiet``) for a whole held cycle; any other goes at once.
              The code goes to ``err``; if OK the command is applied (a SWEEP
              starts the sweep engine). ``busy`` falls, ``cmd_done`` is raised.
    ========  ==================================================================

    ``hold`` is thus high only in EXEC of a command that changes routes: for the drain of
    the bursts in flight to the agents it changes and one cycle more (two cycles when
    none is). The agents each command waits for (``_prepare_execution``): ASSIGN and
    UNASSIGN their own; ESTABLISH its own and the new slave (``cmd_peer``); RELEASE and
    ABORT the master and its slave (``peer``). These are the only agents whose mode, peer
    or range they write; a burst decoded for any other agent is served the same whether
    it is before or after the change, and one not decoded yet is pending everywhere (it
    decodes with the routes it finds). ``hold`` stops every new burst all the same.
    SWEEP never holds the host port: its engine's claim orders its copies against host
    writes in flight (:class:`rtl.sweep.SweepEngine`), and it changes no route; nor does a
    refused command. ``freeze`` stalls register writes in the three check stages and in
    the cycle EXEC applies the command; while EXEC waits for the port, writes go on (host
    traffic never stalls the firmware's register accesses) but cannot touch what was
    checked: BASE and SIZE are locked while the agent is busy (those of other owners
    always are), and power transitions wait until EXEC is over. So what the three stages
    read is what EXEC applies to, but for SWEPT_UPTO, which a failed forwarded write may
    clear meanwhile: such a failure since the pick makes a SWEEP not raise SWEPT_UPTO and
    a RELEASE NOT_SWEPT. A mode change never overlaps a host transaction: this is what
    makes RELEASE atomic. A refused command changes nothing but ``err``. SWEEP stays busy
    until the engine is done.

    ``err`` is the outcome of the last CMD write (or refused SLOT_CTRL power-off): one
    refused while a command runs (BUSY, or BAD_OPCODE) sets it at once, with
    ``cmd_done``, and the running command's end, which raises ``cmd_done`` and drops
    ``busy`` as usual, leaves it so. A refused command therefore never reads back as OK.

    Invariants: an agent's ``busy`` is 1 from the CMD write until ``err`` and the mode
    change are visible (``cmd_done`` is set in that cycle); a SLAVE's peer is its master and
    a MASTER's peer is its slave; SWEPT_UPTO only grows during a sweep, and is cleared when
    a forwarded write fails (the rest of that sweep then no longer raises it); a range
    passes to another agent without a drain of the host port only by a master failover,
    and then no sweep copy is in flight to that agent.

    Power: an OFF agent whose slot is present and power-good becomes IDLE; an agent whose
    slot loses either becomes OFF. A mirror slave that goes OFF aborts its pair (master back
    to ACTIVE); a master that goes OFF frees its slave (back to IDLE) and its range becomes
    unowned. A running sweep of such a pair is cancelled and finishes with err POWER. With
    RAS_CTRL.failover_en a swept pair instead *fails over* (SPEC section 7): once the
    master's sweep, if any, has ended (cancelled, err POWER), its slave becomes ACTIVE with
    the range in the same cycle as the master becomes OFF, and the master's ``failover``
    event is raised; why the host port needs no drain for it is in ``_step_power``.

    RAS counts and events (SPEC section 7): a host read report counts in CE_COUNT
    (corrected: served by the slave, the ``corrected`` event) or UE_COUNT (``mem_error``),
    and sets ERR_ADDR; each line a sweep copies as poison counts in UE_COUNT, and the
    first of each SWEEP sets ERR_ADDR and raises ``mem_error``. The sweep engine copies
    poison when the master's RAS_CTRL.poison_en was set at the SWEEP's start. RAS_CTRL
    bits of agents that are not MIRROR_MASTER have no effect.

    Parameters
    ----------
    agents : int
        Home agents, 1 to 16.
    max_capacity_log2 : int
        0 to 31. Larger modules are reported (CAPACITY) and used as this size.
    line_addr_width : int
        Host line address width, 1 to 32; BASE+SIZE may not pass ``2**line_addr_width``.
    page_lines : int
        Lines per 4 KiB page (a power of two, default 512): BASE and SIZE must be
        multiples of it.

    Raises
    ------
    ValueError
        A parameter is not an integer in its range.

    Members
    -------
    hold : Out(1)
        The host port accepts no new request (EXEC of a command that changes routes).
    quiet : In(1)
        Nothing is in flight on the host port.
    pending : In(agents)
        Per agent: a burst in flight on the host port may touch it (or is not decoded
        yet: every bit set). All ones if not driven, which makes every drain wait for
        ``quiet``.
    freeze : Out(1)
        The register block holds writes (CHECK1 to CHECK3, and EXEC's last cycle).
    fwd_err, wr_err, rd_err : In(ErrorReportSignature())
        Memory errors of forwarded mirror writes, host writes and host reads (a host read
        error corrected by the mirror slave, or not).
    routes : Out(ArrayLayout(ROUTE_LAYOUT, agents))
        Each agent's mode, peer and range, for the host port's decoders.
    mirror : Out(ArrayLayout(MIRROR_LAYOUT, agents))
        Each agent's read failover state (RAS_CTRL.failover_en of a master, SWEPT_UPTO),
        for the host read engine.
    slots : In(ArrayLayout(SLOT_STATE_LAYOUT, agents))
        Each slot's presence, power-good and module size.
    ext_events : In(ArrayLayout(5, agents))
        Slot events, ORed into each agent's EVENTS with the controller's own.
    regs : In(AgentRegsSignature()).array(agents)
        Each agent's registers: commands, ranges and RAS_CTRL in; STATUS, ERR_ADDR, the
        events and the CE_COUNT / UE_COUNT increments out.
    sweep : Out(SweepControlSignature()).array(agents)
        Each agent's sweep engine (``poison_en`` from RAS_CTRL; poison lines back).
    """

    def __init__(self, *, agents, max_capacity_log2, line_addr_width,
                 page_lines=DEFAULT.page_lines):
        _check_range("Agent count", agents, 1, 16)              # a peer is 4 bits
        _check_range("Maximum capacity log2", max_capacity_log2, 0, 31)   # CAPACITY: 32 bits
        _check_range("Line address width", line_addr_width, 1, 32)
        self._agents = agents
        self._max_capacity_log2 = max_capacity_log2
        self._line_addr_width = line_addr_width
        _check_range("Page lines", page_lines, 1, 1 << 12)
        if page_lines & (page_lines - 1):
            raise ValueError(f"Page lines must be a power of two, not {page_lines}")
        self._page_lines = page_lines
        members = {
            "hold": Out(1), "quiet": In(1), "freeze": Out(1),
            # all ones unless driven: every command then waits for ``quiet``
            "pending": In(agents, init=(1 << agents) - 1),
            "fwd_err": In(ErrorReportSignature()),
            "wr_err": In(ErrorReportSignature()),
            "rd_err": In(ErrorReportSignature()),
            "routes": Out(data.ArrayLayout(ROUTE_LAYOUT, agents)),
            "mirror": Out(data.ArrayLayout(MIRROR_LAYOUT, agents)),
            "slots": In(data.ArrayLayout(SLOT_STATE_LAYOUT, agents)),
            "ext_events": In(data.ArrayLayout(5, agents)),
        }
        members["regs"] = In(AgentRegsSignature()).array(agents)
        members["sweep"] = Out(SweepControlSignature()).array(agents)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        agents = [_AgentState(i, regs=self.regs[i], sweep=self.sweep[i],
                              slot=self.slots[i], route=self.routes[i])
                  for i in range(self._agents)]

        # The error reports come off the host port's response channels: registered here,
        # and read from these flip-flops by the power step and the error tracking.
        reports = SimpleNamespace(rd=_registered(m, self.rd_err, "rd_err_q"),
                                  wr=_registered(m, self.wr_err, "wr_err_q"),
                                  fwd=_registered(m, self.fwd_err, "fwd_err_q"))
        self._report(m, agents)
        sequencer = self._sequence(m, agents)
        verdicts = self._check_commands(m, agents)
        execution = self._prepare_execution(m, agents, sequencer, verdicts)
        self._step_power(m, agents, sequencer, reports)
        self._track_sweep_and_errors(m, agents, reports)
        self._accept_commands(m, agents)
        self._finish_sweeps(m, agents)
        self._execute(m, agents, sequencer, execution)
        return m

    # Each method below drives its own signals; where two write the same register (mode,
    # swept_upto, err, busy, cancelled), ``elaborate`` calls them so that the later one
    # wins: power first, then the agent's own reports, intake, sweep end and execution.

    def _report(self, m, agents):
        """STATUS and the other values the register block shows, the routes, and each
        agent's module size (CAPACITY) from its slot."""
        for agent in agents:
            regs, slot = agent.regs, agent.slot
            capacity_log2 = Signal(5, name=f"capacity_log2_{agent.index}")
            # (at the largest maximum, 31, every 5-bit size fits: no compare to make)
            m.d.comb += [
                capacity_log2.eq(slot.capacity_log2 if self._max_capacity_log2 >= 31 else
                                 Mux(slot.capacity_log2 > self._max_capacity_log2,
                                     self._max_capacity_log2, slot.capacity_log2)),
                agent.capacity.eq(Mux(slot.present, Const(1, 32) << capacity_log2, 0)),
            ]
            locked = _owns_range(agent.mode) | (agent.mode == Mode.MIRROR_SLAVE)
            m.d.comb += [
                self.mirror[agent.index].failover.eq(
                    regs.ras_ctrl[0] & (agent.mode == Mode.MIRROR_MASTER)),
                self.mirror[agent.index].swept_upto.eq(agent.swept_upto),
                agent.route.mode.eq(agent.mode), agent.route.peer.eq(agent.peer),
                agent.route.base.eq(regs.base), agent.route.size.eq(regs.size),
                regs.mode.eq(agent.mode), regs.busy.eq(agent.busy), regs.peer.eq(agent.peer),
                regs.err.eq(agent.err),
                agent.swept.eq(agent.swept_upto >= regs.size), regs.swept.eq(agent.swept),
                regs.swept_upto.eq(agent.swept_upto),
                regs.err_addr.eq(agent.err_addr), regs.capacity.eq(agent.capacity),
                regs.present.eq(slot.present), regs.power_good.eq(slot.power_good),
                # also while a command of the agent is in progress: EXEC may wait for the
                # host port with register writes open, and must apply what was checked
                regs.range_lock.eq(locked | agent.busy),
                regs.power_protect.eq(locked),
                regs.event_set.eq(self.ext_events[agent.index] |
                                  Mux(agent.cmd_done, Event.CMD_DONE, 0) |
                                  Mux(agent.mem_error, Event.MEM_ERROR, 0) |
                                  Mux(agent.failover, Event.FAILOVER, 0) |
                                  Mux(agent.corrected, Event.CORRECTED, 0)),
                agent.sweep.start_line.eq(regs.sweep_start),
                agent.sweep.count.eq(regs.sweep_count),
                # only a MIRROR_MASTER starts a sweep, and the engine samples it then: the
                # bit of an agent in any other mode has no effect
                agent.sweep.poison_en.eq(regs.ras_ctrl[1]),
            ]

    def _sequence(self, m, agents):
        """The sequencer FSM: picks a queued command (round-robin) and steps it through the
        three check stages and EXEC (see the class docstring). Drives ``hold`` and
        ``freeze``."""
        n = len(agents)
        seq = _Sequencer(n)
        # ``port_quiet`` is registered (it comes from the far host engines), and only from
        # a cycle the port was held in: a burst accepted in the last cycle before the hold
        # still counts as in flight (as pending everywhere: it is not decoded yet).
        # ``port_clear``: nothing in flight to the agents the command changes.
        m.d.comb += seq.port_clear.eq(self.quiet | ~(self.pending & seq.wait_on).any())
        m.d.sync += seq.port_quiet.eq(seq.port_clear & self.hold)
        # Round-robin: the first agent with a command queued after the one served last
        # (``selected``), so that one busy agent cannot keep the others waiting.
        pick = Signal(range(n), name="pick")
        with m.Switch(seq.selected):
            for last in range(n):
                with m.Case(last):
                    for k in reversed(range(1, n + 1)):     # the nearest one wins
                        candidate = agents[(last + k) % n]
                        with m.If(candidate.queued):
                            m.d.comb += pick.eq(candidate.index)
        any_queued = _any(agent.queued for agent in agents)
        go = Signal(name="exec_go")       # EXEC applies the command in this cycle
        with m.FSM(name="sequencer") as fsm:
            with m.State("IDLE"):
                m.d.comb += seq.freeze_next.eq(any_queued)
                with m.If(any_queued):
                    m.d.sync += seq.selected.eq(pick)
                    # a forwarded write that fails from now on (the host port is not
                    # drained yet) poisons this command (see ``_execute``); this clear
                    # comes before ``_track_sweep_and_errors``, so a report in this very
                    # cycle still counts
                    for agent in agents:
                        with m.If(pick == agent.index):
                            m.d.sync += agent.poisoned.eq(0)
                    m.next = "CHECK1"
            with m.State("CHECK1"):
                m.d.comb += [self.freeze.eq(1), seq.freeze_next.eq(1)]
                m.next = "CHECK2"
            with m.State("CHECK2"):
                m.d.comb += [self.freeze.eq(1), seq.freeze_next.eq(1)]
                m.next = "CHECK3"
            with m.State("CHECK3"):
                m.d.comb += [self.freeze.eq(1), seq.freeze_next.eq(1)]
                m.next = "EXEC"
            with m.State("EXEC"):
                # A command that changes routes holds the port until nothing is in
                # flight to the agents it changes (``port_clear``) and is applied in the
                # cycle that sees it; any other goes at once. While
                # it waits, register writes go on (``freeze`` is low: firmware is not
                # stalled by host traffic), but none can change what was checked: BASE
                # and SIZE are locked while the agent is busy, those of other owners
                # anyway, and power transitions wait (``freeze_next``).
                m.d.comb += [self.freeze.eq(go), self.hold.eq(seq.drain),
                             go.eq(~seq.drain | seq.port_quiet),
                             seq.freeze_next.eq(~go)]
                with m.If(go):
                    m.next = "IDLE"
        # One flip-flop per agent says whose command runs, so that no agent's update
        # logic decodes ``selected`` (which holds still from the pick to EXEC).
        armed = [Signal(name=f"armed{i}") for i in range(n)]
        m.d.sync += [armed[i].eq(seq.selected == i) for i in range(n)]
        m.d.comb += [seq.execute[i].eq(armed[i] & go) for i in range(n)]
        return seq

    def _check_commands(self, m, agents):
        """The checks of SPEC section 4 for each agent's queued command, in three registered
        stages. Returns, per agent, the error code of stage 3 (valid in EXEC).

        The checks compare 32-bit ranges across every pair of agents; the stages keep each
        compare on a short path. They are exact because everything they read is frozen from
        CHECK1 to EXEC (``freeze`` and the deferred power step).
        """
        n = len(agents)
        align_mask = self._page_lines - 1
        mode_of = Array(agent.mode for agent in agents)
        capacity_of = Array(agent.capacity for agent in agents)
        range_end = [Signal(34, name=f"range_end{agent.index}") for agent in agents]
        for agent in agents:
            m.d.sync += range_end[agent.index].eq(agent.regs.base + agent.regs.size)
            # The decoders' range end, one cycle old, is exact while the agent is routed
            # (ACTIVE or MIRROR_MASTER): BASE and SIZE are locked then, and the command that
            # makes an agent routed (ASSIGN, or RELEASE for the slave) runs after ``freeze``
            # has held them for two cycles. ASSIGN has checked that the sum is at most
            # 2**line_addr_width, so 33 bits hold it.
            m.d.comb += agent.route.end.eq(range_end[agent.index])

        verdicts = []
        for agent in agents:
            i, regs, peer = agent.index, agent.regs, agent.queued_peer
            base, size = regs.base, regs.size
            # stage 1: sums and plain compares
            sweep_end = Signal(34, name=f"sweep_end{i}")
            peer_capacity = Signal(32, name=f"peer_capacity{i}")
            shape_bad = Signal(name=f"shape_bad{i}")
            sweep_start_bad = Signal(name=f"sweep_start_bad{i}")
            swept_short = Signal(name=f"swept_short{i}")
            m.d.sync += [
                sweep_end.eq(regs.sweep_start + regs.sweep_count),
                peer_capacity.eq(capacity_of[peer]),
                shape_bad.eq((size == 0) | ((base & align_mask) != 0) |
                             ((size & align_mask) != 0) | (size > agent.capacity)),
                sweep_start_bad.eq((regs.sweep_count == 0) |
                                   (regs.sweep_start > agent.swept_upto)),
                swept_short.eq(agent.swept_upto < size),
            ]
            # stage 2: compares of the stage-1 sums
            overlap = Const(0)
            for other in agents:
                if other is not agent:
                    overlap = overlap | (_owns_range(other.mode) &
                                         (base < range_end[other.index]) &
                                         (other.regs.base < range_end[i]))
            range_bad = Signal(name=f"range_bad{i}")
            overlaps = Signal(name=f"overlaps{i}")
            sweep_range_bad = Signal(name=f"sweep_range_bad{i}")
            peer_too_small = Signal(name=f"peer_too_small{i}")
            not_swept = Signal(name=f"not_swept{i}")
            m.d.sync += [
                range_bad.eq(shape_bad | (range_end[i] > (1 << self._line_addr_width))),
                overlaps.eq(overlap),
                sweep_range_bad.eq(sweep_start_bad | (sweep_end > size)),
                peer_too_small.eq(peer_capacity < size),
                not_swept.eq(swept_short),
            ]
            # stage 3 input: the first failing check, in the SPEC's order
            verdict = Signal(Err, name=f"verdict{i}")
            with m.Switch(agent.queued_op):
                with m.Case(Op.ASSIGN):
                    with m.If(agent.mode != Mode.IDLE):
                        m.d.comb += verdict.eq(Err.BAD_STATE)
                    with m.Elif(range_bad):
                        m.d.comb += verdict.eq(Err.BAD_RANGE)
                    with m.Elif(overlaps):
                        m.d.comb += verdict.eq(Err.OVERLAP)
                with m.Case(Op.ESTABLISH):
                    with m.If(agent.mode != Mode.ACTIVE):
                        m.d.comb += verdict.eq(Err.BAD_STATE)
                    with m.Elif((peer == i) | (peer >= n) | (mode_of[peer] != Mode.IDLE)):
                        m.d.comb += verdict.eq(Err.BAD_PEER)
                    with m.Elif(peer_too_small):
                        m.d.comb += verdict.eq(Err.CAPACITY)
                with m.Case(Op.SWEEP):
                    with m.If(agent.mode != Mode.MIRROR_MASTER):
                        m.d.comb += verdict.eq(Err.BAD_STATE)
                    with m.Elif(sweep_range_bad):
                        m.d.comb += verdict.eq(Err.BAD_RANGE)
                with m.Case(Op.RELEASE):
                    with m.If(agent.mode != Mode.MIRROR_MASTER):
                        m.d.comb += verdict.eq(Err.BAD_STATE)
                    with m.Elif(not_swept):
                        m.d.comb += verdict.eq(Err.NOT_SWEPT)
                with m.Case(Op.ABORT):
                    with m.If(agent.mode != Mode.MIRROR_MASTER):
                        m.d.comb += verdict.eq(Err.BAD_STATE)
                with m.Case(Op.UNASSIGN):
                    with m.If(agent.mode != Mode.ACTIVE):
                        m.d.comb += verdict.eq(Err.BAD_STATE)
            verdicts.append(verdict)
        return verdicts

    def _prepare_execution(self, m, agents, seq, verdicts):
        """Stage 3: registers each agent's verdict and, for an ESTABLISH that passes, which
        agent becomes its slave and the range the slave takes. Exact for the same reason as
        the checks; EXEC then drives the far register block's range write from flip-flops.
        """
        execution = _Execution(len(agents))
        # Registered every cycle, like the stages before: while EXEC waits for the port,
        # what they read is frozen, but for SWEPT_UPTO (a failed forwarded write clears it;
        # ``_execute`` also looks at ``poisoned`` for the cycles the stages lag behind),
        # so a RELEASE that stops being swept is refused without waiting any longer.
        m.d.sync += [execution.err[i].eq(verdict) for i, verdict in enumerate(verdicts)]
        # the same, decoded, so that EXEC's updates start from flip-flops (timing)
        m.d.sync += [execution.ok[i].eq(verdict == Err.OK) for i, verdict in enumerate(verdicts)]
        m.d.sync += [execution.release[a.index].eq(a.queued_op == Op.RELEASE) for a in agents]
        m.d.sync += [
            execution.slave_base.eq(Array(a.regs.base for a in agents)[seq.selected]),
            execution.slave_size.eq(Array(a.regs.size for a in agents)[seq.selected]),
        ]
        for slave in agents:
            k = slave.index
            becomes_slave = Const(0)
            for agent in agents:
                if agent is not slave:
                    becomes_slave = becomes_slave | (
                        (seq.selected == agent.index) & (agent.queued_op == Op.ESTABLISH) &
                        (agent.queued_peer == k) & (verdicts[agent.index] == Err.OK))
            m.d.sync += execution.becomes_slave[k].eq(becomes_slave)
        # Every accepted command but SWEEP changes routes: EXEC drains the port first.
        # SWEEP needs no drain (the claims order its copies against host writes) and a
        # refused command changes nothing.
        drain = Const(0)
        for agent in agents:
            drain = drain | ((seq.selected == agent.index) & (agent.queued_op != Op.SWEEP) &
                             (verdicts[agent.index] == Err.OK))
        m.d.sync += seq.drain.eq(drain)
        # The agents whose routes the command changes: the drain waits only for the
        # bursts pending at them (see the class docstring). The agent itself always: its
        # mode changes. ESTABLISH also makes ``queued_peer`` its slave (mode, peer and
        # range); RELEASE and ABORT change the mode of their slave, ``peer``.
        wait_on = [Const(0) for _ in agents]
        for agent in agents:
            picked = seq.selected == agent.index
            op = agent.queued_op
            for other in agents:
                k = other.index
                if other is agent:
                    wait_on[k] = wait_on[k] | picked
                else:
                    wait_on[k] = wait_on[k] | (picked & (
                        ((op == Op.ESTABLISH) & (agent.queued_peer == k)) |
                        (((op == Op.RELEASE) | (op == Op.ABORT)) & (agent.peer == k))))
        m.d.sync += [seq.wait_on[k].eq(bit) for k, bit in enumerate(wait_on)]
        return execution

    def _step_power(self, m, agents, seq, reports):
        """Power transitions, taken when the sequencer is not checking or executing.

        They are level-triggered, so one that waits for a command is simply taken after it.
        Two registered steps: each slot's state is registered (``alive``), then each
        transition is decided into a flag and applied the cycle after. The decision is
        exact: it is taken only when the sequencer is not frozen in this cycle or the next,
        and not in the cycle a previous decision applies, so nothing else changes a mode or
        peer in between; whether a sweep is running is read when applying. Partner fix-ups
        come before an agent's own transition so that its own loss of power always wins.

        **Master failover** (SPEC section 7). A MIRROR_MASTER that loses its slot *may fail
        over* when its RAS_CTRL.failover_en is set, the pair is swept, its slave's slot is
        not lost too, and no failed forwarded write of it is reported in the decision's
        cycle. Its loss is then decided only once its sweep, if one runs, has ended: the
        sweep is cancelled at once (err POWER) and the master stays a MIRROR_MASTER of a
        dead module meanwhile (the home agent answers for it; host writes are still
        forwarded, checked against the sweep's claim, which holds until its last copy to
        the slave is answered). The decision applies if failover_en is still set in the
        next cycle: the slave becomes ACTIVE and the master OFF in that same cycle, and the
        master's ``failover`` event is raised; else, and for a master that may not fail
        over, the slave goes back to IDLE and the range becomes unowned.

        The range needs no write: ESTABLISH gave the slave its master's BASE and SIZE, and
        both stay locked while the pair lasts. Nor is the host port drained: the route
        changes with bursts in flight, and none hangs or is answered OKAY with wrong data:

        - Reads and writes already sent to the dead master, and those the host engines
          decoded before the change and send after it, reach its home agent, which
          answers every one of them itself (SLVERR, write data dropped) from the cycle
          after the slot is lost, two cycles at least before the route changes. A read
          answered by the module before that returned what it held then.
        - A forwarded write in flight keeps both targets and reaches the slave; the host's
          B carries the master's response, SLVERR when the home agent answered it.
        - No sweep copy is in flight (the sweep has ended), so no older copy can land on
          a line after a host write that, once the slave is ACTIVE, no claim orders. The
          sweep is cancelled in the cycle the home agent starts answering for the dead
          module, and its answers reach the engine through a register slice, after the
          engine has stopped taking blocks to write: none of them is copied to the slave,
          as poison or otherwise (:class:`rtl.sweep.SweepEngine` discards every block it
          takes once cancelled).
        - A forwarded write that fails at the slave leaves the slave without it. Reported
          three cycles or more before the decision, it has cleared SWEPT_UPTO and the
          registered ``swept`` flag; one or two cycles before, it vetoes the decision
          (``fwd_err`` is registered). In the decision's
          cycle or later the host has it answered SLVERR: the host write engine answers a
          forwarded write whose slave failed SLVERR while its master's ``mirror.failover``
          is set or the master is OFF, and failover_en is set in the
          decision's cycle and, for a failover that applies, in the next.

        So every host write answered OKAY is on the new owner, and every read it answers
        OKAY comes from a module that held the range's data. (As for any master lost,
        requests decoded before the change reach the dead agent a few cycles later at
        most: its module is assumed not to be back by then.)
        """
        n = len(agents)
        alive = [Signal(name=f"slot_alive{i}") for i in range(n)]
        m.d.sync += [alive[a.index].eq(a.slot.present & a.slot.power_good) for a in agents]
        goes_off = [Signal(name=f"goes_off{i}") for i in range(n)]
        goes_idle = [Signal(name=f"goes_idle{i}") for i in range(n)]
        master_lost = [Signal(name=f"master_lost{i}") for i in range(n)]   # slave -> IDLE
        slave_lost = [Signal(name=f"slave_lost{i}") for i in range(n)]   # master -> ACTIVE
        fails_over = [Signal(name=f"fails_over{i}") for i in range(n)]   # master, decided
        applying = Signal(name="power_applying")
        decide = Signal(name="power_decide")
        m.d.comb += decide.eq(~self.freeze & ~seq.freeze_next & ~applying)
        lost_slot = [(a.mode != Mode.OFF) & ~alive[a.index] for a in agents]
        gained = [(a.mode == Mode.OFF) & alive[a.index] for a in agents]
        fwd = reports.fwd
        # Whether each pair is swept, a cycle old (a register: the 32-bit compare stays off
        # the decision). A failed forwarded write clears SWEPT_UPTO the cycle after its
        # report, so the flag may still be set one cycle more: the report vetoes the
        # decision in its own cycle and the next (``fwd_prev``).
        swept = [Signal(name=f"swept_q{i}") for i in range(n)]
        m.d.sync += [swept[a.index].eq(a.swept) for a in agents]
        fwd_prev = _registered(m, fwd, "fwd_prev")
        may_fail_over = [Signal(name=f"may_fail_over{i}") for i in range(n)]
        lost = [Signal(name=f"slot_lost{i}") for i in range(n)]   # decided now, if allowed
        for agent in agents:
            k = agent.index
            peer_lost = _any(lost_slot[other.index] & (agent.peer == other.index)
                             for other in agents if other is not agent)
            m.d.comb += may_fail_over[k].eq(
                (agent.mode == Mode.MIRROR_MASTER) & agent.regs.ras_ctrl[0] & swept[k] &
                ~peer_lost & ~(fwd.valid & (fwd.agent == k)) &
                ~(fwd_prev.valid & (fwd_prev.agent == k)))
            # a master that may fail over waits for its sweep to end, cancelled at once
            waits = may_fail_over[k] & agent.sweeping
            m.d.comb += lost[k].eq(lost_slot[k] & ~waits)
            with m.If(lost_slot[k] & waits & ~agent.cancelled):
                m.d.comb += agent.sweep.cancel.eq(1)
                m.d.sync += agent.cancelled.eq(1)
        for agent in agents:
            k = agent.index
            freed = orphaned = Const(0)
            for other in agents:
                if other is not agent:
                    partner_lost = lost[other.index] & (other.peer == k)
                    freed |= partner_lost & (other.mode == Mode.MIRROR_MASTER)
                    orphaned |= partner_lost & (other.mode == Mode.MIRROR_SLAVE)
            m.d.sync += [
                goes_off[k].eq(decide & lost[k]),
                goes_idle[k].eq(decide & gained[k]),
                master_lost[k].eq(decide & freed & (agent.mode == Mode.MIRROR_SLAVE)),
                slave_lost[k].eq(decide & orphaned & (agent.mode == Mode.MIRROR_MASTER)),
                fails_over[k].eq(decide & lost[k] & may_fail_over[k]),
            ]
        m.d.sync += applying.eq(decide & _any(lost + gained))
        for agent in agents:
            k = agent.index
            # applied: the slave takes the range (``failover`` is also the event strobe)
            m.d.comb += agent.failover.eq(fails_over[k] & agent.regs.ras_ctrl[0])
        for agent in agents:
            k = agent.index
            # its master (the agent whose peer it is; peers hold still since the decision)
            promoted = _any(other.failover & (other.peer == k)
                            for other in agents if other is not agent)
            with m.If(master_lost[k]):
                m.d.sync += agent.mode.eq(Mux(promoted, Mode.ACTIVE, Mode.IDLE))
            with m.If(slave_lost[k]):
                m.d.sync += [agent.mode.eq(Mode.ACTIVE), agent.swept_upto.eq(0)]
            with m.If((slave_lost[k] | goes_off[k]) & agent.sweeping):
                m.d.comb += agent.sweep.cancel.eq(1)
                m.d.sync += agent.cancelled.eq(1)
            with m.If(goes_idle[k]):
                m.d.sync += agent.mode.eq(Mode.IDLE)
            with m.If(goes_off[k]):
                m.d.sync += agent.mode.eq(Mode.OFF)

    def _track_sweep_and_errors(self, m, agents, reports):
        """SWEPT_UPTO from sweep progress; ERR_ADDR, the events and the error counts from
        memory-error reports; a failed forwarded write clears SWEPT_UPTO for the rest of
        the sweep; a refused SLOT_CTRL.power_en write sets err POWER.

        A host read report (``rd_err``) names the agent the read was routed to: corrected
        (served by the mirror slave) it counts in CE_COUNT and raises ``corrected``, else
        in UE_COUNT and raises ``mem_error``; either sets ERR_ADDR. A host write error
        raises ``mem_error`` and sets ERR_ADDR, and is not counted. Each line the sweep
        copies as poison counts in the master's UE_COUNT; the first of a SWEEP command
        also sets ERR_ADDR and raises ``mem_error``, the others are only counted (the
        SWEEP itself ends OK, and its progress passes them). A read report and a poison
        line in the same cycle count 2.

        The reports are registered (they come off the host port's response channels). One
        cycle late is still before the cycle EXEC sees the port quiet (a report comes while
        its burst is in flight), so a command never runs before a report of the traffic it
        drained. Progress only touches a sweeping agent, which is busy, so
        never what the checks read; a failed forwarded write may clear SWEPT_UPTO while a
        command of that agent is checked (SWEEP does not drain the port, and the others
        drain after the checks): it then sets ``poisoned``, which the sequencer cleared
        when it picked the command, and which a SWEEP (it never raises SWEPT_UPTO) and
        RELEASE (refused NOT_SWEPT) obey.
        """
        rd, wr, fwd = reports.rd, reports.wr, reports.fwd
        for agent in agents:
            i, sweep, regs = agent.index, agent.sweep, agent.regs
            with m.If(sweep.progress_valid & ~agent.poisoned &
                      (sweep.progress_end > agent.swept_upto)):
                m.d.sync += agent.swept_upto.eq(sweep.progress_end)
            read = rd.valid & (rd.agent == i)
            m.d.comb += [regs.ce_inc.eq(read & rd.corrected),
                         regs.ue_inc.eq((read & ~rd.corrected) + sweep.poison_valid)]
            with m.If(read):
                m.d.sync += agent.err_addr.eq(rd.line)
                with m.If(rd.corrected):
                    m.d.comb += agent.corrected.eq(1)
                with m.Else():
                    m.d.comb += agent.mem_error.eq(1)
            with m.If(wr.valid & (wr.agent == i)):
                m.d.sync += agent.err_addr.eq(wr.line)
                m.d.comb += agent.mem_error.eq(1)
            with m.If(sweep.poison_valid & ~agent.poison_reported):
                m.d.sync += [agent.err_addr.eq(sweep.poison_line), agent.poison_reported.eq(1)]
                m.d.comb += agent.mem_error.eq(1)
            with m.If(fwd.valid & (fwd.agent == i)):
                m.d.sync += [agent.err_addr.eq(fwd.line), agent.swept_upto.eq(0),
                             agent.poisoned.eq(1)]
                m.d.comb += agent.mem_error.eq(1)
            with m.If(regs.power_refused):
                m.d.sync += agent.err.eq(Err.POWER)
                m.d.comb += agent.cmd_done.eq(1)

    def _accept_commands(self, m, agents):
        """A CMD write: refused at once for a bad opcode or a busy agent (err, cmd_done),
        otherwise queued for the sequencer (``busy`` rises).

        ``err`` is the outcome of the last CMD write (or refused power-off): a refusal
        while a command runs *supersedes* it, and that command's end then raises
        ``cmd_done`` and drops ``busy`` but leaves ``err`` as the refusal set it. So a
        refused command never reads back as OK, whenever firmware looks.
        """
        for agent in agents:
            regs = agent.regs
            # The refusal a running command's end must leave in ``err``: the one answered
            # now, else the last one since it was queued. Kept as a code that can only
            # name an intake refusal (or POWER), so that the end never writes any other
            # refusal code, whatever state the flip-flops start from.
            bad_opcode = (regs.cmd_opcode < Op.ASSIGN) | (regs.cmd_opcode > Op.UNASSIGN)
            now = Signal(2, name=f"refusal_now{agent.index}")
            m.d.comb += now.eq(Mux(regs.power_refused, _POWER,
                                   Mux(~regs.cmd_valid, _NONE,
                                       Mux(bad_opcode, _BAD_OPCODE, _BUSY))))
            code = Mux(agent.busy & (now != _NONE), now, agent.superseded)
            m.d.comb += [
                agent.sticky.eq(code != _NONE),
                agent.sticky_err.eq(Mux(code == _POWER, Err.POWER,
                                        Mux(code == _BAD_OPCODE, Err.BAD_OPCODE, Err.BUSY))),
            ]
            with m.If(agent.busy & (now != _NONE)):
                m.d.sync += agent.superseded.eq(now)
            with m.If(regs.cmd_valid):
                m.d.comb += agent.cmd_done.eq(1)
                with m.If((regs.cmd_opcode < Op.ASSIGN) | (regs.cmd_opcode > Op.UNASSIGN)):
                    m.d.sync += agent.err.eq(Err.BAD_OPCODE)
                with m.Elif(agent.busy):
                    m.d.sync += agent.err.eq(Err.BUSY)
                with m.Else():
                    m.d.comb += agent.cmd_done.eq(0)
                    m.d.sync += [agent.busy.eq(1), agent.queued.eq(1),
                                 agent.queued_op.eq(regs.cmd_opcode),
                                 agent.queued_peer.eq(regs.cmd_peer)]

    def _finish_sweeps(self, m, agents):
        """The end of a SWEEP: ``busy`` falls with err POWER if it was cancelled, MEM_ERROR
        (and ERR_ADDR) if a read failed, OK otherwise."""
        for agent in agents:
            sweep = agent.sweep
            with m.If(sweep.done):
                m.d.sync += [agent.sweeping.eq(0), agent.busy.eq(0), agent.cancelled.eq(0),
                             agent.superseded.eq(_NONE)]
                m.d.comb += agent.cmd_done.eq(1)
                outcome = Signal(Err, name=f"sweep_outcome{agent.index}")
                with m.If(agent.cancelled | sweep.cancel):
                    m.d.comb += outcome.eq(Err.POWER)
                with m.Elif(sweep.failed):
                    m.d.comb += outcome.eq(Err.MEM_ERROR)
                    m.d.sync += agent.err_addr.eq(sweep.err_line)
                    m.d.comb += agent.mem_error.eq(1)
                m.d.sync += agent.err.eq(Mux(agent.sticky, agent.sticky_err, outcome))

    def _execute(self, m, agents, seq, execution):
        """EXEC: the verdict goes to ``err``; an accepted command changes the modes (and a
        SWEEP starts its engine, staying busy until it is done).

        RELEASE was checked before the drain: a forwarded write that failed since the pick
        (``poisoned``) has cleared SWEPT_UPTO, so it is refused NOT_SWEPT. A report comes
        while its burst is still in flight, so at the latest in the cycle before the port
        is quiet: it has set ``poisoned`` by the cycle EXEC sees the port quiet.
        """
        accepted = []
        for agent in agents:
            i = agent.index
            ok = Signal(name=f"exec_ok{i}")     # applied, if executed now
            m.d.comb += ok.eq(execution.ok[i] & ~(execution.release[i] & agent.poisoned))
            accepted.append(ok)
        # The slave's range is written only by an ESTABLISH that is applied now.
        establishing = _any(seq.execute[a.index] & accepted[a.index] &
                            (a.queued_op == Op.ESTABLISH) for a in agents)
        for agent, ok in zip(agents, accepted):
            i, regs, error = agent.index, agent.regs, execution.err[agent.index]
            m.d.comb += [regs.range_we.eq(establishing & execution.becomes_slave[i]),
                         regs.range_base.eq(execution.slave_base),
                         regs.range_size.eq(execution.slave_size)]
            verdict = Mux(execution.ok[i] & ~ok, Err.NOT_SWEPT, error)
            with m.If(seq.execute[i]):
                m.d.sync += [agent.queued.eq(0),
                             agent.err.eq(Mux(agent.sticky, agent.sticky_err, verdict))]
                with m.If(ok & (agent.queued_op == Op.SWEEP)):
                    m.d.sync += [agent.sweeping.eq(1), agent.cancelled.eq(0),
                                 agent.poison_reported.eq(0)]
                    m.d.comb += agent.sweep.start.eq(1)
                with m.Else():
                    m.d.sync += [agent.busy.eq(0), agent.superseded.eq(_NONE)]
                    m.d.comb += agent.cmd_done.eq(1)
                with m.If(ok):
                    self._apply(m, agent, agents)

    @staticmethod
    def _apply(m, agent, agents):
        """The mode changes of an accepted command of ``agent`` (SPEC section 4)."""
        others = [other for other in agents if other is not agent]
        with m.Switch(agent.queued_op):
            with m.Case(Op.ASSIGN):
                m.d.sync += agent.mode.eq(Mode.ACTIVE)
            with m.Case(Op.ESTABLISH):
                m.d.sync += [agent.mode.eq(Mode.MIRROR_MASTER), agent.peer.eq(agent.queued_peer),
                             agent.swept_upto.eq(0)]
                for other in others:
                    with m.If(agent.queued_peer == other.index):
                        m.d.sync += [other.mode.eq(Mode.MIRROR_SLAVE),
                                     other.peer.eq(agent.index)]
            with m.Case(Op.RELEASE, Op.ABORT):
                is_release = agent.queued_op == Op.RELEASE
                m.d.sync += [agent.mode.eq(Mux(is_release, Mode.IDLE, Mode.ACTIVE)),
                             agent.swept_upto.eq(0)]
                for other in others:
                    with m.If(agent.peer == other.index):
                        m.d.sync += other.mode.eq(Mux(is_release, Mode.ACTIVE, Mode.IDLE))
            with m.Case(Op.UNASSIGN):
                m.d.sync += agent.mode.eq(Mode.IDLE)


class _AgentState:
    """One agent's state in the controller, and the ports that belong to it."""

    def __init__(self, index, *, regs, sweep, slot, route):
        i = self.index = index
        self.regs, self.sweep, self.slot, self.route = regs, sweep, slot, route
        self.mode = Signal(Mode, name=f"mode{i}", init=Mode.OFF)
        self.peer = Signal(4, name=f"peer{i}")
        self.busy = Signal(name=f"busy{i}")
        self.err = Signal(4, name=f"err{i}")
        self.swept_upto = Signal(32, name=f"swept_upto{i}")
        self.swept = Signal(name=f"swept{i}")               # SWEPT_UPTO >= SIZE
        self.err_addr = Signal(32, name=f"err_addr{i}")
        # the command waiting for the sequencer (``busy`` is 1 while it waits)
        self.queued = Signal(name=f"queued{i}")
        self.queued_op = Signal(4, name=f"queued_op{i}")
        self.queued_peer = Signal(4, name=f"queued_peer{i}")
        # a SWEEP is running; a forwarded write failed during it (or since the sequencer
        # picked this agent's command); power cancelled it
        self.sweeping = Signal(name=f"sweeping{i}")
        self.poisoned = Signal(name=f"poisoned{i}")
        # the last refusal answered while a command runs (``_NONE`` or the code of
        # POWER, BAD_OPCODE, BUSY), and the err the command's end then leaves (``sticky``)
        self.superseded = Signal(2, name=f"superseded{i}")
        self.sticky = Signal(name=f"sticky{i}")
        self.sticky_err = Signal(Err, name=f"sticky_err{i}")
        self.cancelled = Signal(name=f"cancelled{i}")
        # the running SWEEP has reported a line copied as poison (ERR_ADDR holds the first)
        self.poison_reported = Signal(name=f"poison_reported{i}")
        self.capacity = Signal(32, name=f"capacity{i}")
        # event strobes, this cycle
        self.cmd_done = Signal(name=f"cmd_done{i}")
        self.mem_error = Signal(name=f"mem_error{i}")
        self.corrected = Signal(name=f"corrected{i}")
        self.failover = Signal(name=f"failover{i}")


class _Sequencer:
    """What the sequencer FSM tells the other parts."""

    def __init__(self, agents):
        self.selected = Signal(range(agents), name="selected")   # whose command runs
        self.port_quiet = Signal(name="port_quiet")
        self.port_clear = Signal(name="port_clear")         # nothing in flight to wait_on
        self.wait_on = Signal(agents, name="wait_on")      # the agents EXEC drains
        self.freeze_next = Signal(name="freeze_next")       # ``freeze`` is 1 next cycle
        self.drain = Signal(name="drain")                    # EXEC holds the port first
        self.execute = [Signal(name=f"execute{i}") for i in range(agents)]  # ... of i


class _Execution:
    """Stage 3 of the checks: what EXEC applies."""

    def __init__(self, agents):
        self.err = [Signal(Err, name=f"exec_err{i}") for i in range(agents)]
        self.ok = [Signal(name=f"exec_err_ok{i}") for i in range(agents)]
        self.release = [Signal(name=f"exec_release{i}") for i in range(agents)]
        self.becomes_slave = [Signal(name=f"becomes_slave{k}") for k in range(agents)]
        self.slave_base = Signal(32, name="slave_base")
        self.slave_size = Signal(32, name="slave_size")


# ``_AgentState.superseded``: no refusal, or which one
_NONE, _POWER, _BAD_OPCODE, _BUSY = range(4)


def _check_range(what, value, lo, hi):
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{what} must be an integer from {lo} to {hi}, not {value!r}")


def _owns_range(mode):
    return (mode == Mode.ACTIVE) | (mode == Mode.MIRROR_MASTER)


def _registered(m, report, name):
    """``report`` (an ErrorReportSignature, or what this returns) one cycle late, with the
    same member names."""
    q = SimpleNamespace(valid=Signal(name=f"{name}_valid"),
                        agent=Signal(4, name=f"{name}_agent"),
                        line=Signal(32, name=f"{name}_line"),
                        corrected=Signal(name=f"{name}_corrected"))
    m.d.sync += [q.valid.eq(report.valid), q.agent.eq(report.agent), q.line.eq(report.line),
                 q.corrected.eq(report.corrected)]
    return q


def _any(signals):
    result = Const(0)
    for s in signals:
        result = result | s
    return result
