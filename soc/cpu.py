"""PicoRV32 (``picorv32_axi``) as an Amaranth component, its Verilog found through PyPI."""

from pathlib import Path

from amaranth.hdl import ClockSignal, Instance, Module, ResetSignal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mirrorswap.rtl.signatures import AXI4LiteSignature

__all__ = ["PicoRV32", "picorv32_source"]


def picorv32_source():
    """Path of ``picorv32.v`` inside the installed ``pythondata-cpu-picorv32`` package: every
    flow that builds the SoC (simulation, lint, synthesis) adds it to its sources.

    Raises
    ------
    RuntimeError
        The package is not installed (the message says how to install it).
    """
    try:
        import pythondata_cpu_picorv32 as data
    except ImportError:
        raise RuntimeError("The PicoRV32 Verilog comes from the PyPI package "
                           "pythondata-cpu-picorv32: pip install -c constraints.txt "
                           "-e '.[soc]'") from None
    path = Path(data.data_location) / "picorv32.v"
    if not path.is_file():
        raise RuntimeError(f"pythondata-cpu-picorv32 is installed but has no {path}")
    return path


class PicoRV32(wiring.Component):
    """One PicoRV32 core, RV32IM, with its AXI4-Lite memory port (``picorv32_axi``).

    The core issues one memory access at a time and waits for its response: there is no
    cache and never a second outstanding access. Instruction fetches carry ``arprot`` =
    0b100 (instruction), data accesses 0b000 (secure, privileged-less data): that is what
    lets a fetch counter (``fetch``) count instructions, since PicoRV32 fetches exactly
    the instructions it executes. Responses' ``bresp``/``rresp`` are ignored by the core.
    Reset is the domain's reset (the core's ``resetn`` is its inverse). The core's own
    counters (``rdcycle``, ``rdinstret``) are on.

    Parameters
    ----------
    stack_top : int
        Initial stack pointer (``STACKADDR``), a multiple of 16.
    irq : bool
        ``ENABLE_IRQ`` with the q-registers and the timer, entry at ``progaddr_irq``.
    progaddr_reset, progaddr_irq : int
        Reset vector and IRQ entry.

    Members
    -------
    bus : Out(AXI4LiteSignature(addr_width=32))
        The memory port (``bresp``/``rresp`` unused).
    irq_lines : In(32)
        PicoRV32's ``irq`` inputs (ignored without ``irq``).
    trap : Out(1)
        The core has stopped on a trap it cannot take.
    fetch : Out(1)
        One cycle per instruction fetch accepted (AR handshake with ``arprot[2]``).
    """

    def __init__(self, *, stack_top, irq=False, progaddr_reset=0, progaddr_irq=0x10):
        for name, value in (("Stack top", stack_top), ("Reset vector", progaddr_reset),
                            ("IRQ entry", progaddr_irq)):
            if not isinstance(value, int) or not 0 <= value < 1 << 32:
                raise ValueError(f"{name} must be a 32-bit address, not {value!r}")
        if stack_top % 16:
            raise ValueError(f"Stack top must be a multiple of 16, not {stack_top:#x}")
        self._stack_top = stack_top
        self._irq = bool(irq)
        self._progaddr_reset = progaddr_reset
        self._progaddr_irq = progaddr_irq
        super().__init__({
            "bus": Out(AXI4LiteSignature(addr_width=32)),
            "irq_lines": In(32),
            "trap": Out(1),
            "fetch": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        m.submodules.core = Instance(
            "picorv32_axi",
            p_ENABLE_MUL=1, p_ENABLE_DIV=1, p_COMPRESSED_ISA=0,
            p_ENABLE_COUNTERS=1, p_ENABLE_COUNTERS64=1,
            p_ENABLE_IRQ=int(self._irq), p_ENABLE_IRQ_QREGS=int(self._irq),
            p_ENABLE_IRQ_TIMER=int(self._irq),
            p_PROGADDR_RESET=self._progaddr_reset, p_PROGADDR_IRQ=self._progaddr_irq,
            p_STACKADDR=self._stack_top,
            i_clk=ClockSignal(), i_resetn=~ResetSignal(), o_trap=self.trap,
            o_mem_axi_awvalid=bus.awvalid, i_mem_axi_awready=bus.awready,
            o_mem_axi_awaddr=bus.awaddr, o_mem_axi_awprot=bus.awprot,
            o_mem_axi_wvalid=bus.wvalid, i_mem_axi_wready=bus.wready,
            o_mem_axi_wdata=bus.wdata, o_mem_axi_wstrb=bus.wstrb,
            i_mem_axi_bvalid=bus.bvalid, o_mem_axi_bready=bus.bready,
            o_mem_axi_arvalid=bus.arvalid, i_mem_axi_arready=bus.arready,
            o_mem_axi_araddr=bus.araddr, o_mem_axi_arprot=bus.arprot,
            i_mem_axi_rvalid=bus.rvalid, o_mem_axi_rready=bus.rready,
            i_mem_axi_rdata=bus.rdata,
            i_pcpi_wr=0, i_pcpi_rd=0, i_pcpi_wait=0, i_pcpi_ready=0,
            i_irq=self.irq_lines,
        )
        m.d.comb += self.fetch.eq(bus.arvalid & bus.arready & bus.arprot[2])
        return m
