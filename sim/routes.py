"""A reference of the host port's route table, for benches of the host engines.

What the controller's ``routes`` output carries (:class:`Route`, :func:`pack_routes`),
which agent serves a host address and which modules a write reaches (:func:`owner`,
:func:`targets`, :func:`local`), and random layouts and accesses to drive them with
(:func:`random_layout`, :func:`random_access`). Pure Python.
"""

from dataclasses import dataclass, replace

from mirrorswap.regmap import LINE_BYTES, Mode, RANGE_ALIGN
from mirrorswap.rtl.signatures import ROUTE_LAYOUT

__all__ = ["PAGE", "PAGE_LINES", "RAM_BYTES", "Route", "pack_routes", "owner", "targets",
           "local", "random_layout", "unowned_pages", "random_access", "beats"]

PAGE = 4096                                  # bytes; an AXI burst never crosses one
PAGE_LINES = PAGE // LINE_BYTES
assert RANGE_ALIGN % PAGE_LINES == 0
#: A range is one or two blocks, so every module RAM is two blocks.
RAM_BYTES = 2 * RANGE_ALIGN * LINE_BYTES


@dataclass(frozen=True)
class Route:
    """One agent's entry of the route table (lines): what ``routes[i]`` carries."""
    mode: Mode
    peer: int
    base: int
    size: int

    @property
    def routed(self):
        """Host accesses in ``[base, base + size)`` come to this agent."""
        return self.mode in (Mode.ACTIVE, Mode.MIRROR_MASTER)


def pack_routes(routes):
    """The ``routes`` port's value: ``ArrayLayout(ROUTE_LAYOUT, agents)``, with ``end`` =
    ``base + size`` as the controller keeps it."""
    value, width = 0, ROUTE_LAYOUT.size
    for i, r in enumerate(routes):
        for name, v in (("mode", r.mode), ("peer", r.peer), ("base", r.base),
                        ("size", r.size), ("end", r.base + r.size)):
            value |= int(v) << (i * width + ROUTE_LAYOUT[name].offset)
    return value


def owner(routes, addr):
    """The agent that serves host byte address ``addr`` (its start line), or None."""
    line = addr // LINE_BYTES
    for i, r in enumerate(routes):
        if r.routed and r.base <= line < r.base + r.size:
            return i
    return None


def targets(routes, agent):
    """The modules a write to ``agent`` reaches: its own, and its slave's if a master."""
    r = routes[agent]
    return [agent, r.peer] if r.mode == Mode.MIRROR_MASTER else [agent]


def local(routes, agent, addr):
    """Module-local byte address of host byte address ``addr`` at ``agent``."""
    return addr - routes[agent].base * LINE_BYTES


def random_layout(rng, n, mirrors=True):
    """A route table as the controller could hold it: every agent has a range of one or
    two ``RANGE_ALIGN``-line blocks in its own four-block slot (so ranges never overlap
    and gaps stay unowned), agents in random modes, pairs of them mirrored (the slave
    keeping a range of its own, which must never be routed to). At least one is routed."""
    slots = rng.sample(range(n), n)
    ranges = [((4 * s + rng.randrange(2)) * RANGE_ALIGN, rng.choice([1, 2]) * RANGE_ALIGN)
              for s in slots]
    routes = [None] * n
    order = rng.sample(range(n), n)
    while order:
        a = order.pop()
        if mirrors and order and rng.random() < 0.6:
            p = order.pop()
            routes[a] = Route(Mode.MIRROR_MASTER, p, *ranges[a])
            routes[p] = Route(Mode.MIRROR_SLAVE, a, *ranges[p])
        else:
            # the peer field names another agent: it must matter only for a master
            mode = rng.choice([Mode.ACTIVE, Mode.ACTIVE, Mode.IDLE, Mode.OFF])
            routes[a] = Route(mode, (a + 1 + rng.randrange(max(n - 1, 1))) % n, *ranges[a])
    if not any(r.routed for r in routes):
        routes[0] = replace(routes[0], mode=Mode.ACTIVE)
    return routes


def unowned_pages(routes):
    """Host pages of the layouts' address space that no routed agent serves."""
    # the layouts' host address space: four RANGE_ALIGN-line blocks per agent
    return [p for p in range(4 * len(routes) * RANGE_ALIGN // PAGE_LINES)
            if owner(routes, p * PAGE) is None]


def random_access(rng, routes, max_beats=16, owned=0.85):
    """``(addr, length, size)`` of a host burst that stays within one 4 KiB page: in a
    routed range with probability ``owned`` (else in an unowned page), ``2**size``-byte
    beats, at most ``max_beats`` of them, any byte alignment."""
    routed = [r for r in routes if r.routed]
    gaps = unowned_pages(routes)
    if rng.random() < owned or not gaps:
        r = rng.choice(routed)
        page = r.base // PAGE_LINES + rng.randrange(r.size // PAGE_LINES)
    else:
        page = rng.choice(gaps)
    size = rng.choice([3, 3, 3, 2, 1, 0])
    length = rng.randint(1, max_beats << size)
    start = rng.randrange(PAGE - length + 1)
    # no more than max_beats beats once the start's misalignment is counted
    while (length + start % (1 << size) + (1 << size) - 1) >> size > max_beats:
        length -= 1
    return page * PAGE + start, length, size


def beats(addr, length, size):
    """AXI beats of a burst of ``length`` bytes from ``addr`` in ``2**size``-byte beats."""
    nb = 1 << size
    return (length + addr % nb + nb - 1) // nb
