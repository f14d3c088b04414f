"""The C header ``include/mirrorswap_regs.h``, compiled and run as firmware would use it.

A C program written here from :mod:`mirrorswap.regmap` includes the header, prints every
register's offset (``offsetof``, and the address through the ``MIRRORSWAP`` instance at a
given ``MIRRORSWAP_BASE_ADDR``), every field's shift, width and mask, every code and the struct
sizes and alignment; the test compares each line with the Python map. The host compiler
runs with ``-std=c99`` and ``-std=c11`` (where the header's static assertions and the
``const volatile`` qualifiers are checked too), ``-Wall -Wextra -Werror -pedantic``, for the
default agent count and others. Where ``riscv64-unknown-elf-gcc`` is installed, the header
is also compiled for PicoRV32 (rv32im) and a write to CMD and EVENTS must be one ``sw``.
"""

import re
import shutil
import subprocess

import pytest

from mirrorswap import regmap
from mirrorswap.regmap import generate

HEADER = generate.PRODUCTS["cheader"]
CC = shutil.which("gcc") or shutil.which("cc")
CXX = shutil.which("g++") or shutil.which("c++")
RISCV_CC = shutil.which("riscv64-unknown-elf-gcc")
WARNINGS = ["-Wall", "-Wextra", "-Werror", "-pedantic"]
BASE_ADDR = 0x40000000
DEFAULT_AGENTS = 4

needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler (gcc or cc) on PATH")

# The C names of the codes, spelled out here as firmware writes them
_CODES = {"MODE": regmap.Mode, "OP": regmap.Op, "ERR": regmap.Err, "LED": regmap.Led,
          "EVENT": regmap.Event}


def _field_macro(reg, field):
    return f"MIRRORSWAP_{reg.name}_{field.name.upper()}"


def _program():
    """C source printing ``key value`` lines (see :func:`_expected`)."""
    lines = ['#include <stdint.h>', '#include <stdio.h>', '#include "mirrorswap_regs.h"', "",
             "struct align_probe { char c; mirrorswap_t m; };", "",
             "#define SHOW(key, value) printf(\"%s %lu\\n\", key, (unsigned long)(value))",
             "#define ADDR(p) ((uintptr_t)(p))", "",
             "int main(void)", "{",
             '    SHOW("sizeof mirrorswap_t", sizeof(mirrorswap_t));',
             '    SHOW("sizeof mirrorswap_agent_t", sizeof(mirrorswap_agent_t));',
             '    SHOW("align mirrorswap_t", offsetof(struct align_probe, m));',
             '    SHOW("agents", MIRRORSWAP_AGENTS);',
             '    SHOW("cmd 2 to 3", MIRRORSWAP_PUT(MIRRORSWAP_CMD_OPCODE, MIRRORSWAP_OP_ESTABLISH)'
             ' | MIRRORSWAP_PUT(MIRRORSWAP_CMD_PEER, 3));',
             '    SHOW("mode of 0x3", MIRRORSWAP_GET(MIRRORSWAP_STATUS_MODE, 0x3u));']
    for reg in regmap.GLOBAL_REGS:
        lines += [f'    SHOW("offsetof {reg.name}", offsetof(mirrorswap_t, {reg.name}));',
                  f'    SHOW("address {reg.name}", ADDR(&MIRRORSWAP->{reg.name}));']
    for reg in regmap.AGENT_REGS:
        lines.append(f'    SHOW("offsetof agent {reg.name}", '
                     f'offsetof(mirrorswap_agent_t, {reg.name}));')
        lines.append("    {")
        lines.append("        unsigned i;")
        lines.append("        char key[64];")
        lines.append("        for (i = 0; i < MIRRORSWAP_AGENTS; i++) {")
        lines.append(f'            sprintf(key, "address agent%u {reg.name}", i);')
        lines.append(f"            SHOW(key, ADDR(&MIRRORSWAP->agent[i].{reg.name}));")
        lines.append(f'            sprintf(key, "offset macro agent%u {reg.name}", i);')
        lines.append(f"            SHOW(key, MIRRORSWAP_AGENT_OFFSET(i, {reg.name}));")
        lines.append("        }")
        lines.append("    }")
    for reg in regmap.GLOBAL_REGS + regmap.AGENT_REGS:
        lines += [f'    SHOW("{reg.name} offset", MIRRORSWAP_{reg.name}_OFFSET);',
                  f'    SHOW("{reg.name} reset", MIRRORSWAP_{reg.name}_RESET);']
        for f in reg.fields:
            for part in ("SHIFT", "WIDTH", "MASK"):
                lines.append(f'    SHOW("{reg.name}.{f.name} {part}", '
                             f'{_field_macro(reg, f)}_{part});')
    for prefix, codes in _CODES.items():
        for code in codes:
            lines.append(f'    SHOW("{prefix} {code.name}", MIRRORSWAP_{prefix}_{code.name});')
    # C11: the qualifiers of every register member (1: const volatile, 2: volatile)
    lines.append("#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L")
    lines.append('    SHOW("alignof mirrorswap_t", _Alignof(mirrorswap_t));')
    qualifier = ("_Generic(&({}), const volatile uint32_t *: 1, volatile uint32_t *: 2, "
                 "default: 0)")
    for reg in regmap.GLOBAL_REGS:
        lines.append(f'    SHOW("qualifier {reg.name}", '
                     f'{qualifier.format("MIRRORSWAP->" + reg.name)});')
    for reg in regmap.AGENT_REGS:
        lines.append(f'    SHOW("qualifier agent {reg.name}", '
                     f'{qualifier.format("MIRRORSWAP->agent[0]." + reg.name)});')
    lines += ["#endif", "    return 0;", "}", ""]
    return "\n".join(lines)


def _expected(agents, c11):
    """The ``key value`` lines the program must print, from :mod:`mirrorswap.regmap`."""
    stride, base = regmap.AGENT_STRIDE, regmap.AGENT_BASE
    exp = {"sizeof mirrorswap_t": base + stride * agents, "sizeof mirrorswap_agent_t": stride,
           "align mirrorswap_t": 4, "agents": agents, "cmd 2 to 3": 0x302, "mode of 0x3": 3}
    for reg in regmap.GLOBAL_REGS:
        exp[f"offsetof {reg.name}"] = reg.offset
        exp[f"address {reg.name}"] = BASE_ADDR + reg.offset
    for reg in regmap.AGENT_REGS:
        exp[f"offsetof agent {reg.name}"] = reg.offset
        for i in range(agents):
            exp[f"address agent{i} {reg.name}"] = BASE_ADDR + regmap.agent_offset(i, reg.name)
            exp[f"offset macro agent{i} {reg.name}"] = regmap.agent_offset(i, reg.name)
    for reg in regmap.GLOBAL_REGS + regmap.AGENT_REGS:
        exp[f"{reg.name} offset"] = reg.offset
        exp[f"{reg.name} reset"] = reg.reset
        for f in reg.fields:
            exp[f"{reg.name}.{f.name} SHIFT"] = f.lsb
            exp[f"{reg.name}.{f.name} WIDTH"] = f.width
            exp[f"{reg.name}.{f.name} MASK"] = f.mask
    for prefix, codes in _CODES.items():
        for code in codes:
            exp[f"{prefix} {code.name}"] = code.value
    if c11:
        exp["alignof mirrorswap_t"] = 4
        for reg in regmap.GLOBAL_REGS:
            exp[f"qualifier {reg.name}"] = 1 if reg.access is regmap.Access.RO else 2
        for reg in regmap.AGENT_REGS:
            exp[f"qualifier agent {reg.name}"] = 1 if reg.access is regmap.Access.RO else 2
    return exp


def _compile(cc, args, tmp_path, source, name):
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    return subprocess.run([cc, *args, f"-I{HEADER.parent}", str(src)],
                          cwd=tmp_path, capture_output=True, text=True)


@needs_cc
@pytest.mark.parametrize("std", ["c99", "c11"])
@pytest.mark.parametrize("agents", [None, 1, 8, 16])
def test_header_matches_the_register_map(std, agents, tmp_path):
    defines = [f"-DMIRRORSWAP_BASE_ADDR={BASE_ADDR:#x}UL"]
    if agents is not None:
        defines.append(f"-DMIRRORSWAP_AGENTS={agents}")
    exe = tmp_path / "regs"
    result = _compile(CC, [f"-std={std}", *WARNINGS, *defines, "-o", str(exe)], tmp_path,
                      _program(), "regs")
    assert result.returncode == 0, result.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, check=True)
    got = {}
    for line in run.stdout.splitlines():
        key, value = line.rsplit(" ", 1)
        got[key] = int(value)
    assert got == _expected(agents or DEFAULT_AGENTS, c11=std == "c11")


def test_default_agents_is_the_rdl_parameter():
    root = generate.compile_rdl()
    agent = next(n for n in root.top.children() if n.inst_name == "agent")
    assert agent.array_dimensions == [DEFAULT_AGENTS]
    assert f"#define MIRRORSWAP_AGENTS {DEFAULT_AGENTS}\n" in HEADER.read_text()


def test_header_guard_and_no_packing():
    text = HEADER.read_text()
    assert text.count("#ifndef MIRRORSWAP_REGS_H\n#define MIRRORSWAP_REGS_H\n") == 1
    assert "__attribute__" not in text and "#pragma" not in text


@needs_cc
@pytest.mark.parametrize("agents", [0, 17])
def test_agent_count_out_of_range_is_refused(agents, tmp_path):
    result = _compile(CC, ["-std=c99", *WARNINGS, f"-DMIRRORSWAP_AGENTS={agents}", "-c"],
                      tmp_path, '#include "mirrorswap_regs.h"\nint x;\n', "bad")
    assert result.returncode != 0
    assert "MIRRORSWAP_AGENTS must be 1 to 16" in result.stderr


@needs_cc
def test_instance_only_with_a_base_address(tmp_path):
    """Without MIRRORSWAP_BASE_ADDR there is no MIRRORSWAP (a default of 0 would be a null
    pointer to the compiler); MIRRORSWAP_AT(addr) names a block at any address."""
    source = ('#include "mirrorswap_regs.h"\n'
              "#ifdef MIRRORSWAP\n#error MIRRORSWAP without a base address\n#endif\n"
              "unsigned id(void) { return MIRRORSWAP_AT(0x80000000UL)->ID; }\n")
    result = _compile(CC, ["-std=c99", *WARNINGS, "-c"], tmp_path, source, "at")
    assert result.returncode == 0, result.stderr


@needs_cc
def test_read_only_registers_cannot_be_written(tmp_path):
    source = ('#include "mirrorswap_regs.h"\n'
              "void f(void) { MIRRORSWAP->agent[0].STATUS = 0; }\n")
    result = _compile(CC, ["-std=c99", *WARNINGS, f"-DMIRRORSWAP_BASE_ADDR={BASE_ADDR:#x}UL",
                           "-c"], tmp_path, source, "ro")
    assert result.returncode != 0 and "read-only" in result.stderr


@pytest.mark.skipif(CXX is None, reason="no C++ compiler (g++ or c++) on PATH")
def test_header_compiles_as_cpp11(tmp_path):
    """C++ firmware includes it too; its static assertions run under C++11."""
    src = tmp_path / "regs.cpp"
    src.write_text('#include "mirrorswap_regs.h"\n'
                   "unsigned f(unsigned i) { return MIRRORSWAP->agent[i].STATUS; }\n")
    result = subprocess.run([CXX, "-std=c++11", *WARNINGS, f"-I{HEADER.parent}", "-c",
                             f"-DMIRRORSWAP_BASE_ADDR={BASE_ADDR:#x}UL", str(src)],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(RISCV_CC is None, reason="riscv64-unknown-elf-gcc not installed "
                    "(Debian gcc-riscv64-unknown-elf)")
def test_rv32_accesses_registers_as_words(tmp_path):
    """On PicoRV32 (rv32im) each register access is one ``sw`` or ``lw``: with packed
    structs the compiler splits each into byte accesses."""
    # through a pointer of unknown alignment, as a driver holds an agent's registers
    source = ('#include "mirrorswap_regs.h"\n'
              "void ack(mirrorswap_agent_t *a) { a->EVENTS = MIRRORSWAP_EVENT_CMD_DONE; }\n"
              "void command(mirrorswap_agent_t *a) {\n"
              "    a->CMD = MIRRORSWAP_PUT(MIRRORSWAP_CMD_OPCODE, MIRRORSWAP_OP_SWEEP);\n}\n"
              "unsigned mode(const mirrorswap_agent_t *a) {\n"
              "    return MIRRORSWAP_GET(MIRRORSWAP_STATUS_MODE, a->STATUS);\n}\n")
    result = _compile(RISCV_CC, ["-std=c11", *WARNINGS, "-march=rv32im", "-mabi=ilp32",
                                 "-ffreestanding", "-O2", "-S", "-o", "regs.s"],
                      tmp_path, source, "regs")
    assert result.returncode == 0, result.stderr
    asm = (tmp_path / "regs.s").read_text()
    ops = re.findall(r"^\s+(sw|sh|sb|lw|lh|lhu|lb|lbu)\s", asm, re.M)
    assert sorted(ops) == ["lw", "sw", "sw"], asm
