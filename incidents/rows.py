"""Row editors: a formset of small rows that people add, remove and reorder.

Every row button is a real submit button (`name="rows"`, value `verb:prefix[-index]`, e.g.
`add:rules`, `up:levels-2`: the row's form prefix, which the script renumbers with the row), so the
editor works without JavaScript: the view hands the posted data to `apply_row_op`, which returns
it rearranged, and renders the page again from it, quietly (no errors for the fields not filled in
yet) and without saving. `static/js/rows.js` does the same in the page when scripts run.

The management form always says INITIAL_FORMS = 0: rows are values, not database rows, so every
row may be blank (a blank row is skipped) and a row's place is its index alone.
"""

from django import forms
from django.forms.utils import ErrorDict, ErrorList
from django.http import QueryDict

OP_FIELD = "rows"
VERBS = ("add", "remove", "up", "down")


class RowFormSet(forms.BaseFormSet):
    """A formset whose rows are all optional; `rows()` gives the non-blank rows' cleaned data."""

    def initial_form_count(self):
        return 0 if self.is_bound else super().initial_form_count()

    def row_is_blank(self, form) -> bool:
        return not form.has_changed()

    def rows(self) -> list[dict]:
        return [form.cleaned_data for form in self.forms if form.cleaned_data and not self.row_is_blank(form)]


def row_formset(form, *, extra=1, max_num=50, formset=RowFormSet):
    return forms.formset_factory(form, formset=formset, extra=extra, max_num=max_num, validate_max=True,
                                 absolute_max=max_num)


def requested_op(data) -> str | None:
    return data.get(OP_FIELD) if data is not None else None


def op_prefix(op: str) -> str:
    """The form prefix a row operation names: `up:levels-2` -> `levels`."""
    target = op.partition(":")[2]
    head, _, tail = target.rpartition("-")
    return head if tail.isdecimal() else target


def _total(data, prefix: str, limit: int) -> int:
    try:
        return max(0, min(int(data.get(f"{prefix}-TOTAL_FORMS", 0)), limit))
    except (TypeError, ValueError):
        return 0


def apply_row_op(data: QueryDict, formset_class, prefix: str) -> QueryDict | None:
    """The posted data with the row operation the person asked for applied to `prefix`'s rows,
    or None when the operation names other rows (or nothing sensible)."""
    verb, _, target = (requested_op(data) or "").partition(":")
    if verb not in VERBS or not (target == prefix or target.startswith(f"{prefix}-")):
        return None
    limit = formset_class.absolute_max
    total = _total(data, prefix, limit)
    names = list(formset_class.form.base_fields)
    rows = [{name: data.getlist(f"{prefix}-{i}-{name}") for name in names} for i in range(total)]
    if verb == "add":
        if target != prefix or total >= formset_class.max_num:
            return None
        rows.append({name: [str(_initial(field))] for name, field in formset_class.form.base_fields.items()
                     if _initial(field) is not None})
    else:
        index = target.removeprefix(f"{prefix}-")
        if target == prefix or not index.isdecimal() or len(index) > 6:
            return None
        index = int(index)
        if not 0 <= index < total:
            return None
        if verb == "remove":
            rows.pop(index)
        elif verb == "up" and index > 0:
            rows[index - 1], rows[index] = rows[index], rows[index - 1]
        elif verb == "down" and index < total - 1:
            rows[index + 1], rows[index] = rows[index], rows[index + 1]
    out = data.copy()
    out.pop(OP_FIELD, None)
    for key in [k for k in out if k.startswith(f"{prefix}-") and k.split("-", 2)[1].isdigit()]:
        del out[key]
    for i, row in enumerate(rows):
        for name, values in row.items():
            out.setlist(f"{prefix}-{i}-{name}", values)
    out[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
    out[f"{prefix}-INITIAL_FORMS"] = "0"
    return out


def _initial(field):
    value = field.initial() if callable(field.initial) else field.initial
    return None if value in (None, "") or isinstance(value, (list, tuple)) else value


def quiet(*forms_or_formsets) -> None:
    """Render bound forms without errors: the page shown after a row operation is work in progress,
    not a failed save."""
    for item in forms_or_formsets:
        if isinstance(item, forms.BaseFormSet):
            item._non_form_errors = ErrorList()
            item._errors = []
            quiet(*item.forms)
        else:
            item._errors = ErrorDict()
