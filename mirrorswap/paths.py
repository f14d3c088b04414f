"""Where mirrorswap writes its outputs.

Every program writes under one build folder: ``$MIRRORSWAP_BUILD`` when set, else
``build/`` in the current working directory. Never next to the installed sources, so an
installed package and a checkout in any folder behave the same.
"""

import importlib.util
import os
from pathlib import Path

__all__ = ["build_root", "gateware_sources"]


def build_root():
    """The build folder (absolute): ``$MIRRORSWAP_BUILD`` or ``./build``."""
    return Path(os.environ.get("MIRRORSWAP_BUILD") or Path.cwd() / "build").resolve()


def gateware_sources():
    """The Python and SystemRDL files the generated Verilog is made from (the gateware and
    the register map, wherever they are installed): Verilog older than any is stale."""
    files = []
    for package in ("mirrorswap.rtl", "mirrorswap.regmap"):
        for folder in importlib.util.find_spec(package).submodule_search_locations:
            files += [p for p in Path(folder).rglob("*") if p.suffix in (".py", ".rdl")]
    return files
