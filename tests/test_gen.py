"""The generated top level: SPEC section 1 ports, parameters, and that Icarus compiles it."""

import re
import shutil
import subprocess

import pytest

from mirrorswap.flows.verilog import main as gen_main, to_verilog
from mirrorswap.rtl.top import MirrorswapTop

AXI4_CHANNELS = {
    "aw": ["id", "addr", "len", "size", "burst", "lock", "cache", "prot", "qos", "valid",
           "ready"],
    "w": ["data", "strb", "last", "valid", "ready"],
    "b": ["id", "resp", "valid", "ready"],
    "ar": ["id", "addr", "len", "size", "burst", "lock", "cache", "prot", "qos", "valid",
           "ready"],
    "r": ["id", "data", "resp", "last", "valid", "ready"],
}
AXIL_CHANNELS = {
    "aw": ["addr", "prot", "valid", "ready"], "w": ["data", "strb", "valid", "ready"],
    "b": ["resp", "valid", "ready"], "ar": ["addr", "prot", "valid", "ready"],
    "r": ["data", "resp", "valid", "ready"],
}


def _ports(verilog, module="mirrorswap_top"):
    """{name: (direction, width)} of the ports of ``module``."""
    body = re.search(rf"^module {module}\(.*?^endmodule", verilog, re.M | re.S).group(0)
    ports = {}
    for direction, width, name in re.findall(
            r"^\s*(input|output)\s+(?:\[(\d+):0\]\s+)?(\w+);", body, re.M):
        ports[name] = (direction, int(width) + 1 if width else 1)
    return ports


@pytest.fixture(scope="module")
def default_top():
    return to_verilog(MirrorswapTop(), "mirrorswap_top")


def test_spec_ports_present(default_top):
    ports = _ports(default_top)
    expected = {"clk": ("input", 1), "rst": ("input", 1), "irq": ("output", 1)}
    for ch, sigs in AXI4_CHANNELS.items():
        for s in sigs:
            expected[f"s_axi_{ch}{s}"] = None
            for i in range(4):
                expected[f"m_axi_mem{i}_{ch}{s}"] = None
    for ch, sigs in AXIL_CHANNELS.items():
        for s in sigs:
            expected[f"s_axil_{ch}{s}"] = None
    for i in range(4):
        # poison on the memory ports only (SPEC section 1, section 7)
        expected[f"m_axi_mem{i}_wuser"] = ("output", 1)
        expected[f"m_axi_mem{i}_ruser"] = ("input", 1)
        expected.update({
            f"slot{i}_present": ("input", 1), f"slot{i}_capacity_log2": ("input", 5),
            f"slot{i}_power_good": ("input", 1), f"slot{i}_button": ("input", 1),
            f"slot{i}_power_en": ("output", 1), f"slot{i}_power_led": ("output", 1),
            f"slot{i}_attn_led": ("output", 1),
        })
    missing = sorted(set(expected) - set(ports))
    assert not missing, f"missing ports: {missing}"
    extra = sorted(set(ports) - set(expected))
    assert not extra, f"ports beyond SPEC section 1: {extra}"
    for name, want in expected.items():
        if want is not None:
            assert ports[name] == want, name


def test_spec_port_widths(default_top):
    ports = _ports(default_top)
    assert ports["s_axi_awaddr"] == ("input", 32)
    assert ports["s_axi_wdata"] == ("input", 64)
    assert ports["s_axi_wstrb"] == ("input", 8)
    assert ports["s_axi_awid"] == ("input", 4)
    assert ports["s_axil_awaddr"] == ("input", 12)
    assert ports["s_axil_wdata"] == ("input", 32)
    assert ports["m_axi_mem2_rdata"] == ("input", 64)
    assert ports["m_axi_mem2_arid"] == ("output", 4)
    assert ports["s_axi_rready"] == ("input", 1) and ports["s_axi_rvalid"] == ("output", 1)


def test_no_region_or_user_signals(default_top):
    """No *region, no user bits but the memory ports' 1-bit wuser/ruser (poison)."""
    assert not re.search(r"\b\w+_(aw|ar)region\b", default_top)
    users = {name for name in _ports(default_top) if re.search(r"user$", name)}
    assert users == {f"m_axi_mem{i}_{c}user" for i in range(4) for c in "wr"}


def test_no_combinational_always_blocks(default_top):
    # Icarus under -g2012 mishandles Yosys' always @* / always_comb output (see flows/verilog.py).
    assert "always @*" not in default_top and "always_comb" not in default_top


@pytest.mark.parametrize("kwargs, message", [
    (dict(agents=0), "Agent count must be an integer from 1 to 16, not 0"),
    (dict(agents=17), "Agent count must be an integer from 1 to 16, not 17"),
    (dict(addr_width=8), "Address width must be an integer from 16 to 35 at 64-bit data, "
                         "not 8"),
    (dict(addr_width=36), "Address width must be an integer from 16 to 35 at 64-bit data, "
                          "not 36"),
    (dict(data_width=512, addr_width=39),
     "Address width must be an integer from 16 to 38 at 512-bit data, not 39"),
    (dict(data_width=96), "Data width must be one of 64, 128, 256, 512 bits, not 96"),
    (dict(id_width=1), "ID width must be an integer from 2 to 16, not 1"),
    (dict(max_capacity_log2=4), "Maximum capacity must be 2^9 to 2^29 lines at 32-bit "
                                "addresses and 64-bit data, not 2^4"),
    (dict(data_width=512, max_capacity_log2=27),
     "Maximum capacity must be 2^9 to 2^26 lines at 32-bit addresses and 512-bit data, "
     "not 2^27"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MirrorswapTop(**kwargs)


def test_cli_rejects_bad_argument(capsys):
    with pytest.raises(SystemExit) as exc:
        gen_main(["--agents", "0", "-o", "/dev/null"])
    assert exc.value.code == 2
    assert "must be a positive integer, not 0" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog not installed")
def test_icarus_compiles(default_top, tmp_path):
    src = tmp_path / "top.v"
    src.write_text(default_top)
    result = subprocess.run(["iverilog", "-g2012", "-o", str(tmp_path / "top.vvp"), str(src)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower()


@pytest.mark.skipif(shutil.which("verilator") is None, reason="Verilator not installed")
def test_verilator_lint_clean(default_top, tmp_path):
    src = tmp_path / "mirrorswap_top.v"
    src.write_text(default_top)
    result = subprocess.run(["verilator", "--lint-only", str(src), "--top-module",
                             "mirrorswap_top"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[:3000]



def test_parameters_change_ports_and_the_report(tmp_path):
    out = tmp_path / "mirrorswap_top.v"
    gen_main(["--agents", "8", "--id-width", "6", "--max-capacity-log2", "14", "-o", str(out)])
    ports = _ports(out.read_text())
    assert "m_axi_mem7_awvalid" in ports and "slot7_button" in ports
    assert "m_axi_mem8_awvalid" not in ports
    assert ports["s_axi_awid"] == ("input", 6)
    report = (tmp_path / "mirrorswap_top.params.txt").read_text()
    assert "AGENTS" in report and " 8\n" in report
    assert "2^14 lines (131072 bytes)" in report
    assert re.search(r"CONFIG register +0x000e0808\n", report)


def test_widest_build_ports_and_report(tmp_path):
    """DATA_WIDTH 512 with the widest addresses and largest modules (SPEC section 1): one
    64-byte line per beat, 38-bit byte addresses on the host and memory ports."""
    out = tmp_path / "mirrorswap_top.v"
    gen_main(["--data-width", "512", "--addr-width", "38", "--max-capacity-log2", "31",
              "-o", str(out)])
    ports = _ports(out.read_text())
    for name, want in {"s_axi_wdata": ("input", 512), "s_axi_wstrb": ("input", 64),
                       "s_axi_rdata": ("output", 512), "s_axi_awaddr": ("input", 38),
                       "m_axi_mem3_wdata": ("output", 512), "m_axi_mem3_araddr": ("output", 38),
                       "s_axil_wdata": ("input", 32)}.items():
        assert ports[name] == want, name
    report = (tmp_path / "mirrorswap_top.params.txt").read_text()
    assert "512 bits (a line: 64 bytes)" in report and "64 lines (4 KiB)" in report
    assert re.search(r"CONFIG register +0x001f4004\n", report)   # 31 | 64 bytes | 4 agents


def test_board_top_generation(tmp_path):
    """``make board``: the example FPGA top, its pins, its report; bad sizes refused."""
    out = tmp_path / "example_board_top.v"
    gen_main(["--board", "--module-lines-log2", "10", "-o", str(out)])
    text = out.read_text()
    assert "module example_board_top(" in text
    for port in ("bus_awaddr", "bus_rdata", "slot3_power_en", "slot0_button", "irq"):
        assert re.search(rf"\b(input|output) .*\b{port};", text), port
    assert "m_axi_mem0_awvalid;" not in text, "memory ports stay inside"
    report = (tmp_path / "example_board_top.params.txt").read_text()
    assert "block-RAM modules of 2^10 lines" in report


def test_board_top_rejects_bad_module_size(capsys):
    with pytest.raises(SystemExit) as exc:
        gen_main(["--board", "--module-lines-log2", "20", "-o", "/dev/null"])
    assert exc.value.code == 2
    assert "Block-RAM modules must have 2^9 to 2^16 lines, not 2^20" in capsys.readouterr().err
