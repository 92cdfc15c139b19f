"""README's table of model families names every registry family, with its templates and LoRA targets as the
registry has them, so the table cannot drift from the code."""
import re
from pathlib import Path

from sartor.model.registry import MODEL_MAPPING

README = Path(__file__).resolve().parents[2] / "README.md"


def table_rows() -> dict[str, list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Model families and what is verified"):]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and re.fullmatch(r"[a-z0-9_]+", cells[0]) and cells[0] != "family":
            rows[cells[0]] = cells
    return rows


def test_every_registry_family_has_a_row_that_matches_the_registry():
    rows = table_rows()
    families: dict[str, list] = {}
    for meta in MODEL_MAPPING.values():
        families.setdefault(meta.family, []).append(meta)
    assert set(rows) == set(families)
    for name, metas in families.items():
        cells = rows[name]
        assert int(cells[1]) == len(metas), name
        assert set(cells[2].split(", ")) == {a for m in metas for a in (m.architectures or ["?"])}, name
        for template in {m.template for m in metas}:
            assert template in cells[3], (name, template)
        targets = {t for m in metas for t in m.lora_target_modules}
        shown = cells[4].rstrip(".").split(" / ")[0]
        assert shown.split(", ")[0] in targets, name
