"""Exceptions of the BIOS model: one class per command error code of SPEC section 4, the
failures of the flows, and :func:`check_int`, the argument check every layer uses.

The classes are built from :class:`mirrorswap.regmap.Err`, so a code added to the register map
without a class here fails at import (see ``_BY_ERR``).
"""

from mirrorswap.regmap import Err, Op

__all__ = ["CommandError", "CommandTimeout", "NoSpareError", "FlowError", "error_for",
           "check_int"]


def check_int(what, value, minimum=1):
    """:class:`ValueError` naming ``what`` and ``value`` unless ``value`` is an integer of at
    least ``minimum`` (a bool is not one: ``True`` as a cycle count is a caller's slip)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, not {value!r}")


class CommandError(Exception):
    """A command finished with a non-OK ``err``.

    SPEC section 4: a refused command changes no state (for MEM_ERROR: the sweep keeps
    what it copied before the failing line, and the mirror stays in place).

    Members
    -------
    agent : int
        The agent whose CMD was written.
    op : Op or int
        The opcode written (an int when it is not a valid :class:`Op`).
    err : Err
        The error code read from STATUS.err; each subclass fixes it.
    """

    err = None

    def __init__(self, agent, op, err=None):
        err = Err(err if err is not None else self.err)
        op_name = Op(op).name if op in set(Op) else f"opcode {op}"
        super().__init__(f"agent {agent}: {op_name} refused with {err.name}")
        self.agent = agent
        self.op = op
        self.err = err


def _subclass(name, err):
    return type(name, (CommandError,), {
        "err": err, "__doc__": f"A command finished with err {err.name} ({int(err)})."})


BadState = _subclass("BadState", Err.BAD_STATE)
BadPeer = _subclass("BadPeer", Err.BAD_PEER)
CapacityError = _subclass("CapacityError", Err.CAPACITY)
NotSwept = _subclass("NotSwept", Err.NOT_SWEPT)
MemError = _subclass("MemError", Err.MEM_ERROR)
Overlap = _subclass("Overlap", Err.OVERLAP)
BadRange = _subclass("BadRange", Err.BAD_RANGE)
PowerError = _subclass("PowerError", Err.POWER)
BadOpcode = _subclass("BadOpcode", Err.BAD_OPCODE)
Busy = _subclass("Busy", Err.BUSY)

_BY_ERR = {cls.err: cls for cls in (BadState, BadPeer, CapacityError, NotSwept, MemError,
                                     Overlap, BadRange, PowerError, BadOpcode, Busy)}
if set(_BY_ERR) != set(Err) - {Err.OK}:
    # a code added to regs.rdl needs its class here, or error_for would hit a KeyError
    raise ImportError(f"no CommandError class for "
                      f"{sorted(e.name for e in set(Err) - {Err.OK} - set(_BY_ERR))}")
__all__ += [cls.__name__ for cls in _BY_ERR.values()]


def error_for(err):
    """The :class:`CommandError` subclass for a non-OK error code (an ``Err`` or int)."""
    err = Err(err)
    if err is Err.OK:
        raise ValueError("Err.OK is not an error")
    return _BY_ERR[err]


class CommandTimeout(TimeoutError):
    """A command stayed busy longer than the BIOS waits (``Bios.timeout_cycles``)."""


class NoSpareError(Exception):
    """No IDLE module other than the source is large enough to take the range.

    Raised before any register is written.
    """


class FlowError(Exception):
    """A flow failed; ``__cause__`` is the failure that stopped it.

    A migration that fails after ESTABLISH was ABORTed before this is raised: the source
    keeps serving its range (unless the message says the ABORT failed too).
    """
