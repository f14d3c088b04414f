"""The sweep-write crossbar: each running sweep engine's writes to its peer's home agent."""

from amaranth.hdl import Module, Signal, Mux
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .signatures import AXI4Signature, check_int

__all__ = ["SweepWriteRouter"]


class SweepWriteRouter(wiring.Component):
    """Routes the write half of each sweep engine to the home agent of its peer.

    Sweep engine ``i`` copies agent ``i``'s lines to its mirror slave, agent
    ``peer[i]``; while the sweep runs (``active[i]``) its AW, W and B channels are
    connected to ``agent[peer[i]]``, that agent's sweep write port. An agent is the
    slave of at most one master, so at most one running sweep names it; should two do,
    the lower-numbered sweep wins and the other's channels stay disconnected (a guard
    only: the controller never pairs two masters with one slave).

    The choice is registered: one flag per (sweep, agent) pair, set the cycle after
    ``active[i] & (peer[i] == j)``, so each output is an AND-OR of flip-flops and not a
    compare of a registered index in every multiplexer bit (timing). The choice thus lags
    ``active`` by a cycle; a sweep engine raises ``active`` at its start, well before its
    first write, and lowers it only once its last write is answered, so none of its
    writes falls in that lag.

    Invariants: each agent port carries the channels of at most one sweep, and a sweep's
    channels reach at most one agent; an agent port no sweep is routed to presents no
    VALID (every member it drives is 0), and a sweep routed nowhere sees no READY and no
    response (likewise 0). ID members are not routed: the agent ignores the IDs of its
    sources, and answers each in order.

    Parameters
    ----------
    agents : int
        Sweep engines and home agents, 1 to 16 (one sweep engine per agent).
    addr_width, data_width, id_width : int
        Widths of the AXI4 write ports.

    Members
    -------
    sweep : In(AXI4Signature(read=False)).array(agents)
        Sweep engine ``i``'s write port (subordinate side).
    agent : Out(AXI4Signature(read=False)).array(agents)
        Home agent ``j``'s sweep write port (manager side).
    peer : In(ArrayLayout(4, agents))
        The agent sweep ``i`` writes to (its route's peer).
    active : In(agents)
        Sweep ``i`` is running (its claim is active).

    Raises
    ------
    ValueError
        ``agents`` is not an integer from 1 to 16.
    """

    def __init__(self, *, agents, addr_width=32, data_width=64, id_width=4):
        if not isinstance(agents, int) or isinstance(agents, bool) or not 1 <= agents <= 16:
            raise ValueError(f"Agent count must be an integer from 1 to 16, not {agents!r}")
        check_int("Address width", addr_width)
        check_int("Data width", data_width, 8)
        check_int("ID width", id_width)
        self._agents = agents
        port = AXI4Signature(addr_width=addr_width, data_width=data_width,
                             id_width=id_width, read=False, user=True)
        super().__init__({
            "sweep": In(port).array(agents),
            "agent": Out(port).array(agents),
            "peer": In(data.ArrayLayout(4, agents)),
            "active": In(agents),
        })

    def elaborate(self, platform):
        m = Module()
        n = self._agents
        sig = self.agent[0].signature
        forward = sig.flow_members(Out, ("aw", "w", "b"), ids=False)   # sweep -> agent
        back = sig.flow_members(In, ("aw", "w", "b"), ids=False)       # agent -> sweep
        to = [[Signal(name=f"sweep{i}_to_{j}") for j in range(n)] for i in range(n)]
        for j in range(n):
            taken = 0           # a lower-numbered sweep wants agent j
            for i in range(n):
                wants = (self.peer[i] == j) & self.active[i]
                m.d.sync += to[i][j].eq(wants & ~taken)
                taken = taken | wants
            for name in forward:
                value = 0
                for i in range(n):
                    value = value | Mux(to[i][j], getattr(self.sweep[i], name), 0)
                m.d.comb += getattr(self.agent[j], name).eq(value)
            for i in range(n):
                for name in back:
                    with m.If(to[i][j]):
                        m.d.comb += getattr(self.sweep[i], name).eq(getattr(self.agent[j],
                                                                            name))
        return m
