#!/usr/bin/env bash
# Make a fresh machine ready: Icarus Verilog (installed when we are root) and a virtualenv
# with the pinned Python dependencies. Idempotent; the Makefile calls it through a stamp.
set -euo pipefail
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if ! command -v iverilog >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing Icarus Verilog from Debian"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog
    else
        echo "bootstrap: Icarus Verilog (iverilog) is missing and we are not root." >&2
        echo "           Install it first, e.g.: sudo apt-get install iverilog" >&2
        exit 1
    fi
fi

# The C firmware of the PicoRV32 SoC (make firmware, make sim SCENARIO=cpu) needs the RISC-V
# cross compiler; without it those tests skip, so a failure here never stops the bootstrap.
if ! command -v riscv64-unknown-elf-gcc >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing the RISC-V cross compiler from Debian"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
              gcc-riscv64-unknown-elf; } \
            || echo "bootstrap: gcc-riscv64-unknown-elf did not install; the C firmware" \
                    "tests will skip" >&2
    else
        echo "bootstrap: riscv64-unknown-elf-gcc is missing: the C firmware tests will skip." >&2
        echo "           To build it: sudo apt-get install gcc-riscv64-unknown-elf" >&2
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating virtualenv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[dev]"
"$VENV/bin/python" -m pip check
touch "$VENV/.installed"
