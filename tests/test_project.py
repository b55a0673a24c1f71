"""Checks over the whole project: no unpickling anywhere, dependencies above their advisories."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PROJECT

UNPICKLERS = {"pickle", "cPickle", "_pickle", "dill", "joblib", "shelve", "cloudpickle"}


def unsafe_loads(source: str) -> list[str]:
    """Calls in ``source`` that can unpickle: pickle-style loads, ``allow_pickle`` set true,
    ``torch.load`` without ``weights_only=True``. Found by parsing, not by text search."""
    import ast

    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNPICKLERS:
            for alias in node.names:
                if alias.name in ("load", "loads", "Unpickler", "open"):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        flag = keywords.get("allow_pickle")
        if isinstance(flag, ast.Constant) and flag.value is True:
            found.append(f"line {node.lineno}: allow_pickle set true")
        func = node.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            continue
        module = aliases.get(func.value.id, func.value.id)
        if module in UNPICKLERS and func.attr in ("load", "loads", "Unpickler", "open"):
            found.append(f"line {node.lineno}: {module}.{func.attr}")
        if module == "torch" and func.attr == "load":
            safe = keywords.get("weights_only")
            if not (isinstance(safe, ast.Constant) and safe.value is True):
                found.append(f"line {node.lineno}: torch.load without weights_only=True")
    return found


def _project_python_files() -> list[Path]:
    skip = {".git", ".venv", "venv", "build", "dist", "node_modules", "__pycache__"}
    data = {"index", "corpus"}  # the project's data folders (not the assistant.index package)
    return [p for p in PROJECT.rglob("*.py")
            if p.relative_to(PROJECT).parts[0] not in data
            and not any(part in skip or part.startswith(".") or part.endswith(".egg-info")
                        for part in p.relative_to(PROJECT).parts)]


def test_no_unpickling_anywhere_in_the_project() -> None:
    files = _project_python_files()
    assert PROJECT / "assistant" / "index" / "faiss_store.py" in files and Path(__file__) in files
    problems = {str(p.relative_to(PROJECT)): unsafe_loads(p.read_text(encoding="utf-8"))
                for p in files}
    assert {k: v for k, v in problems.items() if v} == {}


@pytest.mark.parametrize(("source", "bad"), [
    ("import pickle\npickle" + ".load(f)", True),
    ("import pickle as p\np.loads(b)", True),
    ("from pickle import loads\n", True),
    ("import numpy as np\nnp.load('x.npy', allow_" + "pickle=True)", True),
    ("import torch\ntorch.load('m.pt')", True),
    ("import torch\ntorch.load('m.pt', weights_only=False)", True),
    ("import joblib\njoblib.load('m')", True),
    ("import torch\ntorch.load('m.pt', weights_only=True)", False),
    ("import numpy as np\nnp.load('x.npy')", False),
    ("import json\njson.load(f)\ntext = 'pickle" + ".load(f)'", False),
])
def test_the_unpickling_check_itself(source: str, bad: bool) -> None:
    assert bool(unsafe_loads(source)) is bad


def test_dependencies_have_safe_lower_bounds() -> None:
    import tomllib
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.version import Version

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    requirements = {Requirement(r).name.lower().replace("_", "-"): Requirement(r)
                    for r in project["dependencies"]}
    floors = {"gradio": "6.31.0", "llama-cpp-python": "0.3.36", "torch": "2.6",
              "jinja2": "3.1.6", "lxml-html-clean": "0.4.0", "h11": "0.16.0",
              "pyyaml": "5.4", "sentence-transformers": "6.2.0", "faiss-cpu": "1.15.1",
              "trafilatura": "2.3.1"}
    for name, floor in floors.items():
        spec = requirements[name].specifier
        lowest = [Version(s.version) for s in spec if s.operator in (">=", "==", "~=")]
        assert lowest and min(lowest) >= Version(floor), (name, str(spec))
    for requirement in requirements.values():  # what is installed satisfies them all
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        assert requirement.specifier.contains(installed, prereleases=True), (
            requirement, installed)
