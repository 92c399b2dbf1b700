"""Time N-branch expansions: a loop of Llama.create_completion calls versus MindGarden's batched engine.

Both sides use the same model, thread count, prompt and sampler settings, and produce
fixed-length branches (end-of-generation banned) so they generate the same number of tokens.
Run: ``.venv/bin/python benchmarks/bench_expand.py [--model PATH] [--tokens 64] [--repeats 2]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MINDGARDEN_HOME", tempfile.mkdtemp(prefix="mindgarden-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import llama_cpp  # noqa: E402

from mindgarden.core import paths  # noqa: E402
from mindgarden.core.prompting import FIRST_REQUEST, NEXT_REQUEST  # noqa: E402
from mindgarden.core.sampling import SamplerSettings  # noqa: E402
from mindgarden.engine.llama_engine import LlamaEngine  # noqa: E402
from mindgarden.engine.prefix_cache import common_prefix_length  # noqa: E402
from mindgarden.engine.types import BranchFinished, BranchRequest, ExpansionStarted  # noqa: E402

IDEA = (
    "How might a small town make its older residents less lonely? Many live alone after their "
    "children moved to cities, the last café closed two years ago, buses run twice a day, and the "
    "library opens only on Tuesdays. Volunteers exist but nobody coordinates them, and most older "
    "people do not use smartphones."
)
SETTINGS = SamplerSettings(temperature=1.0, min_p=0.05, top_p=1.0, top_k=0)


def messages_for(thoughts: list[str]) -> list[dict[str, str]]:
    messages = [{"role": "user", "content": FIRST_REQUEST.format(idea=IDEA)}]
    for thought in thoughts:
        messages += [{"role": "assistant", "content": thought}, {"role": "user", "content": NEXT_REQUEST}]
    return messages


class Baseline:
    """The obvious implementation: one create_completion call per branch, on one sequence."""

    def __init__(self, model: Path, threads: int, eog_tokens: list[int]) -> None:
        self.llm = llama_cpp.Llama(str(model), n_ctx=4096, n_batch=512, n_threads=threads,
                                   n_threads_batch=threads, verbose=False)
        self.bias = {token: float("-inf") for token in eog_tokens}
        self.evaluated = 0

    def reset(self) -> None:
        self.llm.reset()
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.llm._ctx.ctx), True)

    def branch(self, prompt: str, seed: int, tokens: int) -> str:
        prompt_tokens = self.llm.tokenize(prompt.encode(), add_bos=False, special=True)
        reused = common_prefix_length(list(self.llm._input_ids), prompt_tokens)
        self.evaluated += max(len(prompt_tokens) - reused, 1)
        output = self.llm.create_completion(
            prompt_tokens, max_tokens=tokens, temperature=SETTINGS.temperature, top_p=SETTINGS.top_p,
            min_p=SETTINGS.min_p, top_k=SETTINGS.top_k, seed=seed, logit_bias=self.bias)
        return output["choices"][0]["text"]


def run_engine(engine: LlamaEngine, messages, count: int, tokens: int, seed: int = 0):
    requests = [BranchRequest(tuple(messages), SETTINGS, seed + index, tokens, min_new_tokens=tokens)
                for index in range(count)]
    evaluated, texts, generated = 0, {}, 0
    for event in engine.expand(requests):
        if isinstance(event, ExpansionStarted):
            evaluated = event.evaluated_prompt_tokens
        elif isinstance(event, BranchFinished):
            texts[event.result.index] = event.result.text
            generated += event.result.token_count
    return evaluated, texts, generated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=paths.find_default_model())
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per branch")
    parser.add_argument("--repeats", type=int, default=2, help="runs per cell; the fastest counts")
    parser.add_argument("--branches", default="1,4,8,16", help="comma-separated branch counts")
    args = parser.parse_args()
    threads = os.cpu_count() or 1

    engine = LlamaEngine(args.model, n_threads=threads)
    baseline = Baseline(args.model, threads, engine.eog_tokens)
    prompt_text = engine.formatter.render(messages_for([]))
    prompt_tokens = len(engine.prompt_tokens(messages_for([])))
    print(f"model {args.model.name}, {threads} threads, prompt {prompt_tokens} tokens, "
          f"{args.tokens} new tokens per branch, best of {args.repeats}")
    print()
    print(f"{'N':>3} | {'(a) loop tok/s':>14} | {'(b) engine tok/s':>16} | {'b/a':>5}")
    print(f"{'-' * 3}-+-{'-' * 14}-+-{'-' * 16}-+-{'-' * 5}")

    for count in (int(value) for value in args.branches.split(",")):
        best_a = best_b = 0.0
        for repeat in range(args.repeats):
            baseline.reset()
            started = time.perf_counter()
            for index in range(count):
                baseline.branch(prompt_text, repeat * 100 + index, args.tokens)
            best_a = max(best_a, count * args.tokens / (time.perf_counter() - started))

            engine.reset_cache()
            started = time.perf_counter()
            _, _, generated = run_engine(engine, messages_for([]), count, args.tokens, repeat * 100)
            assert generated == count * args.tokens, generated
            best_b = max(best_b, generated / (time.perf_counter() - started))
        print(f"{count:>3} | {best_a:>14.1f} | {best_b:>16.1f} | {best_b / best_a:>5.2f}")

    # Prefix reuse: expand a child of the node expanded just before.
    print()
    engine.reset_cache()
    baseline.reset()
    _, parent_texts, _ = run_engine(engine, messages_for([]), 4, args.tokens)
    for index in range(4):
        baseline.branch(prompt_text, index, args.tokens)
    child_messages = messages_for([parent_texts[0].strip()])
    child_tokens = len(engine.prompt_tokens(child_messages))
    new_tokens = child_tokens - prompt_tokens
    engine_evaluated, _, _ = run_engine(engine, child_messages, 4, args.tokens)
    baseline.evaluated = 0
    baseline.branch(engine.formatter.render(child_messages), 0, args.tokens)
    print("prefix reuse: expand a child of the node expanded just before (4 branches)")
    print(f"  child prompt {child_tokens} tokens, {new_tokens} of them new since the parent's prompt")
    print(f"  (a) loop evaluated {baseline.evaluated} prompt tokens for its first branch")
    print(f"  (b) engine evaluated {engine_evaluated} prompt tokens for all branches "
          f"({engine_evaluated / new_tokens:.0%} of the new tokens)")
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
