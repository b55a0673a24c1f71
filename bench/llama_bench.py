"""Writing speed: the project's decoding against llama.cpp's own benchmark, same GGUF, same run.

Run ``python bench/llama_bench.py`` (``--help`` for options). It builds ``llama-bench``
from the llama.cpp sources that ship inside the installed llama-cpp-python's source
package (downloaded once from PyPI with ``pip download``, built with cmake into
``--build``; the CPU flags are those of the README's install), then, one after the
other on the same machine:

1. ``llama-bench -t THREADS -p 0 -n 64 -d 0,DEPTH``: tokens per second writing 64
   tokens after an empty context and after ``DEPTH`` tokens of context;
2. the project's :class:`LlamaCppGenerator` answering, with the two reports' whole
   prompt (about ``DEPTH`` tokens) read ahead as in corpus mode, questions that ask for
   long replies: tokens per second after the first token (the prompt's reading left out).

It prints both and their ratio (the issue's target: at least 90% of llama.cpp's own
figure at the same depth and threads) and writes ``bench/results/llama_bench_<label>.json``.

With ``--reading``, it compares reading instead: the project's generator reading the
retrieved-mode draft prompts of the first calibration questions (blind19; the system
prompt held from the question before, as in use), timed to the first token (which follows
the reading with no decoding step), against ``llama-bench -p READ -n 0 -d HELD`` with the
median tokens read and held, in the project's batch of 512.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from machine import machine_info  # noqa: E402

from assistant.answer import draft  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.models.files import resolve_model  # noqa: E402
from assistant.models.generation import LlamaCppGenerator  # noqa: E402
from assistant.settings import Settings  # noqa: E402

FLAGS = ["-DGGML_NATIVE=OFF", "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON",
         "-DGGML_F16C=ON", "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF",
         "-DCMAKE_BUILD_TYPE=Release"]
QUESTIONS = (
    "Summarise in three sentences what the reports say about the H200 and the H20 chips.",
    "Which agencies led the emergency meetings, and what were the companies asked for?",
    "What did the reports say about Nvidia's China revenue and its market share?",
)


def llama_bench(build: Path) -> Path:
    """The llama-bench binary of the installed llama-cpp-python's llama.cpp (built once)."""
    import llama_cpp

    version = llama_cpp.__version__
    binary = build / f"llama-cpp-python-{version}" / "build" / "bin" / "llama-bench"
    if binary.is_file():
        return binary
    build.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:",
                    "--no-deps", "-q", "-d", str(build), f"llama-cpp-python=={version}"],
                   check=True)
    archive = next(build.glob(f"llama_cpp_python-{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(build, filter="data")
    source = build / f"llama_cpp_python-{version}" / "vendor" / "llama.cpp"
    out = binary.parent.parent
    subprocess.run(["cmake", "-S", str(source), "-B", str(out), *FLAGS], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(out), "--target", "llama-bench", "-j",
                    str(os.cpu_count() or 1)], check=True, stdout=subprocess.DEVNULL)
    return binary


def theirs(binary: Path, model: Path, threads: int, depth: int, repeats: int
           ) -> dict[str, float]:
    """llama-bench's writing speed (tokens per second) at depth 0 and ``depth``."""
    out = subprocess.run([str(binary), "-m", str(model), "-t", str(threads), "-p", "0",
                          "-n", "64", "-d", f"0,{depth}", "-r", str(repeats), "-o", "json"],
                         capture_output=True, text=True, check=True).stdout
    rows = json.loads(out[out.index("["):])
    return {f"depth_{row['n_depth']}": float(row["avg_ts"]) for row in rows}


def ours(threads: int, repeats: int) -> dict[str, Any]:
    """The project's writing speed after the first token, with the two reports' prompt held."""
    settings = Settings(threads=threads)
    gen = LlamaCppGenerator(resolve_model(settings.model, settings.cache_dir),
                            settings.context_tokens, threads,
                            state_dir=settings.cache_dir / "states")
    assistant = Assistant.open(settings=settings, generator=gen)
    corpus = assistant.corpus_prompt(gen)
    if corpus is None:
        raise SystemExit("the two reports do not fit the model's prompt (corpus mode)")
    docs = dict(assistant.reports)
    warm = draft.build_messages("", corpus, docs)
    speeds, depth = [], 0
    for _ in range(repeats):
        for question in QUESTIONS:
            messages = draft.build_messages(question, corpus, docs)
            gen.prepare(warm)
            first = None
            for piece in gen.stream(messages, 64):
                if first is None and piece:
                    first = time.perf_counter()
            written = gen.last_stats["written_tokens"]
            depth = int(gen.last_stats["prompt_tokens"])
            if first is not None and written > 1:
                speeds.append((written - 1) / (time.perf_counter() - first))
    return {"tokens_per_s": statistics.median(speeds), "runs": len(speeds),
            "prompt_tokens": depth}


def their_reading(binary: Path, model: Path, threads: int, read: int, held: int,
                  repeats: int) -> float:
    """llama-bench's reading speed (tokens per second): ``read`` tokens after ``held``."""
    out = subprocess.run([str(binary), "-m", str(model), "-t", str(threads), "-p", str(read),
                          "-n", "0", "-d", str(held), "-b", "512", "-ub", "512",
                          "-r", str(repeats), "-o", "json"],
                         capture_output=True, text=True, check=True).stdout
    return float(json.loads(out[out.index("["):])[0]["avg_ts"])


def our_reading(threads: int, questions: int) -> dict[str, Any]:
    """The project's reading speed on retrieved-mode draft prompts (first token's time)."""
    from flash_attention import draft_prompts

    prompts = draft_prompts(questions)
    settings = Settings(threads=threads)
    gen = LlamaCppGenerator(resolve_model(settings.model, settings.cache_dir),
                            settings.context_tokens, threads,
                            state_dir=settings.cache_dir / "states")
    speeds, read, held = [], [], []
    for n, messages in enumerate(prompts):
        started = time.perf_counter()
        for _ in gen.stream(messages, 1):
            break
        seconds = time.perf_counter() - started
        if n == 0:  # the first also reads the system prompt and loads the model
            continue
        new = gen.last_stats["prompt_tokens"] - gen.last_stats["reused_tokens"]
        speeds.append(new / seconds)
        read.append(new)
        held.append(gen.last_stats["reused_tokens"])
    return {"tokens_per_s": statistics.median(speeds), "runs": len(speeds),
            "read_median": statistics.median(read), "held_median": statistics.median(held)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", required=True)
    parser.add_argument("--build", type=Path, default=Path("/tmp/assistant-llama-bench"))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reading", type=int, default=0, metavar="QUESTIONS",
                        help="compare reading on this many calibration questions' prompts")
    args = parser.parse_args()
    binary = llama_bench(args.build)
    settings = Settings()
    model = resolve_model(settings.model, settings.cache_dir)
    load_before = os.getloadavg()
    if args.reading:
        mine = our_reading(args.threads, args.reading)
        read, held = int(mine["read_median"]), int(mine["held_median"])
        reference_ts = their_reading(binary, model, args.threads, read, held, args.repeats)
        name = "llama_bench_reading"
        figures: dict[str, Any] = {"llama_bench_reading": reference_ts, "ours_reading": mine,
                                   "ratio": mine["tokens_per_s"] / reference_ts}
        message = (f"reading {read} tokens after {held}: llama-bench {reference_ts:.1f} tok/s; "
                   f"ours {mine['tokens_per_s']:.1f} tok/s (median of {mine['runs']}; "
                   f"{figures['ratio']:.0%})")
    else:
        mine = ours(args.threads, args.repeats)
        depth = int(round(mine["prompt_tokens"], -2))
        reference = theirs(binary, model, args.threads, depth, args.repeats)
        at_depth = reference[f"depth_{depth}"]
        name = "llama_bench"
        figures = {"llama_bench": reference, "ours": mine,
                   "ratio_at_depth": mine["tokens_per_s"] / at_depth}
        message = (f"llama-bench: {reference['depth_0']:.2f} tok/s at depth 0, {at_depth:.2f} "
                   f"at depth {depth}; ours: {mine['tokens_per_s']:.2f} tok/s after "
                   f"{mine['prompt_tokens']} prompt tokens ({figures['ratio_at_depth']:.0%} "
                   "of llama.cpp's)")
    load_after = os.getloadavg()
    out = {"machine": machine_info(), "threads": args.threads, "model": model.name, **figures,
           "load_before": load_before, "load_after": load_after,
           "llama_bench_binary": str(binary)}
    label = re.sub(r"[^\w-]", "_", args.label)
    (ROOT / "bench" / "results" / f"{name}_{label}.json").write_text(json.dumps(out, indent=1))
    print(f"{message}; {args.threads} threads; load {load_before[0]:.2f} -> {load_after[0]:.2f}")

if __name__ == "__main__":
    main()
