"""Exceptions of the BIOS model: one class per command error code of SPEC section 4."""

from rtl.regmap import Err, Op

__all__ = ["CommandError", "CommandTimeout", "NoSpareError", "FlowError", "error_for"]


class CommandError(Exception):
    """A command finished with an error code; nothing changed in the hardware."""

    err = None

    def __init__(self, agent, op, err=None):
        err = Err(err if err is not None else self.err)
        op_name = Op(op).name if op in set(Op) else f"opcode {op}"
        super().__init__(f"agent {agent}: {op_name} refused with {err.name}")
        self.agent = agent
        self.op = op
        self.err = err


def _subclass(name, err):
    return type(name, (CommandError,), {"err": err, "__doc__": f"err {err.name}."})


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
__all__ += [cls.__name__ for cls in _BY_ERR.values()]


def error_for(err):
    """The exception class for a non-OK error code."""
    err = Err(err)
    if err is Err.OK:
        raise ValueError("Err.OK is not an error")
    return _BY_ERR[err]


class CommandTimeout(Exception):
    """A command stayed busy longer than the BIOS waits."""


class NoSpareError(Exception):
    """No IDLE module is large enough to take the range."""


class FlowError(Exception):
    """A flow failed and was rolled back; ``__cause__`` says why."""
