"""Incremental detokenisation: whole UTF-8 characters only, and stop strings that never leak."""

from __future__ import annotations

import codecs

THINK_TAGS = ("<think>", "</think>")


def _prefix_overlap(text: str, tag: str) -> int:
    """Return the length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0


class TextStream:
    """Turns a branch's token bytes into text that is safe to show and store.

    Bytes of a character split across tokens wait until the character is complete. Text
    that could be the start of a stop string waits until it is clear it is not one.
    A reasoning model's ``<think>…</think>`` text goes to ``reasoning``, never into
    ``text``, and stop strings do not apply inside it. Leading whitespace is dropped.
    """

    def __init__(self, stop: tuple[str, ...] = (), think_tags: tuple[str, str] = THINK_TAGS) -> None:
        self.stop = tuple(s for s in stop if s)
        self.think_open, self.think_close = think_tags
        # Invalid byte sequences are dropped rather than shown as U+FFFD.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
        self._raw = ""
        self._thinking = False
        self._pending = ""
        self.text = ""
        self.reasoning = ""
        self.stopped = False

    def feed(self, data: bytes) -> str:
        """Add a token's bytes; returns the text that became safe to show."""
        if self.stopped:
            return ""
        self._pending += self._split_reasoning(self._decoder.decode(data), final=False)
        return self._release(final=False)

    def finish(self) -> str:
        """Flush at the end of the branch; an incomplete trailing character is dropped."""
        if self.stopped:
            return ""
        self._pending += self._split_reasoning(self._decoder.decode(b"", final=True), final=True)
        return self._release(final=True)

    def _split_reasoning(self, decoded: str, final: bool) -> str:
        """Move text between the think tags into ``reasoning``; returns the visible part."""
        self._raw += decoded
        visible = ""
        while True:
            tag = self.think_close if self._thinking else self.think_open
            index = self._raw.find(tag)
            if index >= 0:
                if self._thinking:
                    self.reasoning += self._raw[:index]
                else:
                    visible += self._raw[:index]
                self._raw = self._raw[index + len(tag):]
                self._thinking = not self._thinking
                continue
            hold = 0 if final else _prefix_overlap(self._raw, tag)
            released, self._raw = self._raw[: len(self._raw) - hold], self._raw[len(self._raw) - hold:]
            if self._thinking:
                self.reasoning += released
            else:
                visible += released
            return visible

    def _release(self, final: bool) -> str:
        pending = self._pending
        if not self.text:
            pending = pending.lstrip()

        cut = min((index for index in (pending.find(s) for s in self.stop) if index >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            emitted = pending[:cut]
            self._pending = ""
        elif final:
            emitted = pending
            self._pending = ""
        else:
            hold = self._held_suffix(pending)
            emitted = pending[: len(pending) - hold]
            self._pending = pending[len(pending) - hold:]

        self.text += emitted
        return emitted

    def _held_suffix(self, text: str) -> int:
        """Return the length of the longest suffix of ``text`` that starts some stop string."""
        longest = 0
        for stop in self.stop:
            for length in range(min(len(stop) - 1, len(text)), longest, -1):
                if stop.startswith(text[-length:]):
                    longest = length
                    break
        return longest
