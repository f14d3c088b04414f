"""AXI register slices: a pipeline stage on chosen channels of an AXI port."""

from amaranth.hdl import Module, Signal, Cat
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .signatures import AXI_CHANNELS, AXI4Signature

__all__ = ["RegisterSlice", "slice_between", "skid_buffer"]


class RegisterSlice(wiring.Component):
    """Registers the chosen channels of an AXI port, at full throughput.

    Each chosen channel passes through a skid buffer (as verilog-axi's ``axi_register``
    with ``*_REG_TYPE = 2``): VALID, payload and READY are all driven from flip-flops on
    both sides, so no combinational path crosses the slice on that channel. This is what
    lets a long wire between two blocks of the design meet timing: the cost is one cycle
    of latency per chosen channel, none in throughput (one beat per cycle). Channels not
    chosen are wired straight through.

    Members
    -------
    s : In(signature)
        Faces the manager.
    m : Out(signature)
        Faces the subordinate.

    Invariants: beats leave in the order they came, none is dropped or duplicated; the
    slice holds at most two beats per channel; after reset it holds none.
    """

    def __init__(self, signature, *, channels=("aw", "w", "b", "ar", "r")):
        unknown = set(channels) - set(AXI_CHANNELS)
        if unknown:
            raise ValueError(f"Unknown AXI channels {sorted(unknown)}; "
                             f"choose from {list(AXI_CHANNELS)}")
        self._channels = tuple(channels)
        super().__init__({"s": In(signature), "m": Out(signature)})

    def elaborate(self, platform):
        m = Module()
        names = set(self.s.signature.members)
        for ch, from_manager in AXI_CHANNELS.items():
            members = [n for n in AXI4Signature.channel_members(ch) if n in names]
            if not members:
                continue
            src, dst = (self.s, self.m) if from_manager else (self.m, self.s)
            payload = sorted(n for n in members if n not in (f"{ch}valid", f"{ch}ready"))
            if ch not in self._channels:
                for n in payload + [f"{ch}valid"]:
                    m.d.comb += getattr(dst, n).eq(getattr(src, n))
                m.d.comb += getattr(src, f"{ch}ready").eq(getattr(dst, f"{ch}ready"))
                continue
            skid_buffer(m, ch,
                        s_valid=getattr(src, f"{ch}valid"), s_ready=getattr(src, f"{ch}ready"),
                        s_data=Cat(getattr(src, n) for n in payload),
                        m_valid=getattr(dst, f"{ch}valid"), m_ready=getattr(dst, f"{ch}ready"),
                        m_data=Cat(getattr(dst, n) for n in payload))
        return m


def skid_buffer(m, ch, *, s_valid, s_ready, s_data, m_valid, m_ready, m_data):
    """A full-throughput register stage with a skid register, its signals named after
    ``ch``: ``m_valid``, ``m_data`` and ``s_ready`` are all driven from flip-flops, so
    neither side's handshake reaches the other combinationally (verilog-axi's
    ``axi_register`` type 2). It holds at most two beats and keeps their order."""
    out_valid = Signal(name=f"{ch}_out_valid")
    out_data = Signal(len(s_data), name=f"{ch}_out_data")
    skid_valid = Signal(name=f"{ch}_skid_valid")
    skid_data = Signal(len(s_data), name=f"{ch}_skid_data")
    m.d.comb += [s_ready.eq(~skid_valid), m_valid.eq(out_valid), m_data.eq(out_data)]
    with m.If(m_ready | ~out_valid):
        # the output register is free this cycle: refill it, from the skid first
        with m.If(skid_valid):
            m.d.sync += [out_valid.eq(1), out_data.eq(skid_data), skid_valid.eq(0)]
        with m.Else():
            m.d.sync += [out_valid.eq(s_valid), out_data.eq(s_data)]
    with m.Elif(s_valid & ~skid_valid):
        # the output is stalled: park the beat accepted this cycle
        m.d.sync += skid_valid.eq(1)
    # The skid register follows the input whenever it is empty, so its enable is a
    # local flip-flop rather than the far side's READY (timing: that enable reaches
    # every payload bit, next to the manager).
    with m.If(~skid_valid):
        m.d.sync += skid_data.eq(s_data)


def slice_between(m, name, manager, subordinate, *, channels=("aw", "w", "b", "ar", "r")):
    """Adds a :class:`RegisterSlice` named ``name`` to ``m`` between an AXI ``manager``
    interface (one whose signature is the manager's view) and ``subordinate``; returns it.
    Either side may be ``None``: the caller then drives the slice's ``s`` (or ``m``) side
    itself."""
    assert manager is not None or subordinate is not None
    signature = (manager if manager is not None else subordinate).signature
    if manager is None:
        signature = signature.flip()
    rs = m.submodules[name] = RegisterSlice(signature, channels=channels)
    if manager is not None:
        wiring.connect(m, manager=manager, slice=rs.s)
    if subordinate is not None:
        wiring.connect(m, slice=rs.m, subordinate=subordinate)
    return rs
