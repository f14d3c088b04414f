"""The SoC: a management CPU and a host CPU (PicoRV32) around mirrorswap with block-RAM modules."""

import inspect

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect

from mirrorswap.rtl.axi_slice import slice_between
from mirrorswap.rtl.signatures import SlotSignature
from mirrorswap.rtl.top import MirrorswapTop
from . import map as soc_map
from .bridge import LiteToAxi
from .cpu import PicoRV32
from .decoder import LiteDecoder
from .io import CONSOLES, SocIo
from .ram import ModuleRam, ProgramRam

__all__ = ["SocTop", "SocStatsSignature"]


class SocStatsSignature(wiring.Signature):
    """Counters a testbench reads at the end of a run (free-running, 32 bits, from reset).

    Members
    -------
    mgmt_instret, host_instret : Out(32)
        Instructions the management and the host CPU executed (their fetches: PicoRV32
        fetches exactly the instructions it executes).
    host_reads, host_writes : Out(32)
        Transactions (AR and AW handshakes) on mirrorswap's host port ``s_axi``.
    trap : Out(2)
        Each CPU (0 management, 1 host) has stopped on a trap.
    host_state, host_result, host_progress, cycles : Out(32)
        The I/O block's registers of those names.
    """

    def __init__(self):
        super().__init__({"mgmt_instret": Out(32), "host_instret": Out(32),
                          "host_reads": Out(32), "host_writes": Out(32), "trap": Out(2),
                          "host_state": Out(32), "host_result": Out(32),
                          "host_progress": Out(32), "cycles": Out(32)})


def _mirrorswap(agents, data_width):
    """A :class:`MirrorswapTop` with ``data_width``-bit lines, on an RTL that has the
    parameter; without it (64-bit only) only 64 is accepted."""
    if "data_width" in inspect.signature(MirrorswapTop.__init__).parameters:
        return MirrorswapTop(agents=agents, data_width=data_width)
    if data_width != 64:
        raise ValueError(f"This MirrorswapTop has 64-bit lines only, not {data_width}")
    return MirrorswapTop(agents=agents)


class SocTop(wiring.Component):
    """Two PicoRV32 cores on :class:`MirrorswapTop`, each with its own program RAM.

    ::

        mgmt CPU ─► decoder ─┬─ 0x0000_0000 program RAM (bios image)
           ▲ irq[3]          ├─ 0x1000_0000 SocIo (mgmt port) ─► console[0]
           │                 └─ 0x2000_0000 mirrorswap s_axil
        host CPU ─► decoder ─┬─ 0x0000_0000 program RAM (workload image)
                             ├─ 0x1000_0000 SocIo (host port) ─► console[1]
                             └─ 0x8000_0000 LiteToAxi ─► mirrorswap s_axi
        mirrorswap m_axi_mem<i> ─► register slice ─► ModuleRam i (2^module_lines_log2 lines)

    The addresses are ``soc/map.py``'s. Neither CPU has a cache; each makes one access
    at a time, so the host CPU has at most one transaction on ``s_axi``. The slot pins stay
    pins, as on :class:`~mirrorswap.example.board.ExampleBoardTop` (a testbench or a board
    drives presence, power-good and the buttons), except ``capacity_log2``, the block
    RAM's size. ``wipe[i]`` (one cycle) scrambles module ``i`` (a module pulled out loses
    its data; the testbench does it after the slot is powered off).

    Parameters
    ----------
    bios, workload : list of int
        Initial words of the management and the host CPU's RAM (``soc_map.RAM_BYTES`` each).
    module_lines_log2 : int
        log2 of the lines of each slot's module.
    data_width : int
        Bits per line of mirrorswap (64 on an RTL without the parameter).

    Members
    -------
    slot : Out(SlotSignature(capacity=False)).array(soc_map.SLOTS)
    wipe : In(soc_map.SLOTS)
    console : Out(stream.Signature(8)).array(2)
        The management CPU's (``bios``) and the host CPU's console characters.
    stats : Out(SocStatsSignature())
    """

    def __init__(self, *, bios=(), workload=(), module_lines_log2=soc_map.MODULE_LINES_LOG2,
                 data_width=64):
        if not isinstance(module_lines_log2, int) or not 9 <= module_lines_log2 <= 16:
            raise ValueError(f"Block-RAM modules must have 2^9 to 2^16 lines, "
                             f"not 2^{module_lines_log2!r}")
        self.core = _mirrorswap(soc_map.SLOTS, data_width)
        self.data_width = getattr(self.core, "data_width", 64)
        self.module_lines_log2 = module_lines_log2
        self._images = {"bios": list(bios), "workload": list(workload)}
        for name, image in self._images.items():
            if len(image) > soc_map.RAM_BYTES // 4:
                raise ValueError(f"The {name} image ({len(image)} words) does not fit "
                                 f"{soc_map.RAM_BYTES} bytes of RAM")
        super().__init__({
            "slot": Out(SlotSignature(capacity=False)).array(soc_map.SLOTS),
            "wipe": In(soc_map.SLOTS),
            "console": Out(stream.Signature(8)).array(len(CONSOLES)),
            "stats": Out(SocStatsSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        m.submodules.io = io = SocIo()
        for i in range(len(CONSOLES)):
            connect(m, io=io.console[i], out=wiring.flipped(self.console[i]))
        m.d.comb += [self.stats.host_state.eq(io.host_state),
                     self.stats.host_result.eq(io.host_result),
                     self.stats.host_progress.eq(io.host_progress),
                     self.stats.cycles.eq(io.cycles)]
        self._mgmt(m, core, io)
        self._host(m, core, io)
        self._slots(m, core)
        return m

    def _mgmt(self, m, core, io):
        m.submodules.mgmt_cpu = cpu = PicoRV32(stack_top=soc_map.STACK_TOP, irq=True,
                                               progaddr_reset=soc_map.PROGADDR_RESET,
                                               progaddr_irq=soc_map.PROGADDR_IRQ)
        m.submodules.mgmt_ram = ram = ProgramRam(size=soc_map.RAM_BYTES,
                                                 init=self._images["bios"])
        m.submodules.mgmt_bus = bus = LiteDecoder([
            (soc_map.RAM_BASE, soc_map.RAM_BYTES), (soc_map.IO_BASE, soc_map.IO_BYTES),
            (soc_map.MIRRORSWAP_BASE, soc_map.MIRRORSWAP_BYTES)])
        connect(m, cpu=cpu.bus, decoder=bus.bus)
        connect(m, decoder=bus.sub[0], ram=ram.bus)
        connect(m, decoder=bus.sub[1], io=io.mgmt)
        regs = core.s_axil
        sub = bus.sub[2]
        # the register port has 12 address bits: the window's offset
        for name, member in regs.signature.members.items():
            if member.flow == In:
                value = getattr(sub, name)
                m.d.comb += getattr(regs, name).eq(
                    value[:len(regs.awaddr)] if name in ("awaddr", "araddr") else value)
            else:
                m.d.comb += getattr(sub, name).eq(getattr(regs, name))
        m.d.comb += [cpu.irq_lines[soc_map.IRQ_MIRRORSWAP].eq(core.irq),
                     self.stats.trap[0].eq(cpu.trap)]
        with m.If(cpu.fetch):
            m.d.sync += self.stats.mgmt_instret.eq(self.stats.mgmt_instret + 1)

    def _host(self, m, core, io):
        m.submodules.host_cpu = cpu = PicoRV32(stack_top=soc_map.STACK_TOP, irq=False,
                                               progaddr_reset=soc_map.PROGADDR_RESET)
        m.submodules.host_ram = ram = ProgramRam(size=soc_map.RAM_BYTES,
                                                 init=self._images["workload"])
        m.submodules.host_bus = bus = LiteDecoder([
            (soc_map.RAM_BASE, soc_map.RAM_BYTES), (soc_map.IO_BASE, soc_map.IO_BYTES),
            (soc_map.HOST_MEM_BASE, 1 << 31)])
        m.submodules.host_bridge = bridge = LiteToAxi(
            data_width=self.data_width, host_addr_width=core.addr_width,
            id_width=core.id_width, base=soc_map.HOST_MEM_BASE)
        connect(m, cpu=cpu.bus, decoder=bus.bus)
        connect(m, decoder=bus.sub[0], ram=ram.bus)
        connect(m, decoder=bus.sub[1], io=io.host)
        connect(m, decoder=bus.sub[2], bridge=bridge.cpu)
        connect(m, bridge=bridge.host, core=core.s_axi)
        s = core.s_axi
        m.d.comb += self.stats.trap[1].eq(cpu.trap)
        with m.If(cpu.fetch):
            m.d.sync += self.stats.host_instret.eq(self.stats.host_instret + 1)
        with m.If(s.arvalid & s.arready):
            m.d.sync += self.stats.host_reads.eq(self.stats.host_reads + 1)
        with m.If(s.awvalid & s.awready):
            m.d.sync += self.stats.host_writes.eq(self.stats.host_writes + 1)

    def _slots(self, m, core):
        for i in range(soc_map.SLOTS):
            m.submodules[f"ram{i}"] = ram = ModuleRam(
                depth=1 << self.module_lines_log2, data_width=self.data_width,
                addr_width=len(core.m_axi_mem[i].awaddr), id_width=core.id_width)
            # as on the example board: a register slice between each memory port and its RAM
            slice_between(m, f"mem{i}_slice", core.m_axi_mem[i], ram.bus)
            pins, slot = self.slot[i], core.slot[i]
            m.d.comb += [slot.present.eq(pins.present), slot.power_good.eq(pins.power_good),
                         slot.button.eq(pins.button), pins.power_en.eq(slot.power_en),
                         pins.power_led.eq(slot.power_led), pins.attn_led.eq(slot.attn_led),
                         slot.capacity_log2.eq(self.module_lines_log2),
                         ram.wipe.eq(self.wipe[i])]
