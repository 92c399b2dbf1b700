"""Incremental detokenisation: whole UTF-8 characters only, and stop strings that never leak."""

from __future__ import annotations

import codecs


class TextStream:
    """Turns a branch's token bytes into text that is safe to show and store.

    Bytes of a character split across tokens wait until the character is complete. Text
    that could be the start of a stop string waits until it is clear it is not one.
    Leading whitespace of the branch is dropped.
    """

    def __init__(self, stop: tuple[str, ...] = ()) -> None:
        self.stop = tuple(s for s in stop if s)
        # Invalid byte sequences are dropped rather than shown as U+FFFD.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
        self._pending = ""
        self.text = ""
        self.stopped = False

    def feed(self, data: bytes) -> str:
        """Add a token's bytes; returns the text that became safe to show."""
        if self.stopped:
            return ""
        self._pending += self._decoder.decode(data)
        return self._release(final=False)

    def finish(self) -> str:
        """Flush at the end of the branch; an incomplete trailing character is dropped."""
        if self.stopped:
            return ""
        self._pending += self._decoder.decode(b"", final=True)
        return self._release(final=True)

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
