"""mirrorswap: memory hot-swap without the OS.

One package, one folder of the repository per room:

=========================  ============  ==============================================
package                    folder        what it holds
=========================  ============  ==============================================
``mirrorswap.rtl``         ``rtl/``      the gateware (Amaranth components only)
``mirrorswap.regmap``      ``regmap/``   the register map: ``regs.rdl`` and its products
``mirrorswap.firmware``    ``firmware/`` the BIOS model, register backends, the CLI
``mirrorswap.sim``         ``sim/``      the cocotb harness library (BFMs, models, runner)
``mirrorswap.scenarios``   ``scenarios/`` programs on the harness (``make sim``, soak)
``mirrorswap.flows``       ``flows/``    tool flows: Verilog, lint, synthesis
``mirrorswap.example``     ``example/``  the example FPGA top (block RAM, AXI4-Lite bridge)
``mirrorswap.formal``      ``formal/``   the formal proofs and their runner
``mirrorswap.bench``       ``bench/``    the performance bench (``make bench``)
=========================  ============  ==============================================

Only ``mirrorswap.regmap`` and ``mirrorswap.firmware`` import without Amaranth; the
other rooms need the extras named in ``pyproject.toml``.
"""

__version__ = "0.1.0"
