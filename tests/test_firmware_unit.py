"""Unit tests of the firmware's pure-Python parts (no simulator, no RTL).

What the BIOS and the hot-plug flows do against the real hardware is tested in
``tests/test_firmware.py`` and ``tests/test_hotplug.py``. Here the hardware is at most a
register file: a temporary file behind MemoryMappedBus, :class:`RegisterFile`, whose
STATUS the test scripts, or :class:`SlotBoard`, a register model just rich enough to
drive the hot-plug flows down each failure path. Those tests check the firmware's own
logic (encoding, argument checks, error mapping, polling, timeouts, what every failure
shows on the LEDs), not what the RTL answers; they take a second where the RTL benches
take minutes.
"""

import asyncio
import itertools
import mmap

import pytest

from mirrorswap.firmware import errors
from mirrorswap.firmware.bios import Bios, format_slot_table
from mirrorswap.firmware.hotplug import HotPlug
from mirrorswap.firmware.hw import AgentStatus, Config, Hardware
from mirrorswap.firmware.memmap import MapEntry, MemoryMap
from mirrorswap.firmware.regbus import BusError, MemoryMappedBus, RegisterBus
from mirrorswap.regmap import (LINE_BYTES, Err, Event, Led, Mode, Op, agent_offset, agent_reg,
                               global_reg)


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
