"""Build the C firmware of the PicoRV32 SoC: the BIOS, the workload, and their native twins.

``firmware/c/`` holds the sources (see ``docs/firmware-c.md``):

- ``bios/``: the BIOS/BMC of the management CPU, the C twin of :mod:`firmware.bios` and
  :mod:`firmware.hotplug`, reaching mirrorswap only through ``include/mirrorswap_regs.h``;
- ``workload/``: the host CPU's program, a hash table in host memory ending in a checksum;
- ``common/``: ``start.S`` (reset and PicoRV32 IRQ entry), the linker script (run through
  the C preprocessor so that its numbers come from ``include/soc_map.h``, which
  :mod:`mirrorswap.soc.map` generates), the console's printf.

:func:`build_images` cross-compiles both for PicoRV32 (RV32IM, Debian's
``gcc-riscv64-unknown-elf``) into ``$readmemh`` images; :func:`expected_checksum` builds
the workload for the build machine and runs it; :func:`build_native_bios` builds the BIOS
flows as a shared library whose register accesses are callbacks (the trace comparison of
``tests/test_c_firmware.py``). ``python -m mirrorswap.firmware.cbuild`` builds into
``build/c/`` and prints the sizes.
"""

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from mirrorswap.paths import build_root

__all__ = ["ToolchainMissing", "SOURCE", "RISCV_PREFIX", "DEBIAN_PACKAGE", "DEFAULTS",
           "TARGET_FLAGS", "WARNINGS", "toolchain", "build_images", "expected_checksum",
           "build_native_bios", "image_words", "image_sizes", "symbols", "main"]

HERE = Path(__file__).resolve().parent
#: The C sources.
SOURCE = HERE / "c"
#: The checkout's include folder: the generated register header mirrorswap_regs.h.
REGS_INCLUDE = HERE.parent / "include"
#: Prefix of the cross tools (Debian package gcc-riscv64-unknown-elf).
RISCV_PREFIX = "riscv64-unknown-elf-"
DEBIAN_PACKAGE = "gcc-riscv64-unknown-elf"

WARNINGS = ["-Wall", "-Wextra", "-Werror"]
#: PicoRV32 as the SoC builds it: RV32IM, no compressed instructions, no FPU; no C
#: library. -fno-tree-loop-distribute-patterns: memset itself must not become a memset
#: call. -mno-relax: no gp-relative relaxation, the IRQ entry does not set gp.
TARGET_FLAGS = ["-march=rv32im", "-mabi=ilp32", "-Os", "-g", "-std=c11", "-ffreestanding",
                "-nostdlib", "-nostartfiles", "-fno-builtin",
                "-fno-tree-loop-distribute-patterns", "-mno-relax", "-ffunction-sections",
                "-fdata-sections"]
COMMON = ["common/start.S", "common/console.c", "common/mem.c"]
BIOS = ["bios/main.c", "bios/bios.c", "bios/hotplug.c", "bios/hal_soc.c"]
WORKLOAD = ["workload/workload.c"]
NATIVE_BIOS = ["bios/bios.c", "bios/hotplug.c", "bios/hal_native.c", "common/console.c"]

#: Defaults of the build parameters (the sources carry the same ones).
DEFAULTS = {"workload_ops": 600, "scrub_per_op": 2, "table_bytes": 32768,
            "abort_window_cycles": 20000, "chunk_lines": 1024}


class ToolchainMissing(RuntimeError):
    """A compiler the build needs is not installed; the message says which package."""


def toolchain(tool="gcc"):
    """The path of the RISC-V cross ``tool`` (gcc, objcopy, nm, size).

    Raises
    ------
    ToolchainMissing
        It is not on PATH; the message names the Debian package.
    """
    path = shutil.which(RISCV_PREFIX + tool)
    if path is None:
        raise ToolchainMissing(
            f"{RISCV_PREFIX}{tool} not found: the C firmware needs Debian's "
            f"{DEBIAN_PACKAGE} (apt-get install {DEBIAN_PACKAGE}; scripts/bootstrap.sh "
            f"installs it when run as root)")
    return path


def _native_cc():
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise ToolchainMissing("no C compiler for the build machine (gcc or cc): install "
                               "Debian's gcc")
    return cc


def _run(cmd, cwd=None):
    """Run a tool; a failure raises RuntimeError with its output (the compiler's errors)."""
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(str(c) for c in cmd)} failed ({r.returncode}):\n"
                           f"{r.stdout}{r.stderr}")
    return r.stdout


def _check_param(name, value, minimum=0):
    if value is None:
        return DEFAULTS[name]
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}")
    if value >= 1 << 32:
        raise ValueError(f"{name} must fit in 32 bits, not {value!r}")
    return value


def _check_table(value):
    value = _check_param("table_bytes", value, 1024)
    if value > 32768 or value & (value - 1):
        raise ValueError(f"table_bytes must be a power of two from 1024 to 32768, not "
                         f"{value!r}")
    return value


def _includes():
    return ["-I", SOURCE / "common", "-I", SOURCE / "include", "-I", REGS_INCLUDE,
            "-I", SOURCE / "bios"]


def image_words(binary):
    """The bytes of a raw image as 32-bit little-endian words (the last one zero-padded)."""
    data = bytes(binary) + bytes(-len(binary) % 4)
    return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]


def symbols(elf):
    """Global and local symbols of an ELF file: name -> address."""
    out = _run([toolchain("nm"), elf])
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            table[parts[2]] = int(parts[0], 16)
    return table


def _link_script(out_dir):
    script = out_dir / "link.ld"
    _run([toolchain("gcc"), "-E", "-P", "-x", "assembler-with-cpp", *_includes(),
          SOURCE / "common" / "link.ld.S", "-o", script])
    return script


def _build_one(name, sources, defines, out_dir, script, extra_flags=()):
    elf = out_dir / f"{name}.elf"
    _run([toolchain("gcc"), *TARGET_FLAGS, *WARNINGS, *extra_flags, *_includes(),
          *[f"-D{k}={v}" for k, v in defines.items()],
          *[SOURCE / s for s in sources],
          f"-Wl,-T,{script}", "-Wl,--gc-sections", f"-Wl,-Map,{out_dir / (name + '.map')}",
          "-lgcc", "-o", elf])
    binary = out_dir / f"{name}.bin"
    _run([toolchain("objcopy"), "-O", "binary", elf, binary])
    words = image_words(binary.read_bytes())
    hex_path = out_dir / f"{name}.hex"
    hex_path.write_text("".join(f"{w:08x}\n" for w in words))
    return elf, hex_path


def build_images(out_dir=None, *, workload_ops=None, abort_window_cycles=None,
                 chunk_lines=None, scrub_per_op=None, table_bytes=None):
    """Cross-compile the BIOS and the workload for the SoC's PicoRV32 cores.

    Each image is the initial contents of its CPU's block RAM from address 0, as
    ``$readmemh`` text: one 32-bit little-endian word per line, 8 hex digits, up to the
    end of .data (the RAM beyond it starts as zeros or anything: start.S zeroes .bss).

    Parameters
    ----------
    out_dir : path, optional
        Where to build; default ``build/c`` under :func:`mirrorswap.paths.build_root`.
    workload_ops : int, optional
        Hash table operations of the workload (default 600).
    abort_window_cycles : int, optional
        The hot-remove abort window after a button press, in clock cycles (default
        20000); the BIOS variable ``ms_abort_window_cycles`` starts with it.
    chunk_lines : int, optional
        Lines per SWEEP command of a hot remove (default 1024).
    scrub_per_op : int, optional
        Buckets the workload ages after each operation (default 2).
    table_bytes : int, optional
        Bytes of host memory the workload's table takes from host address 0: a power of
        two from 1024 to 32768 (default 32768, all of slot 1's module). Every bucket is
        written at the start and read at the end, so this sets the run's floor.

    Returns
    -------
    dict
        ``bios``, ``workload``: the .hex images; ``bios_elf``, ``workload_elf``: the ELF
        files (symbols, disassembly); ``bios_map``, ``workload_map``: linker maps.

    Raises
    ------
    ToolchainMissing
        ``riscv64-unknown-elf-gcc`` is not installed (the message names the package).
    ValueError
        A parameter is not a non-negative integer (operations and chunk: positive).
    RuntimeError
        The compiler or the linker failed (an image that does not fit the RAM among
        them); the message holds their output.
    """
    params = {"workload_ops": _check_param("workload_ops", workload_ops, 1),
              "abort_window_cycles": _check_param("abort_window_cycles",
                                                  abort_window_cycles),
              "chunk_lines": _check_param("chunk_lines", chunk_lines, 1),
              "scrub_per_op": _check_param("scrub_per_op", scrub_per_op),
              "table_bytes": _check_table(table_bytes)}
    out_dir = Path(out_dir) if out_dir is not None else build_root() / "c"
    out_dir.mkdir(parents=True, exist_ok=True)
    toolchain("gcc")
    script = _link_script(out_dir)
    bios_elf, bios_hex = _build_one(
        "bios", COMMON + BIOS,
        {"MS_ABORT_WINDOW_CYCLES": f"{params['abort_window_cycles']}u",
         "MS_CHUNK_LINES": f"{params['chunk_lines']}u"},
        out_dir, script, ["-DMS_IRQ"])
    work_elf, work_hex = _build_one(
        "workload", COMMON + WORKLOAD,
        {"WORKLOAD_OPS": f"{params['workload_ops']}u",
         "SCRUB_PER_OP": f"{params['scrub_per_op']}u",
         "TABLE_BYTES": f"{params['table_bytes']}u"},
        out_dir, script)
    return {"bios": bios_hex, "workload": work_hex, "bios_elf": bios_elf,
            "workload_elf": work_elf, "bios_map": out_dir / "bios.map",
            "workload_map": out_dir / "workload.map"}


def expected_checksum(*, workload_ops=None, scrub_per_op=None, table_bytes=None,
                      out_dir=None):
    """The checksum the workload must reach: the same source built for the build machine
    (its table in a static array) and run. The parameters must be those given to
    :func:`build_images`.

    Raises
    ------
    ToolchainMissing
        No native C compiler.
    RuntimeError
        The build failed, or the native run reported a mismatch or no checksum.
    """
    ops = _check_param("workload_ops", workload_ops, 1)
    scrub = _check_param("scrub_per_op", scrub_per_op)
    table = _check_table(table_bytes)
    out_dir = Path(out_dir) if out_dir is not None else build_root() / "c"
    out_dir.mkdir(parents=True, exist_ok=True)
    exe = out_dir / f"workload_native_{ops}_{scrub}_{table}"
    _run([_native_cc(), "-O2", "-std=c11", *WARNINGS, "-DMS_NATIVE",
          f"-DWORKLOAD_OPS={ops}u", f"-DSCRUB_PER_OP={scrub}u", f"-DTABLE_BYTES={table}u",
          "-I", SOURCE / "common",
          SOURCE / "workload" / "workload.c", SOURCE / "common" / "console.c", "-o", exe])
    out = _run([exe])
    m = re.search(r"checksum 0x([0-9a-f]{8}), 0 mismatches", out)
    if m is None:
        raise RuntimeError(f"the native workload gave no clean checksum:\n{out}")
    return int(m.group(1), 16)


def build_native_bios(out_dir=None):
    """The BIOS flows (bios.c, hotplug.c) built for the build machine as a shared
    library whose register accesses, pauses and console are callbacks (hal_native.c:
    ``ms_native_init(read, write, pause, putc, io_write)``); returns its path."""
    out_dir = Path(out_dir) if out_dir is not None else build_root() / "c"
    out_dir.mkdir(parents=True, exist_ok=True)
    lib = out_dir / "libmsbios_native.so"
    _run([_native_cc(), "-O1", "-g", "-std=c11", *WARNINGS, "-shared", "-fPIC",
          "-DMS_NATIVE", *_includes(), *[SOURCE / s for s in NATIVE_BIOS], "-o", lib])
    return lib


def image_sizes(paths):
    """Bytes of each image (.text + .rodata + .data) and of .bss plus the stack reserve,
    from the ELF symbols; RAM bytes from soc_map."""
    from mirrorswap.soc.map import RAM_BYTES
    sizes = {}
    for name in ("bios", "workload"):
        syms = symbols(paths[f"{name}_elf"])
        sizes[name] = {"image": syms["_image_end"], "bss_end": syms["_bss_end"],
                       "ram": RAM_BYTES}
    return sizes


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m mirrorswap.firmware.cbuild", description=(
        "Build the C BIOS and workload for the PicoRV32 SoC (build/c/) and print sizes."))
    p.add_argument("--out", type=Path, default=None, help="build folder (default build/c)")
    p.add_argument("--ops", type=int, default=None,
                   help=f"workload operations (default {DEFAULTS['workload_ops']})")
    p.add_argument("--table-bytes", type=int, default=None,
                   help=f"bytes of the workload's table (default {DEFAULTS['table_bytes']})")
    p.add_argument("--abort-window", type=int, default=None,
                   help=f"abort window in cycles (default {DEFAULTS['abort_window_cycles']})")
    args = p.parse_args(argv)
    try:
        paths = build_images(args.out, workload_ops=args.ops, table_bytes=args.table_bytes,
                             abort_window_cycles=args.abort_window)
        checksum = expected_checksum(workload_ops=args.ops, table_bytes=args.table_bytes,
                                     out_dir=args.out)
    except (ToolchainMissing, ValueError, RuntimeError) as e:
        print(f"cbuild: {e}", file=sys.stderr)
        return 2
    for name, s in image_sizes(paths).items():
        print(f"{name:9s} {s['image']:6d} bytes image, {s['bss_end']:6d} bytes with .bss "
              f"of {s['ram']} bytes RAM: {paths[name]}")
    print(f"expected workload checksum 0x{checksum:08x}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
