"""incidents.rows: the row operations a browser without scripts posts (add, remove, up, down)."""

from django import forms
from django.http import QueryDict

from incidents.bounded import PortalForm
from incidents.rows import apply_row_op, op_prefix, row_formset


class Row(PortalForm):
    label = forms.CharField(required=False)
    tags = forms.MultipleChoiceField(required=False, choices=[("a", "a"), ("b", "b")])
    mode = forms.CharField(required=False, initial="all")


Rows = row_formset(Row, max_num=3)


def _data(*rows, op=None) -> QueryDict:
    q = QueryDict(mutable=True)
    q["x-TOTAL_FORMS"], q["x-INITIAL_FORMS"], q["other"] = str(len(rows)), "0", "kept"
    for i, (label, tags) in enumerate(rows):
        q[f"x-{i}-label"] = label
        q.setlist(f"x-{i}-tags", tags)
    if op:
        q["rows"] = op
    return q


def _labels(q) -> list:
    return [q.get(f"x-{i}-label") for i in range(int(q["x-TOTAL_FORMS"]))]


def test_moves_carry_every_value_of_the_row():
    out = apply_row_op(_data(("one", ["a"]), ("two", ["a", "b"]), op="up:x-1"), Rows, "x")
    assert _labels(out) == ["two", "one"] and out.getlist("x-0-tags") == ["a", "b"] and out.getlist("x-1-tags") == ["a"]
    assert "rows" not in out and out["other"] == "kept"
    down = apply_row_op(_data(("one", []), ("two", []), op="down:x-0"), Rows, "x")
    assert _labels(down) == ["two", "one"]


def test_add_appends_a_row_with_the_fields_initial_values_and_remove_renumbers():
    added = apply_row_op(_data(("one", []), op="add:x"), Rows, "x")
    assert added["x-TOTAL_FORMS"] == "2" and added["x-1-mode"] == "all" and added.get("x-1-label") is None
    removed = apply_row_op(_data(("one", []), ("two", []), ("three", []), op="remove:x-0"), Rows, "x")
    assert _labels(removed) == ["two", "three"] and "x-2-label" not in removed


def test_forged_or_foreign_operations_change_nothing():
    full = _data(("1", []), ("2", []), ("3", []))
    for op in ("add:x", "up:x-0", "down:x-2"):  # at the limit, at the top, at the bottom
        out = apply_row_op(QueryDict(full.urlencode() + f"&rows={op}"), Rows, "x")
        assert out is None or _labels(out) == ["1", "2", "3"]
    for op in ("remove:x-9", "remove:x-", "remove:x", "up:x-1e3", "up:y-0", "drop:x-0", "add:x-0", "remove:x-٣", ""):
        assert apply_row_op(_data(("1", []), op=op), Rows, "x") is None, op
    assert op_prefix("up:levels-2") == "levels" and op_prefix("add:rules") == "rules" and op_prefix("add:my-rows") == "my-rows"
