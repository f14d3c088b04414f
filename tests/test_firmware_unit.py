"""Unit tests of the firmware's pure-Python parts (no simulator, no RTL).

What the BIOS and the hot-plug flows do against the real hardware is tested in
``tests/test_firmware.py`` and ``tests/test_hotplug.py``. Here the hardware is at most a
register file: a temporary file behind MemoryMappedBus, :class:`RegisterFile`, whose
STATUS the test scripts, or :class:`SlotBoard`, a register model just rich enough to
drive the hot-plug flows down each failure path, or :class:`ModelBus`, the register model
of ``sim/regmodel.py`` with the hardware's RAS side (counts, events, failover) played by
the test, for mirror mode, predictive replacement and failover. Those tests check the
firmware's own logic (encoding, argument checks, error mapping, polling, timeouts, what
every failure shows on the LEDs, the RAS policy), not what the RTL answers; they take a
second where the RTL benches take minutes.
"""

import asyncio
import itertools
import mmap

import pytest

from mirrorswap.firmware import errors
from mirrorswap.firmware.bios import Bios, format_slot_table
from mirrorswap.firmware.hotplug import RAS_WATCHED, WATCHED, HotPlug
from mirrorswap.firmware.hw import AgentStatus, Config, Hardware, RasStatus
from mirrorswap.firmware.memmap import MapEntry, MemoryMap
from mirrorswap.firmware.ras import COUNT_MAX, ErrorTotals, format_ras_table, pair_modules
from mirrorswap.firmware.regbus import BusError, MemoryMappedBus, RegisterBus
from mirrorswap.regmap import (LINE_BYTES, Err, Event, Led, Mode, Op, agent_offset, agent_reg,
                               global_reg)
from mirrorswap.sim.regmodel import RegisterModel


def run(coro):
    return asyncio.run(coro)


# ---- memory map ---------------------------------------------------------------------------

def test_memory_map_lookup_and_e820():
    mm = MemoryMap()
    mm.add(4096, 8192, 2)        # out of order on purpose: the map keeps them sorted
    mm.add(0, 4096, 1)
    assert mm.total_lines == 12288
    assert mm.lookup(0).base_line == 0 and mm.lookup(4095).base_line == 0
    assert mm.lookup(4096).base_line == 4096 and mm.lookup(12287).base_line == 4096
    assert mm.lookup(12288) is None
    assert mm.slot_of(4095) == 1 and mm.slot_of(4096) == 2 and mm.slot_of(12288) is None
    assert mm.entries() == [MapEntry(0, 4096, 1), MapEntry(4096, 8192, 2)]
    assert mm.owner_slots() == [1, 2]
    assert mm.e820().splitlines() == [
        "BIOS-e820: [mem 0x0000000000000000-0x0000000000007fff] usable",
        "BIOS-e820: [mem 0x0000000000008000-0x0000000000017fff] usable"]


def test_memory_map_rehome_keeps_what_the_os_sees():
    mm = MemoryMap()
    mm.add(0, 4096, 1)
    mm.add(4096, 4096, 2)
    before, table = mm.published(), mm.e820()
    mm.rehome(1, 3)
    assert mm.published() == before and mm.e820() == table
    assert mm.entries() == [(0, 4096, 3), (4096, 4096, 2)]
    assert mm.slot_of(0) == 3
    with pytest.raises(KeyError, match="slot 1 serves no range"):
        mm.range_of(1)
    # and back: a second migration onto the freed module
    mm.rehome(3, 1)
    assert mm.entries() == [(0, 4096, 1), (4096, 4096, 2)] and mm.published() == before


def test_memory_map_refuses_bad_ranges():
    mm = MemoryMap()
    mm.add(0, 4096, 0)
    with pytest.raises(ValueError, match="overlaps"):
        mm.add(2048, 4096, 1)
    with pytest.raises(ValueError, match="Range size must be positive, not 0"):
        mm.add(8192, 0, 1)
    with pytest.raises(ValueError, match="Range base must be a non-negative integer, not -512"):
        mm.add(-512, 512, 1)
    with pytest.raises(ValueError, match="Slot 0 already serves"):
        mm.add(8192, 512, 0)
    mm.add(4096, 4096, 1)
    with pytest.raises(ValueError, match="Slot 1 already serves"):
        mm.rehome(0, 1)
    assert mm.entries() == [(0, 4096, 0), (4096, 4096, 1)], "a refused call changed the map"


# ---- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("err", [e for e in Err if e is not Err.OK])
def test_every_error_code_has_its_exception(err):
    cls = errors.error_for(err)
    assert issubclass(cls, errors.CommandError) and cls.err is err
    assert errors.error_for(int(err)) is cls
    assert getattr(errors, cls.__name__) is cls and cls.__name__ in errors.__all__
    e = cls(2, Op.SWEEP)
    assert e.agent == 2 and e.op == Op.SWEEP and e.err is err
    assert str(e) == f"agent 2: SWEEP refused with {err.name}"


def test_error_classes_are_distinct():
    classes = [errors.error_for(e) for e in Err if e is not Err.OK]
    assert len(set(classes)) == len(classes)


def test_error_message_for_an_unknown_opcode():
    e = errors.BadOpcode(1, 12)
    assert str(e) == "agent 1: opcode 12 refused with BAD_OPCODE" and e.op == 12


def test_error_for_ok_is_refused():
    with pytest.raises(ValueError, match="Err.OK is not an error"):
        errors.error_for(Err.OK)


def test_command_timeout_is_a_timeout():
    assert issubclass(errors.CommandTimeout, TimeoutError)


# ---- register fields ----------------------------------------------------------------------

def test_cmd_encoding():
    cmd = agent_reg("CMD")
    value = cmd.peer.put(cmd.opcode.put(0, Op.ESTABLISH), 3)
    assert cmd.opcode.get(value) == Op.ESTABLISH and cmd.peer.get(value) == 3
    assert value & ~(cmd.opcode.mask | cmd.peer.mask) == 0
    assert cmd.opcode.mask & cmd.peer.mask == 0
    with pytest.raises(ValueError, match="peer takes 4 bits, not 16"):
        cmd.peer.put(0, 16)


def test_status_decode_and_encode():
    st = AgentStatus(mode=Mode.MIRROR_MASTER, busy=True, swept=False, peer=3,
                     err=Err.NOT_SWEPT, present=True, power_good=True)
    value = st.encode()
    status = agent_reg("STATUS")
    assert status.mode.get(value) == Mode.MIRROR_MASTER and status.busy.get(value) == 1
    assert status.swept.get(value) == 0 and status.peer.get(value) == 3
    assert status.err.get(value) == Err.NOT_SWEPT
    assert status.present.get(value) == 1 and status.power_good.get(value) == 1
    assert AgentStatus.decode(value) == st
    # each field alone lands in its own bits
    for name in ("busy", "swept", "present", "power_good"):
        one = AgentStatus.decode(getattr(status, name).put(0, 1))
        assert [f for f in ("busy", "swept", "present", "power_good")
                if getattr(one, f)] == [name]
    assert AgentStatus.decode(0) == AgentStatus(Mode.OFF, False, False, 0, Err.OK, False,
                                                False)


def test_slot_ctrl_fields():
    sc = agent_reg("SLOT_CTRL")
    value = sc.attn_led.put(sc.power_led.put(sc.power_en.put(0, 1), Led.BLINK), Led.ON)
    assert sc.power_en.get(value) == 1
    assert sc.power_led.get(value) == Led.BLINK and sc.attn_led.get(value) == Led.ON
    assert len({sc.power_en.mask, sc.power_led.mask, sc.attn_led.mask}) == 3
    assert sc.power_en.mask & sc.power_led.mask == 0 == sc.power_led.mask & sc.attn_led.mask


def test_config_decode():
    cfg = global_reg("CONFIG")
    value = cfg.max_capacity_log2.put(cfg.line_bytes.put(cfg.agents.put(0, 4), 8), 16)
    assert Config.decode(value) == Config(agents=4, line_bytes=8, max_capacity_log2=16)


# ---- memory-mapped bus --------------------------------------------------------------------

@pytest.fixture
def regfile(tmp_path):
    path = tmp_path / "regs.bin"
    path.write_bytes(bytes(4096))
    return path


def test_mmap_bus_round_trip(regfile):
    base = agent_offset(1, "BASE")
    with MemoryMappedBus(str(regfile), clock_hz=1e9) as bus:
        run(bus.write32(base, 0xDEADBEEF))
        assert run(bus.read32(base)) == 0xDEADBEEF
        assert run(bus.read32(base - 4)) == 0 and run(bus.read32(base + 4)) == 0
    assert regfile.read_bytes()[base:base + 4] == bytes.fromhex("efbeadde")   # little-endian


def test_mmap_bus_unaligned_base(tmp_path):
    """A register block that does not start on a page: mapped from the page below it."""
    path = tmp_path / "dev.bin"
    base = mmap.ALLOCATIONGRANULARITY + 0x100
    path.write_bytes(bytes(base + 4096))
    with MemoryMappedBus(str(path), base=base) as bus:
        run(bus.write32(0x10, 0x01020304))
        assert run(bus.read32(0x10)) == 0x01020304
        with pytest.raises(ValueError, match="Register offset 0x1000 is outside"):
            run(bus.read32(0x1000))
    assert path.read_bytes()[base + 0x10:base + 0x14] == bytes([4, 3, 2, 1])


@pytest.mark.parametrize("offset, value, message", [
    (0x102, 0, "Register offset must be a non-negative multiple of 4, not 258"),
    (-4, 0, "Register offset must be a non-negative multiple of 4, not -4"),
    (0x1000, 0, "Register offset 0x1000 is outside the 0x1000-byte mapping"),
    (0x100, 1 << 32, "Register value must fit in 32 bits, not 4294967296"),
    (0x100, -1, "Register value must fit in 32 bits, not -1"),
])
def test_mmap_bus_bad_access(regfile, offset, value, message):
    with MemoryMappedBus(str(regfile)) as bus:
        with pytest.raises(ValueError, match=message):
            run(bus.write32(offset, value))
    assert regfile.read_bytes() == bytes(4096)


@pytest.mark.parametrize("kwargs, message", [
    (dict(base=-4096), "Base must be a non-negative integer, not -4096"),
    (dict(size=6), "Size must be a positive multiple of 4 bytes, not 6"),
    (dict(clock_hz=0), "Clock must be positive, not 0"),
])
def test_mmap_bus_bad_arguments(regfile, kwargs, message):
    with pytest.raises(ValueError, match=message):
        MemoryMappedBus(str(regfile), **kwargs)


def test_bus_error_names_offset_and_response():
    e = BusError("read", 0x104, "SLVERR")
    assert str(e) == "read at register offset 0x104 answered SLVERR"
    assert (e.op, e.offset, e.resp) == ("read", 0x104, "SLVERR")


# ---- a register file with scripted STATUS ---------------------------------------------------

class RegisterFile(RegisterBus):
    """Registers as a dict, no command behaviour: every access is logged; ``status[agent]``
    (an iterator of AgentStatus) answers that agent's STATUS reads; CONFIG says 4 agents;
    EVENTS is write-1-to-clear and a CMD write of agent a sets ``events_on_cmd[a]``."""

    def __init__(self, agents=4):
        cfg = global_reg("CONFIG")
        self.regs = {cfg.offset: cfg.line_bytes.put(cfg.agents.put(0, agents), LINE_BYTES)}
        self.status = {}
        self.events_on_cmd = {}
        self.log = []
        self.cycles = 0

    async def read32(self, offset):
        self._check(offset)
        for agent, script in self.status.items():
            if offset == agent_offset(agent, "STATUS"):
                value = next(script).encode()
                break
        else:
            value = self.regs.get(offset, 0)
        self.log.append(("read", offset, value))
        return value

    async def write32(self, offset, value):
        self._check(offset, value)
        self.log.append(("write", offset, value))
        for agent in range(4):
            if offset == agent_offset(agent, "EVENTS"):
                self.regs[offset] = self.regs.get(offset, 0) & ~value
                return
            if offset == agent_offset(agent, "CMD"):
                events = agent_offset(agent, "EVENTS")
                self.regs[events] = self.regs.get(events, 0) | self.events_on_cmd.get(agent, 0)
        self.regs[offset] = value

    async def pause(self, cycles):
        self.cycles += cycles

    def writes(self):
        return [(off, value) for kind, off, value in self.log if kind == "write"]


def _status(mode=Mode.ACTIVE, busy=False, err=Err.OK, **kw):
    return AgentStatus(mode=mode, busy=busy, swept=kw.get("swept", False),
                       peer=kw.get("peer", 0), err=err, present=True, power_good=True)


def test_command_writes_cmd_and_clears_cmd_done_around_it():
    bus = RegisterFile()
    bus.status[1] = iter([_status(), _status(busy=True), _status(busy=True),
                          _status(busy=True), _status(Mode.MIRROR_MASTER, peer=3)])
    bios = Bios(bus, poll_cycles=4)
    st = run(bios.command(1, Op.ESTABLISH, peer=3))
    assert st.mode == Mode.MIRROR_MASTER and st.peer == 3
    cmd = agent_reg("CMD")
    events = agent_offset(1, "EVENTS")
    written = cmd.peer.put(cmd.opcode.put(0, Op.ESTABLISH), 3)
    assert bus.writes() == [(events, int(Event.CMD_DONE)), (agent_offset(1, "CMD"), written),
                            (events, int(Event.CMD_DONE))]
    assert bus.cycles == 12, "three polls while busy, poll_cycles apart"


@pytest.mark.parametrize("err", [e for e in Err if e is not Err.OK])
def test_command_raises_the_class_of_status_err(err):
    bus = RegisterFile()
    bus.status[2] = iter([_status(), _status(err=err)])       # refused: never busy
    with pytest.raises(errors.error_for(err)) as info:
        run(Bios(bus).command(2, Op.ASSIGN))
    assert info.value.agent == 2 and info.value.op == Op.ASSIGN and info.value.err is err
    assert str(info.value) == f"agent 2: ASSIGN refused with {err.name}"


def test_command_on_a_busy_agent_raises_busy_without_writing():
    bus = RegisterFile()
    bus.status[0] = iter([_status(Mode.MIRROR_MASTER, busy=True)])
    with pytest.raises(errors.Busy, match="agent 0: ABORT refused with BUSY"):
        run(Bios(bus).command(0, Op.ABORT))
    assert bus.writes() == []


def test_command_refused_busy_after_a_race_is_told_by_cmd_done():
    """The agent turned busy between the check and the write: STATUS shows busy and
    err BUSY, and cmd_done is already up (an accepted command raises it only when done)."""
    bus = RegisterFile()
    bus.status[0] = iter([_status(), _status(Mode.MIRROR_MASTER, busy=True, err=Err.BUSY)])
    bus.events_on_cmd[0] = int(Event.CMD_DONE)
    with pytest.raises(errors.Busy):
        run(Bios(bus).command(0, Op.ABORT))
    assert bus.regs[agent_offset(0, "EVENTS")] == 0, "cmd_done of the refusal cleared"


def test_command_accepted_after_a_busy_refusal_is_not_mistaken_for_one():
    """err still says BUSY (the previous command's) while this one runs: no cmd_done yet."""
    bus = RegisterFile()
    bus.status[0] = iter([_status(err=Err.BUSY), _status(busy=True, err=Err.BUSY),
                          _status(Mode.IDLE)])
    st = run(Bios(bus).command(0, Op.UNASSIGN))
    assert st.mode == Mode.IDLE and st.err is Err.OK


def test_command_times_out_when_busy_never_falls():
    bus = RegisterFile()
    bus.status[0] = itertools.chain([_status()], iter(lambda: _status(busy=True), None))
    with pytest.raises(errors.CommandTimeout, match="agent 0: SWEEP still busy after 64 cycles"):
        run(Bios(bus, poll_cycles=16, timeout_cycles=64).command(0, Op.SWEEP))


# ---- argument checks of the BIOS ------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(poll_cycles=0), "Poll interval must be an integer >= 1, not 0"),
    (dict(timeout_cycles=-1), "Command timeout must be an integer >= 1, not -1"),
    (dict(poll_cycles=2.5), "Poll interval must be an integer >= 1, not 2.5"),
])
def test_bios_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Bios(RegisterFile(), **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(slot=4), "Slot must be an integer from 0 to 3, not 4"),
    (dict(slot=-1), "Slot must be an integer from 0 to 3, not -1"),
    (dict(slot="1"), "Slot must be an integer from 0 to 3, not '1'"),
    (dict(slot=1, chunk_lines=0), "Chunk must be an integer >= 1, not 0"),
    (dict(slot=1, chunk_lines=-512), "Chunk must be an integer >= 1, not -512"),
    (dict(slot=1, spare=1), "Spare must be another slot than the one migrating, not 1"),
    (dict(slot=1, spare=7), "Spare must be an integer from 0 to 3, not 7"),
    (dict(slot=1, max_sweep_retries=-1), "Sweep retries must be an integer >= 0, not -1"),
    (dict(slot=1, progress=42), "Progress must be callable, not 42"),
])
def test_migrate_rejects_bad_arguments_without_touching_hardware(regfile, kwargs, message):
    cfg = global_reg("CONFIG")
    data = bytearray(regfile.read_bytes())
    data[cfg.offset:cfg.offset + 4] = cfg.line_bytes.put(cfg.agents.put(0, 4),
                                                         LINE_BYTES).to_bytes(4, "little")
    regfile.write_bytes(bytes(data))
    before = regfile.read_bytes()
    with MemoryMappedBus(str(regfile)) as bus:
        with pytest.raises(ValueError, match=message):
            run(Bios(bus).migrate(**kwargs))
    assert regfile.read_bytes() == before, "a refused call wrote a register"


def test_migrate_of_a_slot_that_is_not_active_writes_nothing():
    bus = RegisterFile()
    bus.status[1] = iter([_status(Mode.IDLE)])
    with pytest.raises(errors.FlowError, match="slot 1 is IDLE, not ACTIVE"):
        run(Bios(bus).migrate(1))
    assert bus.writes() == []


@pytest.mark.parametrize("size, message", [
    (0, "Range size must be an integer >= 1, not 0"),
    (None, "Range size must be an integer >= 1, not None"),
])
def test_pick_spare_rejects_bad_size(size, message):
    with pytest.raises(ValueError, match=message):
        run(Bios(RegisterFile()).pick_spare(size))


def test_command_rejects_a_peer_that_does_not_fit_before_writing():
    bus = RegisterFile()
    with pytest.raises(ValueError, match="peer takes 4 bits, not 16"):
        run(Bios(bus).command(0, Op.ESTABLISH, peer=16))
    assert bus.writes() == []


def test_hardware_set_slot_keeps_other_fields():
    bus = RegisterFile()
    sc = agent_reg("SLOT_CTRL")
    bus.regs[agent_offset(2, "SLOT_CTRL")] = sc.attn_led.put(sc.power_en.put(0, 1), Led.BLINK)
    run(Hardware(bus).set_slot(2, power_led=Led.ON))
    value = bus.regs[agent_offset(2, "SLOT_CTRL")]
    assert (sc.power_en.get(value), sc.power_led.get(value), sc.attn_led.get(value)) == (
        1, Led.ON, Led.BLINK)


def _booting(lock_refused=False):
    """A RegisterFile scripted for a boot of two modules: slot 0 (4096 lines) is assigned,
    slot 1 (8192 lines) stays the spare. With ``lock_refused`` a LOCK write answers SLVERR,
    as the hardware answers a non-secure one."""
    class Board(RegisterFile):
        async def write32(self, offset, value):
            if lock_refused and offset == global_reg("LOCK").offset:
                raise BusError("write", offset, "SLVERR")
            await super().write32(offset, value)
    bus = Board(agents=2)
    bus.status[0] = iter([_status(Mode.IDLE)] * 3 + [_status(Mode.ACTIVE)])
    bus.status[1] = iter([_status(Mode.IDLE)] * 2)
    bus.regs[agent_offset(0, "CAPACITY")] = 4096
    bus.regs[agent_offset(1, "CAPACITY")] = 8192
    return bus


def test_boot_sets_lock_as_its_last_step():
    bus = _booting()
    bios = Bios(bus)
    mm = run(bios.boot())
    assert mm.e820() == "BIOS-e820: [mem 0x0000000000000000-0x0000000000007fff] usable"
    lock = global_reg("LOCK")
    assert bus.writes()[-1] == (lock.offset, lock.secure_only.put(0, 1))
    assert [w for w in bus.writes() if w[0] == lock.offset] == [bus.writes()[-1]]
    assert run(bios.hw.locked()) is True


def test_boot_without_lock_leaves_it_clear():
    bus = _booting()
    bios = Bios(bus)
    run(bios.boot(lock=False))
    assert global_reg("LOCK").offset not in [offset for offset, _ in bus.writes()]
    assert run(bios.hw.locked()) is False


def test_boot_on_a_non_secure_bus_fails_at_the_lock_and_says_why():
    bios = Bios(_booting(lock_refused=True))
    with pytest.raises(errors.FlowError,
                       match=r"boot: setting LOCK was refused \(write at register offset "
                             r"0x014 answered SLVERR\): the platform must give the BIOS's "
                             r"register accesses secure protection \(AxPROT\[1\] = 0\)"):
        run(bios.boot())
    assert bios.memory_map.total_lines == 4096, "the memory map was published before"


def test_hardware_lock_and_locked():
    bus = RegisterFile()
    hw = Hardware(bus)
    assert run(hw.locked()) is False
    run(hw.lock())
    assert bus.writes() == [(global_reg("LOCK").offset, 1)]
    assert run(hw.locked()) is True
    bus.regs[global_reg("LOCK").offset] = 0xFFFFFFFE      # reserved bits read as they are
    assert run(hw.locked()) is False


def test_slot_table_format():
    rows = [{"slot": 0, "present": True, "power_good": False, "mode": "OFF", "base": 0,
             "size": 0, "capacity": 4096, "peer": 0, "swept_upto": 0, "err": "OK"},
            {"slot": 1, "present": True, "power_good": True, "mode": "MIRROR_MASTER",
             "base": 65536, "size": 4096, "capacity": 4096, "peer": 3, "swept_upto": 1024,
             "err": "OK"}]
    text = format_slot_table(rows).splitlines()
    assert text[0].split() == ["slot", "present", "power_good", "mode", "base", "size",
                               "capacity", "peer", "swept_upto", "err"]
    assert text[1].split() == ["0", "1", "0", "OFF", "0", "0", "4096", "0", "0", "OK"]
    assert text[2].split() == ["1", "1", "1", "MIRROR_MASTER", "65536", "4096", "4096", "3",
                               "1024", "OK"]
    assert len({len(line) for line in text}) == 1, "columns are aligned"
    assert Bios.format_slot_table(rows) == format_slot_table(rows)


# ---- hot-plug flows on a register model -----------------------------------------------------

class SlotBoard(RegisterBus):
    """A register model just rich enough for the hot-plug flows' failure paths: a mode per
    agent; CMD refused with ``refuse`` (an Err) or, when that is None, ESTABLISH, SWEEP and
    RELEASE carried out at once; SLOT_CTRL.power_en obeyed (OFF <-> IDLE, within one
    access when ``power_good``) and refused with err POWER for an agent that owns a range or
    is a slave, as SPEC section 4 says. Not the RTL: the RTL is tested in test_hotplug.py."""

    def __init__(self, modes, capacity=4096, size=4096, refuse=None, power_good=True):
        self.mode = dict(enumerate(modes))
        self.err = {a: Err.OK for a in self.mode}
        self.peer = {a: 0 for a in self.mode}
        cfg = global_reg("CONFIG")
        self.regs = {cfg.offset: cfg.line_bytes.put(cfg.agents.put(0, 4), LINE_BYTES)}
        sc = agent_reg("SLOT_CTRL")
        for a, mode in self.mode.items():
            self.regs[agent_offset(a, "CAPACITY")] = capacity
            self.regs[agent_offset(a, "SIZE")] = size if mode == Mode.ACTIVE else 0
            self.regs[agent_offset(a, "SLOT_CTRL")] = sc.power_led.put(
                sc.power_en.put(0, int(mode != Mode.OFF)), Led.ON if mode != Mode.OFF else 0)
        self.refuse = refuse
        self.power_good = power_good
        self.cycles = 0

    def _agent(self, offset, name):
        for a in self.mode:
            if offset == agent_offset(a, name):
                return a
        return None

    async def read32(self, offset):
        self._check(offset)
        a = self._agent(offset, "STATUS")
        if a is None:
            return self.regs.get(offset, 0)
        st = agent_reg("STATUS")
        value = st.mode.put(0, self.mode[a])
        value = st.err.put(st.peer.put(value, self.peer[a]), self.err[a])
        if self.mode[a] != Mode.OFF:
            value = st.power_good.put(value, 1)
        return st.present.put(value, 1)

    async def write32(self, offset, value):
        self._check(offset, value)
        if (a := self._agent(offset, "CMD")) is not None:
            cmd = agent_reg("CMD")
            self._command(a, cmd.opcode.get(value), cmd.peer.get(value))
        elif (a := self._agent(offset, "SLOT_CTRL")) is not None:
            self._slot_ctrl(a, value)
        elif self._agent(offset, "EVENTS") is None:
            self.regs[offset] = value

    def _command(self, a, op, peer):
        self.err[a] = Err(self.refuse) if self.refuse is not None else Err.OK
        if self.refuse is not None:
            return
        size = agent_offset(a, "SIZE")
        if op == Op.ESTABLISH:
            self.mode[a], self.mode[peer] = Mode.MIRROR_MASTER, Mode.MIRROR_SLAVE
            self.peer[a] = peer
        elif op == Op.SWEEP:
            self.regs[agent_offset(a, "SWEPT_UPTO")] = self.regs[size]
        elif op == Op.RELEASE:
            p = self.peer[a]
            self.mode[a], self.mode[p] = Mode.IDLE, Mode.ACTIVE
            self.regs[agent_offset(p, "SIZE")] = self.regs[size]

    def _slot_ctrl(self, a, value):
        sc = agent_reg("SLOT_CTRL")
        if not sc.power_en.get(value) and self.mode[a] not in (Mode.OFF, Mode.IDLE):
            value = sc.power_en.put(value, 1)
            self.err[a] = Err.POWER
        elif not sc.power_en.get(value):
            self.mode[a] = Mode.OFF
        elif self.mode[a] == Mode.OFF and self.power_good:
            self.mode[a] = Mode.IDLE
        self.regs[agent_offset(a, "SLOT_CTRL")] = value

    async def pause(self, cycles):
        self.cycles += cycles

    def leds(self, a):
        value = self.regs[agent_offset(a, "SLOT_CTRL")]
        sc = agent_reg("SLOT_CTRL")
        return Led(sc.power_led.get(value)), Led(sc.attn_led.get(value)), sc.power_en.get(value)


async def _press_and_wait(board, slot, **kwargs):
    hp = HotPlug(Bios(board), abort_window_cycles=0, **kwargs)
    await hp.press(slot)
    await hp.wait_idle()
    return hp, hp.history[-1]


@pytest.mark.parametrize("err", [Err.BAD_PEER, Err.BAD_STATE, Err.CAPACITY, Err.BUSY])
def test_hot_remove_refused_establish_lights_both_leds(err):
    board = SlotBoard([Mode.ACTIVE, Mode.ACTIVE, Mode.ACTIVE, Mode.IDLE], refuse=err)
    hp, rec = run(_press_and_wait(board, 1))
    assert board.leds(1) == (Led.ON, Led.ON, 1), "SPEC 6: power LED on, attention LED on"
    assert rec.kind == "remove" and rec.outcome == "refused", rec
    assert f"ESTABLISH refused with {err.name}" in rec.detail
    assert board.mode[1] == Mode.ACTIVE and not hp.flows and not hp.reserved


def test_hot_remove_then_power_off_refused_is_shown():
    """The range moved, but the old slot will not switch off (another master gave it a range
    meanwhile, here: the model refuses): failure LEDs on the old slot, the move recorded."""
    board = SlotBoard([Mode.ACTIVE, Mode.ACTIVE, Mode.ACTIVE, Mode.IDLE])
    original = board._command

    def release_then_take_back(a, op, peer):
        original(a, op, peer)
        if op == Op.RELEASE:
            board.mode[a] = Mode.ACTIVE
    board._command = release_then_take_back
    _, rec = run(_press_and_wait(board, 1))
    assert board.leds(1) == (Led.ON, Led.ON, 1)
    assert rec.outcome == "failed" and "POWER" in rec.detail and rec.moved_to == 3, rec


def test_remove_spare_refused_power_off_fails_at_once():
    board = SlotBoard([Mode.ACTIVE, Mode.ACTIVE, Mode.ACTIVE, Mode.IDLE])
    original = board._slot_ctrl

    def taken_meanwhile(a, value):
        board.mode[a] = Mode.ACTIVE       # another master ASSIGNed the spare
        original(a, value)
    board._slot_ctrl = taken_meanwhile
    _, rec = run(_press_and_wait(board, 3, power_timeout_cycles=10_000))
    assert board.leds(3) == (Led.ON, Led.ON, 1)
    assert rec.kind == "remove-spare" and rec.outcome == "failed" and "POWER" in rec.detail
    assert board.cycles < 10_000, "the refusal is read back, not waited out"


def test_hot_add_without_power_good_switches_off_and_tells():
    board = SlotBoard([Mode.ACTIVE, Mode.ACTIVE, Mode.ACTIVE, Mode.OFF], power_good=False)
    _, rec = run(_press_and_wait(board, 3, power_timeout_cycles=1000))
    assert board.leds(3) == (Led.OFF, Led.ON, 0), "power off, so its LED off; attention on"
    assert rec.kind == "add" and rec.outcome == "failed"
    assert "did not reach power good" in rec.detail, rec


class _BrokenBus(SlotBoard):
    """Answers an error to every access of one register, like a bus that lost a device."""

    def __init__(self, *args, broken, **kwargs):
        super().__init__(*args, **kwargs)
        self.broken = broken

    async def read32(self, offset):
        if offset == self.broken:
            raise BusError("read", offset, "SLVERR")
        return await super().read32(offset)


def test_hot_remove_failing_on_the_bus_lights_both_leds():
    board = _BrokenBus([Mode.ACTIVE, Mode.ACTIVE, Mode.ACTIVE, Mode.IDLE],
                       broken=agent_offset(3, "CAPACITY"))
    hp, rec = run(_press_and_wait(board, 1))
    assert board.leds(1) == (Led.ON, Led.ON, 1)
    assert rec.outcome == "failed" and "SLVERR" in rec.detail and not hp.flows


def test_flows_called_directly_refuse_the_wrong_slot_before_writing():
    board = SlotBoard([Mode.ACTIVE, Mode.ACTIVE, Mode.ACTIVE, Mode.IDLE])
    hp = HotPlug(Bios(board), abort_window_cycles=0)
    before = dict(board.regs)
    for call, message in [(hp.hot_add(1), "slot 1 is ACTIVE: hot add needs a powered-off "
                                          "slot with a module"),
                          (hp.remove_spare(0), "slot 0 is ACTIVE: removing a spare needs an "
                                               "IDLE slot"),
                          (hp.hot_remove(3), "slot 3 is IDLE: hot remove needs an ACTIVE slot"),
                          (hp.hot_add(4), "Slot must be an integer from 0 to 3, not 4")]:
        with pytest.raises(ValueError, match=message):
            run(call)
    assert board.regs == before and not hp.history


def test_flows_called_directly_run_to_the_end():
    board = SlotBoard([Mode.ACTIVE, Mode.ACTIVE, Mode.ACTIVE, Mode.IDLE])
    hp = HotPlug(Bios(board), abort_window_cycles=10**9)
    rec = run(hp.hot_remove(1))          # no abort window when a program asks
    assert (rec.outcome, rec.moved_to) == ("done", 3), rec
    assert board.leds(1) == (Led.OFF, Led.OFF, 0) and board.mode[3] == Mode.ACTIVE
    rec = run(hp.hot_add(1))
    assert rec.outcome == "done" and board.leds(1) == (Led.ON, Led.OFF, 1)
    rec = run(hp.remove_spare(1))
    assert rec.outcome == "done" and board.leds(1) == (Led.OFF, Led.OFF, 0)
    assert [r.kind for r in hp.history] == ["remove", "add", "remove-spare"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(abort_window_cycles=-1), "Abort window must be an integer >= 0, not -1"),
    (dict(abort_window_cycles=0, chunk_lines=0), "Chunk must be an integer >= 1, not 0"),
    (dict(abort_window_cycles=0, poll_cycles=0), "Poll interval must be an integer >= 1, "
                                                 "not 0"),
    (dict(abort_window_cycles=0, power_timeout_cycles=0), "Power timeout must be an integer "
                                                          ">= 1, not 0"),
    (dict(abort_window_cycles=0, on_progress=3), "Progress must be callable, not 3"),
])
def test_hotplug_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HotPlug(Bios(RegisterFile()), **kwargs)


# ---- RAS: pure policy (firmware/ras.py) ------------------------------------------------------

def test_error_totals_add_what_the_counters_grew_by():
    t = ErrorTotals()
    assert t.update(1, 0, 0) == (0, 0)
    assert t.update(1, 3, 1) == (3, 1)
    assert t.update(1, 5, 1) == (5, 1) and t.total(1) == 6
    assert t.update(2, 7, 0) == (7, 0), "slots are counted apart"
    # someone cleared CE_COUNT and two more came: all of the new reading is new
    assert t.update(1, 2, 1) == (7, 1)
    # saturated counters add nothing more
    assert t.update(1, COUNT_MAX, 1) == (7 + COUNT_MAX - 2, 1)
    assert t.update(1, COUNT_MAX, 1) == (7 + COUNT_MAX - 2, 1)
    t.forget(1)
    assert t.totals(1) == (0, 0)
    assert t.update(1, COUNT_MAX, 4) == (0, 3), "after forget the readings stay the baseline"
    assert t.totals(3) == (0, 0) and t.total(3) == 0


@pytest.mark.parametrize("ce, ue, message", [
    (-1, 0, "CE_COUNT must be an integer >= 0, not -1"),
    (0, "3", "UE_COUNT must be an integer >= 0, not '3'"),
    (1 << 32, 0, "Counts are 32-bit, not 0x100000000 and 0x0"),
])
def test_error_totals_refuse_impossible_readings(ce, ue, message):
    t = ErrorTotals()
    with pytest.raises(ValueError, match=message):
        t.update(0, ce, ue)
    assert t.totals(0) == (0, 0)


@pytest.mark.parametrize("capacities, pairs, spares, total", [
    # equal modules: neighbours in slot order, the lower slot is the master
    ({0: 4096, 1: 4096, 2: 4096, 3: 4096}, [(0, 1, 4096), (2, 3, 4096)], (), 8192),
    # the smaller module of a pair is its master, its range fits the larger slave
    ({0: 4096, 1: 4096, 2: 4096, 3: 8192}, [(0, 3, 4096), (1, 2, 4096)], (), 8192),
    # an odd count: the smallest module (ties: the highest slot) stays a spare
    ({0: 4096, 1: 8192, 2: 4096}, [(0, 1, 4096)], (2,), 4096),
    ({0: 2048, 1: 8192, 2: 8192, 3: 4096, 4: 4096},
     [(1, 2, 8192), (3, 4, 4096)], (0,), 12288),
    ({5: 4096}, [], (5,), 0),
    ({}, [], (), 0),
])
def test_pair_modules(capacities, pairs, spares, total):
    plan = pair_modules(capacities)
    assert [tuple(p) for p in plan.pairs] == pairs and plan.spares == spares
    assert plan.total_lines == total
    for p in plan.pairs:
        assert capacities[p.master] <= capacities[p.slave], "the range must fit the slave"


def test_pair_modules_maximises_the_published_memory():
    """Against every pairing of six modules: none publishes more."""
    caps = {0: 512, 1: 8192, 2: 1024, 3: 4096, 4: 4096, 5: 2048}

    def best(slots):
        if len(slots) < 2:
            return 0
        first, rest = slots[0], slots[1:]
        options = [best(rest)]          # first left unpaired
        for other in rest:
            left = [s for s in rest if s != other]
            options.append(min(caps[first], caps[other]) + best(left))
        return max(options)

    assert pair_modules(caps).total_lines == best(sorted(caps)) == 4096 + 2048 + 512


def test_pair_modules_refuses_a_bad_capacity():
    with pytest.raises(ValueError, match="Capacity of slot 2 must be an integer >= 1, not 0"):
        pair_modules({0: 4096, 2: 0})


def test_ras_table_format():
    rows = [{"slot": 0, "mode": "MIRROR_MASTER",
             "ras": RasStatus(ce=12, ue=0, failover_en=True, poison_en=False, err_addr=77,
                              events=Event.CORRECTED | Event.CMD_DONE)},
            {"slot": 1, "mode": "OFF",
             "ras": RasStatus(ce=0, ue=4294967295, failover_en=False, poison_en=True,
                              err_addr=0, events=Event.FAILOVER | Event.MEM_ERROR)},
            {"slot": 2, "mode": "IDLE",
             "ras": RasStatus(0, 0, False, False, 0, Event(0))}]
    text = format_ras_table(rows).splitlines()
    assert text[0].split() == ["slot", "mode", "ce_count", "ue_count", "failover_en",
                               "poison_en", "err_addr", "events"]
    assert text[1].split() == ["0", "MIRROR_MASTER", "12", "0", "1", "0", "77", "corrected"]
    assert text[2].split() == ["1", "OFF", "0", "4294967295", "0", "1", "0",
                               "mem_error,failover"]
    assert text[3].split() == ["2", "IDLE", "0", "0", "0", "0", "0", "-"]
    assert len({len(line) for line in text}) == 1, "columns are aligned"


# ---- RAS flows on the register model (sim/regmodel.py) ---------------------------------------

class ModelBus(RegisterBus):
    """:class:`sim.regmodel.RegisterModel` (the contract's register port, every slot seated,
    commands settled at once) behind the register bus, secure accesses; an access the
    model answers SLVERR raises BusError. The hardware's side of SPEC section 7, which the
    model does not play, is played by the test: :meth:`count` (errors counted, their
    events raised, ERR_ADDR), :meth:`fail_over` (a swept master dies, its slave takes the
    range). ``ras_at_sweep`` records each agent's RAS_CTRL at every SWEEP it is given."""

    def __init__(self, capacities):
        cfg = global_reg("CONFIG")
        self.model = RegisterModel(capacities,
                                   cfg.line_bytes.put(cfg.agents.put(0, len(capacities)),
                                                      LINE_BYTES))
        self.err_addr = {}
        self.ras_at_sweep = []
        self.writes = []
        self.cycles = 0

    async def read32(self, offset):
        self._check(offset)
        agent, reg = self.model.decode(offset)
        if reg is not None and reg.name == "ERR_ADDR":
            return self.err_addr.get(agent, 0)
        e = self.model.read(offset)
        if not e.ok:
            raise BusError("read", offset, "SLVERR")
        self.model.observe(offset, e.value)
        return e.value

    async def write32(self, offset, value):
        self._check(offset, value)
        agent, reg = self.model.decode(offset)
        cmd = agent_reg("CMD")
        if reg is not None and reg.name == "CMD" and cmd.opcode.get(value) == Op.SWEEP:
            self.ras_at_sweep.append((agent, self.model.regs[agent]["RAS_CTRL"]))
        if not self.model.write(offset, value).ok:
            raise BusError("write", offset, "SLVERR")
        self.writes.append((offset, value))

    async def pause(self, cycles):
        self.cycles += cycles
        await asyncio.sleep(0)

    # the hardware's side of SPEC section 7
    def count(self, agent, ce=0, ue=0, line=0):
        regs = self.model.regs[agent]
        regs["CE_COUNT"] = min(regs["CE_COUNT"] + ce, 0xFFFFFFFF)
        regs["UE_COUNT"] = min(regs["UE_COUNT"] + ue, 0xFFFFFFFF)
        regs["EVENTS"] |= (Event.CORRECTED if ce else 0) | (Event.MEM_ERROR if ue else 0)
        self.err_addr[agent] = line
        return Event((Event.CORRECTED if ce else 0) | (Event.MEM_ERROR if ue else 0))

    def fail_over(self, master):
        m = self.model
        assert m.mode[master] == Mode.MIRROR_MASTER
        assert m.swept_upto[master] >= m.regs[master]["SIZE"]
        assert agent_reg("RAS_CTRL").failover_en.get(m.regs[master]["RAS_CTRL"])
        slave = m.peer[master]
        m.mode[master], m.power_good[master], m.mode[slave] = Mode.OFF, False, Mode.ACTIVE
        m.regs[master]["EVENTS"] |= Event.FAILOVER
        return slave

    def mode(self, agent):
        return self.model.mode[agent]

    def ras_ctrl(self, agent):
        value = self.model.regs[agent]["RAS_CTRL"]
        f = agent_reg("RAS_CTRL")
        return f.failover_en.get(value), f.poison_en.get(value)

    def leds(self, agent):
        value = self.model.regs[agent]["SLOT_CTRL"]
        sc = agent_reg("SLOT_CTRL")
        return Led(sc.power_led.get(value)), Led(sc.attn_led.get(value)), sc.power_en.get(value)

    def wrote(self, name):
        offsets = {agent_offset(a, name) for a in range(self.model.agents)}
        return [(o, v) for o, v in self.writes if o in offsets]


def _mirror_booted(capacities=(4096,) * 4, **bios_kwargs):
    bus = ModelBus(capacities)
    bios = Bios(bus, **bios_kwargs)
    run(bios.boot(mirror=True, chunk_lines=1024))
    return bus, bios


def test_hardware_ras_registers_by_name():
    bus = ModelBus((4096,) * 4)
    hw = Hardware(bus)
    bus.count(2, ce=5, ue=1, line=300)
    run(hw.set_ras(2, poison_en=1))
    run(hw.set_ras(2, failover_en=1))
    ras = run(hw.ras(2))
    assert (ras.ce, ras.ue, ras.failover_en, ras.poison_en, ras.err_addr) == (5, 1, True, True,
                                                                               300)
    assert ras.events == Event.CORRECTED | Event.MEM_ERROR, "read, not cleared"
    run(hw.set_ras(2, failover_en=0))
    assert bus.ras_ctrl(2) == (0, 1), "the other field kept"
    before = list(bus.writes)
    with pytest.raises(ValueError, match="poison_en must be 0 or 1, not 2"):
        run(hw.set_ras(2, failover_en=1, poison_en=2))
    assert bus.writes == before
    run(hw.clear_counts(2))
    assert (run(hw.ras(2)).ce, run(hw.ras(2)).ue) == (0, 0)


def test_mirror_boot_pairs_sweeps_and_enables_failover():
    bus, bios = _mirror_booted((4096, 4096, 4096, 8192))
    mm = bios.memory_map
    # pair_modules: (0 master, 3 slave) and (1 master, 2 slave); ranges in master order
    assert bios.mirror_mode and bios.mirror_pairs == {0: 3, 1: 2}
    assert mm.entries() == [(0, 4096, 0), (4096, 4096, 1)] and mm.total_lines == 8192
    assert run(bios.read_memory_map()).entries() == mm.entries()
    for master, slave in bios.mirror_pairs.items():
        st = run(bios.hw.status(master))
        assert (st.mode, st.peer, st.swept) == (Mode.MIRROR_MASTER, slave, True)
        assert bus.mode(slave) == Mode.MIRROR_SLAVE
        assert bus.ras_ctrl(master) == (1, 0) and bus.ras_ctrl(slave) == (0, 0)
    # failover_en only after the full sweep: no SWEEP ran with it set
    assert all(ras == 0 for _, ras in bus.ras_at_sweep) and len(bus.ras_at_sweep) == 8
    lock = global_reg("LOCK")
    assert bus.writes[-1] == (lock.offset, lock.secure_only.put(0, 1)), "LOCK still last"


def test_mirror_boot_with_an_odd_count_keeps_a_spare():
    bus, bios = _mirror_booted((4096, 8192, 4096))
    assert bios.mirror_pairs == {0: 1}
    assert bios.memory_map.entries() == [(0, 4096, 0)]
    assert bus.mode(2) == Mode.IDLE and bus.ras_ctrl(2) == (0, 0)


def test_mirror_boot_of_a_single_module_assigns_it():
    bus, bios = _mirror_booted((4096,))
    assert bios.mirror_pairs == {} and bios.memory_map.entries() == [(0, 4096, 0)]
    assert bus.mode(0) == Mode.ACTIVE and bus.wrote("RAS_CTRL") == []


def test_plain_boot_never_writes_ras_ctrl():
    bus = ModelBus((4096, 4096, 4096, 8192))
    bios = Bios(bus)
    run(bios.boot())
    assert not bios.mirror_mode and bios.mirror_pairs == {}
    assert bus.wrote("RAS_CTRL") == [] and bios.memory_map.total_lines == 12288


def test_mirror_boot_leaves_a_pair_that_fails_unmirrored():
    """The sweep of the pair (2, 3) is refused by the hardware: the pair is ABORTed and the
    master serves its published range alone; the other pair is mirrored."""
    class Refusing(ModelBus):
        async def write32(self, offset, value):
            if offset == agent_offset(2, "SWEEP_COUNT"):
                value = 0        # SWEEP_COUNT 0: the SWEEP is refused with BAD_RANGE
            await super().write32(offset, value)
    bus = Refusing((4096,) * 4)
    bios = Bios(bus)
    mm = run(bios.boot(mirror=True))
    assert bios.mirror_pairs == {0: 1}
    assert mm.total_lines == 8192, "both ranges published"
    assert bus.mode(2) == Mode.ACTIVE and bus.mode(3) == Mode.IDLE
    assert bus.ras_ctrl(2) == (0, 0)


def test_migrate_with_poison_sets_poison_en_for_the_sweeps_only():
    bus = ModelBus((4096, 4096, 4096, 8192))
    bios = Bios(bus, poison_slots={3})
    run(bios.boot())
    assert run(bios.migrate(1, chunk_lines=1024, poison=True)) == 3
    assert bus.ras_at_sweep == [(1, agent_reg("RAS_CTRL").poison_en.put(0, 1))] * 4
    assert bus.ras_ctrl(1) == (0, 0), "cleared once the range moved"
    # without poison the migration writes no RAS_CTRL at all
    ras_writes = bus.wrote("RAS_CTRL")
    assert run(bios.migrate(3, chunk_lines=4096)) == 1
    assert bus.wrote("RAS_CTRL") == ras_writes and bus.ras_at_sweep[-1] == (3, 0)


def test_migrate_with_poison_to_a_spare_without_it_writes_nothing():
    bus = ModelBus((4096, 4096, 4096, 8192))
    bios = Bios(bus, poison_slots={0})
    run(bios.boot())
    before = list(bus.writes)
    with pytest.raises(ValueError, match=r"Slot 3 stores no poison \(poison slots: \[0\]\)"):
        run(bios.migrate(1, poison=True))
    assert bus.writes == before


def test_bios_rejects_a_bad_poison_slot():
    with pytest.raises(ValueError, match="Poison slot must be an integer >= 0, not -1"):
        Bios(RegisterFile(), poison_slots=[-1])


def test_hotplug_rejects_a_bad_threshold():
    with pytest.raises(ValueError, match="Error threshold must be an integer >= 1, not 0"):
        HotPlug(Bios(RegisterFile()), abort_window_cycles=0, error_threshold=0)


async def _press(hp, slot):
    await hp.press(slot)
    await hp.wait_idle()


async def _errors(hp, bus, slot, **kwargs):
    await hp.handle(slot, bus.count(slot, **kwargs))
    await hp.wait_idle()


def test_enable_asks_for_ras_events_only_with_ras():
    for threshold, watched in ((None, WATCHED), (5, RAS_WATCHED)):
        bus = ModelBus((4096,) * 4)
        hp = HotPlug(Bios(bus), abort_window_cycles=0, error_threshold=threshold)
        run(hp.enable())
        assert {v for _, v in bus.wrote("IRQ_EN")} == {int(watched)}
    assert RAS_WATCHED == WATCHED | Event.FAILOVER | Event.CORRECTED


def test_predictive_replacement_at_the_threshold():
    bus = ModelBus((4096, 4096, 4096, 8192))
    bios = Bios(bus)
    mm = run(bios.boot())
    published = mm.published()
    hp = HotPlug(bios, abort_window_cycles=10**9, chunk_lines=1024, error_threshold=5)
    run(_errors(hp, bus, 1, ce=1, ue=1, line=17))
    run(_errors(hp, bus, 1, ue=2, line=18))
    assert hp.history == [] and bus.mode(1) == Mode.ACTIVE, "4 errors: below the threshold"
    run(bios.hw.clear_counts(1))        # someone clears the counters: the totals stay
    run(_errors(hp, bus, 2, ue=1))      # another slot's error counts for that slot only
    assert hp.history == []
    run(_errors(hp, bus, 1, ue=1, line=19))
    [rec] = hp.history
    assert (rec.kind, rec.outcome, rec.moved_to, rec.poison) == ("replace", "done", 3, False)
    assert rec.progress == [(1024, 4096), (2048, 4096), (3072, 4096), (4096, 4096)]
    assert bus.mode(1) == Mode.OFF and bus.mode(3) == Mode.ACTIVE
    assert bus.leds(1) == (Led.OFF, Led.ON, 0), "switched off, attention LED: replace me"
    assert mm.published() == published and mm.slot_of(4096) == 3
    assert [(e.slot, e.ce, e.ue, e.err_addr, e.total) for e in hp.error_events] == [
        (1, 1, 1, 17, 2), (1, 1, 3, 18, 4), (2, 0, 1, 0, 1), (1, 0, 1, 19, 5)]
    assert hp.error_events[0].events == Event.CORRECTED | Event.MEM_ERROR
    # later errors of the replaced module start nothing
    run(_errors(hp, bus, 1, ue=3))
    assert len(hp.history) == 1


def test_predictive_replacement_prefers_a_spare_that_stores_poison():
    """Two spares fit; the smaller one stores poison and is taken, with poison_en set."""
    bus = ModelBus((8192, 4096, 4096, 8192))
    bios = Bios(bus, poison_slots={2})
    run(bios.boot())                         # 0 is the spare (largest, lowest slot)
    run(bios.command(2, Op.UNASSIGN))        # 2 becomes a second, smaller spare
    bios.memory_map = run(bios.read_memory_map())
    hp = HotPlug(bios, abort_window_cycles=0, chunk_lines=2048, error_threshold=1)
    run(_errors(hp, bus, 1, ue=1))
    [rec] = hp.history
    assert (rec.kind, rec.outcome, rec.moved_to, rec.poison) == ("replace", "done", 2, True)
    assert bus.ras_at_sweep == [(1, agent_reg("RAS_CTRL").poison_en.put(0, 1))] * 2
    assert bus.ras_ctrl(1) == (0, 0) and bus.mode(0) == Mode.IDLE


def test_inherited_poison_does_not_count_against_the_new_module():
    """After a migration with poison, reads of the copied poison raise the new module's
    UE_COUNT: only its corrected errors count towards the threshold then."""
    bus = ModelBus((8192, 4096, 4096, 8192))
    bios = Bios(bus, poison_slots={2})
    run(bios.boot())
    run(bios.command(2, Op.UNASSIGN))
    bios.memory_map = run(bios.read_memory_map())
    hp = HotPlug(bios, abort_window_cycles=0, chunk_lines=2048, error_threshold=2)
    run(_errors(hp, bus, 1, ue=2))
    [rec] = hp.history
    assert (rec.moved_to, rec.poison) == (2, True)
    run(_errors(hp, bus, 2, ue=5))           # the old module's bad lines, read again
    assert len(hp.history) == 1 and hp.counted(2) == 0 and bus.mode(2) == Mode.ACTIVE
    run(_errors(hp, bus, 2, ce=2))           # its own corrected errors still count
    assert hp.counted(2) == 2


def test_predictive_replacement_without_spare_waits_for_a_hot_add():
    bus = ModelBus((4096, 4096, 4096, 8192))
    bios = Bios(bus)
    run(bios.boot())
    hp = HotPlug(bios, abort_window_cycles=0, error_threshold=2)
    run(hp.remove_spare(3))
    run(_errors(hp, bus, 0, ce=2))
    assert [(r.kind, r.outcome) for r in hp.history] == [("remove-spare", "done"),
                                                         ("replace", "refused")]
    assert bus.leds(0) == (Led.ON, Led.ON, 1), "still running, the user is told"
    run(_errors(hp, bus, 0, ce=1))
    assert len(hp.history) == 2, "one attempt per module until a spare comes"
    rec = run(hp.hot_add(3))
    assert rec.outcome == "done"
    run(hp.wait_idle())
    assert [(r.kind, r.outcome, r.moved_to) for r in hp.history[2:]] == [
        ("add", "done", None), ("replace", "done", 3)]
    assert bus.mode(0) == Mode.OFF and bus.leds(0) == (Led.OFF, Led.ON, 0)


def test_errors_of_a_spare_start_nothing():
    bus = ModelBus((4096, 4096, 4096, 8192))
    bios = Bios(bus)
    run(bios.boot())
    hp = HotPlug(bios, abort_window_cycles=0, error_threshold=1)
    run(_errors(hp, bus, 3, ue=4))
    assert hp.history == [] and hp.totals.total(3) == 4


def test_failover_is_recorded_and_the_dead_slot_switched_off():
    bus, bios = _mirror_booted((4096,) * 4)
    mm = bios.memory_map
    published = mm.published()
    hp = HotPlug(bios, abort_window_cycles=0)
    assert hp.ras, "mirror mode turns RAS on"
    slave = bus.fail_over(0)
    run(hp.handle(0, Event.FAILOVER | Event.POWER_FAULT))
    run(hp.wait_idle())
    assert [(r.kind, r.slot, r.outcome, r.moved_to) for r in hp.history] == [
        ("failover", 0, "done", 1),
        ("mirror", 1, "refused", None)]           # every module is in a pair: no spare
    assert slave == 1 and bus.leds(0) == (Led.OFF, Led.ON, 0) and bus.ras_ctrl(0) == (0, 0)
    assert mm.published() == published and mm.slot_of(0) == 1
    assert bios.mirror_pairs == {2: 3}
    assert bus.leds(1) == (Led.ON, Led.OFF, 1), "no spare is no failure of slot 1"
    run(hp.handle(0, Event.PRESENCE_CHANGED))
    assert len(hp.history) == 2 and not hp.lost, "the same death, and no range was lost"


def test_failover_with_a_spare_pairs_the_range_again():
    bus, bios = _mirror_booted((4096,) * 5)          # pairs (0, 1), (2, 3); spare 4
    assert bios.mirror_pairs == {0: 1, 2: 3} and bus.mode(4) == Mode.IDLE
    hp = HotPlug(bios, abort_window_cycles=0, chunk_lines=2048)
    bus.fail_over(2)
    run(hp.handle(2, Event.FAILOVER))
    run(hp.wait_idle())
    assert [(r.kind, r.slot, r.outcome, r.moved_to) for r in hp.history] == [
        ("failover", 2, "done", 3), ("mirror", 3, "done", 4)]
    assert bios.mirror_pairs == {0: 1, 3: 4}
    assert bus.mode(3) == Mode.MIRROR_MASTER and bus.ras_ctrl(3) == (1, 0)
    assert run(bios.hw.status(3)).swept


def test_button_on_a_mirror_master_hands_its_range_to_the_slave():
    bus, bios = _mirror_booted((4096,) * 4)
    mm = bios.memory_map
    hp = HotPlug(bios, abort_window_cycles=0)
    run(_press(hp, 2))
    assert [(r.kind, r.outcome, r.moved_to) for r in hp.history[:1]] == [
        ("remove-master", "done", 3)]
    assert bus.mode(2) == Mode.OFF and bus.leds(2) == (Led.OFF, Led.OFF, 0)
    assert bus.mode(3) == Mode.ACTIVE and mm.slot_of(4096) == 3
    assert bus.ras_ctrl(2) == (0, 0) and bios.mirror_pairs == {0: 1}
    assert not bus.wrote("SWEEP_START")[8:], "the slave was swept: RELEASE at once"


def test_button_on_a_mirror_slave_ends_the_pair():
    bus, bios = _mirror_booted((4096,) * 4)
    hp = HotPlug(bios, abort_window_cycles=0)
    run(_press(hp, 1))
    assert (hp.history[0].kind, hp.history[0].outcome) == ("remove-slave", "done")
    assert bus.mode(1) == Mode.OFF and bus.leds(1) == (Led.OFF, Led.OFF, 0)
    assert bus.mode(0) == Mode.ACTIVE and bus.ras_ctrl(0) == (0, 0)
    assert bios.mirror_pairs == {2: 3} and bios.memory_map.slot_of(0) == 0


def test_direct_call_refuses_a_pair_it_does_not_know():
    bus = ModelBus((4096,) * 4)
    bios = Bios(bus)
    run(bios.boot())
    run(bios.command(1, Op.ESTABLISH, 0))          # a migration's pair, not mirror mode
    hp = HotPlug(bios, abort_window_cycles=0)
    run(_press(hp, 1))
    run(_press(hp, 0))
    assert hp.history == [], "a migration's pair belongs to its flow"


def test_predictive_replacement_of_a_mirror_master():
    bus, bios = _mirror_booted((4096,) * 4)
    hp = HotPlug(bios, abort_window_cycles=0, error_threshold=3)
    run(_errors(hp, bus, 0, ce=2, line=5))
    assert hp.history == []
    run(_errors(hp, bus, 0, ce=1, line=6))
    assert [(r.kind, r.outcome, r.moved_to) for r in hp.history] == [
        ("replace", "done", 1), ("mirror", "refused", None)]
    assert bus.mode(0) == Mode.OFF and bus.leds(0) == (Led.OFF, Led.ON, 0)
    assert bus.mode(1) == Mode.ACTIVE and bios.memory_map.slot_of(0) == 1


def test_a_mirror_no_longer_swept_is_swept_again():
    bus, bios = _mirror_booted((4096,) * 4)
    hp = HotPlug(bios, abort_window_cycles=0, chunk_lines=1024)
    bus.model.swept_upto[2] = 0       # a forwarded write failed at the slave
    run(_errors(hp, bus, 2, ue=1))
    assert [(r.kind, r.outcome) for r in hp.history] == [("resync", "done")]
    assert run(bios.hw.status(2)).swept and bios.mirror_pairs == {0: 1, 2: 3}


def test_run_handles_a_failover_raised_while_it_listens():
    bus, bios = _mirror_booted((4096,) * 4)
    hp = HotPlug(bios, abort_window_cycles=0, poll_cycles=16)

    async def scenario():
        loop = asyncio.ensure_future(hp.run())
        while not hp.listening:
            await asyncio.sleep(0)
        bus.fail_over(0)
        while not hp.history:
            await asyncio.sleep(0)
        await hp.wait_idle()
        hp.stop()
        await loop

    run(scenario())
    assert hp.history[0].kind == "failover" and bus.leds(0) == (Led.OFF, Led.ON, 0)
    assert not (bus.model.regs[0]["EVENTS"] & Event.FAILOVER), "the loop cleared the event"


def test_mirror_flows_called_directly():
    bus, bios = _mirror_booted((4096,) * 4)
    hp = HotPlug(bios, abort_window_cycles=10**9)
    for call, message in [(hp.hand_over(1), "slot 1 is MIRROR_SLAVE: handing a range over "
                                            "needs the master of a mirror-mode pair"),
                          (hp.remove_mirror(0), "slot 0 is MIRROR_MASTER: removing a mirror "
                                                "needs the slave of a mirror-mode pair")]:
        with pytest.raises(ValueError, match=message):
            run(call)
    assert hp.history == []


    async def both():
        first = await hp.hand_over(0)
        await hp.wait_idle()          # the range of slot 1 looks for a mirror: none
        second = await hp.remove_mirror(3)
        await hp.wait_idle()
        return first, second

    first, second = run(both())
    assert (first.kind, first.outcome, first.moved_to) == ("remove-master", "done", 1)
    assert (second.kind, second.outcome) == ("remove-slave", "done")
    assert [(r.kind, r.slot, r.outcome) for r in hp.history] == [
        ("remove-master", 0, "done"), ("mirror", 1, "refused"), ("remove-slave", 3, "done"),
        ("mirror", 1, "refused"), ("mirror", 2, "refused")]   # each range alone looks again
    assert bios.mirror_pairs == {} and [bus.mode(a) for a in range(4)] == [
        Mode.OFF, Mode.ACTIVE, Mode.ACTIVE, Mode.OFF]
