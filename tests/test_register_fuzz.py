"""Register port fuzz: ``s_axil`` of the whole ``mirrorswap_top`` against sim/regmodel.py.

One file per unit: the TB class and the cocotb test run inside the simulator; the pytest
entries at the bottom run it at 1 and 4 agents over seeds (``MS_SEED``).

Every access is random: the address (a mapped register of the global block or of any
agent, an unmapped offset of an agent block, a block past the last agent, anywhere in the
12-bit space; any low two bits), the data (any word, or values that fit the register, or
aligned ranges that let commands succeed), the byte strobe (any of the 16, not only the
contiguous ones cocotbext-axi's ``write`` makes) and the protection (secure or not,
``prot[1]``). Interleaved with them are command sequences (ASSIGN, ESTABLISH, SWEEP,
RELEASE, ABORT, UNASSIGN with random arguments, the registers they read written first) and
CMD writes to an agent whose SWEEP is running (BUSY). Each round sets LOCK at a random point
(SPEC section 8), and the run resets the top between rounds (LOCK must read 0 again).
Every response and every read is checked against :class:`~mirrorswap.sim.regmodel.
RegisterModel`; the summary counts what was tried.
"""

import collections
import dataclasses

import cocotb
import pytest
from cocotb.triggers import Event
from cocotbext.axi import AxiProt, AxiResp
from cocotbext.axi.axil_master import AxiLiteWriteRespCmd

from mirrorswap import regmap
from mirrorswap.regmap import RANGE_ALIGN, Access, Err, Mode, Op, agent_reg, global_reg
from mirrorswap.rtl.top import MirrorswapTop
from mirrorswap.sim.regmodel import RegisterModel, bytemask, has_lock
from mirrorswap.sim.runner import run_tests, shared_top
from mirrorswap.sim.tb import TopTB, agents_of, knob

SECURE = AxiProt(0)
NONSECURE = AxiProt.NONSECURE
STEPS = knob("steps", 700)          # per round; each step is one access or one command
ROUNDS = 2
_STATUS = agent_reg("STATUS")
_CMD = agent_reg("CMD")
_SLOT = agent_reg("SLOT_CTRL")
SWEEP_BUDGET = 3000                 # cycles a SWEEP may take: THROTTLE is lowered to fit


async def write_strobed(master, address, data, strobe, prot):
    """One AXI4-Lite write of the word ``data`` with any byte ``strobe`` (0 to 15) on
    cocotbext-axi's ``AxiLiteMaster`` ``master``, whose ``write`` makes only contiguous
    strobes. Uses the master's own channels and response queue; the caller issues one
    write at a time."""
    wif = master.write_if
    done = Event()
    wif.in_flight_operations += 1
    wif._idle.clear()
    await wif.int_write_resp_command_queue.put(AxiLiteWriteRespCmd(address, 4, 1, prot, done))
    aw = wif.aw_channel._transaction_obj()
    aw.awaddr, aw.awprot = address, prot
    w = wif.w_channel._transaction_obj()
    w.wdata, w.wstrb = data, strobe
    await wif.aw_channel.send(aw)
    await wif.w_channel.send(w)
    await done.wait()
    return done.data.resp


class FuzzTB(TopTB):
    """:class:`~mirrorswap.sim.tb.TopTB` with small modules (sweeps stay short), its
    :class:`RegisterModel` and the counts of what was tried.

    Slots hold 2^10-line modules, the last a 2^11-line one: ranges of one or two 512-line
    pages, a spare that can take any of them, and ESTABLISH to a smaller peer refused with
    CAPACITY.
    """

    def __init__(self, dut):
        caps = (10,) * (agents_of(dut) - 1) + (11,)
        super().__init__(dut, capacities_log2=caps, seed=knob("seed", 1))
        config = MirrorswapTop(agents=self.agents).config_value
        self.model = RegisterModel([1 << c for c in caps], config)
        self.counts = collections.Counter()
        self.lock_at = None

    # ---- checked accesses ------------------------------------------------------------------
    async def checked_read(self, address, prot=None):
        prot = self._prot() if prot is None else prot
        # one transfer at the address as given: the bytes from its offset to the word's end
        low = address & 3
        r = await self.regs.read(address, 4 - low, prot=prot)
        value = int.from_bytes(r.data, "little") << (8 * low)
        want = self.model.read(address, secure=not prot & NONSECURE)
        want = dataclasses.replace(want, care=want.care & ~((1 << (8 * low)) - 1))
        ok = r.resp == AxiResp.OKAY
        assert want.matches(ok, value), (
            f"read 0x{address:03X} prot {int(prot)}: got {r.resp.name} 0x{value:08X}, "
            f"model {'OKAY' if want.ok else 'SLVERR'} 0x{want.value:08X} "
            f"(bits 0x{want.care:08X})")
        if ok and not low:
            self.model.observe(address, value)
        self.counts["reads"] += 1
        self.counts["read SLVERR"] += not ok
        return value

    async def checked_write(self, address, data, strobe=0xF, prot=None, hold_sweep=False):
        prot = self._prot() if prot is None else prot
        secure = not prot & NONSECURE
        if strobe == 0xF and address & 3 == 0 and self.rng.random() < 0.3:
            # the cocotbext-axi path for whole words, the raw one otherwise
            resp = (await self.regs.write(address, data.to_bytes(4, "little"), prot=prot)).resp
        else:
            resp = await write_strobed(self.regs, address, data, strobe, prot)
        effect = self.model.write(address, data, strobe, secure=secure, hold_sweep=hold_sweep)
        ok = resp == AxiResp.OKAY
        assert ok == effect.ok, (
            f"write 0x{address:03X} = 0x{data:08X} strobe {strobe:04b} prot {int(prot)}: "
            f"got {resp.name}, model {'OKAY' if effect.ok else 'SLVERR'}")
        self.counts["writes"] += 1
        self.counts["write SLVERR"] += not ok
        self.counts["non-secure writes"] += not secure
        self.counts["refused by LOCK"] += effect.locked_out
        if effect.command is not None:
            self.counts["commands"] += 1
            agent, op, _, err = effect.command
            name = Op(op).name if op in set(Op) else f"op{op}"
            self.counts[f"{name} {Err(err).name}"] += 1
            if not effect.busy:
                await self.wait_idle(agent)
        if effect.power is not None:
            self.counts["power steps"] += 1
            await self.wait_power(*effect.power)
        return effect

    def _prot(self):
        return SECURE if self.rng.random() < 0.5 else NONSECURE

    # ---- waiting for the port to settle (unchecked polls) ---------------------------------
    async def poll_status(self, agent):
        r = await self.regs.read(regmap.agent_offset(agent, "STATUS"), 4, prot=SECURE)
        assert r.resp == AxiResp.OKAY
        self.counts["polls"] += 1
        return int.from_bytes(r.data, "little")

    async def wait_idle(self, agent, limit=10000):
        """Until ``agent`` is not busy (at most ``limit`` polls), then check its STATUS."""
        for _ in range(limit):
            if not _STATUS.busy.get(await self.poll_status(agent)):
                break
        else:
            raise AssertionError(f"agent {agent} busy for {limit} polls")
        await self.checked_read(regmap.agent_offset(agent, "STATUS"))

    async def wait_power(self, agent, on, limit=500):
        """Until the supply step of ``agent`` shows in STATUS (mode and power_good)."""
        mode = Mode.IDLE if on else Mode.OFF
        for _ in range(limit):
            st = await self.poll_status(agent)
            if _STATUS.mode.get(st) == mode and _STATUS.power_good.get(st) == on:
                break
        else:
            raise AssertionError(f"agent {agent} never reached {mode.name} (power {on})")
        await self.checked_read(regmap.agent_offset(agent, "STATUS"))

    # ---- random stimulus -------------------------------------------------------------------
    def random_address(self):
        rng, n = self.rng, self.agents
        word_regs = [r.offset for r in regmap.AGENT_REGS]
        kind = rng.random()
        if kind < 0.15:
            word = rng.choice([r.offset for r in regmap.GLOBAL_REGS] + [0x14, 0x18, 0xFC])
        elif kind < 0.75:
            word = regmap.agent_offset(rng.randrange(n), rng.choice(regmap.AGENT_REGS).name)
        elif kind < 0.85:
            free = [o for o in range(0, regmap.AGENT_STRIDE, 4) if o not in word_regs]
            word = regmap.AGENT_BASE + regmap.AGENT_STRIDE * rng.randrange(n)
            word += rng.choice(free) if free else 0
        elif kind < 0.92:
            blocks = ((1 << regmap.REG_ADDR_WIDTH) - regmap.AGENT_BASE) // regmap.AGENT_STRIDE
            word = (regmap.AGENT_BASE + regmap.AGENT_STRIDE * rng.randrange(n, blocks) +
                    rng.randrange(0, regmap.AGENT_STRIDE, 4)) if n < blocks else 0
        else:
            word = rng.randrange(0, 1 << regmap.REG_ADDR_WIDTH, 4)
        return word | (rng.randrange(4) if rng.random() < 0.3 else 0)

    def random_data(self, address):
        """Any word, or a value that fits the addressed register: its fields at random
        (an enum field mostly a known code), ranges of whole pages (sometimes not), sweep
        bounds around the range sizes."""
        rng = self.rng
        _, reg = self.model.decode(address)
        if reg is None or rng.random() < 0.3:
            bits = 32 if rng.random() < 0.7 else rng.randrange(1, 33)
            return rng.getrandbits(bits)
        if reg.name in ("BASE", "SIZE"):
            ragged = rng.randrange(RANGE_ALIGN) if rng.random() < 0.1 else 0
            return RANGE_ALIGN * rng.randrange(9) + ragged
        if reg.name in ("SWEEP_START", "SWEEP_COUNT"):
            return rng.randrange(4 * RANGE_ALIGN + 1)
        value = 0
        for f in reg.fields:
            if f.enum is not None and rng.random() < 0.8:
                code = rng.choice(list(f.enum))
            else:
                code = rng.getrandbits(f.width)
            value |= int(code) << f.lsb
        return value

    def random_strobe(self):
        return 0xF if self.rng.random() < 0.6 else self.rng.randrange(16)

    async def random_access(self, step):
        if self.rng.random() < 0.4:
            await self.checked_read(self.random_address())
            return
        address = self.random_address()
        data, strobe, prot = self.random_data(address), self.random_strobe(), self._prot()
        agent, reg = self.model.decode(address)
        if reg is not None and reg.name == "LOCK" and step < self.lock_at:
            data &= ~regmap.global_reg("LOCK").secure_only.mask   # LOCK waits for its step
        if reg is not None and reg.access is Access.WO and agent is not None:
            await self.limit_sweep(agent, _CMD.opcode.get(data & bytemask(strobe)))
        await self.checked_write(address, data, strobe, prot)

    async def limit_sweep(self, agent, op):
        """Before a SWEEP the model accepts: THROTTLE low enough for it to end soon."""
        m = self.model
        if op != Op.SWEEP or m.expected_command(agent, op, 0) != Err.OK:
            return
        count = m.regs[agent]["SWEEP_COUNT"]
        if (m.regs[agent]["THROTTLE"] + 1) * count > SWEEP_BUDGET:
            await self.checked_write(m.address(agent, "THROTTLE"),
                                     self.rng.randrange(max(1, SWEEP_BUDGET // count)),
                                     prot=SECURE)

    def pick_command(self):
        """(agent, op, peer): mostly what firmware would issue in the agent's mode (so the
        pairs get established, swept and released), otherwise anything."""
        rng, m, n = self.rng, self.model, self.agents
        agent = rng.randrange(n)
        peer = rng.randrange(n) if rng.random() < 0.9 else rng.randrange(16)
        idle = [k for k in range(n) if k != agent and m.mode[k] == Mode.IDLE]
        sensible = {
            Mode.IDLE: [Op.ASSIGN],
            Mode.ACTIVE: [Op.ESTABLISH] * 3 + [Op.UNASSIGN],
            Mode.MIRROR_MASTER: [Op.SWEEP] * 3 + [Op.RELEASE] * 2 + [Op.ABORT],
        }.get(m.mode[agent])
        if sensible and rng.random() < 0.7:
            op = rng.choice(sensible)
            if op == Op.ESTABLISH and idle:
                peer = rng.choice(idle)
        else:
            op = rng.choice(list(Op) * 4 + [0, 7, 15])
        return agent, op, peer

    async def random_command(self):
        """A command with the registers it reads written first, mostly securely."""
        rng, m = self.rng, self.model
        agent, op, peer = self.pick_command()
        prot = SECURE if rng.random() < 0.75 else NONSECURE
        if op == Op.ASSIGN:
            size = RANGE_ALIGN * rng.randrange(1, m.capacity[agent] // RANGE_ALIGN + 2)
            await self.checked_write(m.address(agent, "BASE"), RANGE_ALIGN * rng.randrange(8),
                                     prot=prot)
            await self.checked_write(m.address(agent, "SIZE"), size, prot=prot)
        elif op == Op.SWEEP:
            size, upto = m.regs[agent]["SIZE"], m.swept_upto[agent]
            start = upto if rng.random() < 0.8 else rng.randrange(size + 2)
            count = rng.choice([0, 1, 64, 128, 128, 256, max(1, size - start), size + 1])
            await self.checked_write(m.address(agent, "SWEEP_START"), start, prot=prot)
            await self.checked_write(m.address(agent, "SWEEP_COUNT"), count, prot=prot)
        elif op == Op.RELEASE and rng.random() < 0.4 and m.mode[agent] == Mode.MIRROR_MASTER:
            await self.sweep_all(agent)
        await self.limit_sweep(agent, op)
        word = _CMD.peer.put(_CMD.opcode.put(0, op), peer)
        busy_test = (op == Op.SWEEP and m.expected_command(agent, op, peer) == Err.OK
                     and m.regs[agent]["SWEEP_COUNT"] >= 128 and rng.random() < 0.5)
        effect = await self.checked_write(m.address(agent, "CMD"), word,
                                          prot=SECURE if busy_test else prot,
                                          hold_sweep=busy_test)
        if effect.busy:
            # a second command while the SWEEP runs: BUSY (or BAD_OPCODE), at once
            again = rng.choice([0, 7] + list(Op))
            await self.checked_write(m.address(agent, "CMD"),
                                     _CMD.peer.put(_CMD.opcode.put(0, again), peer))
            await self.checked_read(m.address(agent, "STATUS"))
            for _ in range(SWEEP_BUDGET):
                if not _STATUS.busy.get(await self.poll_status(agent)):
                    break
            else:
                raise AssertionError(f"agent {agent}: SWEEP still busy")
            m.sweep_done(agent)
            self.counts["BUSY checks"] += 1
            await self.checked_read(m.address(agent, "STATUS"))

    async def sweep_all(self, agent):
        """Sweep the whole range of a MIRROR_MASTER (securely), so RELEASE may succeed."""
        m = self.model
        start, size = m.swept_upto[agent], m.regs[agent]["SIZE"]
        if start >= size:
            return
        await self.checked_write(m.address(agent, "SWEEP_START"), start, prot=SECURE)
        await self.checked_write(m.address(agent, "SWEEP_COUNT"), size - start, prot=SECURE)
        await self.limit_sweep(agent, Op.SWEEP)
        await self.checked_write(m.address(agent, "CMD"), _CMD.opcode.put(0, Op.SWEEP),
                                 prot=SECURE)

    # ---- rounds ----------------------------------------------------------------------------
    async def start_round(self):
        """Reset the top (and the model), check every register, power every slot."""
        await self.reset()
        self.model.reset()
        for reg in regmap.GLOBAL_REGS:
            await self.checked_read(reg.offset)
        for i in range(self.agents):
            for reg in regmap.AGENT_REGS:
                await self.checked_read(regmap.agent_offset(i, reg.name))
        for i in range(self.agents):
            await self.checked_write(self.model.address(i, "SLOT_CTRL"),
                                     _SLOT.power_en.put(0, 1), prot=SECURE)

    async def round(self, steps):
        await self.start_round()
        self.lock_at = self.rng.randrange(steps // 3, 2 * steps // 3) if has_lock() else steps
        for step in range(steps):
            if step == self.lock_at:
                lock = regmap.global_reg("LOCK")
                await self.checked_write(lock.offset, lock.secure_only.put(0, 1), prot=NONSECURE)
                await self.checked_write(lock.offset, lock.secure_only.put(0, 1), prot=SECURE)
                assert self.model.locked
                self.counts["locks"] += 1
            if self.rng.random() < 0.2:
                await self.random_command()
            else:
                await self.random_access(step)
        # every register, read back at the end
        for reg in regmap.GLOBAL_REGS:
            await self.checked_read(reg.offset)
        for i in range(self.agents):
            for reg in regmap.AGENT_REGS:
                await self.checked_read(regmap.agent_offset(i, reg.name))


@cocotb.test()
async def register_port_fuzz(dut):
    tb = FuzzTB(dut)
    for _ in range(ROUNDS):
        await tb.round(STEPS)
    c = tb.counts
    dut._log.info("register fuzz, %d agents, seed %d: %s", tb.agents, knob("seed", 1),
                  ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    assert c["reads"] and c["writes"] and c["commands"], c
    assert c["read SLVERR"] and c["write SLVERR"], c
    assert c["non-secure writes"], c
    if has_lock():
        assert c["locks"] == ROUNDS and c["refused by LOCK"], c
    ok_commands = sum(v for k, v in c.items() if k.endswith(" OK"))
    assert ok_commands, c


# ---- pytest entries ----------------------------------------------------------------------
@pytest.mark.parametrize("agents, seed", [(1, 1), (4, 2)])
def test_register_fuzz(agents, seed):
    run_tests(__file__, "mirrorswap_top", sources=[shared_top(agents=agents)],
              params={"agents": agents, "seed": seed})


def test_model_arguments():
    config = global_reg("CONFIG").line_bytes.put(0, 8)
    with pytest.raises(ValueError, match="A model takes 1 to 16 agents, not 0"):
        RegisterModel([], config)
    with pytest.raises(ValueError, match="Capacities must be powers of two"):
        RegisterModel([1024, 1000], config)
    with pytest.raises(ValueError, match="Data width must be one of .*, not 0"):
        RegisterModel([1024], 0)     # CONFIG without a line size
    with pytest.raises(ValueError, match="Agent 0 has no SWEEP running"):
        RegisterModel([1024], config).sweep_done(0)
