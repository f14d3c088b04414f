"""An AXI4-Lite address decoder for a CPU that makes one access at a time."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mirrorswap.rtl.signatures import AXI4LiteSignature, Resp

__all__ = ["LiteDecoder"]


class LiteDecoder(wiring.Component):
    """Routes one 32-bit AXI4-Lite manager to the subordinate whose window holds the address.

    Window ``i`` is ``[base, base + size)`` of ``windows[i]``; addresses pass unchanged
    (each subordinate decodes the bits it needs). An address in no window is answered
    DECERR here (reads return 0), so a wild pointer never hangs the CPU.

    The routing is combinational on the address, which costs no cycle, and relies on what
    PicoRV32 guarantees: one access at a time, its address (``awaddr``/``araddr``) held
    from VALID until the response's handshake. A manager that changes the address
    earlier must not be connected here.

    Parameters
    ----------
    windows : list of (int, int)
        ``(base, size)`` per subordinate: sizes are powers of two, bases aligned to their
        size, windows disjoint.

    Members
    -------
    bus : In(AXI4LiteSignature(addr_width=32))
    sub : Out(AXI4LiteSignature(addr_width=32)).array(len(windows))
    """

    def __init__(self, windows):
        windows = [tuple(w) for w in windows]
        if not windows:
            raise ValueError("A decoder needs at least one window")
        for base, size in windows:
            if (not isinstance(size, int) or size < 4 or size & (size - 1)
                    or not isinstance(base, int) or base % size or base + size > 1 << 32):
                raise ValueError(f"Window ({base!r}, {size!r}) must be a power-of-two size "
                                 f"of at least 4 at a base aligned to it, in 32 bits")
        ordered = sorted(windows)
        for (b0, s0), (b1, _s1) in zip(ordered, ordered[1:]):
            if b0 + s0 > b1:
                raise ValueError(f"Windows at {b0:#x} and {b1:#x} overlap")
        self._windows = windows
        super().__init__({
            "bus": In(AXI4LiteSignature(addr_width=32)),
            "sub": Out(AXI4LiteSignature(addr_width=32)).array(len(windows)),
        })

    def _hits(self, addr):
        return [(addr >> (size - 1).bit_length()) == (base >> (size - 1).bit_length())
                for base, size in self._windows]

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        hit_w, hit_r = self._hits(bus.awaddr), self._hits(bus.araddr)
        for sub, hw, hr in zip(self.sub, hit_w, hit_r):
            m.d.comb += [
                sub.awaddr.eq(bus.awaddr), sub.awprot.eq(bus.awprot),
                sub.wdata.eq(bus.wdata), sub.wstrb.eq(bus.wstrb),
                sub.araddr.eq(bus.araddr), sub.arprot.eq(bus.arprot),
                sub.awvalid.eq(bus.awvalid & hw), sub.wvalid.eq(bus.wvalid & hw),
                sub.bready.eq(bus.bready & hw),
                sub.arvalid.eq(bus.arvalid & hr), sub.rready.eq(bus.rready & hr),
            ]
            with m.If(hw):
                m.d.comb += [bus.awready.eq(sub.awready), bus.wready.eq(sub.wready),
                             bus.bvalid.eq(sub.bvalid), bus.bresp.eq(sub.bresp)]
            with m.If(hr):
                m.d.comb += [bus.arready.eq(sub.arready), bus.rvalid.eq(sub.rvalid),
                             bus.rdata.eq(sub.rdata), bus.rresp.eq(sub.rresp)]

        # nobody's address: take AW and W together, answer DECERR the next cycle
        miss_w = ~_any(hit_w)
        miss_r = ~_any(hit_r)
        b_pending = Signal()
        r_pending = Signal()
        take_w = miss_w & bus.awvalid & bus.wvalid & ~b_pending
        take_r = miss_r & bus.arvalid & ~r_pending
        with m.If(miss_w):
            m.d.comb += [bus.awready.eq(take_w), bus.wready.eq(take_w),
                         bus.bvalid.eq(b_pending), bus.bresp.eq(Resp.DECERR)]
        with m.If(miss_r):
            m.d.comb += [bus.arready.eq(take_r), bus.rvalid.eq(r_pending),
                         bus.rdata.eq(0), bus.rresp.eq(Resp.DECERR)]
        with m.If(take_w):
            m.d.sync += b_pending.eq(1)
        with m.Elif(miss_w & bus.bready):
            m.d.sync += b_pending.eq(0)
        with m.If(take_r):
            m.d.sync += r_pending.eq(1)
        with m.Elif(miss_r & bus.rready):
            m.d.sync += r_pending.eq(0)
        return m


def _any(conditions):
    out = conditions[0]
    for c in conditions[1:]:
        out = out | c
    return out
