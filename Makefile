# mirrorswap: every target sets the machine up first (virtualenv, pinned installs, Icarus).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export AMARANTH_USE_YOSYS := builtin

# Elaboration parameters of the generated top (SPEC section 1 defaults).
AGENTS ?= 4
DATA_WIDTH ?= 64
ADDR_WIDTH ?= 32
ID_WIDTH ?= 4
MAX_CAP_LOG2 ?= 16
GEN_ARGS := --agents $(AGENTS) --data-width $(DATA_WIDTH) --addr-width $(ADDR_WIDTH) --id-width $(ID_WIDTH) \
            --max-capacity-log2 $(MAX_CAP_LOG2)

# make sim options: SCENARIO (migrate, swap, failing or mirror: RAS, docs/ras.md, failing with
# THRESHOLD; or cpu: the PicoRV32 SoC, docs/soc.md; with OPS),
# SEED, SLOT (0-2), LOAD (0..1), MODULE_LINES,
# BACKPRESSURE (0..1), DATA_WIDTH (64, 128, 256, 512), WAVES=1
# (not LINES: shells set that to the terminal height)
SIM_ARGS := $(if $(SEED),--seed $(SEED)) $(if $(SLOT),--slot $(SLOT)) \
            $(if $(LOAD),--load $(LOAD)) $(if $(MODULE_LINES),--lines $(MODULE_LINES)) \
            $(if $(BACKPRESSURE),--backpressure $(BACKPRESSURE)) \
            $(if $(SCENARIO),--scenario $(SCENARIO)) $(if $(OPS),--ops $(OPS)) \
            $(if $(THRESHOLD),--threshold $(THRESHOLD)) \
            $(if $(filter-out 64,$(DATA_WIDTH)),--data-width $(DATA_WIDTH)) \
            $(if $(filter 1,$(WAVES)),--waves)
JOBS ?= 2

.PHONY: all setup verilog board lint synth regs sim soak soak-long bench formal test test-slow clean firmware \
        bitstream

all: test

$(STAMP): pyproject.toml constraints.txt scripts/bootstrap.sh
	VENV=$(VENV) scripts/bootstrap.sh

setup: $(STAMP)

verilog: $(STAMP)
	$(PY) -m mirrorswap.flows.verilog $(GEN_ARGS)

# the example FPGA top: block-RAM modules of 2^MODULE_LINES_LOG2 lines, one AXI4-Lite port
board: $(STAMP)
	$(PY) -m mirrorswap.flows.verilog --board --agents $(AGENTS) --data-width $(DATA_WIDTH) \
	    $(if $(MODULE_LINES_LOG2),--module-lines-log2 $(MODULE_LINES_LOG2))

# make lint options: LINT_AGENTS (agent counts at 64 bits, default 1,2,4,8), LINT_WIDTHS
# (data widths, default 64,128,256,512; the wider ones at 4 agents and their widest addresses)
lint: $(STAMP)
	$(PY) -m mirrorswap.flows.lint $(if $(LINT_AGENTS),--agents $(LINT_AGENTS)) \
	    $(if $(LINT_WIDTHS),--data-widths $(LINT_WIDTHS))

# make synth options: ONLY (one block, e.g. mirrorswap_top), SEEDS (e.g. 1,2,3,4: the
# same netlist placed once per seed, the report gives the lowest Fmax and each seed's)
synth: $(STAMP)
	$(PY) -m mirrorswap.flows.synth $(if $(ONLY),--only $(ONLY)) $(if $(SEEDS),--seeds $(SEEDS))

# regmap/_data.py, include/mirrorswap_regs.h and docs/registers.md from regmap/regs.rdl
# (tests/test_regmap.py fails when any is stale)
regs: $(STAMP)
	$(PY) -m mirrorswap.regmap.generate

# the PicoRV32 SoC for the ULX3S 85F: build/ulx3s/mirrorswap_soc.bit (YoWASP yosys, nextpnr,
# ecppack; some minutes); PROGRAM=1 loads it with openFPGALoader (docs/soc.md)
bitstream: $(STAMP)
	$(PY) -m mirrorswap.soc.ulx3s $(if $(filter 1,$(PROGRAM)),--program)

# the C BIOS and workload of the PicoRV32 SoC into build/c/ (riscv64-unknown-elf-gcc)
firmware: $(STAMP)
	$(PY) -m mirrorswap.firmware.cbuild

sim: $(STAMP)
	$(PY) -m mirrorswap.scenarios.run $(SIM_ARGS)

# make soak options: SEED, MINUTES (default 3) or EPISODES, SIM (icarus, the default, or
# verilator), SEEDS (e.g. 101-172: one soak per seed, JOBS at once, and their totals),
# LOAD, WORKERS, POLL (docs/reliability.md); reproduces exactly from these
soak: $(STAMP)
	$(PY) -m mirrorswap.scenarios.soak $(if $(SEEDS),--seeds $(SEEDS) --jobs $(JOBS),$(if $(SEED),--seed $(SEED))) \
	    $(if $(MINUTES),--minutes $(MINUTES)) $(if $(EPISODES),--episodes $(EPISODES)) \
	    $(if $(SIM),--sim $(SIM)) $(if $(LOAD),--load $(LOAD)) $(if $(WORKERS),--workers $(WORKERS)) \
	    $(if $(POLL),--poll $(POLL)) $(if $(filter-out 64,$(DATA_WIDTH)),--data-width $(DATA_WIDTH))

# the long soak of docs/reliability.md (Verilator, JOBS seeds at once)
soak-long: $(STAMP)
	$(PY) -m mirrorswap.scenarios.soak --seeds 101-172 --episodes 70 --load 1.0 --workers 8 \
	    --poll 16 --sim verilator --jobs $(JOBS)

# make bench options: SIM (icarus, the default, or verilator), DATA_WIDTH (64, 128, 256,
# 512), QUICK=1 (a smoke run into build/bench only; otherwise docs/performance.md and the
# plot are regenerated)
bench: $(STAMP)
	$(PY) -m mirrorswap.bench.run $(if $(SIM),--sim $(SIM)) --data-width $(DATA_WIDTH) \
	    $(if $(filter 1,$(QUICK)),--quick,--docs docs)

formal: $(STAMP)
	$(PY) -m mirrorswap.formal.run

# make test options: SIM (icarus, the default, or verilator), JOBS (default 2)
test: $(STAMP)
	$(if $(SIM),SIM=$(SIM)) $(PY) -m pytest -n $(JOBS) -m "not slow" tests

# the measurements kept out of make test's 10 minutes (read latency beside a sweep,
# command stalls, the wide front race; SIM=verilator adds the C BIOS on the SoC)
test-slow: $(STAMP)
	$(if $(SIM),SIM=$(SIM)) $(PY) -m pytest -n $(JOBS) -m slow tests

clean:
	rm -rf build sim_build .pytest_cache
