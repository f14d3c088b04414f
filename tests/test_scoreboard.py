"""Unit tests of the reference memory and the scoreboard (sim/scoreboard.py)."""

import pytest

from mirrorswap.firmware.memmap import MemoryMap
from mirrorswap.sim.scoreboard import DECERR, OKAY, SLVERR, ReferenceMemory, Scoreboard


def test_writes_then_reads():
    sb = Scoreboard(ReferenceMemory(16))
    sb.wrote(8, b"\x01\x02\x03\x04\x05\x06\x07\x08")
    sb.wrote(11, b"\xAA\xBB")                     # narrow, unaligned
    want = sb.expect(8, 8)
    assert want == b"\x01\x02\x03\xAA\xBB\x06\x07\x08"
    assert sb.check(8, want, want)
    assert not sb.mismatches and sb.reads == 1 and sb.writes == 2


def test_strobes_apply_only_enabled_bytes():
    mem = ReferenceMemory(2)
    mem.write(0, bytes(range(1, 17)))
    mem.write(4, b"\xA0\xA1\xA2\xA3\xA4\xA5", strobe=[1, 0, 1, 0, 0, 1])
    assert mem.read(0, 16) == bytes([1, 2, 3, 4, 0xA0, 6, 0xA2, 8, 9, 0xA5]) + bytes(range(11, 17))


def test_strobe_length_must_match_data():
    with pytest.raises(ValueError, match="one entry per data byte: 2 entries for 3 bytes"):
        ReferenceMemory(1).write(0, b"abc", strobe=[1, 1])


def test_narrow_write_across_lines_counts_enabled_bytes():
    sb = Scoreboard(ReferenceMemory(4))
    assert sb.write_done(6, b"\x11\x22\x33\x44", OKAY, strobe=[1, 1, 0, 1])
    assert sb.expect(0, 16) == bytes(6) + b"\x11\x22\x00\x44" + bytes(6)
    assert sb.writes == 1 and sb.bytes_moved == 3


def test_mismatch_report_names_the_first_bad_byte_and_its_line():
    sb = Scoreboard(ReferenceMemory(4))
    sb.wrote(0, bytes(range(16)))
    got = bytes(range(10)) + b"\xff" + bytes(range(11, 16))
    assert not sb.check(0, sb.expect(0, 16), got)
    assert str(sb.mismatches[0]) == (
        "host read: byte 0xa expected 0x0a got 0xff "
        "(line 0x1: expected 08090a0b0c0d0e0f got 0809ff0b0c0d0e0f; access 0x0+16)")
    assert "1 mismatches; first: host read: byte 0xa" in sb.summary()


def test_only_the_first_mismatch_is_reported_per_access():
    sb = Scoreboard(ReferenceMemory(2))
    assert not sb.check(8, bytes(8), b"\x00\x01\x00\x00\x00\x00\x00\x02")
    assert len(sb.mismatches) == 1 and "byte 0x9 expected 0x00 got 0x01" in str(sb.mismatches[0])


def test_short_read_is_a_mismatch():
    sb = Scoreboard(ReferenceMemory(2))
    assert not sb.check(0, bytes(16), bytes(8))
    assert str(sb.mismatches[0]) == "host read: 0x0 returned 8 bytes, expected 16"


def test_reference_bounds():
    mem = ReferenceMemory(2)
    with pytest.raises(ValueError, match="write of 8 bytes at 0xc is outside the 0x10-byte"):
        mem.write(12, b"12345678")
    with pytest.raises(ValueError, match="read of 1 bytes at 0x10 is outside"):
        mem.read(16, 1)
    with pytest.raises(ValueError, match="non-negative integer, not -1"):
        ReferenceMemory(-1)


def test_read_expectation_is_taken_when_issued():
    # a read issued before a write completes must see the old data (SPEC 5.1)
    sb = Scoreboard(ReferenceMemory(2))
    sb.wrote(0, b"old data")
    issued = sb.expect_read(0, 8)
    sb.write_done(0, b"new data", OKAY)
    assert sb.read_done(issued, OKAY, b"old data")
    assert not sb.read_done(issued, OKAY, b"new data")
    assert "expected 6f6c642064617461 got 6e65772064617461" in str(sb.mismatches[0])


def test_owned_ranges_from_a_memory_map():
    mm = MemoryMap()
    mm.add(0, 512, slot=0)
    mm.add(1024, 512, slot=2)          # a hole at lines 512..1023
    sb = Scoreboard(ReferenceMemory(1536), owned=mm.ranges)
    assert sb.is_owned(0) and sb.is_owned(512 * 8 - 1) and sb.is_owned(1024 * 8)
    assert not sb.is_owned(512 * 8) and not sb.is_owned(1536 * 8)
    assert sb.expected_resp(600 * 8) == DECERR


def test_decerr_expected_for_unowned_addresses():
    sb = Scoreboard(ReferenceMemory(512), owned=[(0, 512)])
    before = sb.expect(0, 512 * 8)
    assert sb.write_done(512 * 8, b"\xff" * 8, DECERR)
    assert sb.read_done(sb.expect_read(600 * 8, 8), DECERR, b"")
    assert sb.decerrs == 2 and sb.writes == 0 and sb.reads == 0
    assert sb.expect(0, 512 * 8) == before and not sb.mismatches


def test_wrong_responses_are_failures_and_write_nothing():
    sb = Scoreboard(ReferenceMemory(512), owned=[(0, 512)])
    assert not sb.write_done(512 * 8, b"\xff" * 8, OKAY)            # unowned but OKAY
    assert not sb.write_done(8, b"\xff" * 8, SLVERR)                 # owned but SLVERR
    assert not sb.read_done(sb.expect_read(16, 8), DECERR, bytes(8))  # owned but DECERR
    assert [str(m) for m in sb.mismatches] == [
        "host write at 0x1000+8 answered OKAY, expected DECERR",
        "host write at 0x8+8 answered SLVERR, expected OKAY",
        "host read at 0x10+8 answered DECERR, expected OKAY",
    ]
    assert sb.expect(8, 8) == bytes(8) and sb.writes == 0


def test_counters_and_free_text_errors():
    sb = Scoreboard(ReferenceMemory(1))
    sb.preload(0, b"ABCDEFGH")
    sb.write_done(0, b"\x01", OKAY)
    sb.read_done(sb.expect_read(0, 8), OKAY, b"\x01BCDEFGH")
    sb.decerr()
    sb.error("write at 0x0 timed out")
    assert (sb.reads, sb.writes, sb.decerrs, sb.transactions) == (1, 1, 1, 3)
    assert str(sb.mismatches[0]) == "write at 0x0 timed out"
    assert sb.summary().startswith("1 reads, 1 writes, 9 bytes, 1 DECERR, 1 mismatches")
