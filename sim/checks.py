"""Whole-memory checks for benches on the top level: every published line through the
backdoor of the module that serves it and through the host port, against the scoreboard's
reference memory."""

import cocotb

__all__ = ["preload", "read_back", "check_all"]


def preload(tb, sb, memory_map):
    """Fill every published range with random data (from ``tb.rng``) through the backdoor
    of the module serving it, and record it in the scoreboard's reference memory."""
    lb = tb.geometry.line_bytes
    for r in memory_map.ranges:
        data = tb.rng.randbytes(r.size_lines * lb)
        tb.mems[memory_map.owners[r]].write(0, data)
        sb.preload(r.base_line * lb, data)


async def read_back(tb, sb, lines, *, rng, what, outstanding=4):
    """Read ``lines`` (host line numbers, in runs of up to 16) through the host port,
    ``outstanding`` bursts at a time, and check each against the reference."""
    lb, page = tb.geometry.line_bytes, tb.geometry.page_lines
    bursts = []
    for line in sorted(lines):
        if bursts and bursts[-1][0] + bursts[-1][1] == line and bursts[-1][1] < 16 \
                and line % page:      # a burst never crosses 4 KiB
            bursts[-1][1] += 1
        else:
            bursts.append([line, 1])
    bad = 0

    async def reader(part):
        nonlocal bad
        for line, n in part:
            expected = sb.expect_read(line * lb, n * lb)
            r = await tb.host.read(line * lb, n * lb, arid=rng.randrange(tb.ids))
            if not sb.read_done(expected, r.resp, r.data, f"{what}: host read"):
                bad += 1

    tasks = [cocotb.start_soon(reader(bursts[k::outstanding])) for k in range(outstanding)]
    for t in tasks:
        await t
    return bad


async def check_all(tb, sb, memory_map, *, sample, rng, what, full=False):
    """Check every published line through the backdoor of the module that serves it, and
    through the host port either every line (``full``) or ``sample`` random 8-line bursts.

    Only exact while no host write is in flight (stop or quiesce the traffic first).
    Returns the number of failed checks; each is also recorded in the scoreboard.
    """
    bad = 0
    lb = tb.geometry.line_bytes
    for r in memory_map.ranges:
        slot = memory_map.owners[r]
        got = tb.mems[slot].read(0, r.size_lines * lb)
        want = sb.memory.read(r.base_line * lb, r.size_lines * lb)
        if got != want:
            for i in range(0, len(want), lb):
                if got[i:i + lb] != want[i:i + lb]:
                    sb.check(r.base_line * lb + i, want[i:i + lb], got[i:i + lb],
                             f"{what}: slot {slot} backdoor, module line {i // lb:#x}")
                    bad += 1
    if full:
        lines = [line for r in memory_map.ranges for line in range(r.base_line, r.end_line)]
    else:
        lines = []
        for _ in range(sample):
            r = rng.choice(memory_map.ranges)
            first = rng.randrange(r.base_line, r.end_line - 8)
            first -= first % 8
            lines.extend(range(first, first + 8))
        lines = sorted(set(lines))
    return bad + await read_back(tb, sb, lines, rng=rng, what=what)
