"""Unit tests of the reference memory and the scoreboard."""

import pytest

from sim.scoreboard import ReferenceMemory, Scoreboard


def test_writes_then_reads():
    sb = Scoreboard(ReferenceMemory(16))
    sb.wrote(8, b"\x01\x02\x03\x04\x05\x06\x07\x08")
    sb.wrote(11, b"\xAA\xBB")                     # narrow, unaligned
    want = sb.expect(8, 8)
    assert want == b"\x01\x02\x03\xAA\xBB\x06\x07\x08"
    assert sb.check(8, want, want)
    assert not sb.mismatches and sb.reads == 1 and sb.writes == 2


def test_mismatch_report_names_the_first_bad_byte():
    sb = Scoreboard(ReferenceMemory(4))
    sb.wrote(0, bytes(range(16)))
    assert not sb.check(0, sb.expect(0, 16), bytes(range(5)) + b"\xff" + bytes(range(6, 16)))
    assert str(sb.mismatches[0]) == \
        "host read: byte 0x5 expected 0x05 got 0xff (access 0x0+16)"
    assert "1 mismatches" in sb.summary()


def test_reference_bounds():
    mem = ReferenceMemory(2)
    with pytest.raises(ValueError, match="outside the 0x10-byte reference"):
        mem.write(12, b"12345678")


def test_errors_and_decerr_counted():
    sb = Scoreboard(ReferenceMemory(1))
    sb.decerr()
    sb.error("write at 0x0 answered SLVERR")
    assert sb.decerrs == 1 and "write at 0x0 answered SLVERR" in str(sb.mismatches[0])
