"""ControlRegisters (rtl/registers.py): the AXI4-Lite register block of SPEC section 3.

One file per unit: the TB class and cocotb tests run on the block's generated Verilog;
the pytest entry at the bottom builds it with ``MS_AGENTS`` agents and the CONFIG value
``MS_CONFIG`` and runs them.
"""

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, ReadOnly
from cocotbext.axi import AxiLiteBus, AxiLiteMaster, AxiProt, AxiResp

from mirrorswap import regmap
from mirrorswap.regmap import agent_offset, agent_reg, global_reg
from mirrorswap.rtl.registers import ControlRegisters
from mirrorswap.sim.runner import run_tests
from mirrorswap.sim.tb import SECURE, knob, reset_dut

AGENTS = knob("agents", 4)
CONFIG = knob("config", 0x00100804)


class RegsTB:
    """Drives ControlRegisters' AXI4-Lite port and stands in for the core on the other
    side: every core-reported input held at 0 unless a test sets it, and every command
    and power-refused pulse recorded in :attr:`pulses`.

    Writes are non-secure unless a test asks (cocotbext-axi's default, ``AWPROT[1]`` = 1):
    with LOCK clear every register but LOCK serves them as secure ones (SPEC section 8)."""

    def __init__(self, dut):
        self.dut = dut
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "bus"), dut.clk, dut.rst)
        self.pulses = []
        dut.freeze.value = 0
        for i in range(AGENTS):
            for name in ("mode", "busy", "swept", "peer", "err", "present", "power_good",
                         "capacity", "swept_upto", "err_addr", "event_set", "range_lock",
                         "range_we", "range_base", "range_size", "power_protect",
                         "ce_inc", "ue_inc"):
                self.agent(i, name).value = 0
        cocotb.start_soon(self._watch())

    def agent(self, i, name):
        return getattr(self.dut, f"agent{i}_{name}")

    async def _watch(self):
        while True:
            await RisingEdge(self.dut.clk)
            await ReadOnly()
            for i in range(AGENTS):
                if int(self.agent(i, "cmd_valid").value):
                    self.pulses.append(("cmd", i, int(self.agent(i, "cmd_opcode").value),
                                        int(self.agent(i, "cmd_peer").value)))
                if int(self.agent(i, "power_refused").value):
                    self.pulses.append(("power_refused", i))

    async def reset(self):
        await reset_dut(self.dut)

    async def read(self, offset):
        r = await self.axil.read(offset, 4)
        return int.from_bytes(r.data, "little"), r.resp

    async def write(self, offset, value, strb_bytes=4, *, secure=False):
        r = await self.axil.write(offset, value.to_bytes(4, "little")[:strb_bytes],
                                  prot=SECURE if secure else AxiProt.NONSECURE)
        return r.resp

    async def registers(self):
        """Every global and agent register's value, by offset."""
        offsets = [r.offset for r in regmap.GLOBAL_REGS]
        offsets += [agent_offset(i, r.name) for i in range(AGENTS) for r in regmap.AGENT_REGS]
        return {off: (await self.read(off))[0] for off in offsets}

    def outputs(self):
        """Every value the block drives to the core and the slots."""
        values = {name: int(getattr(self.dut, name).value)
                  for name in ("debounce", "blink", "irq", "secure_only")}
        for i in range(AGENTS):
            for name in ("base", "size", "sweep_start", "sweep_count", "throttle",
                         "power_en", "power_led", "attn_led", "irq_en", "events",
                         "ras_ctrl"):
                values[(i, name)] = int(self.agent(i, name).value)
        return values


async def make(dut):
    tb = RegsTB(dut)
    await tb.reset()
    return tb


@cocotb.test()
async def reset_values(dut):
    tb = await make(dut)
    assert await tb.read(global_reg("ID").offset) == (regmap.ID_VALUE, AxiResp.OKAY)
    assert await tb.read(global_reg("CONFIG").offset) == (CONFIG, AxiResp.OKAY)
    assert (await tb.read(global_reg("DEBOUNCE").offset))[0] == global_reg("DEBOUNCE").reset
    assert (await tb.read(global_reg("BLINK").offset))[0] == global_reg("BLINK").reset
    for i in range(AGENTS):
        for reg in regmap.AGENT_REGS:
            value, resp = await tb.read(agent_offset(i, reg.name))
            assert resp == AxiResp.OKAY, reg.name
            assert value == reg.reset, (i, reg.name, value)


@cocotb.test()
async def read_write_round_trip(dut):
    tb = await make(dut)
    values = {"BASE": 0x00012200, "SIZE": 0x1000, "SWEEP_START": 0x200,
              "SWEEP_COUNT": 0xFFFFFFFF, "THROTTLE": 0xBEEF, "IRQ_EN": 0x1F,
              "SLOT_CTRL": agent_reg("SLOT_CTRL").attn_led.put(
                  agent_reg("SLOT_CTRL").power_led.put(1, regmap.Led.BLINK), regmap.Led.ON)}
    for i in range(AGENTS):
        for name, value in values.items():
            assert await tb.write(agent_offset(i, name), value ^ (i & 1)) == AxiResp.OKAY, name
    for i in range(AGENTS):
        for name, value in values.items():
            assert await tb.read(agent_offset(i, name)) == (value ^ (i & 1), AxiResp.OKAY), name
    # the values reach the core
    assert int(tb.agent(2, "base").value) == values["BASE"]
    assert int(tb.agent(3, "power_en").value) == 0   # SLOT_CTRL ^ 1 clears bit 0
    assert int(tb.agent(2, "power_en").value) == 1
    assert int(tb.agent(1, "power_led").value) == regmap.Led.BLINK
    for name in ("DEBOUNCE", "BLINK"):
        off = global_reg(name).offset
        assert await tb.write(off, 1234) == AxiResp.OKAY
        assert await tb.read(off) == (1234, AxiResp.OKAY)
    assert int(dut.debounce.value) == 1234 and int(dut.blink.value) == 1234


@cocotb.test()
async def byte_strobes(dut):
    tb = await make(dut)
    off = agent_offset(0, "BASE")
    await tb.write(off, 0x11223344)
    await tb.axil.write(off + 1, b"\xAA")  # one byte lane
    assert (await tb.read(off))[0] == 0x1122AA44


@cocotb.test()
async def refused_writes_change_nothing(dut):
    tb = await make(dut)
    await tb.write(agent_offset(1, "THROTTLE"), 7)
    await tb.write(agent_offset(1, "SLOT_CTRL"), 1)
    await tb.write(global_reg("DEBOUNCE").offset, 99)
    snapshot = {}
    for i in range(AGENTS):
        for reg in regmap.AGENT_REGS:
            snapshot[(i, reg.name)] = (await tb.read(agent_offset(i, reg.name)))[0]
    cases = [
        (global_reg("ID").offset, 1),                       # read-only
        (global_reg("IRQ_SUMMARY").offset, 1),              # read-only
        (global_reg("DEBOUNCE").offset, 0x10000),           # does not fit 16 bits
        (global_reg("LOCK").offset, 2),                     # reserved bit
        (global_reg("LOCK").offset, 1),                     # non-secure
        (0x18, 5),                                          # unmapped global offset
        (agent_offset(0, "STATUS"), 0xFFFFFFFF),
        (agent_offset(1, "CAPACITY"), 1),
        (agent_offset(1, "SWEPT_UPTO"), 1),
        (agent_offset(1, "ERR_ADDR"), 1),
        (agent_offset(1, "THROTTLE"), 0x10000),
        (agent_offset(1, "IRQ_EN"), 0x80),
        (agent_offset(1, "RAS_CTRL"), 4),                   # reserved bit
        (agent_offset(1, "SLOT_CTRL"), agent_reg("SLOT_CTRL").power_led.put(0, 3)),
        (agent_offset(1, "SLOT_CTRL"), agent_reg("SLOT_CTRL").attn_led.put(0, 3)),
        (agent_offset(1, "SLOT_CTRL"), 1 << 1),             # reserved bit
        (agent_offset(1, "EVENTS"), 1 << 7),                # no such event
        (regmap.AGENT_BASE + regmap.AGENT_STRIDE * AGENTS, 1),  # past the last agent
    ]
    for offset, value in cases:
        assert await tb.write(offset, value) == AxiResp.SLVERR, hex(offset)
    for offset in (0x18, regmap.AGENT_BASE + regmap.AGENT_STRIDE * AGENTS):
        assert (await tb.read(offset))[1] == AxiResp.SLVERR, hex(offset)
    for key, value in snapshot.items():
        assert (await tb.read(agent_offset(key[0], key[1])))[0] == value, key
    assert (await tb.read(global_reg("DEBOUNCE").offset))[0] == 99
    assert (await tb.read(global_reg("LOCK").offset))[0] == 0
    assert tb.pulses == []


@cocotb.test()
async def range_lock(dut):
    tb = await make(dut)
    await tb.write(agent_offset(2, "BASE"), 0x400)
    tb.agent(2, "range_lock").value = 1
    await ClockCycles(dut.clk, 1)
    assert await tb.write(agent_offset(2, "BASE"), 0x800) == AxiResp.SLVERR
    assert await tb.write(agent_offset(2, "SIZE"), 0x800) == AxiResp.SLVERR
    assert (await tb.read(agent_offset(2, "BASE")))[0] == 0x400
    # the core writes a slave's range when it takes its master's
    tb.agent(2, "range_base").value = 0x1200
    tb.agent(2, "range_size").value = 0x200
    tb.agent(2, "range_we").value = 1
    await RisingEdge(dut.clk)
    tb.agent(2, "range_we").value = 0
    assert (await tb.read(agent_offset(2, "BASE")))[0] == 0x1200
    assert (await tb.read(agent_offset(2, "SIZE")))[0] == 0x200


@cocotb.test()
async def freeze_holds_writes(dut):
    """While the sequencer freezes the registers a write is neither done nor answered."""
    tb = await make(dut)
    dut.freeze.value = 1
    write = cocotb.start_soon(tb.write(agent_offset(1, "BASE"), 0x600))
    await ClockCycles(dut.clk, 8)
    assert not write.done(), "answered while frozen"
    assert int(tb.agent(1, "base").value) == 0, "performed while frozen"
    dut.freeze.value = 0
    assert await write == AxiResp.OKAY
    assert int(tb.agent(1, "base").value) == 0x600
    assert (await tb.read(agent_offset(1, "BASE")))[0] == 0x600


@cocotb.test()
async def power_protection(dut):
    tb = await make(dut)
    sc = agent_reg("SLOT_CTRL")
    await tb.write(agent_offset(0, "SLOT_CTRL"), sc.power_en.put(0, 1))
    tb.agent(0, "power_protect").value = 1
    await ClockCycles(dut.clk, 1)
    value = sc.attn_led.put(0, regmap.Led.BLINK)  # power off, attention blinking
    assert await tb.write(agent_offset(0, "SLOT_CTRL"), value) == AxiResp.OKAY
    stored = (await tb.read(agent_offset(0, "SLOT_CTRL")))[0]
    assert sc.power_en.get(stored) == 1, "power stays on"
    assert sc.attn_led.get(stored) == regmap.Led.BLINK, "the LED part is applied"
    assert ("power_refused", 0) in tb.pulses
    tb.agent(0, "power_protect").value = 0
    await tb.write(agent_offset(0, "SLOT_CTRL"), 0)
    assert (await tb.read(agent_offset(0, "SLOT_CTRL")))[0] == 0


@cocotb.test()
async def commands_pulse(dut):
    tb = await make(dut)
    cmd = agent_reg("CMD")
    await tb.write(agent_offset(3, "CMD"), cmd.peer.put(cmd.opcode.put(0, regmap.Op.ESTABLISH), 2))
    await tb.write(agent_offset(0, "CMD"), 0xF)
    assert tb.pulses == [("cmd", 3, regmap.Op.ESTABLISH, 2), ("cmd", 0, 0xF, 0)]
    assert await tb.read(agent_offset(3, "CMD")) == (0, AxiResp.OKAY)


@cocotb.test()
async def status_fields(dut):
    tb = await make(dut)
    st = agent_reg("STATUS")
    inputs = {"mode": regmap.Mode.MIRROR_MASTER, "busy": 1, "swept": 1, "peer": 3,
              "err": regmap.Err.NOT_SWEPT, "present": 1, "power_good": 1}
    for name, value in inputs.items():
        tb.agent(1, name).value = int(value)
    tb.agent(1, "capacity").value = 4096
    tb.agent(1, "swept_upto").value = 1000
    tb.agent(1, "err_addr").value = 77
    await ClockCycles(dut.clk, 1)
    value = (await tb.read(agent_offset(1, "STATUS")))[0]
    for name, want in inputs.items():
        assert getattr(st, name).get(value) == want, name
    assert (await tb.read(agent_offset(1, "CAPACITY")))[0] == 4096
    assert (await tb.read(agent_offset(1, "SWEPT_UPTO")))[0] == 1000
    assert (await tb.read(agent_offset(1, "ERR_ADDR")))[0] == 77


@cocotb.test()
async def events_and_irq(dut):
    tb = await make(dut)
    ev = regmap.Event
    tb.agent(2, "event_set").value = int(ev.BUTTON | ev.MEM_ERROR)
    await RisingEdge(dut.clk)
    tb.agent(2, "event_set").value = 0
    await ClockCycles(dut.clk, 1)
    assert (await tb.read(agent_offset(2, "EVENTS")))[0] == ev.BUTTON | ev.MEM_ERROR
    assert int(dut.irq.value) == 0, "no event enabled"
    await tb.write(agent_offset(2, "IRQ_EN"), int(ev.MEM_ERROR))
    await ClockCycles(dut.clk, 1)
    assert int(dut.irq.value) == 1
    assert (await tb.read(global_reg("IRQ_SUMMARY").offset))[0] == 1 << 2
    await tb.write(agent_offset(2, "EVENTS"), int(ev.MEM_ERROR))   # write 1 to clear
    await ClockCycles(dut.clk, 1)
    assert (await tb.read(agent_offset(2, "EVENTS")))[0] == ev.BUTTON
    assert int(dut.irq.value) == 0
    assert (await tb.read(global_reg("IRQ_SUMMARY").offset))[0] == 0


@cocotb.test()
async def error_counters(dut):
    """CE_COUNT and UE_COUNT (SPEC section 3): the core's counts add up, saturate at
    2**32 - 1, a written value replaces the count (0 clears it), and a count in the cycle
    of the write adds to the written value, so none is lost."""
    tb = await make(dut)
    ce, ue = agent_offset(1, "CE_COUNT"), agent_offset(1, "UE_COUNT")

    async def pulse(name, amount, cycles=1):
        tb.agent(1, name).value = amount
        await ClockCycles(dut.clk, cycles)
        tb.agent(1, name).value = 0
        await RisingEdge(dut.clk)
    await pulse("ce_inc", 1, 3)
    await pulse("ue_inc", 2, 2)
    await pulse("ue_inc", 1)
    assert (await tb.read(ce))[0] == 3 and (await tb.read(ue))[0] == 5
    assert (await tb.read(agent_offset(0, "CE_COUNT")))[0] == 0, "other agents untouched"
    assert await tb.write(ue, 0xFFFFFFFE) == AxiResp.OKAY
    await pulse("ue_inc", 2, 3)
    assert (await tb.read(ue))[0] == 0xFFFFFFFF, "saturates"
    assert await tb.write(ue, 0) == AxiResp.OKAY
    assert (await tb.read(ue))[0] == 0, "written 0 clears"
    # counts that arrive in every cycle of a write are all kept
    tb.agent(1, "ce_inc").value = 1
    await RisingEdge(dut.clk)
    before = tb.outputs()
    assert await tb.write(ce, 100) == AxiResp.OKAY
    tb.agent(1, "ce_inc").value = 0
    await RisingEdge(dut.clk)
    count = (await tb.read(ce))[0]
    assert 100 < count < 100 + 20, count
    assert before == tb.outputs()


def _legal_ones(field):
    """The largest value a field accepts (an enum field: its largest code)."""
    if field.enum is not None:
        return max(field.enum)
    return (1 << field.width) - 1


@cocotb.test()
async def access_types_match_the_rdl(dut):
    """Every register behaves as regmap/regs.rdl declares its access type, for every agent."""
    tb = await make(dut)
    for i in range(AGENTS):
        for reg in regmap.AGENT_REGS:
            off = agent_offset(i, reg.name)
            if reg.access is regmap.Access.RO:
                before = (await tb.read(off))[0]
                assert await tb.write(off, 0xFFFFFFFF) == AxiResp.SLVERR, reg.name
                assert (await tb.read(off))[0] == before, reg.name
            elif reg.access is regmap.Access.RW:
                value = 0
                for f in reg.fields:
                    value = f.put(value, _legal_ones(f))
                assert await tb.write(off, value) == AxiResp.OKAY, reg.name
                assert (await tb.read(off))[0] == value, reg.name
                assert await tb.write(off, 0) == AxiResp.OKAY, reg.name
                assert (await tb.read(off))[0] == 0, reg.name
            elif reg.access is regmap.Access.WO:
                assert await tb.read(off) == (0, AxiResp.OKAY), reg.name
            elif reg.access is regmap.Access.RW1C:
                mask = sum(f.mask for f in reg.fields)
                tb.agent(i, "event_set").value = mask
                await RisingEdge(dut.clk)
                tb.agent(i, "event_set").value = 0
                await ClockCycles(dut.clk, 1)
                assert (await tb.read(off))[0] == mask, reg.name
                assert await tb.write(off, 0) == AxiResp.OKAY   # writing 0 clears nothing
                assert (await tb.read(off))[0] == mask, reg.name
                assert await tb.write(off, mask) == AxiResp.OKAY
                assert (await tb.read(off))[0] == 0, reg.name
    for reg in regmap.GLOBAL_REGS:
        if reg.access is regmap.Access.RO:
            assert await tb.write(reg.offset, 0) == AxiResp.SLVERR, reg.name
        elif reg.access is regmap.Access.RW1S:
            mask = sum(f.mask for f in reg.fields)
            assert (await tb.read(reg.offset))[0] == 0, reg.name
            assert await tb.write(reg.offset, mask, secure=True) == AxiResp.OKAY, reg.name
            assert (await tb.read(reg.offset))[0] == mask, reg.name
            assert await tb.write(reg.offset, 0, secure=True) == AxiResp.OKAY, reg.name
            assert (await tb.read(reg.offset))[0] == mask, "writing 0 clears nothing"
    assert [r.name for r in regmap.GLOBAL_REGS if r.access is regmap.Access.RW1S] == ["LOCK"]


LOCK = global_reg("LOCK")


@cocotb.test()
async def lock_is_set_only_and_takes_secure_writes_only(dut):
    """LOCK: a secure 1 sets it; nothing but rst clears it; a non-secure write to it is
    refused even while it is clear; bits above 0 are reserved."""
    tb = await make(dut)

    async def lock():
        return (await tb.read(LOCK.offset))[0]
    assert await tb.write(LOCK.offset, 1) == AxiResp.SLVERR, "non-secure, while clear"
    assert await lock() == 0 and int(dut.secure_only.value) == 0
    assert await tb.write(LOCK.offset, 0, secure=True) == AxiResp.OKAY
    assert await tb.write(LOCK.offset, 3, secure=True) == AxiResp.SLVERR, "reserved bit 1"
    assert await lock() == 0
    assert await tb.write(LOCK.offset, 1, secure=True) == AxiResp.OKAY
    assert await lock() == 1 and int(dut.secure_only.value) == 1
    for value, secure, resp in ((0, True, AxiResp.OKAY), (1, True, AxiResp.OKAY),
                                (0xFFFFFFFE, True, AxiResp.SLVERR),
                                (0, False, AxiResp.SLVERR), (0xFFFFFFFF, False, AxiResp.SLVERR)):
        assert await tb.write(LOCK.offset, value, secure=secure) == resp, (value, secure)
        assert await lock() == 1, (value, secure)
    assert (await tb.axil.read(LOCK.offset, 4, prot=AxiProt.NONSECURE)).data == b"\x01\0\0\0"
    await tb.reset()
    assert await lock() == 0 and int(dut.secure_only.value) == 0
    assert await tb.write(agent_offset(0, "BASE"), 0x200) == AxiResp.OKAY, "open again"


@cocotb.test()
async def locked_refuses_every_non_secure_write(dut):
    """With LOCK set, a non-secure write to every offset of the register space answers
    SLVERR and changes no register, no output, raises no pulse; secure writes still work,
    and reads of either kind are served."""
    tb = await make(dut)
    sc = agent_reg("SLOT_CTRL")
    for i in range(AGENTS):
        for name, value in (("BASE", 0x200 * (i + 1)), ("SIZE", 0x200), ("THROTTLE", 3 + i),
                            ("SWEEP_START", i), ("SWEEP_COUNT", 64), ("IRQ_EN", 0x7F),
                            ("RAS_CTRL", 3),
                            ("SLOT_CTRL", sc.power_led.put(sc.power_en.put(0, 1), 2))):
            assert await tb.write(agent_offset(i, name), value, secure=True) == AxiResp.OKAY
        tb.agent(i, "event_set").value = 0x7F
    await RisingEdge(dut.clk)
    for i in range(AGENTS):
        tb.agent(i, "event_set").value = 0
    assert await tb.write(LOCK.offset, 1, secure=True) == AxiResp.OKAY
    before, outputs = await tb.registers(), tb.outputs()
    end = regmap.AGENT_BASE + regmap.AGENT_STRIDE * (AGENTS + 1)
    for offset in range(0, end, 4):
        for value in (0xFFFFFFFF, 0, 1):
            assert await tb.write(offset, value) == AxiResp.SLVERR, (hex(offset), value)
        # one byte lane at a time, too
        assert await tb.write(offset, 0xFF, strb_bytes=1) == AxiResp.SLVERR, hex(offset)
    assert await tb.registers() == before
    assert tb.outputs() == outputs
    assert tb.pulses == []
    for off in (LOCK.offset, agent_offset(0, "STATUS")):
        assert (await tb.axil.read(off, 4, prot=AxiProt.NONSECURE)).resp == AxiResp.OKAY
    # secure writes are served as ever
    assert await tb.write(agent_offset(1, "THROTTLE"), 99, secure=True) == AxiResp.OKAY
    assert int(tb.agent(1, "throttle").value) == 99
    assert await tb.write(agent_offset(2, "EVENTS"), 0x7F, secure=True) == AxiResp.OKAY
    assert (await tb.read(agent_offset(2, "EVENTS")))[0] == 0
    await tb.write(agent_offset(3, "CMD"), int(regmap.Op.UNASSIGN), secure=True)
    assert tb.pulses == [("cmd", 3, regmap.Op.UNASSIGN, 0)]
    assert await tb.write(agent_offset(0, "BASE"), 7, secure=True) == AxiResp.OKAY
    assert await tb.write(agent_offset(0, "THROTTLE"), 0x10000, secure=True) == AxiResp.SLVERR


def test_registers():
    agents, config = 4, 0x00100804     # what MirrorswapTop() gives it
    run_tests(__file__, "control_registers",
              component=ControlRegisters(agents=agents, config=config),
              params={"agents": agents, "config": config})
