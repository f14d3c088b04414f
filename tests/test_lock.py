"""LOCK and secure-only writes (SPEC section 8) on the whole top, ``mirrorswap_top``.

One file per unit: the TB class and cocotb tests run inside the simulator; the pytest
entries at the bottom run them on the top level at one and four agents. A write is
non-secure when ``s_axil_awprot[1]`` is 1. Once a secure write set LOCK.secure_only, a
non-secure write to any offset must answer SLVERR and change nothing a manager or a slot
can see: every register of every agent and the global ones, the power and LED pins, the
interrupt line. Secure writes and all reads go on as before; only ``rst`` clears LOCK.
"""

import cocotb
import pytest
from cocotb.triggers import ClockCycles
from cocotbext.axi import AxiResp

from mirrorswap import regmap
from mirrorswap.firmware.regbus import AxiLiteBus, BusError
from mirrorswap.firmware.bios import Bios
from mirrorswap.regmap import Access, Err, Event, Led, Mode, Op, agent_offset, agent_reg
from mirrorswap.sim.runner import run_tests, shared_top
from mirrorswap.sim.tb import TopTB

LOCK = regmap.global_reg("LOCK")
SLOT = agent_reg("SLOT_CTRL")
CMD = agent_reg("CMD")
PINS = ("power_en", "power_led", "attn_led")


class LockTB(TopTB):
    """:class:`~mirrorswap.sim.tb.TopTB` with what a refusal must leave as it was: a full
    register snapshot and the slot pins (LEDs steady, so that the pins hold still)."""

    async def registers(self):
        """Every register of the map, global and of every agent, by name, read securely;
        STATUS whole (a refused CMD must not even change its err)."""
        values = {reg.name: await self.read_global(reg.name) for reg in regmap.GLOBAL_REGS}
        for i in range(self.agents):
            for reg in regmap.AGENT_REGS:
                values[(i, reg.name)] = await self.read(i, reg.name)
        return values

    def pins(self):
        values = {(i, name): int(slot.pins[name].value)
                  for i, slot in enumerate(self.slots) for name in PINS}
        values["irq"] = int(self.dut.irq.value)
        return values

    async def state(self):
        return await self.registers(), self.pins()

    async def lock(self):
        return LOCK.secure_only.get(await self.read_global("LOCK"))

    async def set_up(self):
        """Every slot powered, agent 0 ACTIVE with its module's lines, both LEDs of every
        slot steady on, every event enabled, cmd_done of the ASSIGN left pending: state that
        each kind of refused write would visibly change."""
        await self.reset()
        await self.power_up()
        await self.assign(0, 0, self.slots[0].lines)
        for i in range(self.agents):
            value = SLOT.attn_led.put(SLOT.power_led.put(SLOT.power_en.put(0, 1), Led.ON),
                                      Led.ON)
            assert await self.write(i, "SLOT_CTRL", value) == AxiResp.OKAY
            assert await self.write(i, "IRQ_EN", sum(f.mask for f in
                                                     agent_reg("IRQ_EN").fields)) == AxiResp.OKAY
            assert await self.write(i, "THROTTLE", 5 + i) == AxiResp.OKAY
        assert Event.CMD_DONE in Event(await self.read(0, "EVENTS"))
        await self.cycles(4)


def _accepted_value(reg):
    """A value the register takes from a secure write with LOCK clear and that changes
    something: every field at its largest legal value; for CMD an UNASSIGN (it would take
    agent 0's memory away); for RO registers anything."""
    if reg.access is Access.WO:
        return CMD.opcode.put(0, Op.UNASSIGN)
    value = 0
    for f in reg.fields:
        value = f.put(value, max(f.enum) if f.enum is not None else (1 << f.width) - 1)
    return value


def _offsets(agents):
    """(offset, values) for every word of the register space up to one block past the
    last agent: every register of the map and unmapped offsets between and after them."""
    regs = {r.offset: r for r in regmap.GLOBAL_REGS}
    regs.update({agent_offset(i, r.name): r for i in range(agents) for r in regmap.AGENT_REGS})
    end = regmap.AGENT_BASE + regmap.AGENT_STRIDE * (agents + 1)
    for offset in range(0, end, 4):
        values = [0, 0xFFFFFFFF]
        if offset in regs:
            values.append(_accepted_value(regs[offset]))
        yield offset, values


@cocotb.test()
async def non_secure_writes_are_refused_once_locked(dut):
    """After a secure LOCK, a non-secure write of 0, all ones or a value the register
    would take, to every offset, answers SLVERR; no register, pin or irq moves, and no
    command runs. Non-secure reads are served. Secure writes still work."""
    tb = LockTB(dut)
    await tb.set_up()
    assert await tb.write_global("LOCK", 1) == AxiResp.OKAY
    assert await tb.lock() == 1
    before = await tb.state()
    tried = 0
    for offset, values in _offsets(tb.agents):
        for value in values:
            assert await tb.write_offset(offset, value, secure=False) == AxiResp.SLVERR, \
                (hex(offset), hex(value))
            tried += 1
    await tb.cycles(8)
    assert await tb.state() == before
    assert tried > 3 * len(regmap.AGENT_REGS) * tb.agents, tried
    dut._log.info("%d non-secure writes refused, nothing changed", tried)

    # reads are never refused: status is not secret
    for offset in (LOCK.offset, agent_offset(0, "STATUS"), agent_offset(0, "BASE")):
        value, resp = await tb.read_offset(offset, secure=False)
        assert resp == AxiResp.OKAY and value == (await tb.read_offset(offset))[0]

    # secure writes are served as ever: an LED moves, an event clears, a command runs
    slot = tb.agents - 1
    assert await tb.write(slot, "SLOT_CTRL", SLOT.power_en.put(0, 1)) == AxiResp.OKAY
    await tb.cycles(2)
    assert int(tb.slots[slot].pins["attn_led"].value) == 0
    assert await tb.write(0, "EVENTS", Event.CMD_DONE) == AxiResp.OKAY
    assert Event.CMD_DONE not in Event(await tb.read(0, "EVENTS"))
    assert await tb.command(0, Op.UNASSIGN) == Err.OK
    assert (await tb.status(0))["mode"] == Mode.IDLE
    assert await tb.lock() == 1


@cocotb.test()
async def lock_is_cleared_only_by_reset(dut):
    """No write clears LOCK (secure 0, non-secure anything); ``rst`` does, and then
    non-secure writes are served again."""
    tb = LockTB(dut)
    await tb.reset()
    assert await tb.write_global("LOCK", 1) == AxiResp.OKAY
    for value, secure, resp in ((0, True, AxiResp.OKAY), (1, True, AxiResp.OKAY),
                                (0xFFFFFFFE, True, AxiResp.SLVERR),
                                (0, False, AxiResp.SLVERR), (1, False, AxiResp.SLVERR),
                                (0xFFFFFFFF, False, AxiResp.SLVERR)):
        assert await tb.write_global("LOCK", value, secure=secure) == resp, (value, secure)
        assert await tb.lock() == 1, (value, secure)
    assert await tb.write(0, "THROTTLE", 3, secure=False) == AxiResp.SLVERR
    await tb.reset()
    assert await tb.lock() == 0
    assert await tb.write(0, "THROTTLE", 3, secure=False) == AxiResp.OKAY
    assert await tb.read(0, "THROTTLE") == 3


@cocotb.test()
async def lock_takes_secure_writes_only(dut):
    """A non-secure write to LOCK while it is clear is refused: a non-secure manager cannot
    lock the firmware out."""
    tb = LockTB(dut)
    await tb.reset()
    for value in (1, 0, 0xFFFFFFFF):
        assert await tb.write_global("LOCK", value, secure=False) == AxiResp.SLVERR, value
        assert await tb.lock() == 0, value


@cocotb.test()
async def non_secure_writes_work_while_unlocked(dut):
    """With LOCK clear a non-secure manager steers the hardware as before: it powers the
    slots, assigns a range, lights an LED, clears an event."""
    tb = LockTB(dut)
    await tb.reset()
    bios = Bios(AxiLiteBus(tb.regs, dut.clk, dut.irq, secure=False))
    await bios.power_on(0)
    await bios.hw.write_reg(0, "BASE", 0)
    await bios.hw.write_reg(0, "SIZE", tb.slots[0].lines)
    status = await bios.command(0, Op.ASSIGN)
    assert status.mode == Mode.ACTIVE
    assert (await bios.hw.slot(0))["power_led"] == Led.ON
    assert int(tb.slots[0].pins["power_led"].value) == 1
    assert not await bios.hw.locked()


@cocotb.test()
async def bios_locks_at_the_end_of_boot(dut):
    """The BIOS (secure bus) sets LOCK as boot's last step and goes on steering; firmware
    on a non-secure bus can then read but not write."""
    tb = LockTB(dut)
    await tb.reset()
    assert not await tb.bios.hw.locked()
    mm = await tb.bios.boot()
    assert await tb.bios.hw.locked()
    assert mm.ranges, "boot published memory"
    os_bios = Bios(AxiLiteBus(tb.regs, dut.clk, dut.irq, secure=False))
    assert await os_bios.hw.locked()
    owner = mm.owners[mm.ranges[0]]
    assert (await os_bios.hw.status(owner)).mode == Mode.ACTIVE
    with pytest.raises(BusError, match=r"write at register offset 0x[0-9a-f]+ answered SLVERR"):
        await os_bios.hw.write_reg(owner, "CMD", CMD.opcode.put(0, Op.UNASSIGN))
    with pytest.raises(BusError):
        await os_bios.hw.set_slot(owner, power_en=0)
    assert (await tb.bios.hw.status(owner)).mode == Mode.ACTIVE
    assert (await tb.bios.hw.slot(owner))["power_en"] == 1
    # the secure BIOS still steers: it lights the owner's attention LED
    await tb.bios.hw.set_slot(owner, attn_led=Led.ON)
    await ClockCycles(dut.clk, 2)
    assert int(tb.slots[owner].pins["attn_led"].value) == 1


@pytest.mark.parametrize("agents", [1, 4])
def test_lock(agents):
    assert run_tests(__file__, "mirrorswap_top", sources=[shared_top(agents=agents)],
                     params={"agents": agents}) == 5
