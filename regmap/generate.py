"""Generate the register map products from ``regmap/regs.rdl`` (``make regs``).

``python -m mirrorswap.regmap.generate`` writes them; ``--check`` only compares and exits 1
when any is stale (``tests/test_regmap.py`` runs that). Products:

- ``regmap/_data.py``: the register map as plain Python data, read by
  :mod:`mirrorswap.regmap` (so the RTL, the firmware and the tests need no SystemRDL tools
  at run time);
- ``include/mirrorswap_regs.h``: the C header for firmware (:func:`c_header`);
- ``docs/registers.md``: the register documentation (:func:`markdown_doc`).

The header and the documentation are written here from the elaborated map rather than by
PeakRDL cheader and PeakRDL markdown: the cheader structs are packed (a compiler for a
strict-alignment core may then split a register access into byte accesses) and carry no
constants for the encoded fields; the markdown exporter repeats every agent's registers.
"""

import argparse
import difflib
import pprint
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent          # the checkout: the header and the docs live there
RDL = HERE / "regs.rdl"
PRODUCTS = {
    "python": HERE / "_data.py",
    "cheader": ROOT / "include" / "mirrorswap_regs.h",
    "markdown": ROOT / "docs" / "registers.md",
}
GENERATED = "Generated from regmap/regs.rdl by `make regs` (regmap/generate.py); do not edit."
#: the register whose fields name the event bits (EVENTS and IRQ_EN share them)
EVENTS_REG = "EVENTS"


def compile_rdl(agents=None):
    """The elaborated register map; ``agents`` overrides the RDL's ``AGENTS`` parameter."""
    from systemrdl import RDLCompiler
    compiler = RDLCompiler()
    compiler.compile_file(str(RDL))
    parameters = {} if agents is None else {"AGENTS": agents}
    return compiler.elaborate(top_def_name="mirrorswap", parameters=parameters)


def _access(field):
    from systemrdl.rdltypes import OnWriteType
    sw = field.get_property("sw").name
    if sw == "r":
        return "ro"
    if sw == "w":
        return "wo"
    onwrite = field.get_property("onwrite")
    if onwrite == OnWriteType.woclr:
        return "rw1c"
    if onwrite == OnWriteType.woset:
        return "rw1s"
    if onwrite is not None:
        raise ValueError(f"field {field.get_path()}: onwrite = {onwrite.name} has no access "
                         f"type here (woclr or woset)")
    return "rw"


def _reg_access(reg):
    accesses = {_access(f) for f in reg.fields()}
    if len(accesses) != 1:
        raise ValueError(f"register {reg.inst_name} mixes access types {sorted(accesses)}")
    return accesses.pop()


def _register(reg):
    fields = []
    for f in reg.fields():
        encode = f.get_property("encode")
        reset = f.get_property("reset")
        fields.append((f.inst_name, f.lsb, f.width, f.get_property("desc"),
                       reset if isinstance(reset, int) else 0,
                       encode.type_name if encode is not None else None))
    return (reg.inst_name, reg.raw_address_offset, _reg_access(reg), reg.get_property("desc"),
            tuple(fields))


def _parts(root):
    """(global registers, the agent register file) of the elaborated map."""
    from systemrdl.node import RegfileNode, RegNode
    global_regs, agent = [], None
    for node in root.top.children():
        if isinstance(node, RegNode):
            global_regs.append(node)
        elif isinstance(node, RegfileNode):
            agent = node
    return global_regs, agent


def _enums(root):
    """``{type name: (enum, ["REG.field", ...] that use it)}`` in order of first use."""
    from systemrdl.node import RegNode
    enums = {}
    for reg in root.top.descendants(unroll=False):
        if isinstance(reg, RegNode):
            for f in reg.fields():
                encode = f.get_property("encode")
                if encode is not None:
                    enums.setdefault(encode.type_name, (encode, []))[1].append(
                        f"{reg.inst_name}.{f.inst_name}")
    return enums


def python_source(root):
    global_nodes, agent = _parts(root)
    enums = {name: {m.name: m.value for m in encode}
             for name, (encode, _) in _enums(root).items()}
    out = ["# " + GENERATED,
           "# Registers: (name, offset, access, desc, fields); fields: (name, lsb, width, desc,",
           "# reset, enum).", ""]
    for name, value in (("ENUMS", enums),
                        ("GLOBAL_REGS", [_register(r) for r in global_nodes]),
                        ("AGENT_REGS", [_register(r) for r in agent.registers()])):
        out.append(f"{name} = {pprint.pformat(value, width=96, sort_dicts=False)}")
        out.append("")
    out.append(f"AGENT_BASE = {agent.raw_address_offset:#x}")
    out.append(f"AGENT_STRIDE = {agent.array_stride:#x}")
    return "\n".join(out) + "\n"



_C_QUALIFIER = {"ro": "const volatile", "rw": "volatile", "wo": "volatile", "rw1c": "volatile",
                "rw1s": "volatile"}


def _enum_stem(type_name):
    return type_name.removesuffix("_e").upper()


def _c_enum_member(type_name, member):
    stem = _enum_stem(type_name)
    return f"MIRRORSWAP_{member if member.startswith(stem + '_') else f'{stem}_{member}'}"


def _bits(field):
    return f"[{field.msb}]" if field.width == 1 else f"[{field.msb}:{field.lsb}]"


def _c_register_macros(reg, where):
    name = reg.inst_name
    reset = sum((f.get_property("reset") or 0) << f.lsb for f in reg.fields())
    lines = [f"/* {name} ({where} {reg.raw_address_offset:#04x}, "
             f"{_reg_access(reg).upper()}): {reg.get_property('desc')} */",
             f"#define MIRRORSWAP_{name}_OFFSET 0x{reg.raw_address_offset:02x}u",
             f"#define MIRRORSWAP_{name}_RESET 0x{reset:08x}u"]
    for f in reg.fields():
        macro = f"MIRRORSWAP_{name}_{f.inst_name.upper()}"
        mask = ((1 << f.width) - 1) << f.lsb
        lines += [f"#define {macro}_SHIFT {f.lsb}",
                  f"#define {macro}_WIDTH {f.width}",
                  f"#define {macro}_MASK 0x{mask:08x}u  /* {_bits(f)} {f.get_property('desc')} */"]
    return lines


def _c_padding(start, end):
    return (f"    const volatile uint32_t reserved_{start:03x}[{(end - start) // 4}];"
            f"  /* 0x{start:03x} to 0x{end - 1:03x} */")


def _c_struct(name, regs, doc, end, last_member=None):
    """A struct with one 32-bit member per register at its offset, padded up to ``end``
    where ``last_member`` (if any) follows."""
    lines = [f"/* {doc} */", "typedef struct {"]
    at = 0
    for reg in regs:
        offset = reg.raw_address_offset
        if offset % 4 or offset < at:
            raise ValueError(f"register {reg.inst_name} at {offset:#x} is not a 32-bit word "
                             f"after the previous one")
        if offset > at:
            lines.append(_c_padding(at, offset))
        member = f"{_C_QUALIFIER[_reg_access(reg)]} uint32_t {reg.inst_name};"
        lines.append(f"    {member:<36}  /* 0x{offset:03x} {_reg_access(reg).upper()} */")
        at = offset + 4
    if end > at:
        lines.append(_c_padding(at, end))
    if last_member is not None:
        lines.append(f"    {last_member:<36}  /* 0x{end:03x} */")
    lines.append(f"}} {name};")
    return lines


def c_header(root):
    """``include/mirrorswap_regs.h``: register structs with ``volatile`` 32-bit members at
    their natural alignment (read-only ones ``const volatile``), the instance macro
    ``MIRRORSWAP`` at ``MIRRORSWAP_BASE_ADDR`` with its agent array sized by
    ``MIRRORSWAP_AGENTS``, per-field shift, width and mask macros, and the codes of every
    encoded field and the event bits. Plain C99; the layout is checked by
    ``_Static_assert`` under C11 and ``static_assert`` under C++11."""
    global_regs, agent = _parts(root)
    agent_regs = list(agent.registers())
    names = [r.inst_name for r in global_regs + agent_regs]
    if len(set(names)) != len(names):
        raise ValueError(f"register names must be unique for the C macros: {names}")
    peer = next(f for f in next(r for r in agent_regs if r.inst_name == "CMD").fields()
                if f.inst_name == "peer")
    max_agents = 1 << peer.width
    agents = agent.array_dimensions[0]
    base, stride = agent.raw_address_offset, agent.array_stride
    events = next(r for r in agent_regs if r.inst_name == EVENTS_REG)
    out = [
        "/* mirrorswap register map for C firmware.",
        " *",
        f" * {GENERATED}",
        " *",
        f" * {root.top.get_property('desc')}",
        " *",
        " * Every register is one 32-bit word. The structs are not packed: their members sit at",
        " * their natural alignment, so the compiler accesses each register with one 32-bit",
        " * load or store, as CMD and the write-1-to-clear EVENTS need. Read-only registers are",
        " * `const volatile`.",
        " *",
        " * Before including it, define MIRRORSWAP_BASE_ADDR, the address of the register",
        " * block in the CPU's address map (it has no default: at address 0 the compiler may",
        " * take MIRRORSWAP for a null pointer and compile its accesses as traps), and",
        " * MIRRORSWAP_AGENTS when the hardware was built with other than the default agents",
        " * (CONFIG.agents tells).",
        " *",
        " *     MIRRORSWAP->agent[i].CMD =",
        " *         MIRRORSWAP_PUT(MIRRORSWAP_CMD_OPCODE, MIRRORSWAP_OP_ESTABLISH)",
        " *         | MIRRORSWAP_PUT(MIRRORSWAP_CMD_PEER, j);",
        " *     mode = MIRRORSWAP_GET(MIRRORSWAP_STATUS_MODE, MIRRORSWAP->agent[i].STATUS);",
        " */",
        "#ifndef MIRRORSWAP_REGS_H",
        "#define MIRRORSWAP_REGS_H",
        "",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        "/* Agents the hardware was built with (the RDL's AGENTS parameter by default). */",
        "#ifndef MIRRORSWAP_AGENTS",
        f"#define MIRRORSWAP_AGENTS {agents}",
        "#endif",
        f"#define MIRRORSWAP_MAX_AGENTS {max_agents}",
        "#if MIRRORSWAP_AGENTS < 1 || MIRRORSWAP_AGENTS > MIRRORSWAP_MAX_AGENTS",
        f'#error "MIRRORSWAP_AGENTS must be 1 to {max_agents}"',
        "#endif",
        "",
        "/* Agent i's registers are at MIRRORSWAP_AGENT_BASE + MIRRORSWAP_AGENT_STRIDE * i. */",
        f"#define MIRRORSWAP_AGENT_BASE 0x{base:03x}u",
        f"#define MIRRORSWAP_AGENT_STRIDE 0x{stride:02x}u",
        "#define MIRRORSWAP_AGENT_OFFSET(i, reg) \\",
        "    (MIRRORSWAP_AGENT_BASE + MIRRORSWAP_AGENT_STRIDE * (uint32_t)(i) \\",
        "     + MIRRORSWAP_##reg##_OFFSET)",
        "",
        "/* Field F of a register value, and a value with field F set to x (other bits 0). */",
        "#define MIRRORSWAP_GET(F, value) (((uint32_t)(value) & F##_MASK) >> F##_SHIFT)",
        "#define MIRRORSWAP_PUT(F, x) (((uint32_t)(x) << F##_SHIFT) & F##_MASK)",
        "",
        "/* Global registers: offsets, reset values and fields. */",
    ]
    for reg in global_regs:
        out += _c_register_macros(reg, "global") + [""]
    out.append("/* Agent registers: offsets within an agent's block, reset values and fields. */")
    for reg in agent_regs:
        out += _c_register_macros(reg, "agent") + [""]
    for type_name, (encode, used) in _enums(root).items():
        out.append(f"/* Values of {', '.join(used)}. */")
        out.append(f"enum mirrorswap_{_enum_stem(type_name).lower()} {{")
        for m in encode:
            member = f"{_c_enum_member(type_name, m.name)} = {m.value},"
            out.append(f"    {member:<36}  /* {m.rdl_desc} */")
        out += ["};", ""]
    out.append(f"/* Bits of {EVENTS_REG} (write 1 to clear) and of IRQ_EN. */")
    for f in events.fields():
        out.append(f"#define MIRRORSWAP_EVENT_{f.inst_name.upper():<18} 0x{1 << f.lsb:02x}u"
                   f"  /* {f.get_property('desc')} */")
    out.append("")
    out += _c_struct("mirrorswap_agent_t", agent_regs, "The registers of one agent.", stride)
    out.append("")
    out += _c_struct("mirrorswap_t", global_regs,
                     "The register block: global registers, then one block per agent.", base,
                     "mirrorswap_agent_t agent[MIRRORSWAP_AGENTS];")
    out += ["",
            "/* The register block at address addr, and at MIRRORSWAP_BASE_ADDR. */",
            "#define MIRRORSWAP_AT(addr) ((mirrorswap_t *)(addr))",
            "#ifdef MIRRORSWAP_BASE_ADDR",
            "#define MIRRORSWAP MIRRORSWAP_AT(MIRRORSWAP_BASE_ADDR)",
            "#endif",
            "",
            "/* The layout, checked by the compiler where it can (C11, C++11). */",
            "#if defined(__cplusplus) && __cplusplus >= 201103L",
            "#define MIRRORSWAP_STATIC_ASSERT(c, m) static_assert(c, m)",
            "#elif !defined(__cplusplus) && defined(__STDC_VERSION__) \\",
            "    && __STDC_VERSION__ >= 201112L",
            "#define MIRRORSWAP_STATIC_ASSERT(c, m) _Static_assert(c, m)",
            "#endif",
            "#ifdef MIRRORSWAP_STATIC_ASSERT"]
    for reg in global_regs:
        out.append(f"MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_t, {reg.inst_name}) == "
                   f"MIRRORSWAP_{reg.inst_name}_OFFSET, \"{reg.inst_name}\");")
    for reg in agent_regs:
        out.append(f"MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, {reg.inst_name}) == "
                   f"MIRRORSWAP_{reg.inst_name}_OFFSET, \"{reg.inst_name}\");")
    out += ["MIRRORSWAP_STATIC_ASSERT(sizeof(mirrorswap_agent_t) == MIRRORSWAP_AGENT_STRIDE, "
            "\"agent stride\");",
            "MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_t, agent) == MIRRORSWAP_AGENT_BASE, "
            "\"agent base\");",
            "MIRRORSWAP_STATIC_ASSERT(sizeof(mirrorswap_t) == MIRRORSWAP_AGENT_BASE + "
            "MIRRORSWAP_AGENT_STRIDE * MIRRORSWAP_AGENTS, \"size\");",
            "#undef MIRRORSWAP_STATIC_ASSERT",
            "#endif",
            "",
            "#ifdef __cplusplus",
            "}",
            "#endif",
            "",
            "#endif /* MIRRORSWAP_REGS_H */"]
    text = "\n".join(out) + "\n"
    names = re.findall(r"^#define (MIRRORSWAP_\w+)|^    (MIRRORSWAP_\w+) = ", text, re.M)
    names = [a or b for a, b in names if (a or b) != "MIRRORSWAP_STATIC_ASSERT"]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise ValueError(f"C names defined twice: {', '.join(clashes)}")
    return text



_ACCESS_TEXT = {
    "ro": "read only; a write answers SLVERR and changes nothing",
    "rw": "read and write",
    "wo": "write only; reads as 0",
    "rw1c": "read; a write clears the bits written as 1 and leaves the others",
    "rw1s": "read; a write sets the bits written as 1 and leaves the others; only reset "
            "clears them",
}


def _md_register(reg, heading):
    access = _reg_access(reg)
    lines = [f"{heading} {reg.inst_name}", "",
             f"Offset 0x{reg.raw_address_offset:02X}, {access.upper()}. "
             f"{reg.get_property('desc')}", "",
             "| bits | field | reset | description |", "|---|---|---|---|"]
    for f in reg.fields():
        reset = f.get_property("reset")
        desc = f.get_property("desc")
        encode = f.get_property("encode")
        if encode is not None:
            desc += f" Values: [{encode.type_name}](#{encode.type_name})."
        lines.append(f"| {_bits(f)} | {f.inst_name} | "
                     f"{'—' if reset is None else f'0x{reset:X}'} | {desc} |")
    return lines + [""]


def markdown_doc(root):
    """``docs/registers.md``: the summary tables of :func:`mirrorswap.regmap.markdown`, the
    meaning of every code, and every register's fields."""
    from mirrorswap import regmap
    global_regs, agent = _parts(root)
    agent_regs = list(agent.registers())
    summary = regmap.markdown(regmap._build([_register(r) for r in global_regs]),
                              regmap._build([_register(r) for r in agent_regs]))
    peer = next(f for f in next(r for r in agent_regs if r.inst_name == "CMD").fields()
                if f.inst_name == "peer")
    out = ["# Registers", "", f"<!-- {GENERATED} -->", "",
           f"{root.top.get_property('desc')} The control registers are 32-bit words on the "
           f"AXI4-Lite port: the global registers at 0x000, then one block of "
           f"0x{agent.array_stride:X} bytes per agent (AGENTS agents, "
           f"{agent.array_dimensions[0]} by default, at most {1 << peer.width}). C firmware "
           "includes [`include/mirrorswap_regs.h`](../include/mirrorswap_regs.h); Python "
           "imports `mirrorswap.regmap`. Both are generated from the same source, "
           "`regmap/regs.rdl`.", "",
           "| access | meaning |", "|---|---|",
           *(f"| {a.upper()} | {t} |" for a, t in _ACCESS_TEXT.items()), "",
           "## Map", "", summary.rstrip("\n"), "", "## Codes", ""]
    for type_name, (encode, used) in _enums(root).items():
        out += [f"### {type_name}", "", f"Values of {', '.join(used)}.", "",
                "| value | name | meaning |", "|---|---|---|"]
        out += [f"| {m.value} | {m.name} | {m.rdl_desc} |" for m in encode]
        out.append("")
    out += ["## Global registers", ""]
    for reg in global_regs:
        out += _md_register(reg, "###")
    out += ["## Agent registers", "",
            f"Agent i's block is at 0x{agent.raw_address_offset:X} + "
            f"0x{agent.array_stride:X}*i; the offsets below are within it.", ""]
    for reg in agent_regs:
        out += _md_register(reg, "###")
    return "\n".join(out).rstrip("\n") + "\n"


def products():
    root = compile_rdl()
    return {"python": python_source(root), "cheader": c_header(root),
            "markdown": markdown_doc(root)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mirrorswap.regmap.generate",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files; exit 1 when any is stale")
    args = parser.parse_args(argv)
    stale = []
    for kind, text in products().items():
        path = PRODUCTS[kind]
        current = path.read_text() if path.exists() else ""
        if current == text:
            continue
        if args.check:
            stale.append(path)
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(),
                                        str(path), "generated", lineterm="", n=1)
            print("\n".join(list(diff)[:40]), file=sys.stderr)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    if stale:
        print("stale: " + ", ".join(str(p.relative_to(ROOT)) for p in stale) +
              " (run make regs)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
