"""The host port's request front: AW or AR requests taken one per cycle and decoded."""

from amaranth.hdl import Module, Signal, Mux, Cat
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from mirrorswap.regmap import Mode
from .axi_slice import skid_buffer
from .decoder import AddressDecoder
from .signatures import (AddressChannelSignature, Burst, Resp, ROUTE_LAYOUT, check_int,
                         line_geometry, pack_struct)

__all__ = ["RequestFront", "request_layout", "burst_geometry", "add_front",
           "track_pending"]

_PAGE_BYTES = 4096


def request_layout(*, agents, addr_width, id_width):
    """A decoded host request, as :class:`RequestFront` hands it on.

    ``id``, ``len``, ``size``: the request's own. ``resp``: OKAY for a burst a memory
    serves, else its error answer (SLVERR: a bad burst; DECERR: an unowned start address).
    For an OKAY burst: ``agent`` owns its start address (``sel`` is the same one-hot, all
    0 for an error answer), ``local`` is the module-local byte address of its first beat,
    ``lo`` and ``hi`` its first and last module-local lines; ``forward``: the agent is a
    MIRROR_MASTER, and ``targets`` (one-hot per agent) the agent and, when forwarded, its
    slave.
    """
    return data.StructLayout({
        "id": id_width, "len": 8, "size": 3, "resp": 2,
        "agent": 4, "sel": agents, "targets": agents, "forward": 1,
        "local": addr_width, "lo": 32, "hi": 32,
    })


def burst_geometry(m, addr, length, size, burst, line_shift):
    """Validity of a host burst and the lines it covers after its first.

    Returns ``(bad, span)``. ``bad`` is set when the burst is not INCR, its beat is wider
    than the bus (a line, ``2**line_shift`` bytes), or it crosses a 4 KiB page (an AXI
    rule; since ranges are 4 KiB aligned, this also means a valid burst never leaves the
    range it starts in). ``span`` is the number of lines after the first one (defined when
    ``bad`` is not set).

    A burst of ``2**size``-byte beats that starts at beat ``k`` of its first line
    (``k = addr[size:line_shift]``) and has ``length`` + 1 beats ends
    ``(k + length) >> (line_shift - size)`` lines further on: an 8-bit add and a small
    choice, one short carry chain, where the byte arithmetic of the AXI rule (aligned
    address + bytes - 1, with a barrel shift) needs three. tests/test_host_geometry.py
    proves the two equal for every input.
    """
    span = Signal(8, name="burst_span")
    with m.Switch(size):
        for k in range(line_shift + 1):
            with m.Case(k):
                beat = addr[k:line_shift] if k < line_shift else 0
                m.d.comb += span.eq((length + beat) >> (line_shift - k))
    crosses = (addr[line_shift:12] + span) >= (_PAGE_BYTES >> line_shift)
    bad = (burst != Burst.INCR) | (size > line_shift) | crosses
    return bad, span


class RequestFront(wiring.Component):
    """Takes the host's AW or AR requests, up to one per cycle, and decodes each in three
    registered stages, so that an engine behind it can issue one burst per cycle.

    - ACCEPT: the address channel's fields, latched at the handshake.
    - DECODE: which agent's range holds the start line (the compares of
      :class:`AddressDecoder`), whether the burst is bad, and its span in lines.
    - ROUTE: the burst as the engine issues it (:func:`request_layout`): owner, module-local
      address and lines, targets, or its error answer. This stage is ``out``.

    ACCEPT and DECODE each take the request before them when they are empty or their own
    request moves on in the same cycle; ROUTE is a register with a skid register beside
    it (:func:`rtl.axi_slice.skid_buffer`), so it takes a request whenever its skid is
    empty, a flip-flop: ``out.ready``, the engine's decision, reaches no further than
    ROUTE's two registers. No bubbles: ``out.ready`` high every cycle passes one request
    per cycle. The ranges' compares, the subtraction of BASE with its multiplexer, and
    the target decode each sit between registers.

    Invariants: requests leave in the order they were accepted, none is dropped or
    duplicated; ``out.payload`` holds still while ``out.valid`` and not ``out.ready``;
    nothing is accepted while ``hold``. ``routes`` must hold still while ``busy`` (the
    controller changes them only while the port is held and idle).

    Parameters
    ----------
    agents : int
        Number of agents (entries of ``routes``).
    addr_width, id_width : int
        Byte address and ID widths of the channel.
    data_width : int
        Bus width: one line per beat.
    forwarding : bool
        Compute ``forward`` and ``targets`` (a write to a MIRROR_MASTER also goes to its
        slave); without it (reads) ``targets`` is ``sel`` and ``forward`` 0.

    Members
    -------
    a : In(AddressChannelSignature(addr_width, id_width))
        The host's AW or AR channel (subordinate side), members unprefixed.
    routes : In(ArrayLayout(ROUTE_LAYOUT, agents))
        Every agent's mode, peer and range.
    hold : In(1)
        Accept nothing.
    out : Out(stream.Signature(request_layout(...)))
        Decoded requests.
    busy : Out(1)
        Some stage (or ROUTE's skid) holds a request.
    undecoded : Out(1)
        Some request is in the front but not at ``out``.
    """

    def __init__(self, *, agents, addr_width=32, data_width=64, id_width=4,
                 forwarding=False):
        check_int("Agents", agents, 1)
        self._agents = agents
        self._addr_width = addr_width
        self._geometry = line_geometry(data_width)
        self._forwarding = forwarding
        self.layout = request_layout(agents=agents, addr_width=addr_width,
                                     id_width=id_width)
        super().__init__({
            "a": In(AddressChannelSignature(addr_width=addr_width, id_width=id_width)),
            "routes": In(data.ArrayLayout(ROUTE_LAYOUT, agents)),
            "hold": In(1),
            "out": Out(stream.Signature(self.layout)),
            "busy": Out(1), "undecoded": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        a, n = self.a, self._agents
        shift = self._geometry.line_shift
        low = (self._geometry.page_lines - 1).bit_length()
        line_width = self._addr_width - shift

        def decoder(name, line):
            dec = AddressDecoder(agents=n, line_addr_width=line_width,
                                 page_lines=self._geometry.page_lines, split=True)
            m.submodules[name] = dec
            m.d.comb += [dec.routes.eq(self.routes), dec.line.eq(line)]
            return dec

        # ACCEPT
        v1 = Signal()
        acc = {name: Signal.like(getattr(a, name), name=f"acc_{name}")
               for name in ("id", "addr", "len", "size", "burst")}
        # DECODE: the match comes from the accepted line; the owner's offset is computed
        # from the decoded line by a second decoder whose compares are left unused
        v2 = Signal()
        dec = {name: Signal.like(acc[name], name=f"dec_{name}")
               for name in ("id", "addr", "len", "size")}
        match = Signal(n)
        bad = Signal()
        span = Signal(8)
        look = decoder("match", acc["addr"][shift:])
        m.d.comb += look.sel.eq(0)
        owner = decoder("owner", dec["addr"][shift:])
        m.d.comb += owner.sel.eq(match)
        # ROUTE: ``out``, through a skid register, so that ``out.ready`` (the engine's
        # decision, from the memories' handshakes) reaches only the two registers of this
        # stage, and the stages before it move on a flip-flop (``r3``)
        r3 = Signal()
        route = Signal(self.layout)
        skid_buffer(m, "route", s_valid=v2, s_ready=r3, s_data=route.as_value(),
                    m_valid=self.out.valid, m_ready=self.out.ready,
                    m_data=self.out.payload.as_value())

        r2 = ~v2 | r3
        r1 = ~v1 | r2
        m.d.comb += [a.ready.eq(r1 & ~self.hold),
                     self.busy.eq(v1 | v2 | self.out.valid | ~r3),
                     self.undecoded.eq(v1 | v2 | ~r3)]
        with m.If(r1):
            m.d.sync += v1.eq(a.valid & ~self.hold)
            m.d.sync += [acc[name].eq(getattr(a, name)) for name in acc]
        with m.If(r2):
            g_bad, g_span = burst_geometry(m, acc["addr"], acc["len"], acc["size"],
                                           acc["burst"], shift)
            m.d.sync += [v2.eq(v1), match.eq(look.match), bad.eq(g_bad), span.eq(g_span)]
            m.d.sync += [dec[name].eq(acc[name]) for name in dec]
        sel = Signal(n)
        m.d.comb += sel.eq(Mux(bad, 0, match))
        line = dec["addr"][shift:]
        mm = [self.routes[i].mode == Mode.MIRROR_MASTER for i in range(n)]
        forward = (Cat(sel[i] & mm[i] for i in range(n)).any()
                   if self._forwarding else 0)
        targets = Signal(n)
        for j in range(n):
            slave_of = [sel[i] & mm[i] & (self.routes[i].peer == j) for i in range(n)]
            m.d.comb += targets[j].eq(sel[j] | (Cat(*slave_of).any()
                                                if self._forwarding else 0))
        # assigned whole (see ``pack_struct``): fields assigned one by one read as a loop
        m.d.comb += route.eq(pack_struct(self.layout, {
            "id": dec["id"], "len": dec["len"], "size": dec["size"],
            "resp": Mux(bad, Resp.SLVERR, Mux(match.any(), Resp.OKAY, Resp.DECERR)),
            "agent": owner.agent, "sel": sel, "targets": targets, "forward": forward,
            "local": Cat(dec["addr"][:shift], owner.offset), "lo": owner.offset,
            # a valid burst stays in its page, and ranges are whole pages: its last
            # line differs from its first only in the bits within the page
            "hi": Cat((line[:low] + span)[:low], owner.offset[low:]),
        }))
        return m


def add_front(m, engine, ch, *, forwarding=False):
    """Adds a :class:`RequestFront` (submodule ``front``) to ``engine``'s module ``m``, on
    the address channel ``ch`` ("aw" or "ar") of the engine's host port ``engine.s``, with
    the engine's ``routes`` and ``hold``; returns it."""
    s = engine.s
    addr = getattr(s, f"{ch}addr")
    data_bits = len(s.wdata if ch == "aw" else s.rdata)
    m.submodules.front = front = RequestFront(
        agents=len(engine.routes), addr_width=len(addr), data_width=data_bits,
        id_width=len(getattr(s, f"{ch}id")), forwarding=forwarding)
    m.d.comb += [front.routes.eq(engine.routes), front.hold.eq(engine.hold),
                 getattr(s, f"{ch}ready").eq(front.a.ready)]
    m.d.comb += [getattr(front.a, name).eq(getattr(s, f"{ch}{name}"))
                 for name in ("valid", "id", "addr", "len", "size", "burst")]
    return front


def track_pending(m, *, front, decoded, inc, dec, most):
    """Per agent, whether some burst a host engine accepted and has not answered may
    touch that agent: the ``pending`` output of :class:`rtl.host_write.HostWriteEngine`
    and :class:`rtl.host_read.HostReadEngine`.

    ``front`` is the engine's :class:`RequestFront`. A burst in the front but not at its
    ``out`` (``front.undecoded``) counts at every agent: in its first two stages it is
    not decoded yet (and its decode reads the routes), and one in ROUTE's skid register
    is not told apart from those. The one at ``out`` is decoded,
    its payload held still: it counts at ``decoded`` (its agents, as this engine says).
    From the cycle it leaves the front (the engine adds ``inc``, its agents,
    in that cycle) until it is answered (``dec``, the agents of the burst answered this
    cycle), it counts in one counter per agent, of at most ``most`` bursts. The handoffs
    are seamless: a burst counts in the front until the cycle after it leaves, and in a
    counter from then. Exact as long as ``inc`` and ``dec`` name the same agents for a
    burst; never below the truth.

    Returns the ``pending`` vector (one bit per agent).
    """
    n = len(inc)
    pending = Signal(n, name="pending_agents")
    for i in range(n):
        count = Signal(range(most + 1), name=f"pending_count{i}")
        m.d.sync += count.eq(count + inc[i] - dec[i])
        m.d.comb += pending[i].eq((count != 0) | (front.out.valid & decoded[i]) |
                                  front.undecoded)
    return pending
