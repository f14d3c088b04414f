"""``read_core``: the host read and write paths of one mirror pair, for the RAS read proofs.

The read failover and poison proofs (``failover_read``, ``poison_read``, see
docs/formal.md) run on this wrapper: the shipped :class:`HostReadEngine` and
:class:`HostWriteEngine` in front of two :class:`HomeAgent` s, wired by the top level's
own :func:`rtl.top.connect_data_path` (without the register slices, as ``mirror_core``):

    s_axi (read half)  -> HostReadEngine  -> HomeAgent 0 -> m_axi_mem0   (master)
                                          \\-> HomeAgent 1 -> m_axi_mem1  (slave: re-reads)
    s_axi (write half) -> HostWriteEngine -> HomeAgent 0 and, forwarded, HomeAgent 1

The controller is replaced by constants and two inputs: agent 0 is the MIRROR_MASTER of
[0, 512) with peer 1, agent 1 its MIRROR_SLAVE; ``hold`` is low, both modules alive, no
sweep runs (the copy is the no-lost-write proof's, ``mirror_core``). The master's read
failover state, ``mirror[0]``, comes from the ports ``failover`` and ``swept_upto``, which
the harness drives as the controller would (RAS_CTRL.failover_en at any time; SWEPT_UPTO
never decreasing); the slave's is 0.

``mutation`` builds a deliberately broken variant, by changing what the read engine sees,
never the RTL itself (so the mutation cannot drift from the RTL it breaks):

- ``"ignore_swept"``: the engine sees SWEPT_UPTO as all ones, so a bad beat fails over
  for any line, also one the slave does not hold yet.
- ``"slave_error_ok"``: the slave's R beats reach the engine without their error response
  and poison (the slave serves only re-reads here), so a bad re-read is answered OKAY.
- ``"ignore_poison"``: the master's ``ruser`` is dropped on its way to the engine, so a
  poisoned beat is answered OKAY (nor does it fail over).
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from types import SimpleNamespace

from mirrorswap.regmap import Mode
from mirrorswap.rtl.home_agent import HomeAgent
from mirrorswap.rtl.host_read import HostReadEngine
from mirrorswap.rtl.host_write import HostWriteEngine
from mirrorswap.rtl.signatures import AXI4Signature, ErrorReportSignature
from mirrorswap.rtl.top import connect_data_path

__all__ = ["ReadCore", "MUTATIONS"]

RANGE_LINES = 512
#: The broken variants :class:`ReadCore` can build (see the module's docstring).
MUTATIONS = ("ignore_swept", "slave_error_ok", "ignore_poison")


class ReadCore(wiring.Component):
    """Host reads and writes of a mirror pair (agent 0 master, agent 1 slave), with the
    master's read failover state from the ports.

    Parameters
    ----------
    addr_width, data_width, id_width : int
        Widths of the host port and the memory ports.
    outstanding : int
        The read engine's bursts in flight (``HostReadEngine(outstanding=...)``).
    max_reads, max_writes : int or None
        The home agents' per-source limits (``None``: the RTL's defaults).
    mutation : str or None
        One of :data:`MUTATIONS` for a broken variant, ``None`` for the design as shipped.

    Members
    -------
    s_axi : In(AXI4Signature)
        The host port (both halves).
    m_axi_mem : Out(AXI4Signature(user=True)).array(2)
        The memory ports of the master (0) and the slave (1); ``ruser`` / ``wuser`` poison.
    failover : In(1)
        RAS_CTRL.failover_en of the master.
    swept_upto : In(32)
        The master's SWEPT_UPTO: lines below it are valid at the slave.
    rd_err : Out(ErrorReportSignature())
        The read engine's report of bad beats (``corrected``: served by the slave).
    """

    def __init__(self, *, addr_width=32, data_width=64, id_width=2, outstanding=8,
                 max_reads=None, max_writes=None, mutation=None):
        if mutation is not None and mutation not in MUTATIONS:
            raise ValueError(f"Mutation must be one of {', '.join(MUTATIONS)} or None, "
                             f"not {mutation!r}")
        self._axi = dict(addr_width=addr_width, data_width=data_width, id_width=id_width)
        self._outstanding = outstanding
        self._agent_q = {k: v for k, v in (("max_reads", max_reads),
                                           ("max_writes", max_writes)) if v is not None}
        self._mutation = mutation
        super().__init__({
            "s_axi": In(AXI4Signature(**self._axi)),
            "m_axi_mem": Out(AXI4Signature(**self._axi, user=True)).array(2),
            "failover": In(1), "swept_upto": In(32),
            "rd_err": Out(ErrorReportSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        axi = self._axi
        m.submodules.wr = wr = HostWriteEngine(agents=2, **axi, outstanding=self._outstanding)
        m.submodules.rd = rd = HostReadEngine(agents=2, **axi, outstanding=self._outstanding)
        m.submodules.ha0 = ha0 = HomeAgent(**axi, **self._agent_q)
        m.submodules.ha1 = ha1 = HomeAgent(**axi, **self._agent_q)

        # the host port, split into its halves as the top level splits it
        for name, member in self.s_axi.signature.members.items():
            engine = wr.s if name in wr.s.signature.members else rd.s
            if member.flow == In:
                m.d.comb += getattr(engine, name).eq(getattr(self.s_axi, name))
            else:
                m.d.comb += getattr(self.s_axi, name).eq(getattr(engine, name))

        routes = [(Mode.MIRROR_MASTER, 1), (Mode.MIRROR_SLAVE, 0)]
        for engine in (wr, rd):
            for i, (mode, peer) in enumerate(routes):
                m.d.comb += [engine.routes[i].mode.eq(mode), engine.routes[i].peer.eq(peer),
                             engine.routes[i].base.eq(0),
                             engine.routes[i].size.eq(RANGE_LINES),
                             engine.routes[i].end.eq(RANGE_LINES)]
        swept = (2**32 - 1) if self._mutation == "ignore_swept" else self.swept_upto
        m.d.comb += [
            wr.hold.eq(0), rd.hold.eq(0), ha0.alive.eq(1), ha1.alive.eq(1),
            rd.mirror[0].failover.eq(self.failover), rd.mirror[0].swept_upto.eq(swept),
            rd.mirror[1].failover.eq(0), rd.mirror[1].swept_upto.eq(0),
            self.rd_err.valid.eq(rd.rd_err.valid), self.rd_err.agent.eq(rd.rd_err.agent),
            self.rd_err.line.eq(rd.rd_err.line),
            self.rd_err.corrected.eq(rd.rd_err.corrected),
        ]

        # The read engine's memory ports reach the agents through ``ports``, where a
        # mutation changes what the engine sees of the R channel (and nothing else).
        sig = AXI4Signature(**axi, write=False, user=True)
        ports = [sig.create(path=(f"rd_mem{i}",)) for i in range(2)]
        for i, (engine_port, port) in enumerate(zip(rd.mem, ports)):
            for name, member in sig.members.items():
                ours, theirs = getattr(port, name), getattr(engine_port, name)
                if member.flow == Out:        # AR channel and rready: from the engine
                    m.d.comb += ours.eq(theirs)
                    continue
                value = ours
                if name == "ruser" and (
                        (i == 0 and self._mutation == "ignore_poison") or
                        (i == 1 and self._mutation == "slave_error_ok")):
                    value = 0
                if name == "rresp" and i == 1 and self._mutation == "slave_error_ok":
                    value = 0
                m.d.comb += theirs.eq(value)
        connect_data_path(m, wr=wr, rd=SimpleNamespace(mem=ports), agents=[ha0, ha1],
                          sweeps=[None, None], routes=wr.routes, slices=False,
                          mems=[wiring.flipped(port) for port in self.m_axi_mem])
        return m
