"""Incremental detokenisation with split characters and split stop strings."""

from __future__ import annotations

from mindgarden.engine.textstream import TextStream


def stream_all(stream: TextStream, pieces: list[bytes]) -> tuple[list[str], str]:
    deltas = [stream.feed(piece) for piece in pieces]
    deltas.append(stream.finish())
    return deltas, "".join(deltas)


def test_split_emoji_waits_for_whole_character():
    emoji = "🌱".encode()
    deltas, text = stream_all(TextStream(), [b"a ", emoji[:1], emoji[1:3], emoji[3:], b" b"])
    assert text == "a 🌱 b"
    assert all("\ufffd" not in delta for delta in deltas)


def test_stop_split_never_leaks():
    deltas, text = stream_all(TextStream(stop=("END",)), [b"one E", b"N", b"D two"])
    assert text == "one "
    assert "E" not in "".join(deltas)


def test_false_stop_prefix_released():
    _, text = stream_all(TextStream(stop=("END",)), [b"one E", b"Nx"])
    assert text == "one ENx"


def test_truncated_character_dropped():
    _, text = stream_all(TextStream(), [b"ok ", "中".encode()[:2]])
    assert text == "ok "


def test_leading_whitespace_dropped():
    _, text = stream_all(TextStream(), [b"  \n", b" hello"])
    assert text == "hello"


def test_reasoning_kept_apart():
    stream = TextStream(stop=("END",))
    deltas, text = stream_all(stream, [b"<thi", b"nk>plan: END is fine", b" here</th", b"ink>\n\nThe idea", b" END x"])
    assert text == "The idea "
    assert stream.reasoning == "plan: END is fine here"
    assert all("<" not in delta for delta in deltas)


def test_unclosed_reasoning_stays_hidden():
    stream = TextStream()
    _, text = stream_all(stream, [b"<think>still thinking when the limit came"])
    assert text == ""
    assert stream.reasoning == "still thinking when the limit came"


def test_lone_angle_bracket_released():
    _, text = stream_all(TextStream(), [b"a <", b"b> c <thin"])
    assert text == "a <b> c <thin"
