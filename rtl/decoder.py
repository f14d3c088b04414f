"""Host address decoding (SPEC section 1: a transaction is routed by its start address)."""

from amaranth.hdl import Module, Cat, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from mirrorswap.geometry import DEFAULT
from mirrorswap.regmap import Mode
from .signatures import ROUTE_LAYOUT, check_int

__all__ = ["AddressDecoder"]


class AddressDecoder(wiring.Component):
    """Finds the agent that serves a host line address, combinationally.

    Only ACTIVE and MIRROR_MASTER agents are candidates (a slave shares its master's range
    but is never routed to). Owned ranges never overlap (ASSIGN refuses it), so at most one
    agent matches, and the outputs are an AND-OR of the candidates rather than a priority
    chain. BASE and SIZE are multiples of ``page_lines`` lines (ASSIGN refuses others,
    and nothing else sets a range), so only the line bits above those are compared and
    subtracted, and the range end comes precomputed (``end``): the carry chains are no
    longer than the aligned part of a line number, and no adder precedes a compare.

    With ``split=True`` the decode is two halves, for a register between them: ``match``
    says which agent owns ``line``, and ``hit``, ``agent`` and ``offset`` are computed
    from ``sel`` instead, which the caller drives with ``match`` registered; ``line`` and
    ``routes`` must then hold still across the two cycles.

    Parameters
    ----------
    agents : int
        Number of agents (entries of ``routes``).
    line_addr_width : int
        Width of a host line address (host byte address width - log2 of line bytes).
    page_lines : int
        Lines per 4 KiB page, the alignment of BASE and SIZE (a power of two; default 512,
        8-byte lines).
    split : bool
        Decode in two halves (above); default False.

    Members
    -------
    routes : In(ArrayLayout(ROUTE_LAYOUT, agents))
        Every agent's mode and range; ``end`` must be ``base + size`` for every routed
        agent (the controller keeps it so).
    line : In(line_addr_width)
        Host line address (byte address / line bytes).
    hit : Out(1)
        Some agent owns ``line``.
    agent : Out(range(agents))
        That agent (0 when no hit).
    offset : Out(32)
        ``line - BASE``: the module-local line (0 when no hit).
    match : Out(agents)
        Only with ``split``: one bit per agent, set for the agent that owns ``line``
        (at most one).
    sel : In(agents)
        Only with ``split``: ``match`` as the caller registered it; ``hit``, ``agent``
        and ``offset`` follow it.
    """

    def __init__(self, *, agents, line_addr_width, page_lines=DEFAULT.page_lines,
                 split=False):
        check_int("Page lines", page_lines, 1)
        if page_lines & (page_lines - 1):
            raise ValueError(f"Page lines must be a power of two, not {page_lines}")
        self._page_lines = page_lines
        self._agents = agents
        self._split = split
        members = {
            "routes": In(data.ArrayLayout(ROUTE_LAYOUT, agents)),
            "line": In(line_addr_width),
            "hit": Out(1), "agent": Out(range(max(agents, 2))), "offset": Out(32),
        }
        if split:
            members.update(match=Out(agents), sel=In(agents))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        low = (self._page_lines - 1).bit_length()
        line_hi = self.line[low:]
        # At most one agent matches (ranges never overlap), so the outputs are an AND-OR of
        # the candidates: one level of logic after the compares, where a priority chain
        # would add one per agent.
        match = self.match if self._split else Signal(self._agents)
        sel = self.sel if self._split else match
        agent, offset = 0, 0
        for i in range(self._agents):
            route = self.routes[i]
            routed = (route.mode == Mode.ACTIVE) | (route.mode == Mode.MIRROR_MASTER)
            base_hi, end_hi = route.base[low:], route.end[low:]
            # the two compares and the subtraction all start from the inputs: none waits
            # for another's result
            local = Signal(len(line_hi), name=f"local{i}")
            m.d.comb += [local.eq(line_hi - base_hi),
                         match[i].eq(routed & (line_hi >= base_hi) & (line_hi < end_hi))]
            agent = agent | Mux(sel[i], i, 0)
            offset = offset | Mux(sel[i], Cat(self.line[:low], local), 0)
        m.d.comb += [self.hit.eq(sel.any()), self.agent.eq(agent), self.offset.eq(offset)]
        return m
