"""Reference model of the command checks of SPEC section 4 (for benches)."""

from mirrorswap.regmap import Err, Mode, Op, RANGE_ALIGN

__all__ = ["expected_error"]


def expected_error(agent, op, peer, modes, regs, capacity, swept_upto, busy=False,
                   line_addr_width=29):
    """The err a command gets, from the SPEC's checks in their order.

    ``modes``: Mode of every agent; ``regs[a]``: dict with BASE, SIZE, SWEEP_START,
    SWEEP_COUNT of agent a; ``capacity[a]``: lines; ``swept_upto``: of ``agent``.
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
        if (size == 0 or base % RANGE_ALIGN or size % RANGE_ALIGN or size > capacity[agent]
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
