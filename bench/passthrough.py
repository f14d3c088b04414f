"""The limit ``make bench`` compares the design with: a zero-logic AXI4 pass-through."""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mirrorswap.geometry import Geometry
from mirrorswap.rtl.signatures import AXI4Signature

__all__ = ["PassThrough", "TOPLEVEL", "generate"]

#: Verilog module name of the pass-through.
TOPLEVEL = "mirrorswap_passthrough"


class PassThrough(wiring.Component):
    """The host port wired straight to one memory port: no register, no gate, no logic.

    What an interconnect could at best be, for the same traffic and the same memory model
    as ``mirrorswap_top``: ``bench/run.py`` reports the design's throughput as a ratio of
    this one's. Its ports carry the top's names (``s_axi_*``, ``m_axi_mem0_*``, ``clk``,
    ``rst``), so the benches bind to it as they bind to the top.

    Parameters
    ----------
    data_width, addr_width, id_width : int
        As :class:`mirrorswap.rtl.top.MirrorswapTop`'s.

    Members
    -------
    s_axi : In(AXI4Signature(addr_width, data_width, id_width))
        The host port.
    m_axi_mem : Out(AXI4Signature(addr_width, data_width, id_width)).array(1)
        One memory port (Verilog ``m_axi_mem0_*``), every signal equal to the host port's.
    clk, rst : In(1)
        Unused: present so that a bench's clock and reset have pins to drive.
    """

    def __init__(self, *, data_width=64, addr_width=32, id_width=4):
        Geometry(data_width)                     # checks ``data_width``
        axi = AXI4Signature(addr_width=addr_width, data_width=data_width, id_width=id_width)
        super().__init__({"s_axi": In(axi), "m_axi_mem": Out(axi).array(1),
                          "clk": In(1), "rst": In(1)})

    def elaborate(self, platform):
        m = Module()
        # the host's outputs drive the memory's inputs and back, wire for wire
        wiring.connect(m, wiring.flipped(self.s_axi), wiring.flipped(self.m_axi_mem[0]))
        return m


def generate(build_dir, **params):
    """``<build_dir>/mirrorswap_passthrough.v`` for ``params`` (keyword arguments of
    :class:`PassThrough`); regenerated only when stale."""
    from mirrorswap.sim.runner import generate_component
    return generate_component(lambda: PassThrough(**params), TOPLEVEL, build_dir,
                              key=repr(sorted(params.items())))
