"""The mirrorswap command line, with its board commands on a file-backed register image."""

import pytest

from mirrorswap.firmware.cli import main
from mirrorswap.regmap import ID_VALUE, Mode, agent_offset, agent_reg, global_reg


@pytest.fixture
def board(tmp_path):
    """A register image as a board would show it: ID, CONFIG (4 agents), slot 1 ACTIVE."""
    path = tmp_path / "regs.bin"
    image = bytearray(8192)

    def put(offset, value):
        image[4096 + offset:4096 + offset + 4] = value.to_bytes(4, "little")
    put(global_reg("ID").offset, ID_VALUE)
    put(global_reg("CONFIG").offset, global_reg("CONFIG").agents.put(0, 4))
    put(agent_offset(1, "STATUS"), agent_reg("STATUS").mode.put(0, Mode.ACTIVE))
    put(agent_offset(1, "SIZE"), 4096)
    path.write_bytes(bytes(image))
    return path


def test_status_prints_the_slot_table(board, capsys):
    assert main(["board", "--device", str(board), "--base", "4096", "status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["slot", "present", "power_good", "mode"]
    assert out[2].split()[3] == "ACTIVE" and len(out) == 5


def test_wrong_base_is_refused(board, capsys):
    assert main(["board", "--device", str(board), "status"]) == 1
    assert "no mirrorswap at" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["migrate", "9"], "Slot must be an integer from 0 to 3, not 9"),
    (["add", "4"], "Slot must be an integer from 0 to 3, not 4"),
    (["remove", "1"], "slot 1 is not an IDLE spare; migrate it first"),
])
def test_board_commands_refuse_bad_slots(board, argv, message, capsys):
    before = board.read_bytes()
    assert main(["board", "--device", str(board), "--base", "0x1000"] + argv) == 1
    assert message in capsys.readouterr().err
    assert board.read_bytes() == before, "a refused command wrote a register"


def test_missing_device(capsys):
    assert main(["board", "--device", "/nonexistent/regs", "status"]) == 1
    assert "No such file" in capsys.readouterr().err


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["board", "--device", "x", "--base", "zz", "status"])
    assert exc.value.code == 2 and "not an integer: 'zz'" in capsys.readouterr().err


def test_regmap_and_verilog(tmp_path, capsys):
    assert main(["regmap"]) == 0
    assert "| 0x04 | CMD | WO |" in capsys.readouterr().out
    out = tmp_path / "top.v"
    assert main(["verilog", "-o", str(out), "--agents", "2"]) == 0
    assert "module mirrorswap_top" in out.read_text()
