"""Unit tests of the firmware's pure-Python parts (no simulator)."""

import asyncio

import pytest

from firmware import errors
from firmware.bios import Bios, format_slot_table
from firmware.memmap import MemoryMap
from firmware.regbus import MemoryMappedBus
from rtl.regmap import Err, Op, agent_offset, global_reg


def run(coro):
    return asyncio.run(coro)


def test_memory_map_lookup_and_e820():
    mm = MemoryMap()
    mm.add(0, 4096, 1)
    mm.add(4096, 8192, 2)
    assert mm.total_lines == 12288
    assert mm.lookup(4095).base_line == 0 and mm.lookup(4096).base_line == 4096
    assert mm.lookup(12288) is None
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
    assert mm.owners[mm.lookup(0)] == 3
    with pytest.raises(KeyError, match="slot 1 serves no range"):
        mm.range_of(1)


def test_memory_map_refuses_overlap():
    mm = MemoryMap()
    mm.add(0, 4096, 0)
    with pytest.raises(ValueError, match="overlaps"):
        mm.add(2048, 4096, 1)
    with pytest.raises(ValueError, match="Range size must be positive, not 0"):
        mm.add(8192, 0, 1)


@pytest.mark.parametrize("err", [e for e in Err if e is not Err.OK])
def test_every_error_code_has_its_exception(err):
    cls = errors.error_for(err)
    assert issubclass(cls, errors.CommandError) and cls.err is err
    e = cls(2, Op.SWEEP)
    assert e.agent == 2 and e.op == Op.SWEEP and e.err is err
    assert str(e) == f"agent 2: SWEEP refused with {err.name}"


def test_error_for_ok_is_refused():
    with pytest.raises(ValueError, match="Err.OK is not an error"):
        errors.error_for(Err.OK)


@pytest.fixture
def regfile(tmp_path):
    path = tmp_path / "regs.bin"
    path.write_bytes(bytes(4096))
    return path


def test_mmap_bus_round_trip(regfile):
    bus = MemoryMappedBus(str(regfile), clock_hz=1e9)
    run(bus.write32(0x104, 0xDEADBEEF))
    assert run(bus.read32(0x104)) == 0xDEADBEEF
    bus.close()
    assert regfile.read_bytes()[0x104:0x108] == bytes.fromhex("efbeadde")   # little-endian


@pytest.mark.parametrize("offset, value, message", [
    (0x102, 0, "Register offset must be a non-negative multiple of 4, not 258"),
    (-4, 0, "Register offset must be a non-negative multiple of 4, not -4"),
    (0x1000, 0, "Register offset 0x1000 is outside the 0x1000-byte mapping"),
    (0x100, 1 << 32, "Register value must fit in 32 bits, not 4294967296"),
])
def test_mmap_bus_bad_access(regfile, offset, value, message):
    bus = MemoryMappedBus(str(regfile))
    with pytest.raises(ValueError, match=message):
        run(bus.write32(offset, value))
    bus.close()


def _hardware_file(regfile, agents=4):
    """A register file image that says CONFIG.agents = ``agents``."""
    data = bytearray(regfile.read_bytes())
    cfg = global_reg("CONFIG")
    data[cfg.offset:cfg.offset + 4] = cfg.agents.put(0, agents).to_bytes(4, "little")
    regfile.write_bytes(bytes(data))


@pytest.mark.parametrize("kwargs, message", [
    (dict(slot=4), "Slot must be an integer from 0 to 3, not 4"),
    (dict(slot=-1), "Slot must be an integer from 0 to 3, not -1"),
    (dict(slot=1, chunk_lines=0), "Chunk must be a positive number of lines, not 0"),
])
def test_migrate_rejects_bad_arguments_without_touching_hardware(regfile, kwargs, message):
    _hardware_file(regfile)
    before = regfile.read_bytes()
    bus = MemoryMappedBus(str(regfile))
    bios = Bios(bus)
    with pytest.raises(ValueError, match=message):
        run(bios.migrate(**kwargs))
    bus.close()
    assert regfile.read_bytes() == before, "a refused call wrote a register"
    assert agent_offset(1, "CMD") < len(before)


def test_slot_table_format():
    rows = [{"slot": 0, "present": True, "power_good": False, "mode": "OFF", "base": 0,
             "size": 0, "capacity": 4096, "peer": 0, "swept_upto": 0, "err": "OK"}]
    text = format_slot_table(rows).splitlines()
    assert text[0].split() == ["slot", "present", "power_good", "mode", "base", "size",
                               "capacity", "peer", "swept_upto", "err"]
    assert text[1].split() == ["0", "1", "0", "OFF", "0", "0", "4096", "0", "0", "OK"]
