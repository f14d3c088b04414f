"""Signatures and layouts shared by every block of mirrorswap (the one place they live).

Members are named as in the AXI specification (``awaddr``, ``wvalid``, ...), flat, so that a
component member ``s_axi`` flattens to the conventional ``s_axi_awaddr`` port names that FPGA
tools and cocotbext-axi's ``AxiBus.from_prefix`` expect.
"""

import enum

from amaranth.hdl import Cat, Const, Value
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from mirrorswap.geometry import DEFAULT as DEFAULT_GEOMETRY, Geometry

__all__ = [
    "Burst", "Resp", "AXI_CHANNELS", "AXI4Signature", "AXI4LiteSignature", "SlotSignature",
    "ROUTE_LAYOUT", "MIRROR_LAYOUT", "SLOT_STATE_LAYOUT", "ErrorReportSignature", "SweepControlSignature",
    "HostClaimSignature", "SweepClaimSignature", "AddressChannelSignature", "HOST_CLAIMS",
    "HOST_ID", "SWEEP_ID", "check_int",
    "claim_bits", "check_claim_bits", "line_geometry", "pack_struct",
]

# AXI IDs the home agents use on their memory ports, to route responses back.
HOST_ID = 0
SWEEP_ID = 1


class Burst(enum.IntEnum):
    FIXED = 0
    INCR = 1
    WRAP = 2


class Resp(enum.IntEnum):
    OKAY = 0
    EXOKAY = 1
    SLVERR = 2
    DECERR = 3


#: The five AXI channels, each with whether the manager drives its VALID and payload (AW,
#: W, AR) or the subordinate does (B, R).
AXI_CHANNELS = {"aw": True, "w": True, "ar": True, "r": False, "b": False}

#: Each channel's payload fields (member name = channel + field), in signature order.
_PAYLOAD = {
    "aw": ("id", "addr", "len", "size", "burst", "lock", "cache", "prot", "qos"),
    "w": ("data", "strb", "last"),
    "b": ("id", "resp"),
    "ar": ("id", "addr", "len", "size", "burst", "lock", "cache", "prot", "qos"),
    "r": ("id", "data", "resp", "last"),
}
#: The channels that carry a user bit on a port with ``user=True`` (poison, SPEC section 7:
#: AXI5 WPOISON / RPOISON carried in ``wuser`` / ``ruser``).
_USER_CHANNELS = ("w", "r")


def check_int(name, value, minimum=1, error=ValueError):
    """Raise ``error`` unless ``value`` is an integer (not a bool) of at least ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise error(f"{name} must be an integer of at least {minimum}, not {value!r}")


def line_geometry(data_width):
    """The line geometry of an engine on a ``data_width``-bit bus: one line per beat
    (:class:`mirrorswap.geometry.Geometry`). A bus narrower than 64 bits, which only the
    formal harnesses build (one byte lane keeps their state small), keeps the addressing
    of 8-byte lines: the same address arithmetic as the default build."""
    return Geometry(data_width) if data_width >= 64 else DEFAULT_GEOMETRY


def _check_width(name, value, minimum=1):
    check_int(name, value, minimum, TypeError)


class AXI4Signature(wiring.Signature):
    """Full AXI4, from the manager's point of view (``flip()`` it for a subordinate).

    All channel signals of AXI4 are present except ``*region`` and ``*user``; with
    ``user`` the W and R channels carry a 1-bit ``wuser`` / ``ruser``, the poison bit of
    SPEC section 7 (the memory-side ports have it, the host port does not).

    Parameters
    ----------
    addr_width : int
        Byte address width.
    data_width : int
        Data width in bits, a multiple of 8.
    id_width : int
        Transaction ID width.
    read, write : bool
        Include the read channels (AR, R) and the write channels (AW, W, B). Internal
        ports that only read or only write leave the other half out.
    user : bool
        Add ``wuser`` (W) and ``ruser`` (R), one bit each: poison.
    """

    def __init__(self, *, addr_width, data_width, id_width, read=True, write=True,
                 user=False):
        _check_width("Address width", addr_width)
        _check_width("Data width", data_width, 8)
        _check_width("ID width", id_width)
        if data_width % 8:
            raise ValueError(f"Data width must be a multiple of 8, not {data_width}")
        self._addr_width = addr_width
        self._data_width = data_width
        self._id_width = id_width
        self._read = bool(read)
        self._write = bool(write)
        self._user = bool(user)
        if not (read or write):
            raise ValueError("An AXI4 port needs a read half, a write half or both")
        shapes = {"id": id_width, "addr": addr_width, "len": 8, "size": 3, "burst": 2,
                  "lock": 1, "cache": 4, "prot": 3, "qos": 4, "data": data_width,
                  "strb": data_width // 8, "last": 1, "resp": 2, "user": 1}
        members = {}
        for ch in ("aw",) * write + ("ar",) * read + ("w", "b") * write + ("r",) * read:
            forward = AXI_CHANNELS[ch]       # the manager drives VALID and payload
            for name in self.channel_members(ch, handshake=False, user=user):
                shape = shapes[name[len(ch):]]
                members[name] = Out(shape) if forward else In(shape)
            members[f"{ch}valid"] = Out(1) if forward else In(1)
            members[f"{ch}ready"] = In(1) if forward else Out(1)
        super().__init__(members)

    @property
    def addr_width(self):
        return self._addr_width

    @property
    def data_width(self):
        return self._data_width

    @property
    def id_width(self):
        return self._id_width

    @property
    def read(self):
        return self._read

    @property
    def write(self):
        return self._write

    @property
    def user(self):
        return self._user

    @staticmethod
    def channel_members(channel, *, ids=True, handshake=True, user=True):
        """Names of the members of one AXI channel, in signature order.

        Parameters
        ----------
        channel : str
            ``"aw"``, ``"w"``, ``"b"``, ``"ar"`` or ``"r"``.
        ids : bool
            Include the channel's ID (``awid``, ``bid``, ``arid``, ``rid``; W has none).
        handshake : bool
            Include its ``valid`` and ``ready``.
        user : bool
            Include ``wuser`` / ``ruser`` (W and R), which only ports with ``user=True``
            have: callers that copy members filter by the signature's own.

        Raises
        ------
        ValueError
            ``channel`` is not one of the five.
        """
        if channel not in AXI_CHANNELS:
            raise ValueError(f"AXI channel must be one of {', '.join(AXI_CHANNELS)}, "
                             f"not {channel!r}")
        names = tuple(channel + field for field in _PAYLOAD[channel]
                      if ids or field != "id")
        if user and channel in _USER_CHANNELS:
            names += (f"{channel}user",)
        return names + ((f"{channel}valid", f"{channel}ready") if handshake else ())

    def flow_members(self, flow, channels=tuple(AXI_CHANNELS), *, ids=True):
        """Names of this signature's members of ``channels`` whose flow is ``flow``
        (``Out``: driven by the manager, ``In``: by the subordinate), in signature order;
        ``ids=False`` leaves the ID members out."""
        names = {n for ch in channels for n in self.channel_members(ch, ids=ids)}
        return tuple(n for n, member in self.members.items()
                     if n in names and member.flow == flow)

    def __eq__(self, other):
        return (type(other) is type(self) and other.addr_width == self.addr_width and
                other.data_width == self.data_width and other.id_width == self.id_width and
                other.read == self.read and other.write == self.write and
                other.user == self.user)

    def __repr__(self):
        return (f"AXI4Signature(addr_width={self.addr_width}, data_width={self.data_width}, "
                f"id_width={self.id_width}, read={self.read}, write={self.write}, "
                f"user={self.user})")


class AXI4LiteSignature(wiring.Signature):
    """AXI4-Lite, from the manager's point of view.

    Parameters
    ----------
    addr_width : int
        Byte address width.
    data_width : int
        32 or 64.
    """

    def __init__(self, *, addr_width, data_width=32):
        _check_width("Address width", addr_width)
        if data_width not in (32, 64):
            raise ValueError(f"AXI4-Lite data width must be 32 or 64, not {data_width}")
        self._addr_width = addr_width
        self._data_width = data_width
        super().__init__({
            "awaddr": Out(addr_width), "awprot": Out(3), "awvalid": Out(1), "awready": In(1),
            "wdata": Out(data_width), "wstrb": Out(data_width // 8), "wvalid": Out(1),
            "wready": In(1),
            "bresp": In(2), "bvalid": In(1), "bready": Out(1),
            "araddr": Out(addr_width), "arprot": Out(3), "arvalid": Out(1), "arready": In(1),
            "rdata": In(data_width), "rresp": In(2), "rvalid": In(1), "rready": Out(1),
        })

    @property
    def addr_width(self):
        return self._addr_width

    @property
    def data_width(self):
        return self._data_width

    def __eq__(self, other):
        return (type(other) is type(self) and other.addr_width == self.addr_width and
                other.data_width == self.data_width)

    def __repr__(self):
        return f"AXI4LiteSignature(addr_width={self.addr_width}, data_width={self.data_width})"


class SlotSignature(wiring.Signature):
    """One memory slot's pins, as seen from the top level (``slot<i>_*`` ports).

    Members
    -------
    present : In(1)
        A module is seated.
    capacity_log2 : In(5)
        log2 of the seated module's capacity in lines (from its SPD).
    power_good : In(1)
        The slot's supply is up.
    button : In(1)
        Raw attention button, active high, not debounced.
    power_en : Out(1)
        Switch the slot's supply on.
    power_led, attn_led : Out(1)
        The LEDs themselves (1 = lit).

    Parameters
    ----------
    capacity : bool
        With the ``capacity_log2`` input (default). Without it for a board whose modules
        are on chip, so their size is a constant rather than a pin.
    """

    def __init__(self, *, capacity=True):
        self._capacity = bool(capacity)
        members = {"present": In(1)}
        if capacity:
            members["capacity_log2"] = In(5)
        members.update({"power_good": In(1), "button": In(1),
                        "power_en": Out(1), "power_led": Out(1), "attn_led": Out(1)})
        super().__init__(members)

    def __eq__(self, other):
        return type(other) is type(self) and other._capacity == self._capacity

    def __repr__(self):
        return f"SlotSignature(capacity={self._capacity})"


#: What the host port and the decoder need to know of one agent. ``end`` is BASE + SIZE
#: (the controller keeps it as a register, so the decoder compares without adding first);
#: 33 bits, as a range may end at line 2**32 (32-bit line numbers, 64-byte lines).
ROUTE_LAYOUT = data.StructLayout({"mode": 3, "peer": 4, "base": 32, "size": 32, "end": 33})

#: What the host read engine needs to know of one agent for read failover (SPEC section 7):
#: ``failover`` is RAS_CTRL.failover_en of a MIRROR_MASTER (0 in every other mode), and
#: lines below ``swept_upto`` are valid on its slave (``routes[i].peer``).
MIRROR_LAYOUT = data.StructLayout({"failover": 1, "swept_upto": 32})

#: Slot pins the controller watches.
SLOT_STATE_LAYOUT = data.StructLayout({"present": 1, "power_good": 1, "capacity_log2": 5})


class ErrorReportSignature(wiring.Signature):
    """A one-cycle report of a memory error: ``valid`` with the agent and its line offset.

    ``corrected`` (host reads only): the error was corrected, the beat served by the
    mirror slave (CE_COUNT, the ``corrected`` event); else it was not (UE_COUNT and the
    ``mem_error`` event for a host read beat answered SLVERR, memory error or poison).
    """

    def __init__(self):
        super().__init__({"valid": Out(1), "agent": Out(4), "line": Out(32),
                          "corrected": Out(1)})


class SweepControlSignature(wiring.Signature):
    """The controller's side of one sweep engine.

    ``start`` (one cycle) begins copying ``count`` lines from line offset ``start_line``;
    ``cancel`` stops issuing and finishes early. The engine pulses ``progress_valid`` with
    ``progress_end`` each time lines ``[.., progress_end)`` are known copied, in order, and
    ``done`` once nothing is in flight any more, with ``failed`` and ``err_line`` when a
    memory error stopped it.

    Poison copy (SPEC section 7): with ``poison_en`` (sampled at ``start``) a line whose
    read fails (SLVERR or ``ruser``) is written to the slave with ``wuser`` = 1 and the
    sweep goes on; ``poison_valid`` pulses with ``poison_line`` for each such line.
    """

    def __init__(self):
        super().__init__({
            "start": Out(1), "start_line": Out(32), "count": Out(32), "cancel": Out(1),
            "poison_en": Out(1),
            "done": In(1), "failed": In(1), "err_line": In(32),
            "progress_valid": In(1), "progress_end": In(32),
            "poison_valid": In(1), "poison_line": In(32),
        })


def claim_bits(max_capacity_log2, sweep_burst):
    """Low bits of module-local line numbers that the claim compares (host write against
    sweep, both ways) need to look at (timing: shorter carry chains). Every line number
    and claim bound stays below ``2**claim_bits``: a range has at most
    ``2**max_capacity_log2`` lines, a host burst ends at most 511 lines and a sweep claim
    ``2 * sweep_burst`` lines past it (17 bits for the default 16 and any burst up to 256)."""
    check_int("Sweep burst", sweep_burst, 1)
    top = 2 ** max_capacity_log2 + max(511, 2 * sweep_burst)
    return top.bit_length()


def check_claim_bits(value):
    """Raise ``ValueError`` unless ``value`` is a claim width from 1 to 32 bits."""
    check_int("Claim bits", value, 1)
    if value > 32:
        raise ValueError(f"Claim bits must be at most 32, not {value!r}")


class AddressChannelSignature(wiring.Signature):
    """One AXI4 address channel (AW or AR) as a request front takes it, members without
    their channel prefix: ``valid``, ``ready`` and the fields the host port looks at
    (``id``, ``addr``, ``len``, ``size``, ``burst``)."""

    def __init__(self, *, addr_width, id_width):
        _check_width("Address width", addr_width)
        _check_width("ID width", id_width)
        super().__init__({"valid": Out(1), "ready": In(1), "id": Out(id_width),
                          "addr": Out(addr_width), "len": Out(8), "size": Out(3),
                          "burst": Out(2)})


#: Forwarded host writes in flight at once, by default: the entries of the host write
#: engine's ``claim`` and of each sweep engine's ``host``.
HOST_CLAIMS = 4


class HostClaimSignature(wiring.Signature):
    """Lines a host write is writing right now: ``[lo, hi]`` (module-local, inclusive) of
    ``agent``, from memory AW issue until both B responses are back. The host write
    engine has several (one per forwarded write in flight), each sweep engine sees them
    all."""

    def __init__(self):
        super().__init__({"active": Out(1), "agent": Out(4), "lo": Out(32), "hi": Out(32)})


class SweepClaimSignature(wiring.Signature):
    """Lines a sweep engine has in flight or may issue next: ``[lo, hi)``, module-local,
    meaningful while ``active``."""

    def __init__(self):
        super().__init__({"active": Out(1), "lo": Out(32), "hi": Out(32)})


def pack_struct(layout, fields):
    """One value of the struct ``layout`` from ``fields`` (field name -> value), in the
    layout's own field order, each value zero-extended to its field's width.

    Assigned whole, a combinational struct is one assignment in the generated Verilog:
    Verilator takes a vector assigned field by field, whose fields Yosys may compute from
    one another, for a combinational loop.
    """
    parts = []
    for name, field in sorted(layout, key=lambda item: item[1].offset):
        value = fields[name]
        if isinstance(value, dict):
            value = pack_struct(field.shape, value)
        value = Value.cast(value)
        width = field.width
        if len(value) < width:
            value = Cat(value, Const(0, width - len(value)))
        parts.append(value[:width])
    return Cat(*parts)
