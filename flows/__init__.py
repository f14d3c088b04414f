"""Tool flows: Verilog generation (:mod:`.verilog`, ``make verilog``), Verilator lint
(:mod:`.lint`) and ECP5 synthesis with the YoWASP tools (:mod:`.synth`)."""
