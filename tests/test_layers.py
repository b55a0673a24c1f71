"""Imports point one way: the contracts of pyproject.toml hold, and the key rules by parsing.

The contracts (import-linter, also run by ``lint-imports`` in .ci/run) are the layering:
ui → cli → evaluation → core → answer → verify → retrieve → index → ingest | models →
settings | citations → records → text | errors. The checks by parsing below need no tool
and state the rules a change is most likely to break.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "assistant"
CONTRACTS = {"layers", "ui", "retrieval", "cycles"}


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


def _modules(path: Path) -> set[str]:
    """The modules ``path`` imports: ``from a import b`` gives a.b when b is a module, else a."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            folder = ROOT.joinpath(*node.module.split("."))
            for alias in node.names:
                is_module = ((folder / f"{alias.name}.py").is_file()
                             or (folder / alias.name).is_dir())
                found.add(f"{node.module}.{alias.name}" if is_module else node.module)
    return found


def _offending(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(f"{p.relative_to(ROOT)} imports {name}" for p in paths
                  for name in _imports(p) if name.startswith(forbidden))


def test_the_import_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    """Every contract of pyproject.toml is kept (the report ``lint-imports`` prints)."""
    from importlinter import configuration
    from importlinter.application import use_cases

    configuration.configure()
    config = str(ROOT / "pyproject.toml")
    assert {c["id"] for c in use_cases.read_user_options(config).contracts_options} == CONTRACTS
    kept = use_cases.lint_imports(config_filename=config, cache_dir=None, no_logo=True)
    report = capsys.readouterr().out
    assert kept, report
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in report


def test_retrieval_imports_neither_the_verifier_nor_answering() -> None:
    below = [PACKAGE / "text.py",
             *(p for stage in ("ingest", "models", "index", "retrieve")
               for p in sorted((PACKAGE / stage).glob("*.py")))]
    assert _offending(below, ("assistant.answer", "assistant.verify", "assistant.core",
                              "assistant.cli", "ui")) == []


def test_the_stores_and_the_plan_do_not_import_the_pipeline() -> None:
    """Stores store and load; the plan decides; only the pipeline (indexing, batch) runs them."""
    index = PACKAGE / "index"
    stores = [index / f"{m}.py" for m in ("faiss_store", "qdrant_store", "vectorstore")]
    assert _offending(stores, ("assistant.index.indexing", "assistant.index.batch")) == []
    plan = [index / "refresh_plan.py"]
    assert _offending(plan, ("assistant.index.indexing", "assistant.index.batch",
                             "assistant.index.faiss_store", "assistant.index.qdrant_store")) == []


def test_answering_does_not_import_the_facade_or_its_callers() -> None:
    answering = sorted((PACKAGE / "answer").glob("*.py"))
    assert _offending(answering, ("assistant.core", "assistant.cli", "ui")) == []


def test_settings_import_no_stage() -> None:
    settings = _modules(PACKAGE / "settings.py")
    assert {m for m in settings if m.startswith(("assistant", "ui"))} == {"assistant.errors"}


def test_the_ui_imports_only_the_facade_the_records_and_the_errors() -> None:
    allowed = {"assistant", "assistant.core", "assistant.records", "assistant.errors"}
    found = {f"{p.relative_to(ROOT)} imports {m}" for p in sorted((ROOT / "ui").glob("*.py"))
             for m in _modules(p) if m.startswith("assistant") and m not in allowed}
    assert found == set()


def test_the_checks_see_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import assistant.verify\nfrom assistant.answer import decide\n"
                      "from assistant import citations, Assistant\n")
    assert _imports(module) >= {"assistant.verify", "assistant.answer.decide"}
    assert _modules(module) == {"assistant.verify", "assistant.answer.decide",
                                "assistant.citations", "assistant"}
