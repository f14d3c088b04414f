"""The register map of SPEC section 3 for RTL, firmware, tests and docs.

Its source is ``regmap/regs.rdl`` (SystemRDL); ``make regs`` turns that into
``regmap/_data.py``, which this module wraps in typed objects. Plain Python (no Amaranth,
no SystemRDL tools), so firmware imports it on a board without the HDL toolchain. Nothing
else in the project writes a register offset or a field position as a number.
"""

import enum
from dataclasses import dataclass, field as _dc_field

__all__ = [
    "Mode", "Op", "Err", "Event", "Led", "Access", "Field", "Register",
    "ID_VALUE", "GLOBAL_REGS", "AGENT_REGS", "AGENT_BASE", "AGENT_STRIDE", "REG_ADDR_WIDTH",
    "LINE_BYTES", "RANGE_ALIGN", "global_reg", "agent_reg", "agent_offset",
]


from mirrorswap.geometry import DEFAULT as _DEFAULT_GEOMETRY
from . import _data

Mode = enum.IntEnum("Mode", _data.ENUMS["mode_e"])
Mode.__doc__ = "Agent modes, STATUS.mode."
Op = enum.IntEnum("Op", _data.ENUMS["op_e"])
Op.__doc__ = "Command opcodes, CMD.opcode."
Err = enum.IntEnum("Err", _data.ENUMS["err_e"])
Err.__doc__ = "Error codes of the last command, STATUS.err."
Led = enum.IntEnum("Led", {k.removeprefix("LED_"): v for k, v in _data.ENUMS["led_e"].items()})
Led.__doc__ = "SLOT_CTRL LED field values."
_ENUM_TYPES = {"mode_e": Mode, "op_e": Op, "err_e": Err, "led_e": Led}


class Access(enum.Enum):
    """A register's access type (every field of a register shares it)."""

    RO = "ro"      # read only; a write answers SLVERR and changes nothing
    RW = "rw"
    WO = "wo"      # write only; reads as 0
    RW1C = "rw1c"  # write 1 to clear
    RW1S = "rw1s"  # write 1 to set; only reset clears


@dataclass(frozen=True)
class Field:
    name: str
    lsb: int
    width: int
    desc: str
    reset: int = 0
    enum: type = None

    @property
    def mask(self):
        return ((1 << self.width) - 1) << self.lsb

    def get(self, value):
        """Extract this field from a register value."""
        raw = (value >> self.lsb) & ((1 << self.width) - 1)
        return self.enum(raw) if self.enum is not None and raw in set(self.enum) else raw

    def put(self, value=0, field_value=0):
        """Return ``value`` with this field replaced by ``field_value``."""
        field_value = int(field_value)
        if not 0 <= field_value < (1 << self.width):
            raise ValueError(f"{self.name} takes {self.width} bits, not {field_value}")
        return (value & ~self.mask) | (field_value << self.lsb)


@dataclass(frozen=True)
class Register:
    name: str
    offset: int
    access: Access
    desc: str
    fields: tuple = _dc_field(default_factory=tuple)

    def __getattr__(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        raise AttributeError(f"register {self.name} has no field {name!r}")

    @property
    def reset(self):
        value = 0
        for f in self.fields:
            value |= f.reset << f.lsb
        return value

    @property
    def writable_mask(self):
        return 0 if self.access is Access.RO else sum(f.mask for f in self.fields)


def _build(regs):
    return tuple(
        Register(name, offset, Access(access), desc, tuple(
            Field(fname, lsb, width, fdesc, reset, _ENUM_TYPES.get(enum_name))
            for fname, lsb, width, fdesc, reset, enum_name in fields))
        for name, offset, access, desc, fields in regs)


GLOBAL_REGS = _build(_data.GLOBAL_REGS)
AGENT_REGS = _build(_data.AGENT_REGS)
AGENT_BASE = _data.AGENT_BASE
AGENT_STRIDE = _data.AGENT_STRIDE
REG_ADDR_WIDTH = 12
# Of the default build (64-bit data); a build of another DATA_WIDTH has its own
# (mirrorswap.geometry.Geometry, the line size read from CONFIG).
LINE_BYTES = _DEFAULT_GEOMETRY.line_bytes
RANGE_ALIGN = _DEFAULT_GEOMETRY.page_lines  # lines: BASE and SIZE are multiples of 4 KiB

Event = enum.IntFlag("Event", {f.name.upper(): 1 << f.lsb
                               for f in next(r for r in AGENT_REGS if r.name == "EVENTS").fields})
Event.__doc__ = "Bits of EVENTS and IRQ_EN."
ID_VALUE = next(r for r in GLOBAL_REGS if r.name == "ID").reset


def global_reg(name):
    for r in GLOBAL_REGS:
        if r.name == name:
            return r
    raise KeyError(f"no global register {name!r}")


def agent_reg(name):
    for r in AGENT_REGS:
        if r.name == name:
            return r
    raise KeyError(f"no agent register {name!r}")


def agent_offset(agent, name):
    """Byte offset of register ``name`` of ``agent`` on the AXI4-Lite port."""
    if not isinstance(agent, int) or agent < 0:
        raise ValueError(f"Agent index must be a non-negative integer, not {agent!r}")
    return AGENT_BASE + AGENT_STRIDE * agent + agent_reg(name).offset


def _field_text(reg):
    if len(reg.fields) == 1 and reg.fields[0].lsb == 0:
        f = reg.fields[0]
        return f"[{f.width - 1}:0] {f.desc}"
    parts = []
    for f in reg.fields:
        bits = f"[{f.lsb}]" if f.width == 1 else f"[{f.lsb + f.width - 1}:{f.lsb}]"
        parts.append(f"{bits} {f.name}")
    return ", ".join(parts)


def markdown(global_regs=None, agent_regs=None):
    """The register map as Markdown tables (in ``docs/registers.md`` and printed by
    ``mirrorswap regmap``)."""
    global_regs = GLOBAL_REGS if global_regs is None else global_regs
    agent_regs = AGENT_REGS if agent_regs is None else agent_regs
    lines = ["Global registers, at 0x000:", "",
             "| offset | name | access | reset | fields |", "|---|---|---|---|---|"]
    for r in global_regs:
        lines.append(f"| 0x{r.offset:02X} | {r.name} | {r.access.value.upper()} | "
                     f"0x{r.reset:X} | {_field_text(r)} |")
    lines += ["", f"Agent i, at 0x{AGENT_BASE:X} + 0x{AGENT_STRIDE:X}*i:", "",
              "| offset | name | access | reset | fields |", "|---|---|---|---|---|"]
    for r in agent_regs:
        lines.append(f"| 0x{r.offset:02X} | {r.name} | {r.access.value.upper()} | "
                     f"0x{r.reset:X} | {_field_text(r)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
