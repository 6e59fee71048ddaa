from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cluster.support.text import ECHO_LIMIT, control_characters, shown


def test_a_short_value_is_its_repr() -> None:
    assert shown("cam-1") == "'cam-1'"


def test_a_long_value_is_cut_and_says_its_length() -> None:
    text = shown("x" * 1_000_000)

    assert len(text) < 2 * ECHO_LIMIT, f"a megabyte is echoed in {len(text)} characters"
    assert "1000000 characters" in text, text


@given(st.text())
def test_any_value_is_shown_on_one_bounded_line(value: str) -> None:
    text = shown(value)

    assert "\n" not in text and "\r" not in text, f"{text!r} spans lines"
    assert len(text) <= 2 * ECHO_LIMIT + 40, f"{len(text)} characters for a {len(value)}-character value"


def test_control_characters_are_listed_escaped_once() -> None:
    assert control_characters("a\r\nb\n\u2028") == ["\\r", "\\n", "\\u2028"]
    assert control_characters("Hẻm 12 Lê Lợi") == [], "Vietnamese letters are not control characters"
