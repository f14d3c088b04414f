"""The ``mirrorswap`` command: simulate, generate, show the register map, drive a board.

    mirrorswap sim [make-sim options]         the main scenario (see make sim)
    mirrorswap soak [--seed N] [--minutes M]  the reliability soak
    mirrorswap verilog [-o FILE] [--agents N ...]
    mirrorswap regmap                         the register map (Markdown)
    mirrorswap board --device /dev/mem --base 0x43c00000 [--clock-hz F] COMMAND
        status | boot | migrate SLOT | add SLOT | remove SLOT

The board commands run the BIOS model over the memory-mapped register interface of the
design in programmable logic (``firmware.regbus.MemoryMappedBus``).
"""

import argparse
import asyncio
import sys

__all__ = ["main"]


def _int(text):
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}")


def _board_parser(sub):
    p = sub.add_parser("board", help="drive a board through its memory-mapped registers")
    p.add_argument("--device", required=True, help="file to map, e.g. /dev/mem or /dev/uio0")
    p.add_argument("--base", type=_int, default=0, help="byte offset of the registers")
    p.add_argument("--clock-hz", type=float, default=100e6, help="design clock (default 100e6)")
    cmd = p.add_subparsers(dest="command", required=True)
    cmd.add_parser("status", help="slot table and memory map")
    cmd.add_parser("boot", help="power slots, assign ranges, print the memory map")
    for name, text in (("migrate", "move a slot's range to a spare"),
                       ("add", "power a slot and make its module a spare"),
                       ("remove", "switch a spare (IDLE) slot off")):
        c = cmd.add_parser(name, help=text)
        c.add_argument("slot", type=int)
    return p


class _Progress:
    def __call__(self, done, total):
        width = 40
        filled = width * done // total
        sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}%")
        if done >= total:
            sys.stdout.write("\n")
        sys.stdout.flush()


async def _board(args):
    from mirrorswap.regmap import Led, Mode
    from .bios import Bios, format_slot_table
    from .regbus import MemoryMappedBus

    from mirrorswap.regmap import ID_VALUE, global_reg
    bus = MemoryMappedBus(args.device, base=args.base, clock_hz=args.clock_hz)
    try:
        ident = await bus.read32(global_reg("ID").offset)
        if ident != ID_VALUE:
            raise ValueError(f"no mirrorswap at {args.device} offset {args.base:#x}: ID reads "
                             f"{ident:#010x}, not {ID_VALUE:#010x}")
        bios = Bios(bus)
        if args.command == "boot":
            mm = await bios.boot()
            print(mm.e820())
        elif args.command == "migrate":
            spare = await bios.migrate(args.slot, progress=_Progress())
            print(f"slot {args.slot}: range moved to slot {spare}")
        elif args.command == "add":
            await bios.hw.check_agent(args.slot)
            await bios.hw.set_slot(args.slot, power_en=1, power_led=Led.BLINK)
            await bios._wait_mode(args.slot, Mode.IDLE, int(args.clock_hz))
            await bios.hw.set_slot(args.slot, power_led=Led.ON)
            print(f"slot {args.slot}: module is a spare")
        elif args.command == "remove":
            await bios.hw.check_agent(args.slot)
            if (await bios.hw.status(args.slot)).mode != Mode.IDLE:
                raise ValueError(f"slot {args.slot} is not an IDLE spare; migrate it first")
            await bios.hw.set_slot(args.slot, power_en=0, power_led=Led.OFF, attn_led=Led.OFF)
            print(f"slot {args.slot}: off")
        print(format_slot_table(await bios.slot_table()))
    finally:
        bus.close()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="mirrorswap", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="tool", required=True)
    sub.add_parser("sim", help="run a simulation scenario (options: mirrorswap sim -h)",
                   add_help=False)
    sub.add_parser("soak", help="run the reliability soak (options: mirrorswap soak -h)",
                   add_help=False)
    sub.add_parser("verilog", help="write the top level as Verilog", add_help=False)
    sub.add_parser("regmap", help="print the register map")
    _board_parser(sub)
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("sim", "soak", "verilog"):
        # these forward their own options to the tools make uses
        if argv[0] == "sim":
            from mirrorswap.scenarios.run import main as run
        elif argv[0] == "soak":
            from mirrorswap.scenarios.soak import main as run
        else:
            from mirrorswap.flows.verilog import main as run
        return run(argv[1:]) or 0
    args = parser.parse_args(argv)
    if args.tool == "regmap":
        from mirrorswap.regmap import markdown
        print(markdown(), end="")
        return 0
    try:
        asyncio.run(_board(args))
    except (OSError, ValueError) as e:
        print(f"mirrorswap board: {e}", file=sys.stderr)
        return 1
    except Exception as e:   # a refused command or a failed flow, with its reason
        print(f"mirrorswap board: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
