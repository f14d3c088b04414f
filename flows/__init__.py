"""Tool flows: Verilog generation (:mod:`.verilog`, ``make verilog``), Verilator lint
(:mod:`.lint`), ECP5 synthesis (:mod:`.synth`), and how the YoWASP tools are found and run
(:mod:`.tools`)."""
