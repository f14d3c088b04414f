"""Records what a user would watch during hot-plug: LEDs, modes, events, per slot."""

import cocotb
from cocotb.triggers import ClockCycles, ReadOnly

from mirrorswap.regmap import Led, Mode, agent_reg

__all__ = ["Timeline"]

_SC = agent_reg("SLOT_CTRL")


class Timeline:
    """Samples every slot each ``every`` cycles and keeps the changes.

    Pins (power and attention LED, power_en, present, power_good) come from the top-level
    ports; the agent mode and the LED codes from the controller's and the register
    block's state (read through the simulator, so sampling never disturbs the bus).
    ``note()`` adds a line of narrative (a button press, a module pulled).
    """

    def __init__(self, tb, every=8):
        self.tb = tb
        self.every = every
        self.samples = []    # (cycle, [per slot dict])
        self.changes = []    # (cycle, slot or None, text)
        self.cycle = 0
        self._last = None
        self._task = None

    def start(self):
        self._task = cocotb.start_soon(self._run())

    def stop(self):
        if self._task is not None:
            self._task.cancel()

    def note(self, text, slot=None):
        self.changes.append((self.cycle, slot, text))

    def _sample(self):
        dut = self.tb.dut
        state = []
        for i, slot in enumerate(self.tb.slots):
            ctrl = int(getattr(dut.regs, f"a{i}_slot_ctrl").value)
            state.append({
                "mode": Mode(int(getattr(dut.ctrl, f"mode{i}").value)),
                "power_led_code": Led(_SC.power_led.get(ctrl)),
                "attn_led_code": Led(_SC.attn_led.get(ctrl)),
                "power_led": int(slot.pins["power_led"].value),
                "attn_led": int(slot.pins["attn_led"].value),
                "power_en": int(slot.pins["power_en"].value),
                "present": int(slot.pins["present"].value),
                "power_good": int(slot.pins["power_good"].value),
            })
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

    def save_png(self, path, title="mirrorswap hot-swap"):
        """Per slot: power LED, attention LED and mode over time, as a PNG."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        slots = len(self.tb.slots)
        cycles = [c for c, _ in self.samples]
        fig, axes = plt.subplots(slots, 1, figsize=(12, 2.2 * slots), sharex=True)
        for i, ax in enumerate(axes):
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
            for cycle, slot, text in self.changes:
                if slot == i and text.startswith(("button", "module pulled", "module ")) \
                        and "present" not in text:
                    ax.axvline(cycle, color="tab:blue", linewidth=0.6, linestyle=":")
                    ax.text(cycle, 2.45, " " + text.removeprefix("button: "), fontsize=6,
                            color="tab:blue", va="top", rotation=90)
        axes[-1].set_xlabel("clock cycles")
        axes[0].set_title(title)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="upper right", fontsize=7,
                   ncol=3)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
