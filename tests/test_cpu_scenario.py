"""``make sim SCENARIO=cpu``, short: the C BIOS hot-removes the module under the C workload
on the PicoRV32 SoC (scenarios/cpu.py), with 80 workload operations on a 4 KiB table and a
2000-cycle abort window, in Icarus (a Verilator build of ``soc_top`` takes minutes, more
than the whole short run; ``make sim SCENARIO=cpu`` uses Verilator). Skipped when the
RISC-V cross compiler is missing.
"""

import shutil

import pytest

from mirrorswap.scenarios.cpu import run_cpu_scenario


def test_cpu_scenario():
    if shutil.which("riscv64-unknown-elf-gcc") is None:
        pytest.skip("riscv64-unknown-elf-gcc is missing (Debian package "
                    "gcc-riscv64-unknown-elf; scripts/bootstrap.sh installs it as root)")
    assert run_cpu_scenario(ops=80, table_bytes=4096, press_at=0, press_delay=2000,
                            abort_window=2000, name="test_cpu_scenario", sim="icarus")
