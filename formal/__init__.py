"""Formal proofs of the migration invariants (SymbiYosys harness, runner, wrappers)."""
