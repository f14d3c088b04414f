"""cocotb harness for mirrorswap: runner, bench class and models, scoreboard, traffic."""
