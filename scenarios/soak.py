"""Soak: random traffic, migrations back and forth, hot swaps, injected faults, coverage.

As a cocotb test module (``soak``) it reads MS_SEED, MS_EPISODES, MS_LINES and MS_SUMMARY
(a file to write the summary to). As a program it is ``make soak``:

    python -m mirrorswap.scenarios.soak [--seed N] [--minutes M]

Every random choice comes from the seed, and the number of episodes from MINUTES, so a
run reproduces exactly from its two numbers.
"""

import argparse
import os
import random
import sys

import cocotb
from cocotb_coverage.coverage import CoverCross, CoverPoint, coverage_db, coverage_section

from mirrorswap.firmware.bios import Bios
from mirrorswap.geometry import DATA_WIDTHS
from mirrorswap.firmware.errors import CommandError, FlowError, NoSpareError
from mirrorswap.firmware.hotplug import HotPlug
from mirrorswap.regmap import Err, Mode, Op
from mirrorswap.sim.memory import inject_faults
from mirrorswap.sim.checks import check_all, preload
from mirrorswap.sim.scoreboard import ReferenceMemory, Scoreboard
from mirrorswap.sim.tb import TopTB, knob, pauses
from mirrorswap.sim.traffic import HostTraffic

MODES = [m.name for m in Mode]
OPS = [o.name for o in Op] + ["BAD_OPCODE"]
ERRS = [e.name for e in Err]
PHASES = ["idle", "mirrored", "sweeping", "releasing"]
HOST_OPS = ["read", "write", "narrow", "unowned", "expected read error"]
FAULTS = ["sweep read error", "forwarded write error", "spare power loss", "master stall",
          "spare stall"]
EPISODES_PER_MINUTE = 30   # measured: about 1.5 s an episode on a 2-core machine

_command_cov = coverage_section(
    CoverPoint("soak.command.mode", xf=lambda m, o, e: m, bins=MODES),
    CoverPoint("soak.command.op", xf=lambda m, o, e: o, bins=OPS),
    CoverPoint("soak.command.err", xf=lambda m, o, e: e, bins=ERRS),
    CoverCross("soak.command.mode x op x err",
               items=["soak.command.mode", "soak.command.op", "soak.command.err"]),
)
_host_cov = coverage_section(
    CoverPoint("soak.host.phase", xf=lambda p, k: p, bins=PHASES),
    CoverPoint("soak.host.op", xf=lambda p, k: k, bins=HOST_OPS),
    CoverCross("soak.host.phase x op", items=["soak.host.phase", "soak.host.op"]),
)
_fault_cov = coverage_section(
    CoverPoint("soak.fault.kind", xf=lambda k, p: k, bins=FAULTS),
    CoverPoint("soak.fault.phase", xf=lambda k, p: p, bins=PHASES),
    CoverCross("soak.fault.kind x phase", items=["soak.fault.kind", "soak.fault.phase"]),
)


@_command_cov
def sample_command(mode, op, err):
    pass


@_host_cov
def sample_host(phase, kind):
    pass


@_fault_cov
def sample_fault(kind, phase):
    pass


class SoakBios(Bios):
    """The BIOS, sampling every command's mode, opcode and error, and tracking phases."""

    def __init__(self, bus):
        super().__init__(bus)
        self.phases = {}
        self.before_release = None   # async callable run just before any RELEASE

    @property
    def phase(self):
        for p in ("sweeping", "releasing", "mirrored"):
            if p in self.phases.values():
                return p
        return "idle"

    async def command(self, agent, op, peer=0):
        mode = (await self.hw.status(agent)).mode
        op_name = Op(op).name if op in {o.value for o in Op} else "BAD_OPCODE"
        if op == Op.RELEASE and self.before_release is not None:
            await self.before_release()
        if op in (Op.SWEEP, Op.RELEASE):
            self.phases[agent] = "sweeping" if op == Op.SWEEP else "releasing"
        err = Err.OK
        try:
            return await super().command(agent, op, peer)
        except CommandError as e:
            err = e.err
            raise
        finally:
            sample_command(mode.name, op_name, err.name)
            now = (await self.hw.status(agent)).mode
            if now == Mode.MIRROR_MASTER:
                self.phases[agent] = "mirrored"
            else:
                self.phases.pop(agent, None)


class Soak:
    """One soak run on a ``mirrorswap_top``: a :class:`~mirrorswap.sim.tb.TopTB` with three
    modules of 2^``lines_log2`` lines and a spare twice as large, the BIOS (sampling
    coverage), host traffic checked by the scoreboard, and faults on every module.

    :meth:`start` boots and starts the traffic; each :meth:`episode` draws one of a
    migration, a migration with an injected fault, a hot swap by button, a refused command
    or plain traffic, all from ``seed``; :meth:`report` summarises what ran and the
    coverage.
    """

    def __init__(self, dut, seed, lines_log2):
        self.seed = seed
        self.rng = random.Random(seed * 7919 + 1)
        self.tb = TopTB(dut, capacities_log2=(lines_log2,) * 3 + (lines_log2 + 1,), seed=seed)
        self.lines_log2 = lines_log2
        self.tb.bios = self.bios = SoakBios(self.tb.bus)
        self.faults = [inject_faults(m, random.Random(self.rng.random())) for m in self.tb.mems]
        self.read_faulty = set()     # slots whose reads may fail right now
        self.stats = {"episodes": 0, "migrations": 0, "migrations refused or aborted": 0,
                      "hot swaps": 0, "refused commands": 0}
        self.injected = {k: 0 for k in FAULTS}
        self.survived = {k: 0 for k in FAULTS}

    async def start(self):
        tb = self.tb
        tb.set_backpressure(0.1, seed=self.rng.random())
        await tb.reset()
        self.mm = await self.bios.boot()
        self.published = self.mm.published()
        self.sb = Scoreboard(ReferenceMemory(self.mm.total_lines, tb.geometry.line_bytes))
        preload(tb, self.sb, self.mm)
        self.traffic = HostTraffic(tb, self.sb, self.mm, seed=self.seed, load=0.5,
                                   on_op=lambda kind: sample_host(self.bios.phase, kind),
                                   read_error_ok=self._read_may_fail)
        self.traffic.start()
        self.hp = HotPlug(self.bios, abort_window_cycles=300, chunk_lines=512)
        cocotb.start_soon(self.hp.run())

    def _read_may_fail(self, addr):
        r = self.mm.lookup(addr // self.tb.geometry.line_bytes)
        return r is not None and self.mm.owners[r] in self.read_faulty

    async def modes(self):
        return [(await self.bios.hw.status(a)).mode for a in range(len(self.tb.slots))]

    async def active_slot(self):
        active = [a for a, m in enumerate(await self.modes()) if m == Mode.ACTIVE]
        return self.rng.choice(active)

    # ---- actions -----------------------------------------------------------------------------
    async def migrate(self):
        slot = await self.active_slot()
        try:
            await self.bios.migrate(slot, chunk_lines=self.rng.choice([256, 512, 1024]))
            self.stats["migrations"] += 1
        except NoSpareError:
            self.stats["migrations refused or aborted"] += 1

    async def migrate_with_fault(self, kind):
        slot = await self.active_slot()
        size = await self.bios.hw.read_reg(slot, "SIZE")
        try:
            spare = await self.bios.pick_spare(size, exclude=(slot,))
        except NoSpareError:
            return await self.migrate()
        task = cocotb.start_soon(self._migrate_quietly(slot, spare))
        await self.tb.cycles(self.rng.randrange(50, 2500))
        victim = slot if kind in ("sweep read error", "master stall") else spare
        # A fault is only in force while the pair is mirrored: the victim must still be
        # master or slave now (read from the simulator: no await between check and arm),
        # and every fault is lifted before RELEASE makes the spare the owner. So none is
        # armed once the BIOS has passed its last look before RELEASE (``releasing`` is
        # set right after it, with no await between): the RELEASE may already be on the
        # register bus, and a module pulled then is pulled from the new owner.
        mode = Mode(int(getattr(self.tb.dut.ctrl, f"mode{victim}").value))
        if (task.done() or mode not in (Mode.MIRROR_MASTER, Mode.MIRROR_SLAVE)
                or self.bios.phases.get(slot) == "releasing"):
            await task
            return
        sample_fault(kind, self.bios.phase)
        self.injected[kind] += 1
        undo = await self._arm(kind, victim)
        undone = False

        async def lift():
            nonlocal undone
            if not undone:
                undone = True
                await undo()
        self.bios.before_release = lift
        for _ in range(self.rng.randrange(200, 1500) // 10):
            if task.done():
                break
            await self.tb.cycles(10)
        await lift()
        self.bios.before_release = None
        await task
        await self.traffic.quiesce()    # a write in flight is in memory but not yet known
        if await check_all(self.tb, self.sb, self.mm, sample=0, rng=self.rng,
                           what=f"after {kind}") == 0 and not self.sb.mismatches:
            self.survived[kind] += 1
        self.traffic.resume()

    async def _migrate_quietly(self, slot, spare):
        try:
            await self.bios.migrate(slot, spare=spare, chunk_lines=512)
            self.stats["migrations"] += 1
        except FlowError:
            self.stats["migrations refused or aborted"] += 1

    async def _arm(self, kind, victim):
        f = self.faults[victim]
        ram = self.tb.mems[victim]
        if kind == "sweep read error":
            self.read_faulty.add(victim)
            f.read_probability = self.rng.choice([0.002, 0.01])

            async def undo():
                f.read_probability = 0.0
                await self.tb.cycles(50)     # reads already under way may still fail
                self.read_faulty.discard(victim)
            return undo
        if kind == "forwarded write error":
            f.write_probability = self.rng.choice([0.005, 0.02])

            async def undo():
                f.write_probability = 0.0
            return undo
        if kind == "spare power loss":
            self.tb.slots[victim].remove()

            async def undo():
                self.tb.slots[victim].insert(self.lines_log2 + (victim == 3))
                await self.tb.cycles(20)
                await self.bios.power_on(victim)
            return undo
        channels = (ram.read_if.ar_channel, ram.read_if.r_channel, ram.write_if.aw_channel,
                    ram.write_if.w_channel, ram.write_if.b_channel)
        for ch in channels:                   # a stall: the memory stops answering
            ch.set_pause_generator(iter(lambda: True, None))

        async def undo():
            rng = random.Random(self.rng.random())
            for ch in channels:
                ch.set_pause_generator(pauses(rng, 0.1))
        return undo

    async def hot_swap(self):
        slot = await self.active_slot()
        rec = await self._press(slot)
        if rec.outcome != "done":
            return
        self.tb.slots[slot].remove()
        await self.tb.cycles(100)
        self.tb.slots[slot].insert(self.lines_log2 + (slot == 3))
        await self.tb.cycles(100)
        add = await self._press(slot)
        assert add.outcome == "done", add
        self.stats["hot swaps"] += 1

    async def _press(self, slot):
        before = len(self.hp.history)
        await self.tb.slots[slot].press_button()
        while not [r for r in self.hp.history[before:] if r.slot == slot]:
            await self.tb.cycles(20)
        await self.hp.wait_idle()
        return [r for r in self.hp.history[before:] if r.slot == slot][0]

    async def refused_command(self):
        agent = self.rng.randrange(len(self.tb.slots))
        mode = (await self.bios.hw.status(agent)).mode
        choices = [(self.rng.choice([0, 7, 9, 15]), 0)]
        if mode != Mode.IDLE:
            choices.append((Op.ASSIGN, 0))
        if mode != Mode.ACTIVE:
            choices += [(Op.ESTABLISH, (agent + 1) % 4), (Op.UNASSIGN, 0)]
        else:
            choices.append((Op.ESTABLISH, self.rng.choice([agent, 4, 15])))
        if mode != Mode.MIRROR_MASTER:
            choices += [(Op.SWEEP, 0), (Op.RELEASE, 0), (Op.ABORT, 0)]
        op, peer = self.rng.choice(choices)
        before = await self.tb.snapshot()
        try:
            await self.bios.command(agent, op, peer)
        except CommandError:
            pass
        else:
            raise AssertionError(f"{op} on {mode.name} agent {agent} was not refused")
        after = await self.tb.snapshot()
        for key in list(before):
            if key[1] == "EVENTS":
                before.pop(key), after.pop(key)
        assert after == before, f"refused {op} on agent {agent} changed state"
        self.stats["refused commands"] += 1

    async def episode(self):
        action = self.rng.choices(
            ["migrate", "fault", "hot swap", "refused", "traffic"],
            weights=[25, 35, 15, 15, 10])[0]
        if action == "migrate":
            await self.migrate()
        elif action == "fault":
            await self.migrate_with_fault(self.rng.choice(FAULTS))
        elif action == "hot swap":
            await self.hot_swap()
        elif action == "refused":
            await self.refused_command()
        else:
            await self.tb.cycles(self.rng.randrange(500, 3000))
        self.stats["episodes"] += 1
        assert not self.sb.mismatches, str(self.sb.mismatches[0])
        assert self.mm.published() == self.published

    def report(self):
        lines = [f"soak: seed {self.seed}, {self.stats['episodes']} episodes",
                 "  " + ", ".join(f"{k}: {v}" for k, v in self.stats.items()
                                  if k != "episodes"),
                 "  host traffic: " + ", ".join(f"{v} {k}"
                                                for k, v in self.traffic.by_kind.items()),
                 "  faults injected / survived: " + ", ".join(
                     f"{k} {self.injected[k]}/{self.survived[k]}" for k in FAULTS),
                 f"  scoreboard: {self.sb.summary()}",
                 "  functional coverage (bins hit / bins):"]
        for name in ("soak.command.mode", "soak.command.op", "soak.command.err",
                     "soak.command.mode x op x err", "soak.host.phase x op",
                     "soak.fault.kind x phase"):
            item = coverage_db[name]
            lines.append(f"    {name:32s} {item.coverage:4d} / {item.size:<4d}"
                         f" ({item.cover_percentage:5.1f}%)")
            if " x " in name and "err" not in name:
                hit = [b for b, n in item.detailed_coverage.items() if n]
                missed = [b for b, n in item.detailed_coverage.items() if not n]
                lines.append(f"      hit: {', '.join('/'.join(map(str, b)) for b in hit)}")
                if missed:
                    lines.append(f"      not hit: "
                                 f"{', '.join('/'.join(map(str, b)) for b in missed)}")
        return "\n".join(lines)


@cocotb.test()
async def soak(dut):
    seed = knob("seed", 1)
    episodes = knob("episodes", 20)
    lines_log2 = knob("lines", 1024).bit_length() - 1
    s = Soak(dut, seed, lines_log2)
    await s.start()
    for _ in range(episodes):
        await s.episode()
    await s.traffic.stop()
    s.hp.stop()
    bad = await check_all(s.tb, s.sb, s.mm, sample=32, rng=s.rng, what="end of soak")
    text = s.report() + f"\n  every line checked at the end: {bad} mismatches"
    sys.stdout.write("\n" + text + "\n")
    summary = knob("summary", None, str)
    if summary:
        with open(summary, "w") as f:
            f.write(text + "\n")
    assert bad == 0 and not s.sb.mismatches


def main(argv=None):
    from mirrorswap.sim.runner import BUILD, run_bench, shared_top
    p = argparse.ArgumentParser(prog="make soak", description=(
        "Random host traffic with migrations back and forth, hot swaps by button, injected "
        "memory faults, stalls and power losses, checked by the scoreboard, with functional "
        "coverage. Reproduces exactly from SEED and MINUTES."))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--minutes", type=float, default=3.0,
                   help="approximate wall time; sets the number of episodes (default 3)")
    p.add_argument("--data-width", type=int, choices=DATA_WIDTHS, default=64,
                   help="data bits of the host and memory ports (default 64)")
    args = p.parse_args(argv)
    if args.minutes <= 0:
        p.error(f"argument --minutes: must be positive, not {args.minutes}")
    episodes = max(1, round(args.minutes * EPISODES_PER_MINUTE))
    params = {} if args.data_width == 64 else {"data_width": args.data_width}
    build = BUILD / ("soak" + "".join(f"_{k}-{v}" for k, v in params.items()))
    src = shared_top(**params)
    width = f" DATA_WIDTH={args.data_width}" if params else ""
    print(f"soak: seed {args.seed}, {episodes} episodes (about {args.minutes} minutes), "
          f"{args.data_width}-bit data; reproduce with: make soak SEED={args.seed} "
          f"MINUTES={args.minutes}{width}", flush=True)
    os.environ.setdefault("COCOTB_LOG_LEVEL", "WARNING")
    try:
        run_bench([src], "mirrorswap_top", "mirrorswap.scenarios.soak", build_dir=build, quiet=True,
                  env={"MS_SEED": args.seed, "MS_EPISODES": episodes,
                       "MS_SUMMARY": build / "summary.txt",
                       "COCOTB_LOG_LEVEL": os.environ["COCOTB_LOG_LEVEL"]})
    except AssertionError as e:
        print(f"make soak: FAILED: {e}", file=sys.stderr)
        return 1
    print(f"summary: {build / 'summary.txt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
