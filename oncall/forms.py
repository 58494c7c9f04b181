"""Staff forms. They parse and shape input; the rules live in the services."""

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Q

from incidents import zones
from incidents.bounded import PortalForm
from incidents.models import Service, Severity
from incidents.rows import RowFormSet, row_formset

from .models import Condition, Layer, LevelMode, RotationKind, Schedule, TargetKind
from .models.schedules import WEEKDAY_CHOICES
from .rotation import to_utc
from .services.policies import LevelSpec
from .services.schedules import LayerSpec, RestrictionSpec

User = get_user_model()
DAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
RESTRICTION_RE = re.compile(r"^\s*(?P<days>[A-Za-z,\- ]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")


def parse_days(text: str) -> list[int]:
    text = text.strip().lower()
    if text in ("daily", "every day", "all"):
        return list(range(7))
    if text in ("weekdays",):
        return list(range(5))
    if text in ("weekends",):
        return [5, 6]
    days = []
    for part in text.replace(" ", "").split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            if a[:3] not in DAY_NAMES or b[:3] not in DAY_NAMES:
                raise forms.ValidationError(f"Unknown day in “{part}”.")
            d = DAY_NAMES[a[:3]]
            while True:
                days.append(d)
                if d == DAY_NAMES[b[:3]]:
                    break
                d = (d + 1) % 7
        elif part[:3] in DAY_NAMES:
            days.append(DAY_NAMES[part[:3]])
        else:
            raise forms.ValidationError(f"Unknown day “{part}”. Use Mon, Tue ... Sun, ranges like Mon-Fri, or “daily”.")
    return sorted(set(days))


def parse_restrictions(text: str) -> list[RestrictionSpec]:
    out = []
    for line in filter(None, (ln.strip() for ln in text.splitlines())):
        m = RESTRICTION_RE.match(line)
        if not m:
            raise forms.ValidationError(f"Cannot read “{line}”. Write e.g. “Mon-Fri 09:00-17:00”.")
        try:
            start, end = (time.fromisoformat(m[k].zfill(5)) for k in ("start", "end"))
        except ValueError as exc:
            raise forms.ValidationError(f"Bad time in “{line}”.") from exc
        out.append(RestrictionSpec(parse_days(m["days"]), start, end))
    return out


def parse_participants(text: str) -> list:
    """One per line: `username`, `username x3` (three turns in a row) or `-` / `off x3` (nobody)."""
    out, unknown = [], []
    for line in filter(None, (ln.strip() for ln in text.splitlines())):
        m = re.match(r"^(?P<who>\S+)(?:\s*[x×*]\s*(?P<n>\d+))?$", line)
        if not m:
            raise forms.ValidationError(f"Cannot read “{line}”. Write a username, optionally followed by “x3”.")
        turns = int(m["n"] or 1)
        if m["who"] in ("-", "off"):
            out.append((None, turns))
            continue
        user = User.objects.filter(username=m["who"]).first()
        if user is None:
            unknown.append(m["who"])
        out.append((user, turns))
    if unknown:
        raise forms.ValidationError(f"Unknown user{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.")
    return out


def participants_text(layer: Layer) -> str:
    membership = layer.memberships.last()
    if membership is None:
        return ""
    lines = []
    for m in membership.members.select_related("user"):
        name = m.user.username if m.user else "off"
        lines.append(f"{name} x{m.turns}" if m.turns > 1 else name)
    return "\n".join(lines)


def restrictions_text(layer: Layer) -> str:
    names = {v: k.title() for k, v in DAY_NAMES.items()}
    return "\n".join(f"{','.join(names[d] for d in r.weekdays)} {r.start_time:%H:%M}-{r.end_time:%H:%M}"
                     for r in layer.restrictions.all())


class ScheduleForm(PortalForm):
    name = forms.CharField(max_length=120)
    time_zone = forms.CharField(max_length=64, initial=zones.SCHEDULE_DEFAULT,
                                help_text="IANA name, e.g. America/New_York or Europe/Berlin.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class LayerForm(PortalForm):
    name = forms.CharField(max_length=80, initial="Primary")
    rotation = forms.ChoiceField(choices=RotationKind.choices, initial=RotationKind.WEEKLY)
    every = forms.IntegerField(min_value=1, max_value=365, initial=1, help_text="N for “every N days / hours”.")
    handoff_time = forms.TimeField(initial="09:00", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    handoff_weekday = forms.TypedChoiceField(choices=WEEKDAY_CHOICES, coerce=int, initial=0, help_text="Weekly rotations.")
    weekdays_only = forms.BooleanField(required=False, help_text="Daily turns advance Monday to Friday only.")
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    participants = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), help_text=(
        "One username per line, in turn order. “dana x4” gives Dana four turns in a row; “off x3” leaves three turns empty."))
    restrictions = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text=(
        "Optional, one window per line in the schedule's time zone, e.g. “Mon-Fri 09:00-17:00” or “daily 18:00-08:00”. "
        "An end before the start runs past midnight; an equal start and end (“Mon-Fri 08:00-08:00”) runs 24 h from the start, "
        "to the same time the next day. A time the clock skips (spring forward) means the first minute after the jump; "
        "a time it repeats (fall back) means its first occurrence. Use Preview to see the next windows before saving."))
    effective_from = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                         help_text="Editing: participant changes apply from this local time; earlier shifts keep the old list.")

    def __init__(self, *args, zone: str = "UTC", **kw):
        super().__init__(*args, **kw)
        self.zone = zones.zone_or_none(zone) or ZoneInfo("UTC")  # the service reports a bad zone

    def clean_participants(self):
        return parse_participants(self.cleaned_data["participants"])

    def clean_restrictions(self):
        return parse_restrictions(self.cleaned_data.get("restrictions") or "")

    def clean_effective_from(self):
        value = self.cleaned_data.get("effective_from")
        return to_utc(value.replace(tzinfo=None), self.zone) if value else None

    def spec(self) -> LayerSpec:
        d = self.cleaned_data
        return LayerSpec(name=d["name"], rotation=d["rotation"], every=d["every"], handoff_time=d["handoff_time"],
                         handoff_weekday=d["handoff_weekday"], weekdays_only=d["weekdays_only"], starts_on=d["starts_on"],
                         participants=d["participants"], restrictions=d["restrictions"])


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class PersonChoiceField(forms.ModelChoiceField):
    """People by full name (username when they have none), as everywhere people are shown."""

    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class OverrideForm(PortalForm):
    user = PersonChoiceField(queryset=User.objects.filter(is_active=True).order_by("first_name", "username"), label="Who covers")
    start = LocalDateTimeField(help_text="In the schedule's time zone.")
    end = LocalDateTimeField()
    layer = forms.ModelChoiceField(queryset=Layer.objects.none(), required=False, empty_label="Whole schedule")
    replaces = PersonChoiceField(queryset=User.objects.filter(is_active=True).order_by("first_name", "username"), required=False,
                                      label="Only where this person is on call", empty_label="Anyone")
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, schedule: Schedule, **kw):
        super().__init__(*args, **kw)
        self.schedule = schedule
        self.zone = ZoneInfo(schedule.time_zone)
        self.fields["layer"].queryset = schedule.layers.all()

    def _aware(self, value: datetime | None):
        return to_utc(value.replace(tzinfo=None), self.zone) if value else None

    def clean_start(self):
        return self._aware(self.cleaned_data.get("start"))

    def clean_end(self):
        return self._aware(self.cleaned_data.get("end"))


class HandoffNoteForm(PortalForm):
    body = forms.CharField(label="Handoff notes", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000,
                           help_text="Sent to the next person on call with their handoff report.")


class ManualPageForm(PortalForm):
    user = PersonChoiceField(queryset=User.objects.filter(is_active=True).order_by("first_name", "username"),
                             required=False, label="Person")
    schedule = forms.ModelChoiceField(queryset=Schedule.objects.filter(archived_at__isnull=True), required=False,
                                      label="or schedule's on-call person")
    note = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("schedule")):
            raise forms.ValidationError("Choose a person or a schedule (one of the two).")
        return data


# --- escalation policies -------------------------------------------------------------------


def target_choices(current=()) -> list:
    """Grouped choices "kind:id" for a level's targets: schedules, layers, people, groups.
    `current`: the values the policy holds now, so a deactivated person it still names stays
    visible (and removable) instead of vanishing from the level on the next save."""
    named = [int(v.split(":", 1)[1]) for v in current if v.startswith(f"{TargetKind.USER}:")]
    people = User.objects.filter(Q(is_active=True) | Q(pk__in=named)).order_by("first_name", "username")
    return [
        ("Schedules (whoever is on call)", [(f"{TargetKind.SCHEDULE}:{s.pk}", s.name) for s in Schedule.objects.filter(archived_at__isnull=True).order_by("name")]),
        ("Layers (whoever is on call in it)", [(f"{TargetKind.LAYER}:{layer.pk}", str(layer))
                                               for layer in Layer.objects.select_related("schedule").order_by("schedule__name", "position")]),
        ("People", [(f"{TargetKind.USER}:{u.pk}", (u.get_full_name() or u.get_username()) + ("" if u.is_active else " (deactivated)"))
                    for u in people]),
        ("Groups (everyone in it)", [(f"{TargetKind.GROUP}:{g.pk}", g.name) for g in Group.objects.order_by("name")]),
    ]


def target_value(target) -> str:
    return f"{target.kind}:{getattr(target, f'{target.kind}_id')}"


class PolicyForm(PortalForm):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    services = forms.ModelMultipleChoiceField(
        queryset=Service.active.order_by("name"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Incidents on these services start this policy. A service starts one policy: choosing it here moves it from its current one.")
    repeat = forms.IntegerField(min_value=0, max_value=10, initial=0, help_text="Run the levels again this many times while nobody acknowledges.")
    repeat_after_minutes = forms.DecimalField(min_value=0, max_digits=6, decimal_places=1, initial=15, label="Repeat after (minutes)",
                                              help_text="A repeat starts this long after the last level.")


class TargetsField(forms.MultipleChoiceField):
    """Who a level pages: a <select multiple>, which static/js/picker.js turns into a searchable
    picker showing the chosen ones."""

    widget = forms.SelectMultiple(attrs={"size": 6, "data-picker": "", "data-placeholder": "Search schedules, people, groups"})


class LevelForm(PortalForm):
    delay_minutes = forms.DecimalField(min_value=0, max_digits=6, decimal_places=1, initial=0, label="After (min)",
                                       widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    condition = forms.ChoiceField(choices=Condition.choices, initial=Condition.NOT_ACKNOWLEDGED, label="If still")
    targets = TargetsField(label="Page", required=False)
    inform = TargetsField(label="Inform", required=False,
                          help_text="Told when the level fires, never paged: no acknowledgement asked, no phone ring.")
    mode = forms.ChoiceField(choices=LevelMode.choices, initial=LevelMode.ALL, label="How")
    round_robin_minutes = forms.DecimalField(min_value=0.5, max_digits=6, decimal_places=1, initial=5, required=False,
                                             label="Next one after (min)",
                                             widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    severities = forms.ModelMultipleChoiceField(queryset=Severity.objects.filter(is_active=True).order_by("rank"), to_field_name="key",
                                                required=False, widget=forms.CheckboxSelectMultiple, label="Only for",
                                                help_text="None ticked: every severity.")

    def __init__(self, *args, choices=(), **kw):
        super().__init__(*args, **kw)
        self.fields["targets"].choices = choices
        self.fields["inform"].choices = choices

    def clean(self):
        data = super().clean()
        if not data.get("targets") and not data.get("inform") and "targets" not in self.errors:
            self.add_error("targets", "Choose who this level pages (or informs): a schedule, a layer, people or a group.")
        if data.get("mode") == LevelMode.ROUND_ROBIN and data.get("round_robin_minutes") is None and "round_robin_minutes" not in self.errors:
            self.add_error("round_robin_minutes", "Say how long each person has before the next one is paged.")
        return data

    def spec(self) -> LevelSpec:
        d = self.cleaned_data

        def pairs(values):
            return [(kind, int(pk)) for kind, _, pk in (value.partition(":") for value in values)]

        rr = d.get("round_robin_minutes")
        return LevelSpec(targets=pairs(d["targets"]), inform=pairs(d.get("inform") or ()),
                         delay_seconds=round(d["delay_minutes"] * 60), condition=d["condition"],
                         severities=[s.key for s in d["severities"]], mode=d["mode"],
                         round_robin_seconds=round(rr * 60) if rr is not None else 300)


class BaseLevelFormSet(RowFormSet):
    """The levels, in order. Rows are added, removed and moved with buttons (incidents/rows.py,
    static/js/rows.js); a level left as it came (no target, defaults untouched) is skipped."""

    def __init__(self, *args, current=(), **kw):
        """`current`: the target values the policy holds now (see `target_choices`)."""
        self.choices = target_choices(current)
        super().__init__(*args, **kw)
        self.extra = 0 if self.initial else 1

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "choices": self.choices}

    def specs(self) -> list[LevelSpec]:
        return [form.spec() for form in self.forms if form.cleaned_data and not self.row_is_blank(form)]


LevelFormSet = row_formset(LevelForm, formset=BaseLevelFormSet, extra=1, max_num=20)


def minutes(seconds: int):
    """Seconds as minutes for a form: 15, or 1.5 where it is not whole."""
    return seconds // 60 if seconds % 60 == 0 else round(seconds / 60, 1)


def current_targets(levels: list[dict]) -> list[str]:
    return [value for level in levels for value in (*level.get("targets", ()), *level.get("inform", ()))]


def level_initial(policy) -> list[dict]:
    return [{"delay_minutes": minutes(level.delay_seconds), "condition": level.condition, "mode": level.mode,
             "round_robin_minutes": minutes(level.round_robin_seconds), "severities": [s.key for s in level.severities.all()],
             "targets": [target_value(t) for t in level.targets.all() if not t.inform],
             "inform": [target_value(t) for t in level.targets.all() if t.inform]}
            for level in policy.levels.prefetch_related("severities", "targets").order_by("position", "pk")]


def _zone_choices() -> list[tuple[str, str]]:
    return [("", "My browser's zone"), *zones.choices()]


class TimeZoneForm(PortalForm):
    """A person's own zone for every time the portal shows them (Profile.time_zone)."""

    time_zone = forms.ChoiceField(label="Show times in", choices=_zone_choices, required=False,
                                  help_text="Empty: your browser's zone, as your browser reports it.")


WEEKDAYS = [("1", "Monday"), ("2", "Tuesday"), ("3", "Wednesday"), ("4", "Thursday"), ("5", "Friday"), ("6", "Saturday"),
            ("7", "Sunday")]


class WorkingHoursForm(PortalForm):
    """When low-urgency incidents may reach a person (Profile.working_*; `oncall.workhours`)."""

    working_days = forms.MultipleChoiceField(choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple, label="Working days",
                                             error_messages={"required": "Tick at least one working day."})
    working_start = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    working_end = forms.TimeField(label="To", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                                  help_text="Earlier than the start: the period ends the next day (a night shift).")
