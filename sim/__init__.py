"""The cocotb harness library of mirrorswap: the runner that builds and runs benches
(:mod:`.runner`), the top-level bench class and BFM helpers (:mod:`.tb`), memory models
(:mod:`.memory`), host traffic (:mod:`.traffic`), the scoreboard (:mod:`.scoreboard`), the
Python model of the contract's command rules (:mod:`.model`), a model of the register port
(:mod:`.regmodel`), the route-table reference (:mod:`.routes`) and whole-memory checks
(:mod:`.checks`). Programs built on it live in :mod:`mirrorswap.scenarios`."""
