"""Generate the register map products from ``regmap/regs.rdl`` (``make regs``).

``python -m mirrorswap.regmap.generate`` writes them; ``--check`` only compares and exits 1 when any is
stale (a test runs that). Products:

- ``regmap/_data.py``: the register map as plain Python data, read by :mod:`mirrorswap.regmap`
  (so the RTL, the firmware and the tests need no SystemRDL tools at run time);
- ``include/mirrorswap_regs.h``: C header for firmware (PeakRDL cheader);
- ``docs/registers.md``: register documentation (PeakRDL markdown);
- the register table in ``README.md`` (between its ``regmap`` markers).
"""

import argparse
import difflib
import pprint
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent          # the checkout: the header, docs and README live there
RDL = HERE / "regs.rdl"
PRODUCTS = {
    "python": HERE / "_data.py",
    "cheader": ROOT / "include" / "mirrorswap_regs.h",
    "markdown": ROOT / "docs" / "registers.md",
    "readme": ROOT / "README.md",
}


def compile_rdl(agents=4):
    from systemrdl import RDLCompiler
    compiler = RDLCompiler()
    compiler.compile_file(str(RDL))
    return compiler.elaborate(top_def_name="mirrorswap", parameters={"AGENTS": agents})


def _access(field):
    from systemrdl.rdltypes import OnWriteType
    sw = field.get_property("sw").name
    if sw == "r":
        return "ro"
    if sw == "w":
        return "wo"
    if field.get_property("onwrite") == OnWriteType.woclr:
        return "rw1c"
    return "rw"


def _register(reg):
    fields = []
    accesses = set()
    for f in reg.fields():
        encode = f.get_property("encode")
        reset = f.get_property("reset")
        fields.append((f.inst_name, f.lsb, f.width, f.get_property("desc"),
                       reset if isinstance(reset, int) else 0,
                       encode.type_name if encode is not None else None))
        accesses.add(_access(f))
    if len(accesses) != 1:
        raise ValueError(f"register {reg.inst_name} mixes access types {sorted(accesses)}")
    return (reg.inst_name, reg.raw_address_offset, accesses.pop(), reg.get_property("desc"),
            tuple(fields))


def python_source(root):
    from systemrdl.node import RegNode, RegfileNode
    top = root.top
    global_regs, agent_regs, enums = [], [], {}
    agent_base = agent_stride = None
    for node in top.children():
        if isinstance(node, RegNode):
            global_regs.append(_register(node))
        elif isinstance(node, RegfileNode):
            agent_base, agent_stride = node.raw_address_offset, node.array_stride
            for reg in node.registers():
                agent_regs.append(_register(reg))
    for reg in top.descendants(unroll=False):
        if isinstance(reg, RegNode):
            for f in reg.fields():
                encode = f.get_property("encode")
                if encode is not None:
                    enums[encode.type_name] = {m.name: m.value for m in encode}
    out = ["# Generated from regmap/regs.rdl by `make regs` (regmap/generate.py); do not edit.",
           "# Registers: (name, offset, access, desc, fields); fields: (name, lsb, width, desc,",
           "# reset, enum).", ""]
    for name, value in (("ENUMS", enums), ("GLOBAL_REGS", global_regs),
                        ("AGENT_REGS", agent_regs)):
        out.append(f"{name} = {pprint.pformat(value, width=96, sort_dicts=False)}")
        out.append("")
    out.append(f"AGENT_BASE = {agent_base:#x}")
    out.append(f"AGENT_STRIDE = {agent_stride:#x}")
    return "\n".join(out) + "\n"


def _exported(root, kind):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("out.md" if kind == "markdown" else "out.h")
        if kind == "cheader":
            from peakrdl_cheader.exporter import CHeaderExporter
            CHeaderExporter().export(root, str(path))
        else:
            from peakrdl_markdown import MarkdownExporter
            MarkdownExporter().export(root.top, str(path))
        return path.read_text()


README = ROOT / "README.md"
_BEGIN, _END = "<!-- regmap:begin -->\n", "<!-- regmap:end -->"


def _readme(python_text):
    """README.md with its register table made from ``python_text`` (the new map data)."""
    namespace = {}
    exec(compile(python_text, "regmap_data", "exec"), namespace)
    from mirrorswap import regmap
    table = regmap.markdown(regmap._build(namespace["GLOBAL_REGS"]),
                            regmap._build(namespace["AGENT_REGS"]))
    text = README.read_text()
    head, rest = text.split(_BEGIN)
    _, tail = rest.split(_END)
    return head + _BEGIN + table + _END + tail


def products():
    root = compile_rdl()
    python = python_source(root)
    return {"python": python, "cheader": _exported(root, "cheader"),
            "markdown": _exported(root, "markdown"), "readme": _readme(python)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mirrorswap.regmap.generate", description=__doc__.split("\n")[0])
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
