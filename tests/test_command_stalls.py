"""How long each command holds host traffic, on the whole ``mirrorswap_top``.

One file per unit (here: the sequencer's ``hold`` as the host port sees it). The cocotb
test runs one migration's worth of commands, each issued through the register port as
firmware does, and watches the controller's ``hold`` (the host port takes no new burst)
and ``port_clear`` (nothing in flight on the host port to the agents whose routes the
command changes, nor undecoded) every cycle. For each command it records the cycles
``hold`` is high and, of those, the *drain*: from ``hold`` rising until the port is first
clear. Three runs of the same sequence:

- ``idle``: no host traffic;
- ``traffic``: eight host workers issue 1- to 16-beat reads and writes (several IDs) to
  the migrating range and to another agent, throughout;
- ``claim``: as ``traffic``, and another pair (agent 1 to agent 2) sweeps at THROTTLE 64
  while a worker writes just ahead of its sweep, so a host write is almost always held by
  that sweep's claim (for up to 64 x 65 cycles).

The sequence: ASSIGN (twice), ESTABLISH, SWEEP in four chunks, RELEASE, ESTABLISH back,
ABORT, UNASSIGN, ASSIGN, a refused RELEASE (BAD_STATE), and a SLOT_CTRL power step of an
IDLE agent (off, then on). The pytest entry writes the table to
``build/command_stalls.md`` (docs/commands.md holds a copy) and checks the bounds the
sequencer promises (docs/commands.md): SWEEP, its chunk starts, refused commands and power
steps never hold; a command that changes routes holds for its drain and one cycle more;
and in ``claim`` no command of pairs 0-3 waits for the write held by pair 1-2's claim.
"""

import json
import os
import random

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge

from mirrorswap.paths import build_root
from mirrorswap.regmap import Err, Mode, Op, agent_reg
from mirrorswap.sim.runner import bench_dir, run_tests, shared_top
from mirrorswap.sim.tb import TopTB, knob

_CMD = agent_reg("CMD")
_SLOT = agent_reg("SLOT_CTRL")
SCENARIOS = ("idle", "traffic", "claim")
CHUNK = 1024                 # lines per SWEEP chunk (the module has 4096)
CLAIM_THROTTLE = 64


class StallWatch:
    """Samples ``hold`` and ``port_clear`` every cycle; :meth:`window` summarizes a span."""

    def __init__(self, dut):
        self.dut = dut
        self.hold = []
        self.quiet = []
        cocotb.start_soon(self._run())

    async def _run(self):
        hold, quiet = self.dut.hold, self.dut.ctrl.port_clear
        while True:
            await RisingEdge(self.dut.clk)
            await ReadOnly()
            self.hold.append(int(hold.value))
            self.quiet.append(int(quiet.value))

    @property
    def now(self):
        return len(self.hold)

    def window(self, start, end):
        """Hold episodes in cycles [start, end): (cycles held, drain) of each."""
        episodes = []
        k = start
        while k < end:
            if not self.hold[k]:
                k += 1
                continue
            first = k
            drain = None
            while k < end and self.hold[k]:
                if drain is None and self.quiet[k]:
                    drain = k - first
                k += 1
            episodes.append((k - first, first if drain is None else drain))
        return episodes


class StallTB(TopTB):
    """A :class:`TopTB` that times commands; ``results[name]`` lists each run's episodes."""

    def __init__(self, dut):
        super().__init__(dut, seed=knob("seed", 1))
        self.watch = StallWatch(dut)
        self.results = {}
        self.stop = False

    async def timed(self, name, coro):
        start = self.watch.now
        value = await coro
        await self.cycles(2)
        self.results.setdefault(name, []).append(self.watch.window(start, self.watch.now))
        return value

    async def cmd(self, name, agent, op, peer=0, want=Err.OK):
        err = await self.timed(name, self.command(agent, op, peer))
        assert err == want, f"{name} on agent {agent}: {Err(err).name}, want {want.name}"

    async def power_step(self, agent, on):
        async def step():
            await self.write(agent, "SLOT_CTRL", _SLOT.power_en.put(0, int(on)))
            want = Mode.IDLE if on else Mode.OFF
            while (await self.status(agent))["mode"] != want:
                await self.cycles(4)
        await self.timed("SLOT_CTRL power step", step())

    # ---- host traffic ------------------------------------------------------------------
    async def worker(self, rng, lo, lines_in_range):
        """Random 1- to 16-line reads and writes in [lo, lo + lines_in_range)."""
        lb, page = self.geometry.line_bytes, self.geometry.page_lines
        while not self.stop:
            lines = rng.randint(1, 16)
            line = lo + rng.randrange(lines_in_range - lines)
            if line // page != (line + lines - 1) // page:
                continue
            if rng.random() < 0.5:
                await self.host.write(line * lb, rng.randbytes(lines * lb),
                                      awid=rng.randrange(self.ids))
            else:
                await self.host.read(line * lb, lines * lb, arid=rng.randrange(self.ids))

    async def claim_writer(self, agent, base):
        """Writes just ahead of ``agent``'s running sweep: each waits on its claim."""
        lb = self.geometry.line_bytes
        while not self.stop:
            upto = await self.read(agent, "SWEPT_UPTO")
            await self.host.write((base + upto + 24) * lb, bytes(lb))


@cocotb.test()
async def command_stalls(dut):
    scenario = os.environ.get("MS_SCENARIO", "idle")
    tb = StallTB(dut)
    await tb.reset()
    await tb.power_up()
    size = 4096
    rng = random.Random(knob("seed", 1))
    await tb.write(0, "BASE", 0)
    await tb.write(0, "SIZE", size)
    await tb.cmd("ASSIGN", 0, Op.ASSIGN)
    await tb.write(1, "BASE", size)
    await tb.write(1, "SIZE", size)
    await tb.cmd("ASSIGN", 1, Op.ASSIGN)
    tasks = []
    if scenario != "idle":
        for k in range(8):
            lo, span = (0, size) if k < 6 else (size, size)
            tasks.append(cocotb.start_soon(tb.worker(random.Random(rng.random()), lo, span)))
    if scenario == "claim":
        await tb.cmd("ESTABLISH", 1, Op.ESTABLISH, 2)
        await tb.write(1, "THROTTLE", CLAIM_THROTTLE)
        await tb.write(1, "SWEEP_START", 0)
        await tb.write(1, "SWEEP_COUNT", size)
        await tb.write(1, "CMD", _CMD.opcode.put(0, Op.SWEEP))   # runs on; not waited for
        tasks.append(cocotb.start_soon(tb.claim_writer(1, size)))
        await tb.cycles(200)
    await tb.cmd("ESTABLISH", 0, Op.ESTABLISH, 3)
    for start in range(0, size, CHUNK):
        await tb.write(0, "SWEEP_START", start)
        await tb.write(0, "SWEEP_COUNT", CHUNK)
        await tb.cmd("SWEEP (chunk)", 0, Op.SWEEP)
    await tb.cmd("RELEASE", 0, Op.RELEASE)
    await tb.cmd("ESTABLISH", 3, Op.ESTABLISH, 0)
    await tb.cmd("ABORT", 3, Op.ABORT)
    await tb.cmd("UNASSIGN", 3, Op.UNASSIGN)
    await tb.cmd("ASSIGN", 3, Op.ASSIGN)
    await tb.cmd("refused (RELEASE of an ACTIVE agent)", 3, Op.RELEASE, want=Err.BAD_STATE)
    await tb.power_step(0, False)
    await tb.power_step(0, True)
    tb.stop = True
    if scenario == "claim":
        assert (await tb.status(1))["busy"], "the throttled sweep ran throughout"
    for task in tasks:
        task.cancel()
    out = bench_dir("command_stalls", scenario=scenario) / "stalls.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(tb.results))
    dut._log.info("%s: %s", scenario, tb.results)


# ---- pytest ---------------------------------------------------------------------------

ORDER = ["ASSIGN", "ESTABLISH", "SWEEP (chunk)", "RELEASE", "ABORT", "UNASSIGN",
         "refused (RELEASE of an ACTIVE agent)", "SLOT_CTRL power step"]
ROUTE_CHANGES = {"ASSIGN", "ESTABLISH", "RELEASE", "ABORT", "UNASSIGN"}


def _cell(runs):
    """'held (drain)' as the largest over a command's runs: total held cycles per run."""
    held = max(sum(h for h, _ in eps) for eps in runs)
    drain = max((d for eps in runs for _, d in eps), default=0)
    episodes = max(len(eps) for eps in runs)
    return held, drain, episodes


def table(results):
    """Markdown: one row per command, for each scenario 'held / drain' in cycles."""
    lines = ["| command | " + " | ".join(f"{s}: held (drain)" for s in SCENARIOS) + " |",
             "|---|" + "---|" * len(SCENARIOS)]
    for name in ORDER:
        cells = []
        for s in SCENARIOS:
            held, drain, _ = _cell(results[s][name])
            cells.append(f"{held} ({drain})" if held else "0")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_command_stalls():
    results = {}
    for scenario in SCENARIOS:
        run_tests(__file__, "mirrorswap_top", sources=[shared_top(agents=4)],
                  params={"scenario": scenario})
        path = bench_dir("command_stalls", scenario=scenario) / "stalls.json"
        results[scenario] = json.loads(path.read_text())
    text = table(results)
    (build_root() / "command_stalls.md").write_text(text)
    print(text)
    for scenario, runs in results.items():
        for name, windows in runs.items():
            for episodes in windows:
                if name not in ROUTE_CHANGES:
                    assert not episodes, f"{scenario}: {name} held the host port {episodes}"
                    continue
                assert len(episodes) == 1, f"{scenario}: {name} held {episodes}"
                held, drain = episodes[0]
                # the drain, then the cycle that sees the port quiet, then EXEC
                assert held == drain + 2, f"{scenario}: {name} held {held}, drain {drain}"
                if scenario == "idle":
                    assert held == 2, f"idle: {name} held {held}"
    # The claim scenario's held write (to agent 1, up to 64 x 65 cycles) is no burst to
    # agents 0 and 3: their commands wait only for their own traffic, as without it.
    # (Before the per-agent drain, ESTABLISH and RELEASE held 1387 and 266 cycles.)
    bound = 2 * max(_cell(results["traffic"][name])[0] for name in ROUTE_CHANGES) + 16
    for name in ROUTE_CHANGES:
        held = _cell(results["claim"][name])[0]
        assert held <= bound, f"claim: {name} held {held} cycles, traffic bound {bound}"
