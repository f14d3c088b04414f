"""``mirror_core``: the data path of one running mirror pair, built from the RTL classes.

The no-lost-write proof runs on this wrapper instead of the whole top level: on the top, the
firmware has to ASSIGN, ESTABLISH and SWEEP over AXI4-Lite before a copy even starts, and a
bounded proof that deep did not finish in minutes (see formal/README.md). The wrapper keeps
every block a host write and a sweep copy pass through, wired by the top level's own
:func:`rtl.top.connect_data_path` (less the register slices between agents and sources,
see formal/README.md):

    s_axi (write half) -> HostWriteEngine -> HomeAgent 0 -> m_axi_mem0   (master)
                                          \\-> HomeAgent 1 -> m_axi_mem1  (slave: forwarded)
    SweepEngine 0: reads HomeAgent 0 (sweep port), writes HomeAgent 1 (sweep port, through
    the SweepWriteRouter)
    claims: SweepEngine 0 <-> HostWriteEngine (both directions)

and replaces the controller by constants: agent 0 MIRROR_MASTER of [0, 512) with peer 1,
agent 1 MIRROR_SLAVE of the same range with peer 0, ``hold`` low, both modules alive. The
sweep is started from the ``sweep_start`` port with ``sweep_first`` / ``sweep_count`` and
reports ``sweep_done`` and its watermark (``sweep_progress_valid`` / ``sweep_progress_end``)
as the controller would see them.

``sweep_reads="memory"`` (only for the ``claim_ahead`` proofs) wires the sweep engine's
read half straight to the master's memory port instead of through home agent 0 (whose read
side has nothing else to serve here: no host reads reach this core; its writes still go
through the agent). A memory may accept an AR in the cycle it is shown, so the engine can
issue a block every other cycle, the fastest its *Both checks registered* argument allows
for. Through a home agent it cannot: the agent's read grant is a flip-flop that returns to
the host after each sweep read, so a sweep AR is accepted a cycle after it is shown at the
earliest and blocks are issued at least three cycles apart, which keeps a claim of one
burst ahead (``claim_ahead=1``) safe in the shipped composition.
"""

from types import SimpleNamespace

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect

from mirrorswap.rtl.home_agent import HomeAgent
from mirrorswap.rtl.host_write import HostWriteEngine
from mirrorswap.regmap import Mode
from mirrorswap.rtl.signatures import AXI4Signature, claim_bits
from mirrorswap.rtl.sweep import SweepEngine
from mirrorswap.rtl.top import connect_data_path

__all__ = ["MirrorCore"]

RANGE_LINES = 512


#: The host write engine's queue sizes in the proofs.
_WRITE_Q = {"claims": 2, "w_ahead": 2, "park_beats": 2}


class MirrorCore(wiring.Component):
    def __init__(self, *, addr_width=32, data_width=64, id_width=2, sweep_burst=2,
                 sweep_depth=4, max_blocks=None, max_sub_bursts=None, max_reads=None,
                 max_writes=None, hazard_check=True, sweep_claim_ahead=2,
                 sweep_reads="agent"):
        if sweep_reads not in ("agent", "memory"):
            raise ValueError(f"Sweep reads must be 'agent' or 'memory', not {sweep_reads!r}")
        self._sweep_reads = sweep_reads
        # queue sizes of the blocks (None: the RTL's defaults, as shipped)
        self._sweep_q = {k: v for k, v in (("max_blocks", max_blocks),
                                           ("max_sub_bursts", max_sub_bursts)) if v is not None}
        self._agent_q = {k: v for k, v in (("max_reads", max_reads),
                                           ("max_writes", max_writes)) if v is not None}
        self._aw = addr_width
        self._dw = data_width
        self._idw = id_width
        self._burst = sweep_burst
        self._depth = sweep_depth
        self._hazard_check = hazard_check
        self._claim_ahead = sweep_claim_ahead
        super().__init__({
            "s_axi": In(AXI4Signature(addr_width=addr_width, data_width=data_width,
                                      id_width=id_width, read=False)),
            "m_axi_mem": Out(AXI4Signature(addr_width=addr_width, data_width=data_width,
                                           id_width=id_width, user=True)).array(2),
            "sweep_start": In(1), "sweep_first": In(32), "sweep_count": In(32),
            "sweep_done": Out(1), "sweep_progress_valid": Out(1),
            "sweep_progress_end": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        axi = dict(addr_width=self._aw, data_width=self._dw, id_width=self._idw)
        # the claim compares narrowed as the top narrows them
        cb = claim_bits(RANGE_LINES.bit_length() - 1, self._burst)
        # the write engine's queues as small as keeps every path of it reachable (two
        # claim entries, two bursts ahead, a park of two beats): the proof's state, and
        # so its time, grows with them, its logic does not change
        m.submodules.wr = wr = HostWriteEngine(agents=2, addr_width=self._aw,
                                               data_width=self._dw, id_width=self._idw,
                                               hazard_check=self._hazard_check,
                                               claim_bits=cb, **_WRITE_Q)
        m.submodules.ha0 = ha0 = HomeAgent(**axi, **self._agent_q)
        m.submodules.ha1 = ha1 = HomeAgent(**axi, **self._agent_q)
        m.submodules.sweep0 = sw = SweepEngine(agent=0, burst=self._burst, depth=self._depth,
                                               hazard_check=self._hazard_check,
                                               claim_bits=cb, **axi,
                                               claim_ahead=self._claim_ahead,
                                               host_claims=_WRITE_Q["claims"],
                                               **self._sweep_q)

        connect(m, wr.s, wiring.flipped(self.s_axi))
        routes = [(Mode.MIRROR_MASTER, 1), (Mode.MIRROR_SLAVE, 0)]
        for i, (mode, peer) in enumerate(routes):
            m.d.comb += [wr.routes[i].mode.eq(mode), wr.routes[i].peer.eq(peer),
                         wr.routes[i].base.eq(0), wr.routes[i].size.eq(RANGE_LINES),
                         wr.routes[i].end.eq(RANGE_LINES)]
        m.d.comb += [wr.hold.eq(0), ha0.alive.eq(1), ha1.alive.eq(1), sw.throttle.eq(0)]

        # agent 1 has no sweep of its own, and no host reads reach either agent here
        mems = [wiring.flipped(port) for port in self.m_axi_mem]
        sweeps = [sw, None]
        if self._sweep_reads == "memory":
            # agent 0 gets stand-ins for its memory port and for the sweep's read half; the
            # memory port takes agent 0's write half and the sweep's read half
            pins = self.m_axi_mem[0].signature.flip().create()
            sweep_rd = sw.rd.signature.create()
            sweeps = [SimpleNamespace(rd=sweep_rd, claim=sw.claim, host=sw.host, wr=sw.wr),
                      None]
            mems[0] = pins
            port = self.m_axi_mem[0]
            for name, member in port.signature.members.items():
                src = sw.rd if name.startswith(("ar", "r")) else pins
                if member.flow == Out:
                    m.d.comb += getattr(port, name).eq(getattr(src, name))
                else:
                    m.d.comb += getattr(src, name).eq(getattr(port, name))
        connect_data_path(m, wr=wr, rd=None, agents=[ha0, ha1], sweeps=sweeps,
                          routes=wr.routes, slices=False, mems=mems)

        m.d.comb += [
            sw.ctrl.start.eq(self.sweep_start), sw.ctrl.start_line.eq(self.sweep_first),
            sw.ctrl.count.eq(self.sweep_count), sw.ctrl.cancel.eq(0),
            self.sweep_done.eq(sw.ctrl.done),
            self.sweep_progress_valid.eq(sw.ctrl.progress_valid),
            self.sweep_progress_end.eq(sw.ctrl.progress_end),
        ]
        return m
