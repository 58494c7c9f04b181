"""Postmortems, their templates (data, not code) and action items. (Reminders are rows of the
delivery layer: `postmortems.reminders`.)"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from incidents.models import Incident, Severity
from incidents.zones import validate_zone


class SectionPrefill(models.TextChoices):
    NONE = "", "Empty"
    SUMMARY = "summary", "Incident facts (duration, severity, commander, services)"
    SERVICES = "services", "Services affected"
    TIMELINE = "timeline", "Key events of the incident's timeline"
    ACTION_ITEMS = "action_items", "Action items (listed automatically)"


class PostmortemTemplate(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False, help_text="Used for severities without a template of their own.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_template")]

    def __str__(self):
        return self.name


class TemplateSection(models.Model):
    template = models.ForeignKey(PostmortemTemplate, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(max_length=60)
    title = models.CharField(max_length=120)
    group = models.CharField(max_length=60, blank=True, help_text="Heading the section sits under, e.g. Impact.")
    guidance = models.TextField(blank=True, help_text="Shown to the writer as a hint.")
    required = models.BooleanField(default=False, help_text="Must be filled in before publishing.")
    prefill = models.CharField(max_length=20, choices=SectionPrefill.choices, blank=True, default=SectionPrefill.NONE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["template", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["template", "key"], name="unique_template_section_key")]

    def __str__(self):
        return self.title


class SeverityTemplate(models.Model):
    """Which template a severity's postmortems start from (lives here, not in `incidents`)."""

    severity = models.OneToOneField(Severity, on_delete=models.CASCADE, related_name="postmortem_template_choice")
    template = models.ForeignKey(PostmortemTemplate, on_delete=models.CASCADE)

    def __str__(self):
        return f"{self.severity.key}: {self.template}"


class PostmortemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


POSTMORTEM_TRANSITIONS = {
    PostmortemStatus.DRAFT: {PostmortemStatus.IN_REVIEW},
    PostmortemStatus.IN_REVIEW: {PostmortemStatus.DRAFT, PostmortemStatus.PUBLISHED},
    PostmortemStatus.PUBLISHED: set(),
}


def postmortem_can_transition(current: str, new: str) -> bool:
    return new in POSTMORTEM_TRANSITIONS.get(PostmortemStatus(current), set())


class Postmortem(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="postmortems")
    template = models.ForeignKey(PostmortemTemplate, on_delete=models.PROTECT, related_name="postmortems")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=PostmortemStatus.choices, default=PostmortemStatus.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="postmortems_owned"
    )
    due_at = models.DateTimeField()
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="postmortems_to_review")
    review_meeting_at = models.DateTimeField(null=True, blank=True)
    review_meeting_place = models.CharField(max_length=200, blank=True, help_text="Room or video-call link.")
    public_summary = models.TextField(blank=True, max_length=5_000, help_text="Shown on the status page once published (Markdown).")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    automatic = models.BooleanField(default=False, help_text="Opened by the resolution of the incident.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["incident"], name="one_postmortem_per_incident")]
        indexes = [models.Index(fields=["status", "due_at"])]
        permissions = [("publish_postmortem", "Can publish postmortems")]

    def __str__(self):
        return f"Postmortem {self.incident.number}"

    def get_absolute_url(self):
        return reverse("postmortems:detail", kwargs={"number": self.incident.number})

    @property
    def number(self) -> str:
        return self.incident.number

    @property
    def is_editable(self) -> bool:
        return self.status != PostmortemStatus.PUBLISHED

    @property
    def meeting_due_at(self):
        """When the review meeting must have been held by: the incident's resolution plus its
        severity's `postmortem_meeting_within`; None when the severity sets no window or the
        incident is not resolved."""
        window = self.incident.severity.postmortem_meeting_within
        if window is None or self.incident.resolved_at is None:
            return None
        return self.incident.resolved_at + window

    def meeting_overdue(self, now) -> bool:
        """The window has passed with no meeting set, or the meeting is set for after it."""
        due = self.meeting_due_at
        if due is None or not self.is_editable:
            return False
        if self.review_meeting_at is not None:
            return self.review_meeting_at > due
        return now > due

    def can_transition_to(self, new: str) -> bool:
        return postmortem_can_transition(self.status, new)


class PostmortemSection(models.Model):
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(max_length=60)
    title = models.CharField(max_length=120)
    group = models.CharField(max_length=60, blank=True)
    guidance = models.TextField(blank=True)
    required = models.BooleanField(default=False)
    prefill = models.CharField(max_length=20, choices=SectionPrefill.choices, blank=True, default=SectionPrefill.NONE)
    position = models.PositiveSmallIntegerField(default=0)
    body = models.TextField(blank=True, max_length=50_000, help_text="Markdown.")

    class Meta:
        ordering = ["postmortem", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["postmortem", "key"], name="unique_postmortem_section_key")]

    def __str__(self):
        return self.title

    @property
    def is_action_items(self) -> bool:
        return self.prefill == SectionPrefill.ACTION_ITEMS


class ActionCategory(models.TextChoices):
    PREVENTION = "prevention", "Prevention"
    DETECTION = "detection", "Detection"
    RESPONSE = "response", "Response"
    DOCUMENTATION = "documentation", "Documentation"


class ActionPriority(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


ACTION_OPEN_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


class ActionItem(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="action_items")
    postmortem = models.ForeignKey(Postmortem, null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=10_000)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items")
    due_date = models.DateField(null=True, blank=True)
    category = models.CharField(max_length=20, choices=ActionCategory.choices, default=ActionCategory.PREVENTION)
    priority = models.CharField(max_length=10, choices=ActionPriority.choices, default=ActionPriority.MEDIUM)
    status = models.CharField(max_length=20, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    ticket_url = models.URLField(blank=True, max_length=500, help_text="Link to the item in an external tracker.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["owner", "status", "due_date"]), models.Index(fields=["status", "due_date"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("postmortems:action_item", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status in ACTION_OPEN_STATUSES


# --- game days ---------------------------------------------------------------------------------


class GameDayStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


GAMEDAY_TRANSITIONS = {
    GameDayStatus.PLANNED: {GameDayStatus.RUNNING, GameDayStatus.CANCELLED},
    GameDayStatus.RUNNING: {GameDayStatus.DONE, GameDayStatus.CANCELLED},
    GameDayStatus.DONE: {GameDayStatus.DONE},  # results can be recorded again (corrected)
    GameDayStatus.CANCELLED: set(),
}


def gameday_can_transition(current: str, new: str) -> bool:
    return new in GAMEDAY_TRANSITIONS.get(GameDayStatus(current), set())


class GameDayOutcome(models.TextChoices):
    PASSED = "passed", "Passed: the response met its targets"
    PARTIAL = "partial", "Partly: gaps found"
    FAILED = "failed", "Failed: the response broke down"


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class GameDay(models.Model):
    """A scheduled exercise (game day, fire drill): a scenario played against a runbook by its
    participants. Starting it declares the drill incident(s) it runs (pages for real, marked
    [DRILL]); its results (what was learnt, the outcome, action items on its drills) are kept
    here and on the drills report."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    scenario = models.TextField(max_length=20_000, help_text="What will be simulated, and how (Markdown).")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64, default="Etc/UTC", validators=[validate_zone],
                                 help_text="The zone the game day is planned in (IANA name).")
    runbook = models.ForeignKey("integrations.Runbook", null=True, blank=True, on_delete=models.SET_NULL, related_name="game_days")
    runbook_url = models.URLField(blank=True, max_length=500, help_text="Or a link to the runbook elsewhere (http or https).")
    severity = models.ForeignKey(Severity, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text="Severity the drill is declared at (empty: the drill type's default).")
    facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="game_days_facilitated")
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="game_days")
    status = models.CharField(max_length=20, choices=GameDayStatus.choices, default=GameDayStatus.PLANNED)
    incidents = models.ManyToManyField(Incident, blank=True, related_name="game_days", help_text="The drills run during it.")
    learnt = models.TextField(blank=True, max_length=20_000, help_text="What was learnt (Markdown).")
    outcome = models.CharField(max_length=20, choices=GameDayOutcome.choices, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="game_day_ends_after_start")]
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("postmortems:game_day", kwargs={"public_id": self.public_id})

    def can_transition_to(self, new: str) -> bool:
        return gameday_can_transition(self.status, new)

    @property
    def is_editable(self) -> bool:
        return self.status in (GameDayStatus.PLANNED, GameDayStatus.RUNNING)

    @property
    def runbook_link(self) -> str:
        if self.runbook_id:
            return self.runbook.get_absolute_url()
        return self.runbook_url


class GameDayFeedToken(models.Model):
    """The secret in a person's game-day calendar URL; rotating it stops the old URL at once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="game_day_feed")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Game-day calendar of {self.user}"
