"""``make sim SCENARIO=cpu``, short: the C BIOS hot-removes the module under the C workload
on the PicoRV32 SoC (scenarios/cpu.py), with 64 workload operations and a 2000-cycle abort
window.

About 650 000 simulated cycles: some 35 s in Verilator once its build of ``soc_top`` is
cached (the first run compiles it, a few minutes; the cache is keyed by the sources, so
it is reused until the RTL or the images change). Icarus (``SIM=icarus``) takes some
minutes. Skipped when the RISC-V cross compiler is missing.
"""

import shutil

import pytest

from mirrorswap.scenarios.cpu import default_simulator, run_cpu_scenario


@pytest.mark.slow
def test_cpu_scenario():
    if shutil.which("riscv64-unknown-elf-gcc") is None:
        pytest.skip("riscv64-unknown-elf-gcc is missing (Debian package "
                    "gcc-riscv64-unknown-elf; scripts/bootstrap.sh installs it as root)")
    assert run_cpu_scenario(ops=64, press_at=0, press_delay=20_000, abort_window=2000,
                            name="test_cpu_scenario", sim=default_simulator())
