"""SweepWriteRouter (rtl/sweep_router.py): each running sweep's writes to its peer's agent.

One file per unit: the TB class and cocotb tests run inside the simulator on the router's
generated Verilog; the pytest entries at the bottom build it for 1, 2, 4 and 8 agents and
run them (``pytest tests/test_sweep_router.py``).

The reference model is the rule itself: the route flag of (sweep ``i``, agent ``j``) is
set the cycle after sweep ``i`` is active with peer ``j`` and no lower-numbered active
sweep has peer ``j``; an agent port carries the manager-side members of the one sweep
flagged to it (else 0), a sweep port the subordinate-side members of the one agent it is
flagged to (else 0). IDs are never routed.
"""

import os
import random

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

from mirrorswap.rtl.sweep_router import SweepWriteRouter
from mirrorswap.sim.runner import run_tests
from mirrorswap.sim.tb import reset_dut

# manager side (sweep -> agent) and subordinate side (agent -> sweep) of AW, W and B
FORWARD = ("awaddr", "awlen", "awsize", "awburst", "awlock", "awcache", "awprot", "awqos",
           "awvalid", "wdata", "wstrb", "wlast", "wvalid", "bready")
BACK = ("awready", "wready", "bresp", "bvalid")
PEER_BITS = 4


class RouterTB:
    def __init__(self, dut, agents, seed):
        self.dut = dut
        self.n = agents
        self.rng = random.Random(seed)
        self.flags = [[0] * agents for _ in range(agents)]   # the model's route flags
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.drive(active=[0] * agents, peer=[0] * agents, values=False)

    def port(self, side, index, name):
        return getattr(self.dut, f"{side}{index}_{name}")

    async def reset(self):
        await reset_dut(self.dut)
        self.flags = [[0] * self.n for _ in range(self.n)]

    def drive(self, *, active, peer, values=True):
        """Set ``active`` and ``peer`` of every sweep, and (``values``) random payloads on
        every input member; returns nothing, remembers what it drove."""
        self.active, self.peer = list(active), list(peer)
        self.dut.active.value = sum(bit << i for i, bit in enumerate(active))
        self.dut.peer.value = sum(p << (PEER_BITS * i) for i, p in enumerate(peer))
        self.inputs = {}
        for i in range(self.n):
            for side, names in (("sweep", FORWARD), ("agent", BACK)):
                for name in names:
                    handle = self.port(side, i, name)
                    value = self.rng.getrandbits(len(handle)) if values else 0
                    handle.value = value
                    self.inputs[side, i, name] = value

    def next_flags(self):
        """The flags the router latches at the coming clock edge."""
        flags = [[0] * self.n for _ in range(self.n)]
        for j in range(self.n):
            wanting = [i for i in range(self.n) if self.active[i] and self.peer[i] == j]
            if wanting:
                flags[wanting[0]][j] = 1
        return flags

    def check(self):
        """Compare every output with the model, in a read-only phase."""
        for j in range(self.n):
            src = [i for i in range(self.n) if self.flags[i][j]]
            assert len(src) <= 1, f"model routes several sweeps to agent {j}"
            for name in FORWARD:
                want = self.inputs["sweep", src[0], name] if src else 0
                got = int(self.port("agent", j, name).value)
                assert got == want, (f"agent{j}_{name} = {got:#x}, expected {want:#x} "
                                     f"(from sweep {src[0] if src else None})")
            assert int(self.port("agent", j, "awid").value) == 0, "an ID was routed"
        for i in range(self.n):
            dst = [j for j in range(self.n) if self.flags[i][j]]
            assert len(dst) <= 1, f"model routes sweep {i} to several agents"
            for name in BACK:
                want = self.inputs["agent", dst[0], name] if dst else 0
                got = int(self.port("sweep", i, name).value)
                assert got == want, (f"sweep{i}_{name} = {got:#x}, expected {want:#x} "
                                     f"(from agent {dst[0] if dst else None})")
            assert int(self.port("sweep", i, "bid").value) == 0, "an ID was routed"

    async def step(self, *, active, peer):
        """One cycle: drive new inputs after the falling edge, check the outputs against
        the flags latched at the last rising edge, then latch the model's flags."""
        await FallingEdge(self.dut.clk)
        self.drive(active=active, peer=peer)
        await ReadOnly()
        self.check()
        self.flags = self.next_flags()


async def make(dut):
    agents = int(os.environ["MS_AGENTS"])
    tb = RouterTB(dut, agents, int(os.environ.get("MS_SEED", "1")))
    await tb.reset()
    return tb


@cocotb.test()
async def nothing_routed_while_no_sweep_runs(dut):
    tb = await make(dut)
    for _ in range(20):
        await tb.step(active=[0] * tb.n,
                      peer=[tb.rng.randrange(tb.n) for _ in range(tb.n)])
    assert not any(map(any, tb.flags))


@cocotb.test()
async def route_follows_active_a_cycle_late(dut):
    """Each sweep in turn runs alone toward each agent: its channels reach that agent
    from the second cycle on, and are cut the cycle after it stops."""
    tb = await make(dut)
    off = [0] * tb.n
    for i in range(tb.n):
        for j in range(tb.n):
            active = [int(k == i) for k in range(tb.n)]
            peer = [j] * tb.n
            await tb.step(active=active, peer=peer)
            assert tb.flags[i][j] == 1
            await tb.step(active=active, peer=peer)          # checked: routed
            await tb.step(active=off, peer=peer)             # checked: still routed
            assert not any(map(any, tb.flags))
            await tb.step(active=off, peer=peer)             # checked: cut


@cocotb.test()
async def lowest_sweep_wins_a_shared_peer(dut):
    tb = await make(dut)
    if tb.n < 2:
        return      # one sweep cannot contend (the other tests cover one agent)
    peer = [tb.n - 1] * tb.n
    await tb.step(active=[1] * tb.n, peer=peer)
    await tb.step(active=[1] * tb.n, peer=peer)
    assert tb.flags[0][tb.n - 1] == 1 and sum(map(sum, tb.flags)) == 1
    await tb.step(active=[0] + [1] * (tb.n - 1), peer=peer)
    await tb.step(active=[0] + [1] * (tb.n - 1), peer=peer)
    assert tb.flags[1][tb.n - 1] == 1 and sum(map(sum, tb.flags)) == 1


@cocotb.test()
async def random_routes(dut):
    """Random activity and peers, including peers no agent has and several sweeps
    naming one agent, every cycle: each output equals the model's."""
    tb = await make(dut)
    for _ in range(300):
        active = [int(tb.rng.random() < 0.6) for _ in range(tb.n)]
        peer = [tb.rng.randrange(min(tb.n + 1, 1 << PEER_BITS)) for _ in range(tb.n)]
        for _ in range(tb.rng.choice((1, 1, 2, 5))):   # hold some settings a while
            await tb.step(active=active, peer=peer)
    await ClockCycles(dut.clk, 2)


@pytest.mark.parametrize("agents", [1, 2, 4, 8])
def test_sweep_router(agents):
    run_tests(__file__, "sweep_router", component=SweepWriteRouter(agents=agents),
              params={"agents": agents, "seed": agents})


@pytest.mark.parametrize("agents, message", [
    (0, "Agent count must be an integer from 1 to 16, not 0"),
    (17, "Agent count must be an integer from 1 to 16, not 17"),
    (True, "Agent count must be an integer from 1 to 16, not True"),
    ("4", "Agent count must be an integer from 1 to 16, not '4'"),
])
def test_sweep_router_rejects_agent_count(agents, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        SweepWriteRouter(agents=agents)
