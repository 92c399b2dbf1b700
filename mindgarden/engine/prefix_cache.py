"""Bookkeeping of the KV cache: which token prefix each llama.cpp sequence holds."""

from __future__ import annotations

from dataclasses import dataclass


def common_prefix_length(left: list[int], right: list[int]) -> int:
    limit = min(len(left), len(right))
    index = 0
    while index < limit and left[index] == right[index]:
        index += 1
    return index


@dataclass
class _Entry:
    tokens: list[int]
    last_used: int


class PrefixCache:
    """Tracks the tokens cached in each sequence id and picks sequences to reuse or evict.

    Sequences that share a prefix through ``llama_memory_seq_cp`` share its KV cells, so
    the cells in use are estimated as the node count of the prefix tree over all cached
    token lists. Eviction is least-recently-used.
    """

    def __init__(self, max_sequences: int) -> None:
        self.max_sequences = max_sequences
        self._entries: dict[int, _Entry] = {}
        self._clock = 0

    def __len__(self) -> int:
        return len(self._entries)

    def tokens(self, seq_id: int) -> list[int]:
        entry = self._entries.get(seq_id)
        return entry.tokens if entry else []

    def tick(self) -> int:
        self._clock += 1
        return self._clock

    def set(self, seq_id: int, tokens: list[int]) -> None:
        self._entries[seq_id] = _Entry(list(tokens), self.tick())

    def touch(self, seq_id: int) -> None:
        if seq_id in self._entries:
            self._entries[seq_id].last_used = self.tick()

    def drop(self, seq_id: int) -> None:
        self._entries.pop(seq_id, None)

    def clear(self) -> None:
        self._entries.clear()

    def best_match(self, tokens: list[int], exclude: set[int] = frozenset()) -> tuple[int | None, int]:
        """Return the cached sequence sharing the longest prefix with ``tokens``, and that length."""
        best_seq, best_length = None, 0
        for seq_id, entry in self._entries.items():
            if seq_id in exclude:
                continue
            length = common_prefix_length(entry.tokens, tokens)
            if length > best_length:
                best_seq, best_length = seq_id, length
        return best_seq, best_length

    def free_ids(self, reserved: set[int]) -> list[int]:
        return [seq for seq in range(self.max_sequences) if seq not in self._entries and seq not in reserved]

    def lru_victim(self, reserved: set[int]) -> int | None:
        candidates = [(entry.last_used, seq) for seq, entry in self._entries.items() if seq not in reserved]
        return min(candidates)[1] if candidates else None

    def used_cells(self) -> int:
        """Estimate the KV cells in use as the node count of the prefix tree."""
        root: dict = {}
        count = 0
        for entry in self._entries.values():
            node = root
            for token in entry.tokens:
                child = node.get(token)
                if child is None:
                    child = {}
                    node[token] = child
                    count += 1
                node = child
        return count
