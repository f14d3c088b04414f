"""The mirrorswap command line (firmware/cli.py), its board commands on a file-backed
register image: a file holds what a board's register block reads, so argument handling,
refusals and printing are tested without hardware. The flows the commands call are tested
on the RTL in tests/test_firmware.py and tests/test_hotplug.py."""

import io

import pytest

from mirrorswap.firmware.cli import ProgressBar, main
from mirrorswap.regmap import ID_VALUE, Event, Mode, agent_offset, agent_reg, global_reg


@pytest.fixture
def board(tmp_path):
    """A register image as a board would show it: ID, CONFIG (4 agents, 8-byte lines),
    slot 1 ACTIVE with lines [0, 4096), the other slots empty."""
    path = tmp_path / "regs.bin"
    image = bytearray(8192)

    def put(offset, value):
        image[4096 + offset:4096 + offset + 4] = value.to_bytes(4, "little")
    put(global_reg("ID").offset, ID_VALUE)
    cfg = global_reg("CONFIG")
    put(cfg.offset, cfg.line_bytes.put(cfg.agents.put(0, 4), 8))
    status = agent_reg("STATUS")
    put(agent_offset(1, "STATUS"), status.power_good.put(status.present.put(
        status.mode.put(0, Mode.ACTIVE), 1), 1))
    put(agent_offset(1, "SIZE"), 4096)
    path.write_bytes(bytes(image))
    return path


def test_status_prints_the_memory_map_and_the_slot_table(board, capsys):
    assert main(["board", "--device", str(board), "--base", "4096", "status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["memory map:",
                       "BIOS-e820: [mem 0x0000000000000000-0x0000000000007fff] usable", ""]
    assert out[3].split()[:4] == ["slot", "present", "power_good", "mode"]
    assert out[5].split()[:6] == ["1", "1", "1", "ACTIVE", "0", "4096"] and len(out) == 10
    assert out[8:] == ["", "lock: clear (any manager may write the registers)"]


def test_status_shows_a_set_lock(board, capsys):
    data = bytearray(board.read_bytes())
    lock = global_reg("LOCK")
    data[4096 + lock.offset:4096 + lock.offset + 4] = lock.secure_only.put(0, 1).to_bytes(
        4, "little")
    board.write_bytes(bytes(data))
    assert main(["board", "--device", str(board), "--base", "4096", "status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "lock: set (non-secure register writes are refused until reset)"


def test_status_of_a_board_with_no_range(board, capsys):
    data = bytearray(board.read_bytes())
    data[4096 + agent_offset(1, "STATUS"):4096 + agent_offset(1, "STATUS") + 4] = bytes(4)
    board.write_bytes(bytes(data))
    assert main(["board", "--device", str(board), "--base", "4096", "status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["memory map:", "  none published (no slot serves a range)"]


def test_wrong_base_is_refused(board, capsys):
    assert main(["board", "--device", str(board), "status"]) == 1
    assert "no mirrorswap at" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["migrate", "9"], "Slot must be an integer from 0 to 3, not 9"),
    (["add", "4"], "Slot must be an integer from 0 to 3, not 4"),
    (["remove", "1"], "slot 1 is ACTIVE: removing a spare needs an IDLE slot"),
    (["add", "1"], "slot 1 is ACTIVE: hot add needs a powered-off slot with a module"),
    (["add", "0"], "slot 0 is OFF with no module: hot add needs a powered-off slot with a "
                   "module"),
    (["migrate", "0"], "slot 0 is OFF, not ACTIVE"),
])
def test_board_commands_refuse_bad_slots(board, argv, message, capsys):
    before = board.read_bytes()
    assert main(["board", "--device", str(board), "--base", "0x1000"] + argv) == 1
    assert message in capsys.readouterr().err
    assert board.read_bytes() == before, "a refused command wrote a register"


def test_missing_device(capsys):
    assert main(["board", "--device", "/nonexistent/regs", "status"]) == 1
    assert "No such file" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--base", "zz", "status"], "argument --base: not an integer: 'zz'"),
    (["--base", "-4096", "status"], "argument --base: must be at least 0, not -4096"),
    (["--clock-hz", "0", "status"], "argument --clock-hz: must be positive, not 0"),
    (["--clock-hz", "fast", "status"], "argument --clock-hz: not a number: 'fast'"),
    (["--clock-hz", "nan", "status"], "argument --clock-hz: must be positive, not nan"),
    (["migrate", "x"], "argument slot: not an integer: 'x'"),
    (["add", "-1"], "argument slot: must be at least 0, not -1"),
    (["remove"], "the following arguments are required: slot"),
    (["migrate", "1", "2"], "unrecognized arguments: 2"),
    (["explode"], "argument command: invalid choice: 'explode'"),
    ([], "the following arguments are required: command"),
])
def test_bad_arguments_exit_2_and_touch_nothing(board, argv, message, capsys):
    before = board.read_bytes()
    with pytest.raises(SystemExit) as exc:
        main(["board", "--device", str(board)] + argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err, err
    assert err.startswith("usage: mirrorswap")
    assert board.read_bytes() == before


def test_board_needs_a_device(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["board", "status"])
    assert exc.value.code == 2
    assert "the following arguments are required: --device" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_redraws_in_place_only_on_a_terminal():
    tty, log = _Terminal(), io.StringIO()
    for stream in (tty, log):
        bar = ProgressBar(stream, width=4)
        for done in (1024, 2048, 4096):
            bar(done, 4096)
    assert tty.getvalue() == "\r[#...]  25%\r[##..]  50%\r[####] 100%\n"
    assert log.getvalue() == "[#...]  25%\n[##..]  50%\n[####] 100%\n", "one line a step"


def test_progress_bar_to_a_pipe_writes_no_carriage_return(capsys):
    bar = ProgressBar()
    bar(1, 2)
    bar(2, 2)
    out = capsys.readouterr().out
    assert "\r" not in out and out.splitlines() == ["[" + "#" * 20 + "." * 20 + "]  50%",
                                                     "[" + "#" * 40 + "] 100%"]


def test_regmap_and_verilog(tmp_path, capsys):
    assert main(["regmap"]) == 0
    assert "| 0x04 | CMD | WO |" in capsys.readouterr().out
    out = tmp_path / "top.v"
    assert main(["verilog", "-o", str(out), "--agents", "2"]) == 0
    assert "module mirrorswap_top" in out.read_text()


def _put(board, offset, value):
    data = bytearray(board.read_bytes())
    data[4096 + offset:4096 + offset + 4] = value.to_bytes(4, "little")
    board.write_bytes(bytes(data))


def _get(board, offset):
    return int.from_bytes(board.read_bytes()[4096 + offset:4096 + offset + 4], "little")


def test_ras_prints_every_agents_error_registers(board, capsys):
    ras = agent_reg("RAS_CTRL")
    _put(board, agent_offset(1, "CE_COUNT"), 12)
    _put(board, agent_offset(1, "UE_COUNT"), 3)
    _put(board, agent_offset(1, "ERR_ADDR"), 0x1FF)
    _put(board, agent_offset(1, "RAS_CTRL"), ras.failover_en.put(0, 1))
    _put(board, agent_offset(1, "EVENTS"), int(Event.CORRECTED | Event.BUTTON))
    before = board.read_bytes()
    assert main(["board", "--device", str(board), "--base", "4096", "ras"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["slot", "mode", "ce_count", "ue_count", "failover_en",
                              "poison_en", "err_addr", "events"]
    assert out[2].split() == ["1", "ACTIVE", "12", "3", "1", "0", "511", "corrected"]
    assert out[1].split() == ["0", "OFF", "0", "0", "0", "0", "0", "-"] and len(out) == 5
    assert board.read_bytes() == before, "printing writes nothing"


def test_ras_sets_one_field_and_keeps_the_other(board, capsys):
    ras = agent_reg("RAS_CTRL")
    _put(board, agent_offset(2, "RAS_CTRL"), ras.poison_en.put(0, 1))
    assert main(["board", "--device", str(board), "--base", "4096", "ras", "--slot", "2",
                 "--failover-en", "1"]) == 0
    assert _get(board, agent_offset(2, "RAS_CTRL")) == ras.failover_en.mask | ras.poison_en.mask
    assert capsys.readouterr().out.splitlines()[3].split()[4:6] == ["1", "1"]
    assert main(["board", "--device", str(board), "--base", "4096", "ras", "--slot", "2",
                 "--poison-en", "0", "--failover-en", "0"]) == 0
    assert _get(board, agent_offset(2, "RAS_CTRL")) == 0


def test_ras_clears_the_counters_of_one_slot(board, capsys):
    for slot in (1, 2):
        _put(board, agent_offset(slot, "CE_COUNT"), 7)
        _put(board, agent_offset(slot, "UE_COUNT"), 9)
    assert main(["board", "--device", str(board), "--base", "4096", "ras", "--slot", "1",
                 "--clear-counts"]) == 0
    assert [_get(board, agent_offset(s, n)) for s in (1, 2) for n in ("CE_COUNT", "UE_COUNT")] \
        == [0, 0, 7, 9]


@pytest.mark.parametrize("argv, message", [
    (["ras", "--slot", "1", "--failover-en", "2"],
     "argument --failover-en: must be 0 or 1, not '2'"),
    (["ras", "--slot", "1", "--poison-en", "on"], "argument --poison-en: must be 0 or 1, "
                                                  "not 'on'"),
    (["ras", "--failover-en", "1"], "board ras: --failover-en, --poison-en and "
                                    "--clear-counts need --slot"),
    (["ras", "--clear-counts"], "need --slot"),
    (["ras", "--slot", "1"], "board ras: --slot needs --failover-en, --poison-en or "
                             "--clear-counts"),
    (["ras", "--slot", "x", "--clear-counts"], "argument --slot: not an integer: 'x'"),
    (["boot", "--mirror", "yes"], "unrecognized arguments: yes"),
])
def test_ras_bad_arguments_exit_2_and_touch_nothing(board, argv, message, capsys):
    before = board.read_bytes()
    with pytest.raises(SystemExit) as exc:
        main(["board", "--device", str(board), "--base", "4096"] + argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err, err
    assert board.read_bytes() == before


def test_ras_refuses_a_slot_the_board_does_not_have(board, capsys):
    before = board.read_bytes()
    assert main(["board", "--device", str(board), "--base", "4096", "ras", "--slot", "4",
                 "--failover-en", "1"]) == 1
    assert "Slot must be an integer from 0 to 3, not 4" in capsys.readouterr().err
    assert board.read_bytes() == before, "a refused command wrote a register"
