"""Agent modes and the command sequencer (SPEC sections 2 and 4)."""

from amaranth.hdl import Module, Signal, Array, Const, Mux
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from mirrorswap.regmap import Mode, Op, Err, Event, RANGE_ALIGN
from .registers import AgentRegsSignature
from .signatures import (ROUTE_LAYOUT, SLOT_STATE_LAYOUT, ErrorReportSignature,
                         SweepControlSignature)

__all__ = ["MirrorController"]


class MirrorController(wiring.Component):
    """Holds every agent's mode, peer, error and sweep watermark, and executes commands.

    A CMD write is checked for its opcode and for ``busy`` at once (BAD_OPCODE, BUSY); any
    other command is queued (``busy`` = 1) and executed by one sequencer, one command at a
    time, so that commands on different agents see each other's effects in order. For each
    command the sequencer raises ``hold`` (the host port accepts no new request), waits for
    ``quiet`` (nothing in flight on the host port), then runs the checks of SPEC section 4
    in their order (two registered stages, for timing) and applies the command, still
    holding the port, so a mode change never overlaps a host transaction: this is what
    makes RELEASE atomic. While the checks run, ``freeze`` stalls register writes so that
    what they read cannot change under them. A refused command changes nothing but
    ``err``. SWEEP starts the agent's sweep engine and stays busy until
    the engine is done.

    Invariants: an agent's ``busy`` is 1 from the CMD write until ``err`` and the mode
    change are visible (``cmd_done`` is set in that cycle); a SLAVE's peer is its master and
    a MASTER's peer is its slave; SWEPT_UPTO only grows during a sweep, and is cleared when
    a forwarded write fails (the rest of that sweep then no longer raises it).

    Power: an OFF agent whose slot is present and power-good becomes IDLE; an agent whose
    slot loses either becomes OFF. A mirror slave that goes OFF aborts its pair (master back
    to ACTIVE); a master that goes OFF frees its slave (back to IDLE) and its range becomes
    unowned. A running sweep of such a pair is cancelled and finishes with err POWER.

    Parameters
    ----------
    agents : int
    max_capacity_log2 : int
        Larger modules are reported (CAPACITY) and used as this size.
    line_addr_width : int
        Host line address width; BASE+SIZE may not pass ``2**line_addr_width``.
    """

    def __init__(self, *, agents, max_capacity_log2, line_addr_width):
        self._agents = agents
        self._max_capacity_log2 = max_capacity_log2
        self._line_addr_width = line_addr_width
        members = {
            "hold": Out(1), "quiet": In(1), "freeze": Out(1),
            "fwd_err": In(ErrorReportSignature()),
            "wr_err": In(ErrorReportSignature()),
            "rd_err": In(ErrorReportSignature()),
            "routes": Out(data.ArrayLayout(ROUTE_LAYOUT, agents)),
            "slots": In(data.ArrayLayout(SLOT_STATE_LAYOUT, agents)),
            "ext_events": In(data.ArrayLayout(5, agents)),
        }
        for i in range(agents):
            members[f"regs{i}"] = In(AgentRegsSignature())
            members[f"sweep{i}"] = Out(SweepControlSignature())
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        n = self._agents
        regs = [getattr(self, f"regs{i}") for i in range(n)]
        sweeps = [getattr(self, f"sweep{i}") for i in range(n)]

        mode = [Signal(Mode, name=f"mode{i}", init=Mode.OFF) for i in range(n)]
        peer = [Signal(4, name=f"peer{i}") for i in range(n)]
        busy = [Signal(name=f"busy{i}") for i in range(n)]
        err = [Signal(4, name=f"err{i}") for i in range(n)]
        swept_upto = [Signal(32, name=f"swept_upto{i}") for i in range(n)]
        err_addr = [Signal(32, name=f"err_addr{i}") for i in range(n)]
        pend = [Signal(name=f"pend{i}") for i in range(n)]
        pend_op = [Signal(4, name=f"pend_op{i}") for i in range(n)]
        pend_peer = [Signal(4, name=f"pend_peer{i}") for i in range(n)]
        sweeping = [Signal(name=f"sweeping{i}") for i in range(n)]
        poisoned = [Signal(name=f"poisoned{i}") for i in range(n)]
        cancelled = [Signal(name=f"cancelled{i}") for i in range(n)]
        capacity = [Signal(32, name=f"capacity{i}") for i in range(n)]
        cmd_done = [Signal(name=f"cmd_done{i}") for i in range(n)]
        mem_error = [Signal(name=f"mem_error{i}") for i in range(n)]

        mode_a = Array(mode)
        cap_a = Array(capacity)

        def owns(md):
            return (md == Mode.ACTIVE) | (md == Mode.MIRROR_MASTER)

        for i in range(n):
            slot = self.slots[i]
            clog2 = Signal(5, name=f"clog2_{i}")
            m.d.comb += clog2.eq(Mux(slot.capacity_log2 > self._max_capacity_log2,
                                     self._max_capacity_log2, slot.capacity_log2))
            m.d.comb += capacity[i].eq(Mux(slot.present, Const(1, 32) << clog2, 0))
            r = regs[i]
            route = self.routes[i]
            m.d.comb += [
                route.mode.eq(mode[i]), route.peer.eq(peer[i]),
                route.base.eq(r.base), route.size.eq(r.size),
                r.mode.eq(mode[i]), r.busy.eq(busy[i]), r.peer.eq(peer[i]), r.err.eq(err[i]),
                r.swept.eq(swept_upto[i] >= r.size), r.swept_upto.eq(swept_upto[i]),
                r.err_addr.eq(err_addr[i]), r.capacity.eq(capacity[i]),
                r.present.eq(slot.present), r.power_good.eq(slot.power_good),
                r.range_lock.eq(owns(mode[i]) | (mode[i] == Mode.MIRROR_SLAVE)),
                r.power_protect.eq(owns(mode[i]) | (mode[i] == Mode.MIRROR_SLAVE)),
                r.event_set.eq(self.ext_events[i] |
                               Mux(cmd_done[i], Event.CMD_DONE, 0) |
                               Mux(mem_error[i], Event.MEM_ERROR, 0)),
                sweeps[i].start_line.eq(r.sweep_start), sweeps[i].count.eq(r.sweep_count),
            ]

        # ---- command checks, per agent, for its pending command ----------------------------
        # The checks compare 32-bit ranges across every pair of agents; they are computed in
        # two registered stages (``s1_*``: sums and plain compares; ``s2_*``: compares of
        # those sums) so that none is on one long path with the command's execution. They are
        # exact because the sequencer *freezes* everything they read for the two cycles
        # before and the cycle of execution (see ``freeze`` below).
        result = [Signal(Err, name=f"result{i}") for i in range(n)]
        law = self._line_addr_width
        align = RANGE_ALIGN - 1
        s1_end = [Signal(34, name=f"s1_end{i}") for i in range(n)]
        for i in range(n):
            m.d.sync += s1_end[i].eq(regs[i].base + regs[i].size)
            # The decoder's range end, one cycle old, is exact while the agent is routed
            # (ACTIVE or MIRROR_MASTER): BASE and SIZE are locked then, and the command that
            # makes an agent routed (ASSIGN, or RELEASE for the slave) runs after the
            # freeze has held them for two cycles. ASSIGN has checked the sum is at most
            # 2**line_addr_width, so 32 bits hold it.
            m.d.comb += self.routes[i].end.eq(s1_end[i])
        for i in range(n):
            r = regs[i]
            p = pend_peer[i]
            base, size = r.base, r.size
            s1_sweep_end = Signal(34, name=f"s1_sweep_end{i}")
            s1_peer_cap = Signal(32, name=f"s1_peer_cap{i}")
            s1_shape_bad = Signal(name=f"s1_shape_bad{i}")
            s1_sweep_bad = Signal(name=f"s1_sweep_bad{i}")
            s1_not_swept = Signal(name=f"s1_not_swept{i}")
            m.d.sync += [
                s1_sweep_end.eq(r.sweep_start + r.sweep_count),
                s1_peer_cap.eq(cap_a[p]),
                s1_shape_bad.eq((size == 0) | ((base & align) != 0) | ((size & align) != 0) |
                                (size > capacity[i])),
                s1_sweep_bad.eq((r.sweep_count == 0) | (r.sweep_start > swept_upto[i])),
                s1_not_swept.eq(swept_upto[i] < size),
            ]
            overlap = Const(0)
            for k in range(n):
                if k != i:
                    overlap = overlap | (owns(mode[k]) & (base < s1_end[k]) &
                                         (regs[k].base < s1_end[i]))
            s2_assign_bad = Signal(name=f"s2_assign_bad{i}")
            s2_overlap = Signal(name=f"s2_overlap{i}")
            s2_sweep_bad = Signal(name=f"s2_sweep_bad{i}")
            s2_capacity = Signal(name=f"s2_capacity{i}")
            s2_not_swept = Signal(name=f"s2_not_swept{i}")
            m.d.sync += [
                s2_assign_bad.eq(s1_shape_bad | (s1_end[i] > (1 << law))),
                s2_overlap.eq(overlap),
                s2_sweep_bad.eq(s1_sweep_bad | (s1_sweep_end > size)),
                s2_capacity.eq(s1_peer_cap < size),
                s2_not_swept.eq(s1_not_swept),
            ]
            with m.Switch(pend_op[i]):
                with m.Case(Op.ASSIGN):
                    with m.If(mode[i] != Mode.IDLE):
                        m.d.comb += result[i].eq(Err.BAD_STATE)
                    with m.Elif(s2_assign_bad):
                        m.d.comb += result[i].eq(Err.BAD_RANGE)
                    with m.Elif(s2_overlap):
                        m.d.comb += result[i].eq(Err.OVERLAP)
                with m.Case(Op.ESTABLISH):
                    with m.If(mode[i] != Mode.ACTIVE):
                        m.d.comb += result[i].eq(Err.BAD_STATE)
                    with m.Elif((p == i) | (p >= n) | (mode_a[p] != Mode.IDLE)):
                        m.d.comb += result[i].eq(Err.BAD_PEER)
                    with m.Elif(s2_capacity):
                        m.d.comb += result[i].eq(Err.CAPACITY)
                with m.Case(Op.SWEEP):
                    with m.If(mode[i] != Mode.MIRROR_MASTER):
                        m.d.comb += result[i].eq(Err.BAD_STATE)
                    with m.Elif(s2_sweep_bad):
                        m.d.comb += result[i].eq(Err.BAD_RANGE)
                with m.Case(Op.RELEASE):
                    with m.If(mode[i] != Mode.MIRROR_MASTER):
                        m.d.comb += result[i].eq(Err.BAD_STATE)
                    with m.Elif(s2_not_swept):
                        m.d.comb += result[i].eq(Err.NOT_SWEPT)
                with m.Case(Op.ABORT):
                    with m.If(mode[i] != Mode.MIRROR_MASTER):
                        m.d.comb += result[i].eq(Err.BAD_STATE)
                with m.Case(Op.UNASSIGN):
                    with m.If(mode[i] != Mode.ACTIVE):
                        m.d.comb += result[i].eq(Err.BAD_STATE)

        sel = Signal(range(n))   # the agent whose command the sequencer runs
        checked = [Signal(Err, name=f"checked{i}") for i in range(n)]
        m.d.sync += [checked[i].eq(result[i]) for i in range(n)]
        # An ESTABLISH gives the slave the master's range. Which agent is that slave, and
        # the range, are registered along with ``checked`` (exact for the same reason), so
        # EXEC drives the far register block's write enable from two flip-flops (timing).
        slave_of = [Signal(name=f"slave_of{k}") for k in range(n)]
        slave_base = Signal(32)    # the range of the agent whose command runs
        slave_size = Signal(32)
        m.d.sync += [slave_base.eq(Array(r.base for r in regs)[sel]),
                     slave_size.eq(Array(r.size for r in regs)[sel])]
        for k in range(n):
            hit = Const(0)
            for i in range(n):
                if i != k:
                    hit = hit | ((sel == i) & (pend_op[i] == Op.ESTABLISH) &
                                 (pend_peer[i] == k) & (result[i] == Err.OK))
            m.d.sync += slave_of[k].eq(hit)

        # ---- sequencer -----------------------------------------------------------------------
        # DRAIN: hold the host port until nothing is in flight. CHECK1..3: the check stages
        # fill (the third registers each agent's result). EXEC: the result is applied. From
        # CHECK1 to EXEC the state the checks read is frozen: no power transition (deferred
        # until EXEC is over) and no register write (``freeze`` stalls the register port),
        # so the result registered in CHECK3 is the result of the state at EXEC; sweep
        # progress and memory-error reports only touch agents that have no command pending
        # (a sweeping agent is busy; the host port is quiet).
        exec_now = Signal()
        freeze_soon = Signal()     # ``freeze`` is high in the next cycle
        # The host port's ``quiet`` is registered (timing: it comes from the far engines). It
        # counts only from a cycle the port was held in, so a burst accepted in the last
        # cycle before the hold is never missed.
        quiet = Signal()
        m.d.sync += quiet.eq(self.quiet & self.hold)
        # Which agent's command EXEC applies, as one flip-flop per agent set in CHECK3 (timing:
        # ``sel == i`` fed the updates of every agent's state, far apart). ``sel`` does not
        # change between CHECK3 and EXEC, so the flag is exact; CHECK3 always leads to EXEC.
        exec_go = [Signal(name=f"exec_go{i}") for i in range(n)]
        with m.FSM(name="seq") as seq:
            with m.State("IDLE"):
                for i in reversed(range(n)):
                    with m.If(pend[i]):
                        m.d.sync += sel.eq(i)
                with m.If(_any(pend)):
                    m.next = "DRAIN"
            with m.State("DRAIN"):
                m.d.comb += [self.hold.eq(1), freeze_soon.eq(quiet)]
                with m.If(quiet):
                    m.next = "CHECK1"
            with m.State("CHECK1"):
                m.d.comb += [self.hold.eq(1), self.freeze.eq(1), freeze_soon.eq(1)]
                m.next = "CHECK2"
            with m.State("CHECK2"):
                m.d.comb += [self.hold.eq(1), self.freeze.eq(1), freeze_soon.eq(1)]
                m.next = "CHECK3"
            with m.State("CHECK3"):
                m.d.comb += [self.hold.eq(1), self.freeze.eq(1), freeze_soon.eq(1)]
                m.next = "EXEC"
            with m.State("EXEC"):
                m.d.comb += [self.hold.eq(1), self.freeze.eq(1), exec_now.eq(1)]
                m.next = "IDLE"
        m.d.sync += [exec_go[i].eq(seq.ongoing("CHECK3") & (sel == i)) for i in range(n)]

        # Power transitions wait while the sequencer is frozen: they are level-triggered, so
        # one deferred by a command is simply applied after it. For timing they take two
        # registered steps: a slot's state is registered first (the slot controllers sit
        # far away), then each transition is decided into a flag (``pw_*``) and applied the
        # cycle after. The decision is exact: it is only taken when the sequencer is not
        # frozen in this cycle or the next, and not in the cycle a previous one applies, so
        # nothing else changes a mode or peer in between; whether a sweep is running is
        # read when applying. Partner fix-ups come before an agent's own transition so that
        # an agent's own loss of power always wins.
        alive = [Signal(name=f"alive{i}") for i in range(n)]
        m.d.sync += [alive[i].eq(self.slots[i].present & self.slots[i].power_good)
                     for i in range(n)]
        pw_off = [Signal(name=f"pw_off{i}") for i in range(n)]         # goes OFF
        pw_on = [Signal(name=f"pw_on{i}") for i in range(n)]           # OFF -> IDLE
        pw_freed = [Signal(name=f"pw_freed{i}") for i in range(n)]     # slave, master lost
        pw_orphan = [Signal(name=f"pw_orphan{i}") for i in range(n)]   # master, slave lost
        pw_apply = Signal()
        decide = Signal()
        m.d.comb += decide.eq(~self.freeze & ~freeze_soon & ~pw_apply)
        lost = [(mode[i] != Mode.OFF) & ~alive[i] for i in range(n)]
        gained = [(mode[i] == Mode.OFF) & alive[i] for i in range(n)]
        for k in range(n):
            freed = orphan = Const(0)
            for i in range(n):
                if i != k:
                    partner = lost[i] & (peer[i] == k)
                    freed |= partner & (mode[i] == Mode.MIRROR_MASTER)
                    orphan |= partner & (mode[i] == Mode.MIRROR_SLAVE)
            m.d.sync += [
                pw_off[k].eq(decide & lost[k]),
                pw_on[k].eq(decide & gained[k]),
                pw_freed[k].eq(decide & freed & (mode[k] == Mode.MIRROR_SLAVE)),
                pw_orphan[k].eq(decide & orphan & (mode[k] == Mode.MIRROR_MASTER)),
            ]
        m.d.sync += pw_apply.eq(decide & _any(lost + gained))
        for k in range(n):
            with m.If(pw_freed[k]):
                m.d.sync += mode[k].eq(Mode.IDLE)
            with m.If(pw_orphan[k]):
                m.d.sync += [mode[k].eq(Mode.ACTIVE), swept_upto[k].eq(0)]
            with m.If((pw_orphan[k] | pw_off[k]) & sweeping[k]):
                m.d.comb += sweeps[k].cancel.eq(1)
                m.d.sync += cancelled[k].eq(1)
            with m.If(pw_on[k]):
                m.d.sync += mode[k].eq(Mode.IDLE)
            with m.If(pw_off[k]):
                m.d.sync += mode[k].eq(Mode.OFF)

        # ---- per-agent bookkeeping -------------------------------------------------------------
        # Memory-error reports come straight off the host port's response channels; they
        # are registered first (timing). One cycle later is still before the port can be
        # quiet, so a command never runs before a report of the traffic it drained.
        def registered(rep, name):
            valid, agent, line = (Signal(name=f"{name}_valid"), Signal(4, name=f"{name}_agent"),
                                  Signal(32, name=f"{name}_line"))
            m.d.sync += [valid.eq(rep.valid), agent.eq(rep.agent), line.eq(rep.line)]
            return valid, agent, line
        rd_err = registered(self.rd_err, "rd_err_q")
        wr_err = registered(self.wr_err, "wr_err_q")
        fwd_err = registered(self.fwd_err, "fwd_err_q")
        for i in range(n):
            r = regs[i]
            sw = sweeps[i]
            p = pend_peer[i]
            # sweep progress and memory errors
            with m.If(sw.progress_valid & ~poisoned[i] & (sw.progress_end > swept_upto[i])):
                m.d.sync += swept_upto[i].eq(sw.progress_end)
            for valid, agent, line in (rd_err, wr_err):
                with m.If(valid & (agent == i)):
                    m.d.sync += err_addr[i].eq(line)
                    m.d.comb += mem_error[i].eq(1)
            with m.If(fwd_err[0] & (fwd_err[1] == i)):
                m.d.sync += [err_addr[i].eq(fwd_err[2]), swept_upto[i].eq(0),
                             poisoned[i].eq(1)]
                m.d.comb += mem_error[i].eq(1)
            with m.If(r.power_refused):
                m.d.sync += err[i].eq(Err.POWER)
                m.d.comb += cmd_done[i].eq(1)
            # command intake
            with m.If(r.cmd_valid):
                m.d.comb += cmd_done[i].eq(1)
                with m.If((r.cmd_opcode < Op.ASSIGN) | (r.cmd_opcode > Op.UNASSIGN)):
                    m.d.sync += err[i].eq(Err.BAD_OPCODE)
                with m.Elif(busy[i]):
                    m.d.sync += err[i].eq(Err.BUSY)
                with m.Else():
                    m.d.comb += cmd_done[i].eq(0)
                    m.d.sync += [busy[i].eq(1), pend[i].eq(1), pend_op[i].eq(r.cmd_opcode),
                                 pend_peer[i].eq(r.cmd_peer)]
            # sweep completion
            with m.If(sw.done):
                m.d.sync += [sweeping[i].eq(0), busy[i].eq(0), cancelled[i].eq(0)]
                m.d.comb += cmd_done[i].eq(1)
                with m.If(cancelled[i] | sw.cancel):
                    m.d.sync += err[i].eq(Err.POWER)
                with m.Elif(sw.failed):
                    m.d.sync += [err[i].eq(Err.MEM_ERROR), err_addr[i].eq(sw.err_line)]
                    m.d.comb += mem_error[i].eq(1)
                with m.Else():
                    m.d.sync += err[i].eq(Err.OK)
            # execution of the pending command
            m.d.comb += [r.range_we.eq(exec_now & slave_of[i]),
                         r.range_base.eq(slave_base), r.range_size.eq(slave_size)]
            with m.If(exec_go[i]):
                m.d.sync += [pend[i].eq(0), err[i].eq(checked[i])]
                with m.If((checked[i] == Err.OK) & (pend_op[i] == Op.SWEEP)):
                    m.d.sync += [sweeping[i].eq(1), poisoned[i].eq(0), cancelled[i].eq(0)]
                    m.d.comb += sw.start.eq(1)
                with m.Else():
                    m.d.sync += busy[i].eq(0)
                    m.d.comb += cmd_done[i].eq(1)
                with m.If(checked[i] == Err.OK):
                    with m.Switch(pend_op[i]):
                        with m.Case(Op.ASSIGN):
                            m.d.sync += mode[i].eq(Mode.ACTIVE)
                        with m.Case(Op.ESTABLISH):
                            m.d.sync += [mode[i].eq(Mode.MIRROR_MASTER), peer[i].eq(p),
                                         swept_upto[i].eq(0)]
                            for k in range(n):
                                if k == i:
                                    continue
                                with m.If(p == k):
                                    m.d.sync += [mode[k].eq(Mode.MIRROR_SLAVE), peer[k].eq(i)]
                        with m.Case(Op.RELEASE, Op.ABORT):
                            is_release = pend_op[i] == Op.RELEASE
                            m.d.sync += [mode[i].eq(Mux(is_release, Mode.IDLE, Mode.ACTIVE)),
                                         swept_upto[i].eq(0)]
                            for k in range(n):
                                if k == i:
                                    continue
                                with m.If(peer[i] == k):
                                    m.d.sync += mode[k].eq(Mux(is_release, Mode.ACTIVE,
                                                               Mode.IDLE))
                        with m.Case(Op.UNASSIGN):
                            m.d.sync += mode[i].eq(Mode.IDLE)

        return m


def _any(signals):
    result = Const(0)
    for s in signals:
        result = result | s
    return result
