"""Host address decoding (SPEC section 1: a transaction is routed by its start address)."""

from amaranth.hdl import Module, Cat
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .regmap import Mode, RANGE_ALIGN
from .signatures import ROUTE_LAYOUT

__all__ = ["AddressDecoder"]


class AddressDecoder(wiring.Component):
    """Finds the agent that serves a host line address, combinationally.

    Only ACTIVE and MIRROR_MASTER agents are candidates (a slave shares its master's range
    but is never routed to). Owned ranges never overlap (ASSIGN refuses it), so at most one
    agent matches. BASE and SIZE are multiples of ``RANGE_ALIGN`` lines (ASSIGN refuses
    others, and nothing else sets a range), so only the line bits above those are compared
    and subtracted (timing: shorter carry chains).

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
        low = (RANGE_ALIGN - 1).bit_length()
        line_hi = self.line[low:]
        for i in reversed(range(self._agents)):
            route = self.routes[i]
            routed = (route.mode == Mode.ACTIVE) | (route.mode == Mode.MIRROR_MASTER)
            base_hi, size_hi = route.base[low:], route.size[low:]
            inside = (line_hi >= base_hi) & (line_hi - base_hi < size_hi)
            with m.If(routed & inside):
                m.d.comb += [self.hit.eq(1), self.agent.eq(i),
                             self.offset.eq(Cat(self.line[:low], line_hi - base_hi))]
        return m
