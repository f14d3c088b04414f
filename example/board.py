"""An example FPGA top: mirrorswap with block-RAM modules and one CPU-facing port."""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect

from mirrorswap.rtl.axi_slice import slice_between
from .bram import AxiBlockRam
from .bridge import BoardBridge, HOST_WINDOW
from mirrorswap.rtl.signatures import AXI4LiteSignature, SlotSignature
from mirrorswap.rtl.top import MirrorswapTop

__all__ = ["ExampleBoardTop", "HOST_WINDOW"]


class ExampleBoardTop(wiring.Component):
    """:class:`MirrorswapTop` with an :class:`AxiBlockRam` behind every memory port.

    Made to place and route on a real package (ECP5-85k, CABGA381) and to be driven from a
    board's CPU: one AXI4-Lite port (:class:`BoardBridge`) reaches the control registers at
    0x000000 and the host address space at ``HOST_WINDOW``; the slot pins stay pins, except
    ``capacity_log2``, which is the block RAM's size (the modules are on chip, their SPD is
    a constant). Block RAM keeps its contents while a slot is "unpowered". A
    :class:`rtl.axi_slice.RegisterSlice` sits between each memory port and its RAM.

    Parameters
    ----------
    agents : int
        Slots, each with a block-RAM module.
    data_width : int
        The core's data width (64 to 512 bits); the RAMs are as wide.
    module_lines_log2 : int
        log2 of each module's lines, 9 to 16.

    Members
    -------
    bus : In(AXI4LiteSignature(addr_width=24))
    slot : Out(SlotSignature(capacity=False)).array(agents)
        Each slot's pins (``slot<i>_present`` ... in Verilog), without ``capacity_log2``.
    irq : Out(1)
    """

    def __init__(self, *, agents=4, data_width=64, module_lines_log2=12):
        if not isinstance(module_lines_log2, int) or not 9 <= module_lines_log2 <= 16:
            raise ValueError(f"Block-RAM modules must have 2^9 to 2^16 lines, "
                             f"not 2^{module_lines_log2!r}")
        self.core = MirrorswapTop(agents=agents, data_width=data_width)   # checks both
        self.agents = agents
        self.module_lines_log2 = module_lines_log2
        super().__init__({
            "bus": In(AXI4LiteSignature(addr_width=24)),
            "slot": Out(SlotSignature(capacity=False)).array(agents),
            "irq": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        m.submodules.bridge = bridge = BoardBridge(host_addr_width=core.addr_width,
                                                   data_width=core.data_width,
                                                   id_width=core.id_width)
        connect(m, bridge.bus, wiring.flipped(self.bus))
        connect(m, bridge.regs, core.s_axil)
        connect(m, bridge.host, core.s_axi)
        m.d.comb += self.irq.eq(core.irq)
        for i in range(self.agents):
            m.submodules[f"ram{i}"] = ram = AxiBlockRam(depth=1 << self.module_lines_log2,
                                                        data_width=core.data_width,
                                                        id_width=core.id_width)
            # The RAMs sit in block-RAM columns spread over the die: a register slice on
            # each memory port keeps the agents' handshakes from crossing it and back in
            # one cycle, at one cycle of latency each way and full rate.
            slice_between(m, f"mem{i}_slice", core.m_axi_mem[i], ram.bus)
            pins, slot = self.slot[i], core.slot[i]
            m.d.comb += [slot.present.eq(pins.present), slot.power_good.eq(pins.power_good),
                         slot.button.eq(pins.button), pins.power_en.eq(slot.power_en),
                         pins.power_led.eq(slot.power_led), pins.attn_led.eq(slot.attn_led),
                         slot.capacity_log2.eq(self.module_lines_log2)]
        return m
