"""Host address decoding (SPEC section 1: a transaction is routed by its start address)."""

from amaranth.hdl import Module
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .regmap import Mode
from .signatures import ROUTE_LAYOUT

__all__ = ["AddressDecoder"]


class AddressDecoder(wiring.Component):
    """Finds the agent that serves a host line address, combinationally.

    Only ACTIVE and MIRROR_MASTER agents are candidates (a slave shares its master's range
    but is never routed to). Owned ranges never overlap (ASSIGN refuses it), so at most one
    agent matches.

    Members
    -------
    routes : In(ArrayLayout(ROUTE_LAYOUT, agents))
        Every agent's mode and range.
    line : In(line_addr_width)
        Host line address (byte address / 8).
    hit : Out(1)
        Some agent owns ``line``.
    agent : Out(range(agents))
        That agent (0 when no hit).
    offset : Out(32)
        ``line - BASE``: the module-local line.
    """

    def __init__(self, *, agents, line_addr_width):
        self._agents = agents
        super().__init__({
            "routes": In(data.ArrayLayout(ROUTE_LAYOUT, agents)),
            "line": In(line_addr_width),
            "hit": Out(1), "agent": Out(range(max(agents, 2))), "offset": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        for i in reversed(range(self._agents)):
            route = self.routes[i]
            routed = (route.mode == Mode.ACTIVE) | (route.mode == Mode.MIRROR_MASTER)
            inside = (self.line >= route.base) & (self.line - route.base < route.size)
            with m.If(routed & inside):
                m.d.comb += [self.hit.eq(1), self.agent.eq(i),
                             self.offset.eq(self.line - route.base)]
        return m
