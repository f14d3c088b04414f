"""``make bench``: performance of the whole mirrorswap_top in simulation (bench/run.py)."""
