"""Chat messages that ask a model to grow a node: root idea, path of thoughts, persona priming."""

from __future__ import annotations

from mindgarden.core.personas import Persona
from mindgarden.core.tree import ThoughtTree

FIRST_REQUEST = (
    "Here is an idea or an open question:\n\n{idea}\n\n"
    "Write one short, original thought that develops it. Reply with the thought only."
)
NEXT_REQUEST = "Write the next thought, building on your last one. Reply with the thought only."

PLAIN_STOP = ("\nThought ", "\n\n\n")


def expansion_messages(tree: ThoughtTree, node_id: str, persona: Persona | None) -> list[dict[str, str]]:
    """Build the conversation whose next assistant turn is a child of ``node_id``.

    Each thought on the path is an earlier assistant turn, so the prompt for a child starts
    with its parent's prompt and reply: the engine's prefix cache reuses that whole prefix.
    Pass ``persona=None`` for the neutral request without priming.
    """
    path = tree.path(node_id)
    messages: list[dict[str, str]] = []
    if persona is not None and persona.priming:
        messages.append({"role": "system", "content": persona.priming})
    messages.append({"role": "user", "content": FIRST_REQUEST.format(idea=path[0].text)})
    for thought in path[1:]:
        messages.append({"role": "assistant", "content": thought.text.strip()})
        messages.append({"role": "user", "content": NEXT_REQUEST})
    return messages


def plain_prompt(messages: list[dict[str, str]]) -> str:
    """Render messages as plain text for a base model that has no chat template."""
    lines = []
    thought_number = 1
    for message in messages:
        if message["role"] == "system":
            lines.append(message["content"] + "\n")
        elif message["role"] == "user" and thought_number == 1 and not any(
            line.startswith("Idea:") for line in lines
        ):
            idea = message["content"].split("\n\n")[1] if "\n\n" in message["content"] else message["content"]
            lines.append(f"Idea: {idea}\n")
        elif message["role"] == "assistant":
            lines.append(f"Thought {thought_number}: {message['content']}")
            thought_number += 1
    lines.append(f"Thought {thought_number}:")
    return "\n".join(lines)
