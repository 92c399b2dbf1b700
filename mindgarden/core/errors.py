"""Typed errors of the domain layer; interfaces turn them into how-to-fix messages."""

from __future__ import annotations


class MindGardenError(Exception):
    """Base class for errors a user can act on; the message names the value and the fix."""


class InvalidInputError(MindGardenError):
    """A value the user supplied (idea, branch count, temperature, path) is invalid."""


class ModelFileError(MindGardenError):
    """A model file is missing, unreadable or not a usable GGUF file."""


class SessionNotFoundError(MindGardenError):
    """No session has the requested name or id."""


class NodeNotFoundError(MindGardenError):
    """No node has the requested id in this tree."""


class StorageError(MindGardenError):
    """The session database cannot be read or written (disk full, locked, damaged)."""


class PromptTooLongError(MindGardenError):
    """A prompt does not fit in the model's context window."""

    def __init__(self, token_count: int, limit: int) -> None:
        super().__init__(
            f"The prompt is {token_count} tokens long but the context holds at most {limit} "
            "tokens. Shorten the idea or the path, or choose a model with a longer context."
        )
        self.token_count = token_count
        self.limit = limit
