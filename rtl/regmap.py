"""The register map of SPEC section 3, the single source for RTL, firmware, tests and docs.

Plain Python (no Amaranth), so firmware imports it on a board without the HDL toolchain.
Every offset, field position, access type, reset value and code of mirrorswap lives here;
nothing else in the project writes a register offset or a field position as a number.
"""

import enum
from dataclasses import dataclass, field as _dc_field

__all__ = [
    "Mode", "Op", "Err", "Event", "Led", "Access", "Field", "Register",
    "ID_VALUE", "GLOBAL_REGS", "AGENT_REGS", "AGENT_BASE", "AGENT_STRIDE", "REG_ADDR_WIDTH",
    "LINE_BYTES", "RANGE_ALIGN", "global_reg", "agent_reg", "agent_offset",
]


class Mode(enum.IntEnum):
    """Agent modes, STATUS.mode."""
    OFF = 0
    IDLE = 1
    ACTIVE = 2
    MIRROR_MASTER = 3
    MIRROR_SLAVE = 4


class Op(enum.IntEnum):
    """Command opcodes, CMD.opcode."""
    ASSIGN = 1
    ESTABLISH = 2
    SWEEP = 3
    RELEASE = 4
    ABORT = 5
    UNASSIGN = 6


class Err(enum.IntEnum):
    """Error codes of the last command, STATUS.err."""
    OK = 0
    BAD_STATE = 1
    BAD_PEER = 2
    CAPACITY = 3
    NOT_SWEPT = 4
    MEM_ERROR = 5
    OVERLAP = 6
    BAD_RANGE = 7
    POWER = 8
    BAD_OPCODE = 9
    BUSY = 10


class Event(enum.IntFlag):
    """Bits of EVENTS and IRQ_EN."""
    CMD_DONE = 1 << 0
    BUTTON = 1 << 1
    PRESENCE_CHANGED = 1 << 2
    MEM_ERROR = 1 << 3
    POWER_FAULT = 1 << 4


class Led(enum.IntEnum):
    """SLOT_CTRL LED field values."""
    OFF = 0
    ON = 1
    BLINK = 2


class Access(enum.Enum):
    RO = "ro"      # read only; a write answers SLVERR and changes nothing
    RW = "rw"
    WO = "wo"      # write only; reads as 0
    RW1C = "rw1c"  # write 1 to clear


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


def _whole(name, desc, width=32, reset=0):
    return (Field(name, 0, width, desc, reset),)


ID_VALUE = 0x48535750  # "HSWP"
REG_ADDR_WIDTH = 12
AGENT_BASE = 0x100
AGENT_STRIDE = 0x40
LINE_BYTES = 8
RANGE_ALIGN = 512  # lines: BASE and SIZE are multiples of 4 KiB

_EVENT_FIELDS = tuple(
    Field(e.name.lower(), e.bit_length() - 1, 1, f"{e.name.lower().replace('_', ' ')} event")
    for e in Event)

GLOBAL_REGS = (
    Register("ID", 0x00, Access.RO, "identification", _whole("id", "0x48535750", reset=ID_VALUE)),
    Register("CONFIG", 0x04, Access.RO, "elaboration parameters", (
        Field("agents", 0, 8, "number of agents"),
        Field("line_bytes", 8, 8, "bytes per line"),
        Field("max_capacity_log2", 16, 8, "log2 of the largest module in lines"),
    )),
    Register("DEBOUNCE", 0x08, Access.RW,
             "cycles a button level must be stable to count",
             _whole("cycles", "debounce cycles", 16, reset=16)),
    Register("BLINK", 0x0C, Access.RW, "cycles per half period of a blinking LED",
             _whole("cycles", "blink half period", 16, reset=64)),
    Register("IRQ_SUMMARY", 0x10, Access.RO, "bit i: agent i has an enabled event",
             _whole("agents", "one bit per agent", 16)),
)

AGENT_REGS = (
    Register("STATUS", 0x00, Access.RO, "agent state", (
        Field("mode", 0, 3, "agent mode", enum=Mode),
        Field("busy", 4, 1, "a command is executing"),
        Field("swept", 5, 1, "SWEPT_UPTO >= SIZE"),
        Field("peer", 8, 4, "mirror peer (master: its slave; slave: its master)"),
        Field("err", 16, 4, "error of the last command", enum=Err),
        Field("present", 24, 1, "a module is seated"),
        Field("power_good", 25, 1, "the slot's supply is up"),
    )),
    Register("CMD", 0x04, Access.WO, "command", (
        Field("opcode", 0, 4, "command opcode", enum=Op),
        Field("peer", 8, 4, "peer agent argument"),
    )),
    Register("BASE", 0x08, Access.RW, "first line of the range (multiple of 512)",
             _whole("line", "first line")),
    Register("SIZE", 0x0C, Access.RW, "lines in the range (multiple of 512)",
             _whole("lines", "lines in range")),
    Register("CAPACITY", 0x10, Access.RO, "lines in the seated module, 0 when none",
             _whole("lines", "module capacity in lines")),
    Register("SWEEP_START", 0x14, Access.RW, "first line offset of the next SWEEP",
             _whole("line", "first line offset")),
    Register("SWEEP_COUNT", 0x18, Access.RW, "lines the next SWEEP copies",
             _whole("lines", "line count")),
    Register("SWEPT_UPTO", 0x1C, Access.RO, "lines [0, SWEPT_UPTO) equal on master and slave",
             _whole("lines", "swept watermark")),
    Register("THROTTLE", 0x20, Access.RW, "minimum cycles between two sweep line copies",
             _whole("cycles", "throttle cycles", 16)),
    Register("ERR_ADDR", 0x24, Access.RO, "line offset of the last memory error",
             _whole("line", "failing line offset")),
    Register("SLOT_CTRL", 0x28, Access.RW, "slot power and LEDs", (
        Field("power_en", 0, 1, "switch the slot's supply on"),
        Field("power_led", 2, 2, "power LED", enum=Led),
        Field("attn_led", 4, 2, "attention LED", enum=Led),
    )),
    Register("EVENTS", 0x2C, Access.RW1C, "events, write 1 to clear", _EVENT_FIELDS),
    Register("IRQ_EN", 0x30, Access.RW, "events that raise irq", _EVENT_FIELDS),
)


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


def markdown():
    """The register map as Markdown tables (README.md includes this text verbatim)."""
    lines = ["Global registers, at 0x000:", "",
             "| offset | name | access | reset | fields |", "|---|---|---|---|---|"]
    for r in GLOBAL_REGS:
        lines.append(f"| 0x{r.offset:02X} | {r.name} | {r.access.value.upper()} | "
                     f"0x{r.reset:X} | {_field_text(r)} |")
    lines += ["", f"Agent i, at 0x{AGENT_BASE:X} + 0x{AGENT_STRIDE:X}*i:", "",
              "| offset | name | access | reset | fields |", "|---|---|---|---|---|"]
    for r in AGENT_REGS:
        lines.append(f"| 0x{r.offset:02X} | {r.name} | {r.access.value.upper()} | "
                     f"0x{r.reset:X} | {_field_text(r)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
