"""The ``mirrorswap`` command: simulate, generate, show the register map, drive a board.

    mirrorswap sim [make-sim options]         the main scenario (see make sim)
    mirrorswap soak [--seed N] [--minutes M]  the reliability soak
    mirrorswap verilog [-o FILE] [--agents N ...]
    mirrorswap regmap                         the register map (Markdown)
    mirrorswap board --device /dev/mem --base 0x43c00000 [--clock-hz F] COMMAND
        status | boot [--mirror] | migrate SLOT | add SLOT | remove SLOT
        | ras [--slot N [--failover-en 0|1] [--poison-en 0|1] [--clear-counts]]

The command-line layer of the firmware model (see :mod:`mirrorswap.firmware`): the board
commands parse their arguments, open the memory-mapped register interface of the design in
programmable logic (:class:`firmware.regbus.MemoryMappedBus`), call one public flow of
:class:`firmware.bios.Bios` or :class:`firmware.hotplug.HotPlug`, and print what the
board shows after it: the memory map, the slot table and whether LOCK is set (``boot``
sets it; the flows after it need the platform to give this process secure accesses).
``ras`` prints each agent's error registers instead (CE_COUNT, UE_COUNT, RAS_CTRL,
ERR_ADDR and the RAS events pending in EVENTS), after setting RAS_CTRL fields or clearing
the counters of one slot when asked.

Exit codes: 0 done; 1 the board refused or the flow failed (the reason on stderr); 2 bad
arguments, found before anything is opened or written.
"""

import argparse
import asyncio
import sys

__all__ = ["main", "ProgressBar"]


def _int(text, minimum=0):
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
    return value


def _bit(text):
    if text not in ("0", "1"):
        raise argparse.ArgumentTypeError(f"must be 0 or 1, not {text!r}")
    return int(text)


def _check_ras_args(parser, args):
    """``ras`` options that write need ``--slot``, and ``--slot`` needs one of them: refused
    (usage, exit 2) before anything is opened."""
    if args.tool != "board" or args.command != "ras":
        return
    writes = (args.failover_en is not None or args.poison_en is not None
              or args.clear_counts)
    if writes and args.slot is None:
        parser.error("board ras: --failover-en, --poison-en and --clear-counts need --slot")
    if args.slot is not None and not writes:
        parser.error("board ras: --slot needs --failover-en, --poison-en or --clear-counts")


def _clock(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:       # also refuses nan
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _board_parser(sub):
    p = sub.add_parser("board", help="drive a board through its memory-mapped registers")
    p.add_argument("--device", required=True, help="file to map, e.g. /dev/mem or /dev/uio0")
    p.add_argument("--base", type=_int, default=0, help="byte offset of the registers")
    p.add_argument("--clock-hz", type=_clock, default=100e6,
                   help="design clock (default 100e6)")
    cmd = p.add_subparsers(dest="command", required=True)
    cmd.add_parser("status", help="memory map, slot table and lock state")
    boot = cmd.add_parser("boot", help="power slots, assign ranges, publish the memory map, "
                                       "set LOCK")
    boot.add_argument("--mirror", action="store_true",
                      help="mirror mode: pair the modules for redundancy (failover on)")
    ras = cmd.add_parser("ras", help="error counters, RAS_CTRL, ERR_ADDR and pending error "
                                     "events of every slot; set RAS_CTRL of one slot")
    ras.add_argument("--slot", type=_int, help="the slot the options below write")
    for name, text in (("failover-en", "RAS_CTRL.failover_en: read failover and master "
                                       "failover of a mirror master"),
                       ("poison-en", "RAS_CTRL.poison_en: a sweep copies unreadable lines "
                                     "as poison (only if the spare stores poison)")):
        ras.add_argument(f"--{name}", type=_bit, help=text)
    ras.add_argument("--clear-counts", action="store_true",
                     help="write 0 to CE_COUNT and UE_COUNT")
    for name, text in (("migrate", "move a slot's range to a spare (the slot stays on)"),
                       ("add", "hot add: power a slot and make its module a spare"),
                       ("remove", "remove a spare: switch an IDLE slot off")):
        c = cmd.add_parser(name, help=text)
        c.add_argument("slot", type=_int)
    return p


class ProgressBar:
    """The migrate progress callback: ``[#####.....]  42%``.

    On a terminal the bar is redrawn in place (``\\r``) and ends with a newline when done;
    to anything else (a log, a pipe) it writes one line per step, because carriage
    returns there make one unreadable line.

    Parameters
    ----------
    stream : file, optional
        Where to draw; ``sys.stdout`` (looked up at each call) by default.
    width : int
        Characters of the bar.
    """

    def __init__(self, stream=None, width=40):
        self.stream = stream
        self.width = width

    def text(self, done, total):
        """The bar for ``done`` of ``total``, without line ends."""
        filled = self.width * done // total
        return f"[{'#' * filled}{'.' * (self.width - filled)}] {100 * done // total:3d}%"

    def __call__(self, done, total):
        stream = self.stream or sys.stdout
        bar = self.text(done, total)
        if stream.isatty():
            stream.write("\r" + bar + ("\n" if done >= total else ""))
        else:
            stream.write(bar + "\n")
        stream.flush()


async def _status(bios):
    """The memory map (as the OS was told it, read back from the owners' registers), the
    slot table and the state of LOCK."""
    from .bios import format_slot_table
    mm = await bios.read_memory_map()
    print("memory map:")
    print(mm.e820() if mm.ranges else "  none published (no slot serves a range)")
    print()
    print(format_slot_table(await bios.slot_table()))
    print()
    print("lock: " + ("set (non-secure register writes are refused until reset)"
                      if await bios.hw.locked() else
                      "clear (any manager may write the registers)"))


async def _ras(bios, args):
    """Set RAS_CTRL fields or clear the counters of ``args.slot`` if asked (the slot is
    checked before anything is written), then print every agent's error registers."""
    from .ras import format_ras_table
    hw = bios.hw
    if args.slot is not None:
        await hw.check_agent(args.slot)
        if args.failover_en is not None or args.poison_en is not None:
            await hw.set_ras(args.slot, failover_en=args.failover_en,
                             poison_en=args.poison_en)
        if args.clear_counts:
            await hw.clear_counts(args.slot)
    rows = [{"slot": a, "mode": (await hw.status(a)).mode.name, "ras": await hw.ras(a)}
            for a in range(await hw.agents())]
    print(format_ras_table(rows))


async def _board(args):
    from mirrorswap.regmap import ID_VALUE, global_reg
    from .bios import Bios
    from .errors import FlowError
    from .hotplug import HotPlug
    from .regbus import MemoryMappedBus

    bus = MemoryMappedBus(args.device, base=args.base, clock_hz=args.clock_hz)
    try:
        ident = await bus.read32(global_reg("ID").offset)
        if ident != ID_VALUE:
            raise ValueError(f"no mirrorswap at {args.device} offset {args.base:#x}: ID reads "
                             f"{ident:#010x}, not {ID_VALUE:#010x}")
        bios = Bios(bus)
        # one second for a module to power up or down, as a person at the board expects
        hotplug = HotPlug(bios, abort_window_cycles=0,
                          power_timeout_cycles=max(1, int(args.clock_hz)))
        if args.command == "ras":
            await _ras(bios, args)
            return
        if args.command == "boot":
            await bios.boot(mirror=args.mirror)
            if args.mirror:
                pairs = ", ".join(f"{m}+{s}" for m, s in sorted(bios.mirror_pairs.items()))
                print(f"mirror pairs (master+slave): {pairs or 'none'}")
        elif args.command == "migrate":
            spare = await bios.migrate(args.slot, progress=ProgressBar())
            print(f"slot {args.slot}: range moved to slot {spare}")
        elif args.command in ("add", "remove"):
            flow = hotplug.hot_add if args.command == "add" else hotplug.remove_spare
            record = await flow(args.slot)
            if record.outcome != "done":
                raise FlowError(f"slot {args.slot}: {record.outcome}: {record.detail}")
            print(f"slot {args.slot}: " + ("module is a spare" if args.command == "add"
                                           else "off"))
        await _status(bios)
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
    args = parser.parse_args(argv)      # bad arguments: usage, the reason, exit 2
    _check_ras_args(parser, args)
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
