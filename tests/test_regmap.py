"""The register map: generated from regmap/regs.rdl, current, and its Python API."""

import pytest

from mirrorswap import regmap
from mirrorswap.regmap import generate as regs_gen
from mirrorswap.regmap import Access, Err, Mode, Op, agent_offset, agent_reg, global_reg


def test_generated_products_are_current():
    """regmap/_data.py, the C header and docs/registers.md match the RDL."""
    assert regs_gen.main(["--check"]) == 0, "run make regs"


def test_spec_offsets_and_codes():
    # SPEC section 3 and 4, as a reader of the SPEC would check them
    assert regmap.ID_VALUE == 0x48535750
    assert [(r.name, r.offset) for r in regmap.GLOBAL_REGS] == [
        ("ID", 0x00), ("CONFIG", 0x04), ("DEBOUNCE", 0x08), ("BLINK", 0x0C),
        ("IRQ_SUMMARY", 0x10), ("LOCK", 0x14)]
    assert [(r.name, r.offset) for r in regmap.AGENT_REGS] == [
        ("STATUS", 0x00), ("CMD", 0x04), ("BASE", 0x08), ("SIZE", 0x0C), ("CAPACITY", 0x10),
        ("SWEEP_START", 0x14), ("SWEEP_COUNT", 0x18), ("SWEPT_UPTO", 0x1C),
        ("THROTTLE", 0x20), ("ERR_ADDR", 0x24), ("SLOT_CTRL", 0x28), ("EVENTS", 0x2C),
        ("IRQ_EN", 0x30), ("CE_COUNT", 0x34), ("UE_COUNT", 0x38), ("RAS_CTRL", 0x3C)]
    assert [(f.name, f.lsb) for f in agent_reg("EVENTS").fields] == [
        ("cmd_done", 0), ("button", 1), ("presence_changed", 2), ("mem_error", 3),
        ("power_fault", 4), ("failover", 5), ("corrected", 6)]
    ras = agent_reg("RAS_CTRL")   # SPEC section 7
    assert [(f.name, f.lsb, f.width) for f in ras.fields] == [
        ("failover_en", 0, 1), ("poison_en", 1, 1)] and ras.reset == 0
    assert agent_offset(2, "CMD") == 0x100 + 0x80 + 0x04
    assert [m.name for m in Mode] == ["OFF", "IDLE", "ACTIVE", "MIRROR_MASTER",
                                      "MIRROR_SLAVE"]
    assert [(o.name, o.value) for o in Op] == [("ASSIGN", 1), ("ESTABLISH", 2), ("SWEEP", 3),
                                               ("RELEASE", 4), ("ABORT", 5), ("UNASSIGN", 6)]
    assert Err.BUSY == 10 and Err.BAD_OPCODE == 9 and Err.POWER == 8
    status = agent_reg("STATUS")
    assert [(f.name, f.lsb, f.width) for f in status.fields] == [
        ("mode", 0, 3), ("busy", 4, 1), ("swept", 5, 1), ("peer", 8, 4), ("err", 16, 4),
        ("present", 24, 1), ("power_good", 25, 1)]
    assert agent_reg("EVENTS").access is Access.RW1C
    lock = global_reg("LOCK")   # SPEC section 8
    assert lock.access is Access.RW1S and lock.reset == 0
    assert [(f.name, f.lsb, f.width) for f in lock.fields] == [("secure_only", 0, 1)]
    assert global_reg("DEBOUNCE").reset == 16 and global_reg("BLINK").reset == 64


def test_field_encode_decode():
    cmd = agent_reg("CMD")
    value = cmd.peer.put(cmd.opcode.put(0, Op.ESTABLISH), 3)
    assert value == 0x302
    assert cmd.opcode.get(value) is Op.ESTABLISH and cmd.peer.get(value) == 3
    assert agent_reg("STATUS").mode.get(0x3) is Mode.MIRROR_MASTER
    with pytest.raises(ValueError, match="peer takes 4 bits, not 16"):
        cmd.peer.put(0, 16)


def test_bad_lookups():
    with pytest.raises(KeyError, match="no agent register 'NOPE'"):
        agent_reg("NOPE")
    with pytest.raises(ValueError, match="Agent index must be a non-negative integer, not -1"):
        agent_offset(-1, "CMD")


def test_access_types_from_the_rdl():
    """Every access type comes from the RDL's sw and onwrite, and reaches the docs and the
    C header; an onwrite with no access type here is refused by name."""
    from systemrdl.node import FieldNode
    root = regs_gen.compile_rdl()
    kinds = {}
    for node in root.top.descendants(unroll=False):
        if isinstance(node, FieldNode):
            kinds.setdefault(regs_gen._access(node), []).append(node.parent.inst_name)
    assert set(kinds) == {a.value for a in Access}
    assert set(kinds["rw1s"]) == {"LOCK"} and set(kinds["rw1c"]) == {"EVENTS"}
    products = regs_gen.products()
    assert "| RW1S | read; a write sets the bits written as 1" in products["markdown"]
    assert "| 0x14 | LOCK | RW1S | 0x0 |" in products["markdown"]
    assert "volatile uint32_t LOCK;" in products["cheader"]
    assert "const volatile uint32_t LOCK;" not in products["cheader"]


def test_unknown_onwrite_is_refused(tmp_path, monkeypatch):
    rdl = regs_gen.RDL.read_text().replace("onwrite = woset;", "onwrite = wzc;")
    (tmp_path / "regs.rdl").write_text(rdl)
    monkeypatch.setattr(regs_gen, "RDL", tmp_path / "regs.rdl")
    with pytest.raises(ValueError, match=r"mirrorswap\.LOCK\.secure_only: onwrite = wzc "
                                         r"has no access type here"):
        regs_gen.products()
