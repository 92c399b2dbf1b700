"""Trainer rows: each format's columns built from pairs or labelled branches, plus metadata rows."""

from __future__ import annotations

from typing import Any

from mindgarden.core.export.pairs import Labelled, Pair, Side
from mindgarden.core.personas import Persona
from mindgarden.core.prompting import expansion_messages, plain_prompt
from mindgarden.core.tree import ThoughtTree

Message = dict[str, str]

# LLaMA-Factory's ShareGPT layout names the roles with "from": human and gpt; the system
# text goes into its own column (LLaMA-Factory data/README.md, "Sharegpt Format").
SHAREGPT_ROLES = {"user": "human", "assistant": "gpt"}


def assistant(text: str) -> Message:
    return {"role": "assistant", "content": text}


class PromptCache:
    """Chat prompts per (group, persona), so siblings share one rendering of the path."""

    def __init__(self, tree: ThoughtTree) -> None:
        self.tree = tree
        self._messages: dict[tuple[str, str], list[Message]] = {}

    def messages(self, group_id: str, persona: Persona | None) -> list[Message]:
        key = (group_id, persona.name if persona else "")
        if key not in self._messages:
            self._messages[key] = expansion_messages(self.tree, group_id, persona)
        return [dict(message) for message in self._messages[key]]


def node_metadata(side: Side) -> dict[str, Any]:
    """Describe one side of a row for the sidecar: node, conditions and model file."""
    node = side.node
    return {
        "node_id": node.id,
        "text_source": side.text_source,
        "persona": node.persona,
        "temperature": node.temperature,
        "sampler": node.sampler,
        "seed": node.seed,
        "model_name": node.model_name,
        "model_sha256": node.model_sha256,
        # NOTE: token_count counts the model's original text, also for an edited node.
        "token_count": node.token_count,
        "finish_reason": node.finish_reason,
        "edited": node.edited,
        "rank": node.rank,
    }


def pair_metadata(pair: Pair, format_name: str, prompt_mode: str) -> dict[str, Any]:
    return {
        "format": format_name,
        "group_id": pair.group_id,
        "pair_source": list(pair.sources),
        "prompt_mode": prompt_mode,
        "prompt_persona": pair.persona.name if pair.persona else None,
        "margin": pair.margin,
        "chosen": node_metadata(pair.chosen),
        "rejected": node_metadata(pair.rejected),
    }


def label_metadata(item: Labelled, prompt_mode: str) -> dict[str, Any]:
    return {
        "format": "trl-kto",
        "group_id": item.group_id,
        "pair_source": ["star" if item.label else "prune"],
        "prompt_mode": prompt_mode,
        "prompt_persona": item.persona.name if item.persona else None,
        "label": item.label,
        "node": node_metadata(item.side),
    }


def _sharegpt(messages: list[Message]) -> tuple[str | None, list[dict[str, str]]]:
    system = None
    turns = []
    for message in messages:
        if message["role"] == "system":
            system = message["content"]
        else:
            turns.append({"from": SHAREGPT_ROLES[message["role"]], "value": message["content"]})
    return system, turns


def pair_row(pair: Pair, format_name: str, prompts: PromptCache, prompt_mode: str,
             margin: bool) -> dict[str, Any]:
    """Build one trainer row for ``pair`` in ``format_name`` (any pairwise format)."""
    messages = prompts.messages(pair.group_id, pair.persona)
    chosen, rejected = pair.chosen.text, pair.rejected.text

    if format_name == "trl-dpo":
        return {"prompt": messages, "chosen": [assistant(chosen)], "rejected": [assistant(rejected)]}

    if format_name == "trl-dpo-standard":
        # The plain prompt ends with "Thought N:", so each completion starts with a space,
        # as in TRL's standard preference example.
        return {"prompt": plain_prompt(messages), "chosen": " " + chosen, "rejected": " " + rejected}

    if format_name == "trl-reward":
        row: dict[str, Any] = {"chosen": [*messages, assistant(chosen)],
                               "rejected": [*messages, assistant(rejected)]}
        if margin:
            row["margin"] = pair.margin
        return row

    if format_name == "axolotl-dpo":
        return {"messages": messages, "chosen": assistant(chosen), "rejected": assistant(rejected)}

    if format_name == "llamafactory":
        system, turns = _sharegpt(messages)
        row = {"conversations": turns}
        if prompt_mode == "as-generated":
            # Every row carries the column, so the file has one schema; "" means no priming.
            row["system"] = system or ""
        row["chosen"] = {"from": "gpt", "value": chosen}
        row["rejected"] = {"from": "gpt", "value": rejected}
        return row

    raise ValueError(f"format {format_name!r} has no pairwise rows")


def kto_row(item: Labelled, prompts: PromptCache) -> dict[str, Any]:
    """Build one TRL KTO row in the conversational unpaired-preference layout."""
    return {
        "prompt": prompts.messages(item.group_id, item.persona),
        "completion": [assistant(item.side.text)],
        "label": item.label,
    }
