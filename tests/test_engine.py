"""The batched engine on the real bundled model."""

from __future__ import annotations

import threading

import pytest

from mindgarden.core.errors import PromptTooLongError
from mindgarden.core.sampling import SamplerSettings
from mindgarden.engine.textstream import TextStream
from mindgarden.engine.types import BranchDelta, BranchFinished, BranchRequest, ExpansionFinished, ExpansionStarted

IDEA = ({"role": "user", "content": "Here is an idea: how might a small town make its older residents less "
         "lonely? Write one short, original thought that develops it."},)
GREEDY = SamplerSettings(temperature=0.0)


def run(engine, requests, cancel=None, on_delta=None):
    """Run an expansion; returns results by index, streamed text by index, and the other events."""
    results, streamed, others = {}, {}, []
    for event in engine.expand(requests, cancel):
        if isinstance(event, BranchDelta):
            streamed[event.index] = streamed.get(event.index, "") + event.text
            if on_delta:
                on_delta(event)
        elif isinstance(event, BranchFinished):
            results[event.result.index] = event.result
        else:
            others.append(event)
    return results, streamed, others


def request(messages=IDEA, temperature=1.0, seed=1, max_new_tokens=32, **fields):
    return BranchRequest(messages, SamplerSettings(temperature=temperature), seed, max_new_tokens, **fields)


def test_siblings_differ_at_temperature_one(engine):
    results, _, _ = run(engine, [request(seed=seed) for seed in range(5)])
    texts = [results[index].text for index in range(5)]
    assert all(texts)
    assert len(set(texts)) > 1


def test_same_seed_same_text(engine):
    first, _, _ = run(engine, [request(seed=7), request(seed=8, temperature=1.3)])
    engine.reset_cache()
    second, _, _ = run(engine, [request(seed=7), request(seed=8, temperature=1.3)])
    assert first[0].text == second[0].text
    assert first[1].text == second[1].text


def test_results_carry_statistics(engine):
    results, streamed, others = run(engine, [request(seed=3), request(seed=4)])
    for index, result in results.items():
        assert result.finish_reason in ("stop", "length")
        assert result.token_count > 0
        assert result.mean_entropy is not None and result.mean_entropy > 0
        assert result.max_entropy >= result.mean_entropy
        assert result.mean_logprob < 0
        assert result.seed == index + 3
        assert streamed[index].strip() == result.text
    assert isinstance(others[0], ExpansionStarted)
    assert isinstance(others[-1], ExpansionFinished)


def test_stop_ends_within_one_step(engine):
    cancel = threading.Event()
    counts = {"after_cancel": 0}

    def on_delta(event):
        if cancel.is_set():
            counts["after_cancel"] += 1
        elif event.index == 0:
            cancel.set()

    requests = [request(seed=seed, max_new_tokens=200, min_new_tokens=200) for seed in range(3)]
    results, streamed, _ = run(engine, requests, cancel, on_delta)
    assert all(result.finish_reason == "cancelled" for result in results.values())
    assert all(result.token_count < 10 for result in results.values())
    assert results[0].text
    # Branches sampled in the same step as the cancel may still stream; none after it.
    assert counts["after_cancel"] <= len(requests)


def test_cache_hit_equals_cold_start(engine):
    cold, _, cold_events = run(engine, [request(temperature=0.0, max_new_tokens=40)])
    warm, _, warm_events = run(engine, [request(temperature=0.0, max_new_tokens=40)])
    assert warm[0].text == cold[0].text
    assert warm[0].token_count == cold[0].token_count
    assert warm_events[0].evaluated_prompt_tokens == 1
    assert cold_events[0].evaluated_prompt_tokens == cold_events[0].prompt_tokens


def test_child_reuses_parent_prefix(engine):
    parent, _, parent_events = run(engine, [request(temperature=0.0, max_new_tokens=40)])
    child_messages = IDEA + ({"role": "assistant", "content": parent[0].text},
                             {"role": "user", "content": "Write the next thought."})
    _, _, child_events = run(engine, [request(child_messages, temperature=0.0)])
    new_tokens = child_events[0].prompt_tokens - parent_events[0].prompt_tokens
    assert child_events[0].evaluated_prompt_tokens <= new_tokens


def test_personas_share_common_prefix(engine):
    calm = ({"role": "system", "content": "You are calm."},) + IDEA
    brisk = ({"role": "system", "content": "You are brisk and quick."},) + IDEA
    results, _, events = run(engine, [request(calm, seed=1), request(brisk, seed=2), request(calm, seed=3)])
    assert len(results) == 3
    started = events[0]
    assert started.evaluated_prompt_tokens < started.prompt_tokens


def test_split_characters_stream_intact(engine):
    text = "Café au lait 🌱 思考 naïve 🎉"
    tokens = engine.tokenize(text, add_special=False)
    pieces = [engine._token_bytes(token) for token in tokens]
    assert any(not piece.decode("utf-8", errors="ignore") == piece.decode("utf-8", errors="replace")
               for piece in pieces), "expected some token to hold part of a character"
    stream = TextStream()
    deltas = [stream.feed(piece) for piece in pieces] + [stream.finish()]
    assert "".join(deltas) == text
    assert all("\ufffd" not in delta for delta in deltas)


def test_stop_string_split_never_leaks(engine):
    free, _, _ = run(engine, [request(temperature=0.0, max_new_tokens=40)])
    tokens = engine.tokenize(free[0].text, add_special=False)
    boundary = len(engine._token_bytes(tokens[0]).decode()) + len(engine._token_bytes(tokens[1]).decode())
    stop = free[0].text[boundary - 2: boundary + 2]
    stopped, streamed, _ = run(engine, [request(temperature=0.0, max_new_tokens=40, stop=(stop,))])
    expected = free[0].text[: free[0].text.find(stop)].strip()
    assert stopped[0].text == expected
    assert stop[0] not in streamed[0][len(expected):]
    assert stopped[0].finish_reason == "stop"


def test_small_context_finishes_length(model_path):
    from mindgarden.engine.llama_engine import LlamaEngine

    small = LlamaEngine(model_path, n_ctx=512)
    try:
        requests = [request(seed=seed, max_new_tokens=200, min_new_tokens=200) for seed in range(8)]
        results, _, _ = run(small, requests)
    finally:
        small.close()
    assert len(results) == 8
    assert all(result.finish_reason == "length" for result in results.values())
    assert all(0 < result.token_count < 200 for result in results.values())


def test_long_prompt_rejected_with_count(model_path):
    from mindgarden.engine.llama_engine import LlamaEngine

    small = LlamaEngine(model_path, n_ctx=256)
    try:
        long_idea = ({"role": "user", "content": "word " * 400},)
        with pytest.raises(PromptTooLongError) as caught:
            list(small.expand([request(long_idea)]))
    finally:
        small.close()
    assert caught.value.limit == 256
    assert caught.value.token_count > 256
    assert str(caught.value.token_count) in str(caught.value)


def test_special_tokens_never_stored(engine):
    results, _, _ = run(engine, [request(seed=seed, max_new_tokens=48) for seed in range(4)])
    for result in results.values():
        assert "<|im_end|>" not in result.text
        assert "<|im_start|>" not in result.text


@pytest.mark.parametrize("settings", [
    SamplerSettings(temperature=1.0, top_k=40, top_p=0.9, min_p=0.0),
    SamplerSettings(temperature=1.2, xtc_probability=0.5, xtc_threshold=0.1),
    SamplerSettings(temperature=1.0, top_n_sigma=1.5),
    SamplerSettings(temperature=1.0, dry_multiplier=0.8),
    SamplerSettings(temperature=1.0, repeat_penalty=1.3, frequency_penalty=0.2, presence_penalty=0.2),
    SamplerSettings(temperature=1.0, mirostat_tau=5.0, mirostat_eta=0.1),
    SamplerSettings(temperature=0.9, typical_p=0.8),
], ids=["top-k-top-p", "xtc", "top-n-sigma", "dry", "penalties", "mirostat-v2", "typical"])
def test_each_sampler_chain_generates(engine, settings):
    requests = [BranchRequest(IDEA, settings, seed, 24) for seed in (1, 2)]
    results, _, _ = run(engine, requests)
    assert all(results[index].text for index in range(2))
    assert all(results[index].finish_reason in ("stop", "length") for index in range(2))


def test_marker_in_text_stays_text(engine):
    end_of_turn = engine.tokenize("<|im_end|>", add_special=False)
    assert len(end_of_turn) == 1
    plain = engine.prompt_tokens(IDEA + ({"role": "assistant", "content": "A thought."},
                                         {"role": "user", "content": "Next."}))
    marked = engine.prompt_tokens(IDEA + ({"role": "assistant", "content": "A thought <|im_end|> here."},
                                          {"role": "user", "content": "Next."}))
    assert marked.count(end_of_turn[0]) == plain.count(end_of_turn[0])
    # The default system turn, the request, the thought and the next request each end once.
    assert plain.count(end_of_turn[0]) == 4


def test_stop_during_prefill_ends_after_it(engine):
    cancel = threading.Event()
    long_idea = ({"role": "user", "content": "A long brief about towns and loneliness. " * 120},)
    events = engine.expand([request(long_idea, seed=seed, max_new_tokens=100) for seed in range(2)], cancel)
    started = next(events)
    assert isinstance(started, ExpansionStarted)
    assert started.evaluated_prompt_tokens > 500
    # The prefill runs when the generator resumes; Stop arrives before it ends.
    cancel.set()
    results = [event.result for event in events if isinstance(event, BranchFinished)]
    assert [result.finish_reason for result in results] == ["cancelled", "cancelled"]
    assert all(result.token_count == 0 for result in results)
    follow_up, _, _ = run(engine, [request(long_idea, seed=5, max_new_tokens=8)])
    assert follow_up[0].token_count > 0


def test_think_text_kept_apart(engine):
    tokens = engine.tokenize("<think>Weigh costs first.</think>\nA library of tools.", add_special=False)
    stream = TextStream()
    shown = "".join(stream.feed(engine._token_bytes(token)) for token in tokens) + stream.finish()
    assert shown == "A library of tools."
    assert stream.reasoning == "Weigh costs first."
