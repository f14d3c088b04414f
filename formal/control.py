"""``control_core``: the register block and the command sequencer, built from the RTL classes.

The refused-command proof runs on this wrapper rather than on the whole top level: a
refusal is decided by ``ControlRegisters`` + ``MirrorController`` alone, and without the
data path the solver can reach every mode of both agents within a short depth, and
k-induction can close. Everything the two blocks exchange is wired by the top level's own
:func:`rtl.top.connect_control` (each agent's register interface, ``freeze``, the AXI4-Lite
port); what the rest of the top would drive is left to the harness as free inputs:

- ``s_axil``: the AXI4-Lite register port (the solver is the firmware);
- ``slot<i>_*``: presence, power-good and capacity of each slot, any value at any time
  (``SlotController`` debounces and sequences these in the top; here they may change every
  cycle, which only gives the solver more power);
- ``quiet``: the host port's "nothing in flight", any value at any time;
- ``fwd_err`` / ``wr_err`` / ``rd_err``: memory-error reports, any value at any time;
- ``sweep<i>``: the sweep engine's side of the controller's sweep control (the harness
  models an engine that may report progress and finish whenever it likes once started).

What the harness observes are the controller's and register block's own ports: each
agent's route (mode, peer, base, size), SWEPT_UPTO, err, busy, and the ``cmd_done`` event
(``event_set`` bit 0; slot events are tied off so it carries nothing else); for the LOCK
proof also LOCK.secure_only, DEBOUNCE, BLINK, ``irq`` and each agent's stored registers
(SWEEP_START, SWEEP_COUNT, THROTTLE, SLOT_CTRL's power and LED outputs, IRQ_EN, EVENTS), its
command and refused-power-off pulses and the core's write of a slave's range.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect

from mirrorswap import regmap
from mirrorswap.rtl.controller import MirrorController
from mirrorswap.rtl.registers import ControlRegisters
from mirrorswap.rtl.signatures import (AXI4LiteSignature, ErrorReportSignature,
                                       SLOT_STATE_LAYOUT, SweepControlSignature)
from mirrorswap.rtl.top import connect_control

__all__ = ["ControlCore"]


class ControlCore(wiring.Component):
    """``ControlRegisters`` + ``MirrorController`` wired as in the top, for the proofs of
    ``formal/refuse.sv`` (see the module docstring for what is free and what is observed).

    Parameters
    ----------
    agents : int
        Home agents (the harness instantiates 2).
    max_capacity_log2 : int
        Largest module, log2 of lines.
    addr_width : int
        Host byte address bits (ASSIGN's address-space check).
    """

    def __init__(self, *, agents=2, max_capacity_log2=9, addr_width=32):
        self._n = agents
        self._mcl = max_capacity_log2
        self._aw = addr_width
        slot = wiring.Signature({name: In(field.shape) for name, field in SLOT_STATE_LAYOUT})
        members = {
            "s_axil": In(AXI4LiteSignature(addr_width=regmap.REG_ADDR_WIDTH)),
            "quiet": In(1), "hold": Out(1), "freeze": Out(1),
            "fwd_err": In(ErrorReportSignature()),
            "wr_err": In(ErrorReportSignature()),
            "rd_err": In(ErrorReportSignature()),
            # per agent (ports slot<i>_present, sweep<i>_start, mode<i>, ...)
            "slot": Out(slot).array(agents),
            "sweep": Out(SweepControlSignature()).array(agents),
            "mode": Out(3).array(agents), "peer": Out(4).array(agents),
            "base": Out(32).array(agents), "size": Out(32).array(agents),
            "swept_upto": Out(32).array(agents), "err": Out(4).array(agents),
            "busy": Out(1).array(agents), "cmd_done": Out(1).array(agents),
            "cmd_valid": Out(1).array(agents), "cmd_opcode": Out(4).array(agents),
            # every other value software writes, for the LOCK proof (LOCK itself, the
            # globals, each agent's stored registers and slot outputs), and what else
            # changes them: the core's copy of a range into a slave's BASE/SIZE and a
            # refused power-off
            "secure_only": Out(1), "debounce": Out(16), "blink": Out(16), "irq": Out(1),
            "sweep_start": Out(32).array(agents), "sweep_count": Out(32).array(agents),
            "throttle": Out(16).array(agents), "power_en": Out(1).array(agents),
            "power_led": Out(2).array(agents), "attn_led": Out(2).array(agents),
            "irq_en": Out(5).array(agents), "events": Out(5).array(agents),
            "range_we": Out(1).array(agents), "power_refused": Out(1).array(agents),
        }
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        n = self._n
        cfg = regmap.global_reg("CONFIG")
        config = cfg.max_capacity_log2.put(
            cfg.line_bytes.put(cfg.agents.put(0, n), regmap.LINE_BYTES), self._mcl)
        m.submodules.regs = regs = ControlRegisters(agents=n, config=config)
        m.submodules.ctrl = ctrl = MirrorController(
            agents=n, max_capacity_log2=self._mcl, line_addr_width=self._aw - 3)

        connect_control(m, regs=regs, ctrl=ctrl, bus=wiring.flipped(self.s_axil))
        m.d.comb += [ctrl.quiet.eq(self.quiet), self.hold.eq(ctrl.hold),
                     self.freeze.eq(ctrl.freeze)]
        for name in ("fwd_err", "wr_err", "rd_err"):
            connect(m, ext=wiring.flipped(getattr(self, name)), ctrl=getattr(ctrl, name))
        m.d.comb += [self.secure_only.eq(regs.secure_only), self.debounce.eq(regs.debounce),
                     self.blink.eq(regs.blink), self.irq.eq(regs.irq)]
        for i in range(n):
            r = regs.agent[i]
            for name in ("sweep_start", "sweep_count", "throttle", "power_en", "power_led",
                         "attn_led", "irq_en", "events", "range_we", "power_refused"):
                m.d.comb += getattr(self, name)[i].eq(getattr(r, name))
        for i in range(n):
            c = ctrl.regs[i]
            connect(m, ctrl=ctrl.sweep[i], ext=wiring.flipped(self.sweep[i]))
            route = ctrl.routes[i]
            for name, _ in SLOT_STATE_LAYOUT:
                m.d.comb += getattr(ctrl.slots[i], name).eq(getattr(self.slot[i], name))
            m.d.comb += [
                ctrl.ext_events[i].eq(0),
                self.mode[i].eq(route.mode), self.peer[i].eq(route.peer),
                self.base[i].eq(route.base), self.size[i].eq(route.size),
                self.swept_upto[i].eq(c.swept_upto), self.err[i].eq(c.err),
                self.busy[i].eq(c.busy), self.cmd_done[i].eq(c.event_set[0]),
                self.cmd_valid[i].eq(c.cmd_valid), self.cmd_opcode[i].eq(c.cmd_opcode),
            ]
        return m
