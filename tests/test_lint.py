"""make lint: Verilator -Wall on the generated top is clean, and the waivers are narrow."""

import pytest

from mirrorswap.flows import lint


@pytest.mark.parametrize("agents", [pytest.param(1, marks=pytest.mark.slow), 4,
                                    pytest.param(8, marks=pytest.mark.slow)])
def test_generated_top_is_lint_clean(agents):
    """At the smallest, the default and the largest agent count the regression simulates
    (the smallest and largest in ``make test-slow``; every data width is linted below)."""
    assert lint.main(["--agents", str(agents)]) == 0


def test_every_data_width_is_lint_clean():
    """128, 256 and 512 bits, each with its widest addresses and largest modules."""
    assert lint.main(["--data-widths", "128,256,512"]) == 0


@pytest.mark.parametrize("width", ["96", "64,1024", "x"])
def test_bad_data_width_is_refused(capsys, width):
    with pytest.raises(SystemExit) as e:
        lint.main(["--data-widths", width])
    assert e.value.code == 2
    assert "must be data widths 64, 128, 256, 512" in capsys.readouterr().err


def test_bad_agent_count_is_refused(capsys):
    with pytest.raises(SystemExit) as e:
        lint.main(["--agents", "0"])
    assert e.value.code == 2
    assert "must be agent counts from 1 to 16" in capsys.readouterr().err


def test_waivers_do_not_hide_real_problems(tmp_path):
    # a net driven twice and a signal read but never driven, in a file of the same name
    src = tmp_path / "mirrorswap_top.v"
    src.write_text("module mirrorswap_top(input clk, output reg [1:0] q, output z);\n"
                   "  wire a;\n  assign z = a;\n"
                   "  always @(posedge clk) q <= 2'd1;\n"
                   "  always @(posedge clk) q <= 2'd2;\n"
                   "endmodule\n")
    result = lint.lint(src)
    assert result.returncode != 0
    assert "MULTIDRIVEN" in result.stderr or "UNDRIVEN" in result.stderr
