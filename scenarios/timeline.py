"""Records what a user would watch during hot-plug: LEDs, modes, events, per slot; and,
for the RAS scenarios, the error counters, the firmware's count, and the phases of a flow."""

import cocotb
from cocotb.triggers import ClockCycles, ReadOnly

from mirrorswap.regmap import Led, Mode, agent_reg

__all__ = ["Timeline"]

_SC = agent_reg("SLOT_CTRL")

# notes drawn in the picture when note() is not told: the hot-swap walk-through's own
_MARKED = ("button", "module pulled", "module ")


class Timeline:
    """Samples every slot each ``every`` cycles and keeps the changes.

    Pins (power and attention LED, power_en, present, power_good) come from the top-level
    ports; the agent mode, the LED codes and (with ``counters``) CE_COUNT and UE_COUNT
    from the controller's and the register block's state (read through the simulator, so
    sampling never disturbs the bus). ``note()`` adds a line of narrative (a button press,
    a module pulled), ``record()`` a point of a named series (what the firmware counted),
    ``phase()`` starts a named span of time (a migration's steps), drawn as a band.

    Members
    -------
    samples : list of (int, list of dict)
        Cycle and per-slot state; with ``counters`` each dict also has ``ce`` and ``ue``.
    changes : list of (int, int or None, str)
        Cycle, slot (None: the whole system) and text, in order.
    series : dict of str to list of (int, int)
        Points given to :meth:`record`.
    phases : list of [int, int or None, str]
        Start, end (None while it runs) and name of each phase.
    """

    def __init__(self, tb, every=8, counters=False):
        self.tb = tb
        self.every = every
        self.counters = counters
        self.samples = []    # (cycle, [per slot dict])
        self.changes = []    # (cycle, slot or None, text)
        self.marks = set()   # indices into changes drawn as vertical lines
        self.series = {}
        self.phases = []
        self.cycle = 0
        self._last = None
        self._task = None

    def start(self):
        self._task = cocotb.start_soon(self._run())

    def stop(self):
        if self._task is not None:
            self._task.cancel()
        self.phase(None)

    def note(self, text, slot=None, mark=None):
        """Add ``text`` at this cycle; ``mark``: draw it as a labelled line in the
        picture (default: button presses and modules pulled or plugged in)."""
        if mark is None:
            mark = text.startswith(_MARKED) and "present" not in text
        if mark:
            self.marks.add(len(self.changes))
        self.changes.append((self.cycle, slot, text))

    def record(self, name, value):
        """Add the point (this cycle, ``value``) to the series ``name``."""
        self.series.setdefault(name, []).append((self.cycle, value))

    def sweep_progress(self, say, text="  slot {slot}: sweep {pct}%"):
        """A BIOS progress callback (``progress(slot, done, total)``) that notes each
        quarter of a slot's sweep on the timeline and tells it with ``say(text)``, where
        ``text`` may name ``slot``, ``pct`` and ``cycle``."""
        last = {}

        def progress(slot, done, total):
            pct = 100 * done // total
            if pct // 25 != last.get(slot, -1):
                last[slot] = pct // 25
                self.note(f"sweep {pct}%", slot)
                say(text.format(slot=slot, pct=pct, cycle=self.cycle))
        return progress

    def phase(self, name):
        """End the running phase here and start ``name`` (None: start none)."""
        if self.phases and self.phases[-1][1] is None:
            self.phases[-1][1] = self.cycle
        if name is not None:
            self.phases.append([self.cycle, None, name])
            self.changes.append((self.cycle, None, f"phase: {name}"))

    def _sample(self):
        dut = self.tb.dut
        state = []
        for i, slot in enumerate(self.tb.slots):
            ctrl = int(getattr(dut.regs, f"a{i}_slot_ctrl").value)
            s = {
                "mode": Mode(int(getattr(dut.ctrl, f"mode{i}").value)),
                "power_led_code": Led(_SC.power_led.get(ctrl)),
                "attn_led_code": Led(_SC.attn_led.get(ctrl)),
                "power_led": int(slot.pins["power_led"].value),
                "attn_led": int(slot.pins["attn_led"].value),
                "power_en": int(slot.pins["power_en"].value),
                "present": int(slot.pins["present"].value),
                "power_good": int(slot.pins["power_good"].value),
            }
            if self.counters:
                s["ce"] = int(getattr(dut.regs, f"a{i}_ce_count").value)
                s["ue"] = int(getattr(dut.regs, f"a{i}_ue_count").value)
            state.append(s)
        return state

    async def _run(self):
        while True:
            await ClockCycles(self.tb.dut.clk, self.every)
            await ReadOnly()
            self.cycle += self.every
            state = self._sample()
            self.samples.append((self.cycle, state))
            if self._last is not None:
                for i, (old, new) in enumerate(zip(self._last, state)):
                    for key, label in (("mode", "mode"), ("power_led_code", "power LED"),
                                       ("attn_led_code", "attention LED"),
                                       ("present", "module present"),
                                       ("power_good", "power good")):
                        if old[key] != new[key]:
                            value = new[key]
                            text = value.name if hasattr(value, "name") else str(value)
                            self.changes.append((self.cycle, i, f"{label} -> {text}"))
            self._last = state

    def text(self):
        lines = []
        for cycle, slot, text in self.changes:
            where = f"slot {slot}" if slot is not None else "      "
            lines.append(f"{cycle:>8}  {where}  {text}")
        return "\n".join(lines)

    def save_png(self, path, title="mirrorswap hot-swap", *, errors_of=(), threshold=None,
                 total="firmware total"):
        """Per slot: power LED, attention LED and mode over time, as a PNG.

        With ``errors_of`` (slots; needs ``counters``) a panel on top draws their CE_COUNT
        and UE_COUNT, every series of :meth:`record` (``total``, what the firmware
        counted, in blue) and ``threshold`` as a line. Phases are drawn as bands across
        every panel, named in the top one.
        """
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        slots = len(self.tb.slots)
        cycles = [c for c, _ in self.samples]
        errors = bool(errors_of) and self.counters
        rows = slots + errors
        fig, axes = plt.subplots(rows, 1, figsize=(12, 2.2 * rows + 0.4 * errors),
                                 sharex=True,
                                 gridspec_kw={"height_ratios": [1.4] * errors + [1] * slots})
        axes = list(axes)
        if errors:
            self._draw_errors(axes[0], cycles, errors_of, threshold, total)
        for i, ax in enumerate(axes[errors:]):
            mode = [s[i]["mode"] for _, s in self.samples]
            ax.step(cycles, [m / 4 * 0.9 for m in mode], where="post", color="black",
                    linewidth=1.2, label="mode")
            ax.step(cycles, [1.2 + 0.5 * s[i]["power_led"] for _, s in self.samples],
                    where="post", color="tab:green", linewidth=0.8, label="power LED")
            ax.step(cycles, [1.9 + 0.5 * s[i]["attn_led"] for _, s in self.samples],
                    where="post", color="tab:orange", linewidth=0.8, label="attention LED")
            ax.set_yticks([0, 0.9 * 0.25, 0.9 * 0.5, 0.9 * 0.75, 0.9, 1.45, 2.15])
            ax.set_yticklabels(["OFF", "IDLE", "ACTIVE", "MASTER", "SLAVE", "power", "attn"],
                               fontsize=7)
            ax.set_ylim(-0.1, 2.5)
            ax.set_ylabel(f"slot {i}", rotation=0, labelpad=25)
            for k, (cycle, slot, text) in enumerate(self.changes):
                if slot == i and k in self.marks:
                    ax.axvline(cycle, color="tab:blue", linewidth=0.6, linestyle=":")
                    ax.text(cycle, 2.45, " " + text.removeprefix("button: "), fontsize=6,
                            color="tab:blue", va="top", rotation=90)
        self._draw_phases(axes, named=axes[0])
        axes[-1].set_xlabel("clock cycles")
        axes[0].set_title(title)
        fig.legend(*axes[errors].get_legend_handles_labels(), loc="upper right", fontsize=7,
                   ncol=3)
        if errors:
            fig.legend(*axes[0].get_legend_handles_labels(), loc="upper left", fontsize=7,
                       ncol=4)
        fig.tight_layout(rect=(0, 0, 1, 0.98 - 0.02 * errors))
        fig.savefig(path, dpi=110)
        plt.close(fig)

    def _draw_errors(self, ax, cycles, slots, threshold, total):
        colours = iter(["tab:red", "tab:purple", "tab:brown", "tab:olive"])
        top = 1
        for i in slots:
            colour = next(colours)
            ce = [s[i]["ce"] for _, s in self.samples]
            ue = [s[i]["ue"] for _, s in self.samples]
            ax.step(cycles, ue, where="post", color=colour, linewidth=1.2,
                    label=f"slot {i} UE_COUNT")
            ax.step(cycles, ce, where="post", color=colour, linewidth=1.2, linestyle="--",
                    label=f"slot {i} CE_COUNT")
            top = max(top, *ue, *ce)
        others = iter(["tab:gray", "tab:cyan", "tab:pink"])
        for name, points in self.series.items():
            colour = "tab:blue" if name == total else next(others)
            ax.step([c for c, _ in points], [v for _, v in points], where="post",
                    color=colour, linewidth=0.9, marker=".", markersize=4, label=name)
            top = max(top, *(v for _, v in points))
        if threshold is not None:
            ax.axhline(threshold, color="gray", linewidth=0.8, linestyle=":",
                       label=f"threshold {threshold}")
            top = max(top, threshold)
        for k, (cycle, slot, text) in enumerate(self.changes):
            if slot is None and k in self.marks:
                ax.axvline(cycle, color="tab:blue", linewidth=0.6, linestyle=":")
                ax.text(cycle, top * 1.3, " " + text, fontsize=6, color="tab:blue", va="top",
                        rotation=90)
        ax.set_ylim(0, top * 1.35)
        ax.set_ylabel("errors", rotation=0, labelpad=25)

    def _draw_phases(self, axes, named):
        shades = ["#fde9c9", "#d9ecf8", "#e3f4dc", "#f3dcef", "#eeeeee"]
        for k, (start, end, name) in enumerate(self.phases):
            end = self.cycle if end is None else end
            for ax in axes:
                ax.axvspan(start, end, color=shades[k % len(shades)], zorder=0, linewidth=0)
            # staggered: a short phase's name does not overwrite its neighbour's
            named.text((start + end) / 2, 0.02 + 0.07 * (k % 3), name,
                       transform=named.get_xaxis_transform(), fontsize=6, ha="center",
                       va="bottom", color="dimgray")
