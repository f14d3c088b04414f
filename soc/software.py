"""Builds the SoC's small test programs (``soc/sw/``) with the RISC-V cross compiler.

The real BIOS and workload are built by :mod:`mirrorswap.firmware.cbuild`; these are the
SoC's own smoke programs, which need nothing but ``soc_map.h``.
"""

import shutil
import subprocess
from pathlib import Path

from . import map as soc_map

__all__ = ["CC", "ToolchainMissing", "have_toolchain", "build_program", "smoke_images",
           "SMOKE_RESULT", "SW_DIR"]

CC = "riscv64-unknown-elf-gcc"
OBJCOPY = "riscv64-unknown-elf-objcopy"
CFLAGS = ["-march=rv32im", "-mabi=ilp32", "-ffreestanding", "-nostdlib", "-Os", "-Wall",
          "-Werror"]
SW_DIR = Path(__file__).resolve().parent / "sw"
#: What smoke_host.c computes (the same loop in Python, see tests/test_soc.py).
SMOKE_RESULT = 0x082508F8


class ToolchainMissing(RuntimeError):
    """The RISC-V cross compiler is not installed."""


def have_toolchain():
    """Whether ``riscv64-unknown-elf-gcc`` and its objcopy are on the PATH."""
    return shutil.which(CC) is not None and shutil.which(OBJCOPY) is not None


def _run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{done.stderr}")


def build_program(name, sources, out_dir):
    """Compile and link ``sources`` (C and assembly, with ``soc/sw/start.S`` first) into
    ``<out_dir>/<name>.elf`` and its RAM image ``<name>.hex`` (one 32-bit little-endian
    word per line, from address 0); returns the ``.hex`` path.

    Raises
    ------
    ToolchainMissing
        The cross compiler is missing (the message names the Debian package).
    RuntimeError
        The compiler failed (its messages), or the program does not fit the RAM.
    """
    if not have_toolchain():
        raise ToolchainMissing(f"{CC} not found: install the Debian package "
                               f"gcc-riscv64-unknown-elf (scripts/bootstrap.sh does, as root)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    script = out_dir / "link.ld"
    script.write_text((SW_DIR / "link.ld.in").read_text()
                      .replace("@MEMORY@", soc_map.linker_memory()))
    elf, binary, hexfile = (out_dir / f"{name}{ext}" for ext in (".elf", ".bin", ".hex"))
    include = soc_map.HEADER_PATH.parent
    _run([CC, *CFLAGS, f"-I{include}", f"-I{SW_DIR}", "-T", script, "-o", elf,
          SW_DIR / "start.S", *sources, "-lgcc"])
    _run([OBJCOPY, "-O", "binary", elf, binary])
    data = binary.read_bytes()
    if len(data) > soc_map.RAM_BYTES:
        raise RuntimeError(f"{name}: {len(data)} bytes do not fit {soc_map.RAM_BYTES}")
    data += bytes(-len(data) % 4)
    hexfile.write_text("".join(f"{int.from_bytes(data[i:i + 4], 'little'):08x}\n"
                               for i in range(0, len(data), 4)))
    return hexfile


def smoke_images(out_dir):
    """The smoke programs' images: ``{"bios": path, "workload": path}``."""
    return {"bios": build_program("smoke_mgmt", [SW_DIR / "smoke_mgmt.c"], out_dir),
            "workload": build_program("smoke_host", [SW_DIR / "smoke_host.c"], out_dir)}
