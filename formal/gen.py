"""Verilog of the designs under proof, generated from the Amaranth sources at run time.

Three variants of ``mirrorswap_top``, all with the configuration of :data:`CONFIG`:

- ``normal``: ``MirrorswapTop(**CONFIG)``, the design as shipped.
- ``broken``: ``MirrorswapTop(**CONFIG, hazard_check=False)``, whose sweep and host write
  path ignore each other (for manual runs; ``make formal`` checks the broken variant on
  ``formal/core.py``, where it fails within seconds).
- ``stub``: the design as shipped except that every ``SweepEngine`` is replaced by
  :class:`AbstractSweep`, which reports a SWEEP as done, all of it copied, the cycle after
  it starts, without memory traffic. Used only by the release proof, which needs RELEASE
  (SWEPT_UPTO >= SIZE = 512 lines) within a short bounded depth; copying itself is what the
  no-lost-write proof covers on the ``normal`` design.
"""

import contextlib
import os
from pathlib import Path

from amaranth.hdl import Module, Signal

__all__ = ["CONFIG", "AbstractSweep", "top_component", "write_top"]

#: The configuration every proof runs on (see formal/README.md).
CONFIG = dict(agents=2, addr_width=32, id_width=2, max_capacity_log2=9,
              sweep_burst=2, sweep_depth=4)


def _sweep_base():
    from mirrorswap.rtl.sweep import SweepEngine
    return SweepEngine


class AbstractSweep(_sweep_base()):
    """Same ports as ``SweepEngine``; a SWEEP of [start, start+count) completes (progress
    to start+count, done) the cycle after ``ctrl.start``, with no memory traffic and no
    claim (host writes never wait for it)."""

    def elaborate(self, platform):
        m = Module()
        ctrl = self.ctrl
        running = Signal()
        end = Signal(32)
        with m.If(ctrl.start):
            m.d.sync += [running.eq(1), end.eq(ctrl.start_line + ctrl.count)]
        with m.If(running):
            m.d.comb += [ctrl.progress_valid.eq(1), ctrl.progress_end.eq(end),
                         ctrl.done.eq(1)]
            m.d.sync += running.eq(0)
        m.d.comb += [self.rd.rready.eq(1), self.wr.bready.eq(1)]
        return m


@contextlib.contextmanager
def _sweep_replaced():
    from mirrorswap.rtl import top as rtl_top
    saved = rtl_top.SweepEngine
    rtl_top.SweepEngine = AbstractSweep
    try:
        yield
    finally:
        rtl_top.SweepEngine = saved


def top_component(variant):
    from mirrorswap.rtl.top import MirrorswapTop
    if variant == "normal":
        return MirrorswapTop(**CONFIG)
    if variant == "broken":
        return MirrorswapTop(**CONFIG, hazard_check=False)
    if variant == "stub":
        return MirrorswapTop(**CONFIG)
    raise ValueError(f"Unknown variant {variant!r}")


def write_top(variant, path):
    """Write ``mirrorswap_top`` of ``variant`` to ``path``; returns the path."""
    os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
    from mirrorswap.flows.verilog import to_verilog
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    top = top_component(variant)
    ctx = _sweep_replaced() if variant == "stub" else contextlib.nullcontext()
    with ctx:
        text = to_verilog(top, "mirrorswap_top")
    path.write_text(text)
    return path
