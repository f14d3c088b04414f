"""``control_core``: the register block and the command sequencer, built from the RTL classes.

The refused-command proof runs on this wrapper rather than on the whole top level: a
refusal is decided by ``ControlRegisters`` + ``MirrorController`` alone, and without the
data path the solver can reach every mode of both agents within a short depth, and
k-induction can close. Everything the two blocks exchange is wired as ``rtl/top.py`` wires
it (``connect`` of each agent's register interface, ``freeze``); what the rest of the top
would drive is left to the harness as free inputs:

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
(``event_set`` bit 0; slot events are tied off so it carries nothing else).
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect

from mirrorswap import regmap
from mirrorswap.rtl.controller import MirrorController
from mirrorswap.rtl.registers import ControlRegisters
from mirrorswap.rtl.signatures import AXI4LiteSignature, ErrorReportSignature, SweepControlSignature

__all__ = ["ControlCore"]


class ControlCore(wiring.Component):
    def __init__(self, *, agents=2, max_capacity_log2=9, addr_width=32):
        self._n = agents
        self._mcl = max_capacity_log2
        self._aw = addr_width
        members = {
            "s_axil": In(AXI4LiteSignature(addr_width=regmap.REG_ADDR_WIDTH)),
            "quiet": In(1), "hold": Out(1), "freeze": Out(1),
            "fwd_err": In(ErrorReportSignature()),
            "wr_err": In(ErrorReportSignature()),
            "rd_err": In(ErrorReportSignature()),
        }
        for i in range(agents):
            members.update({
                f"slot{i}_present": In(1), f"slot{i}_power_good": In(1),
                f"slot{i}_capacity_log2": In(5),
                f"sweep{i}": Out(SweepControlSignature()),
                f"mode{i}": Out(3), f"peer{i}": Out(4), f"base{i}": Out(32),
                f"size{i}": Out(32), f"swept_upto{i}": Out(32), f"err{i}": Out(4),
                f"busy{i}": Out(1), f"cmd_done{i}": Out(1),
                f"cmd_valid{i}": Out(1), f"cmd_opcode{i}": Out(4),
            })
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

        connect(m, regs=regs.bus, host=wiring.flipped(self.s_axil))
        m.d.comb += [regs.freeze.eq(ctrl.freeze), ctrl.quiet.eq(self.quiet),
                     self.hold.eq(ctrl.hold), self.freeze.eq(ctrl.freeze)]
        for name in ("fwd_err", "wr_err", "rd_err"):
            connect(m, ext=wiring.flipped(getattr(self, name)), ctrl=getattr(ctrl, name))
        for i in range(n):
            r = regs.agent(i)
            c = getattr(ctrl, f"regs{i}")
            connect(m, regs=r, ctrl=c)
            connect(m, ctrl=getattr(ctrl, f"sweep{i}"),
                    ext=wiring.flipped(getattr(self, f"sweep{i}")))
            route = ctrl.routes[i]
            m.d.comb += [
                ctrl.slots[i].present.eq(getattr(self, f"slot{i}_present")),
                ctrl.slots[i].power_good.eq(getattr(self, f"slot{i}_power_good")),
                ctrl.slots[i].capacity_log2.eq(getattr(self, f"slot{i}_capacity_log2")),
                ctrl.ext_events[i].eq(0),
                getattr(self, f"mode{i}").eq(route.mode),
                getattr(self, f"peer{i}").eq(route.peer),
                getattr(self, f"base{i}").eq(route.base),
                getattr(self, f"size{i}").eq(route.size),
                getattr(self, f"swept_upto{i}").eq(c.swept_upto),
                getattr(self, f"err{i}").eq(c.err),
                getattr(self, f"busy{i}").eq(c.busy),
                getattr(self, f"cmd_done{i}").eq(c.event_set[0]),
                getattr(self, f"cmd_valid{i}").eq(c.cmd_valid),
                getattr(self, f"cmd_opcode{i}").eq(c.cmd_opcode),
            ]
        return m
