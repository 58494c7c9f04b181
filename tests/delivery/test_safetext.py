"""delivery.safetext: text made safe where it leaves the portal (examples; the property tests
in tests/notifications/test_properties.py try everything else)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from delivery import safetext

everything = st.text(st.characters(codec=None, exclude_categories=()))


def test_text_keeps_lines_and_drops_what_no_format_takes():
    assert safetext.text("a\r\nb\rc\x0bd\x85e\u2028f") == "a\nb\nc\nd\ne\nf"
    assert safetext.text("nul\x00 esc\x1b del\x7f c1\x9b bidi\u202e\u2066 bom\ufeff tab\t") == "nul esc del c1 bidi bom tab\t"
    assert safetext.text("lone \ud800 and \udfff") == "lone \ufffd and \ufffd"
    assert safetext.text(None) == "" and safetext.text(42) == "42"
    assert safetext.text("x" * 50, limit=10) == "x" * 9 + "…"


def test_line_is_one_bounded_line():
    assert safetext.line("  Disk full\r\nBcc: a@b.c\t\tnow  ") == "Disk full Bcc: a@b.c now"
    assert safetext.line("word " * 100, limit=20) == "word word word word…"


def test_mrkdwn_escapes_slack_markup_and_truncation_never_splits_an_entity():
    assert safetext.mrkdwn("<!channel> & <http://x|y>") == "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"
    assert safetext.truncate_escaped("ab&amp;cd", 5) == "ab…"
    assert safetext.truncate_escaped("ab&amp;cd", 8) == "ab&amp;…"


def test_truncate_bytes_counts_utf8():
    cut = safetext.truncate_bytes("😀" * 10, 17)
    assert len(cut.encode()) <= 17 and cut.endswith("…")


@pytest.mark.parametrize(("value", "expected"), [
    ("https://portal.example/i/1?a=b", "https://portal.example/i/1?a=b"),
    ("HTTP://portal.example/", "HTTP://portal.example/"),
    ("javascript:alert(1)", ""), ("data:text/html,x", ""), ("//evil.example/", ""), ("http:///nohost", ""),
    ("https://a.example/x y", ""), ("https://a.example/\r\nx", ""), ("", ""), (None, ""), ("http://[::1", ""),
])
def test_url_allows_absolute_http_only(value, expected):
    assert safetext.url(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("", ""), (-5, -5), (1.5, 1.5), (None, None),
])
def test_csv_cell_neutralises_formulas(value, expected):
    assert safetext.csv_cell(value) == expected


@given(everything)
def test_json_safe_values_always_encode(value):
    dumped = json.dumps(safetext.json_safe({value: [value, {"k": value}], "n": 1}), ensure_ascii=False)
    dumped.encode()
    loaded = json.loads(dumped)
    strings = []
    stack = [loaded]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            stack += item
        elif isinstance(item, str):
            strings.append(item)
    assert strings and not any("\x00" in x for x in strings)
