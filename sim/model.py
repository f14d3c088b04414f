"""Reference model of the commands of SPEC section 4 (for benches): the checks
(:func:`expected_error`) and the effect of an accepted command (:func:`apply_command`)."""

from mirrorswap.geometry import DEFAULT
from mirrorswap.regmap import Err, Mode, Op

__all__ = ["expected_error", "apply_command"]


def expected_error(agent, op, peer, modes, regs, capacity, swept_upto, busy=False,
                   line_addr_width=29, page_lines=DEFAULT.page_lines):
    """The err a command gets, from the SPEC's checks in their order.

    ``modes``: Mode of every agent; ``regs[a]``: dict with BASE, SIZE, SWEEP_START,
    SWEEP_COUNT of agent a; ``capacity[a]``: lines; ``swept_upto``: of ``agent``;
    ``line_addr_width``: host line address bits; ``page_lines``: lines per 4 KiB (*P*).
    """
    n = len(modes)
    mode = modes[agent]
    r = regs[agent]
    if op not in {o.value for o in Op}:
        return Err.BAD_OPCODE
    if busy:
        return Err.BUSY
    if op == Op.ASSIGN:
        if mode != Mode.IDLE:
            return Err.BAD_STATE
        base, size = r["BASE"], r["SIZE"]
        if (size == 0 or base % page_lines or size % page_lines or size > capacity[agent]
                or base + size > 1 << line_addr_width):
            return Err.BAD_RANGE
        for k in range(n):
            if k != agent and modes[k] in (Mode.ACTIVE, Mode.MIRROR_MASTER):
                if base < regs[k]["BASE"] + regs[k]["SIZE"] and regs[k]["BASE"] < base + size:
                    return Err.OVERLAP
        return Err.OK
    if op == Op.ESTABLISH:
        if mode != Mode.ACTIVE:
            return Err.BAD_STATE
        if peer == agent or peer >= n or modes[peer] != Mode.IDLE:
            return Err.BAD_PEER
        if capacity[peer] < r["SIZE"]:
            return Err.CAPACITY
        return Err.OK
    if op == Op.SWEEP:
        if mode != Mode.MIRROR_MASTER:
            return Err.BAD_STATE
        start, count = r["SWEEP_START"], r["SWEEP_COUNT"]
        if count == 0 or start > swept_upto or start + count > r["SIZE"]:
            return Err.BAD_RANGE
        return Err.OK
    if op == Op.RELEASE:
        if mode != Mode.MIRROR_MASTER:
            return Err.BAD_STATE
        return Err.OK if swept_upto >= r["SIZE"] else Err.NOT_SWEPT
    if op == Op.ABORT:
        return Err.OK if mode == Mode.MIRROR_MASTER else Err.BAD_STATE
    return Err.OK if mode == Mode.ACTIVE else Err.BAD_STATE    # UNASSIGN


def apply_command(agent, op, peer, modes, peers, regs, swept_upto):
    """Apply the effect of an accepted command, in place: ``modes``, ``peers`` and
    ``swept_upto`` are per-agent lists, ``regs[a]`` a dict with BASE, SIZE, SWEEP_START and
    SWEEP_COUNT of agent a (ESTABLISH copies the range into the slave's)."""
    if op == Op.ASSIGN:
        modes[agent] = Mode.ACTIVE
    elif op == Op.ESTABLISH:
        modes[agent], peers[agent] = Mode.MIRROR_MASTER, peer
        modes[peer], peers[peer] = Mode.MIRROR_SLAVE, agent
        swept_upto[agent] = 0
        regs[peer]["BASE"], regs[peer]["SIZE"] = regs[agent]["BASE"], regs[agent]["SIZE"]
    elif op == Op.SWEEP:
        end = regs[agent]["SWEEP_START"] + regs[agent]["SWEEP_COUNT"]
        swept_upto[agent] = max(swept_upto[agent], end)
    elif op in (Op.RELEASE, Op.ABORT):
        slave = peers[agent]
        release = op == Op.RELEASE
        modes[agent] = Mode.IDLE if release else Mode.ACTIVE
        modes[slave] = Mode.ACTIVE if release else Mode.IDLE
        swept_upto[agent] = 0
    elif op == Op.UNASSIGN:
        modes[agent] = Mode.IDLE
