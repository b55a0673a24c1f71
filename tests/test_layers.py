"""Imports point one way: retrieval below answering, the UI through the facade and records."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; ``from a import b`` gives a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _offending(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(f"{p.relative_to(ROOT)} imports {name}" for p in paths
                  for name in _imports(p) if name.startswith(forbidden))


def test_retrieval_imports_neither_the_verifier_nor_answering() -> None:
    below = [ROOT / "assistant" / "text.py",
             *(p for stage in ("ingest", "models", "index", "retrieve")
               for p in sorted((ROOT / "assistant" / stage).glob("*.py")))]
    assert _offending(below, ("assistant.answer", "assistant.verify", "assistant.core",
                              "assistant.cli")) == []


def test_the_stores_and_the_plan_do_not_import_the_pipeline() -> None:
    """Stores store and load; the plan decides; only the pipeline (indexing, batch) runs them."""
    index = ROOT / "assistant" / "index"
    stores = [index / f"{m}.py" for m in ("faiss_store", "qdrant_store", "vectorstore")]
    assert _offending(stores, ("assistant.index.indexing", "assistant.index.batch")) == []
    plan = [index / "refresh_plan.py"]
    assert _offending(plan, ("assistant.index.indexing", "assistant.index.batch",
                             "assistant.index.faiss_store", "assistant.index.qdrant_store")) == []


def test_answering_does_not_import_the_facade_or_its_callers() -> None:
    answering = sorted((ROOT / "assistant" / "answer").glob("*.py"))
    assert _offending(answering, ("assistant.core", "assistant.cli", "ui")) == []


def test_the_ui_imports_nothing_of_answering() -> None:
    ui = sorted((ROOT / "ui").glob("*.py"))
    assert _offending(ui, ("assistant.answer", "assistant.verify")) == []


def test_the_check_sees_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import assistant.verify\nfrom assistant.answer import decide\n")
    assert _imports(module) >= {"assistant.verify", "assistant.answer.decide"}
