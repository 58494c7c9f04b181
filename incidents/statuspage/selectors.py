"""The public read path: one snapshot of everything the page shows, published data only.

Every query is here, in a fixed number whatever the data (the page is then cached). Nothing
internal is loaded into a snapshot: incidents come in through PublicIncident (published ones
only), updates are filtered to public visibility, and no member, note or alert is ever read.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone

from incidents.models import Maintenance, MaintenanceStatus, Service, StatusUpdate, Visibility

from .models import (
    DOWNTIME_WEIGHT,
    STATUS_RANK,
    ComponentGroup,
    ComponentImpact,
    ComponentStatus,
    ComponentStatusPeriod,
    MaintenanceUpdate,
    PageSettings,
    PublicIncident,
    StatusComponent,
    worst,
)

BAR_DAYS = 90
RECENT_LIMIT = 50  # Statuspage's incidents.json returns the 50 most recent


def page_settings() -> PageSettings:
    page = PageSettings.objects.prefetch_related("footer_links").order_by("pk").first()
    if page is None:
        page, _ = PageSettings.objects.get_or_create(pk=1)
        page = PageSettings.objects.prefetch_related("footer_links").get(pk=page.pk)
    return page


def page_url(page: PageSettings) -> str:
    return (page.url or f"{settings.SITE_URL}/status/").rstrip("/") + "/"


def _public_updates() -> Prefetch:
    return Prefetch(
        "incident__updates",
        queryset=StatusUpdate.objects.filter(visibility=Visibility.PUBLIC).select_related("public_info").order_by("-created_at", "-pk"),
        to_attr="public_updates",
    )


def _impacts() -> Prefetch:
    return Prefetch("incident__component_impacts", queryset=ComponentImpact.objects.select_related("component__group"), to_attr="impacts")


def public_incidents():
    return (PublicIncident.objects.select_related("incident").prefetch_related(_public_updates(), _impacts())
            .filter(incident__is_drill=False).exclude(incident__type__public=False))


def maintenances_public():
    return (
        Maintenance.objects.filter(public=True, statuspage__isnull=False)
        .select_related("statuspage")
        .prefetch_related(
            Prefetch("services", queryset=Service.objects.select_related("status_component"), to_attr="service_list"),
            Prefetch("public_updates", queryset=MaintenanceUpdate.objects.order_by("-created_at", "-pk"), to_attr="updates"),
        )
    )


@dataclass
class Day:
    day: date
    status: str = ComponentStatus.OPERATIONAL
    incidents: list = field(default_factory=list)
    downtime: float = 0.0  # weighted seconds
    future: bool = False
    spans: dict = field(default_factory=dict)  # status -> seconds spent in it that day (not operational)

    @property
    def label(self) -> str:
        return ComponentStatus(self.status).label


@dataclass
class Bars:
    days: list[Day]
    uptime: float | None


@dataclass
class Snapshot:
    page: PageSettings
    groups: list[ComponentGroup]
    components: list[StatusComponent]
    open_incidents: list[PublicIncident]
    maintenances: list[Maintenance]  # not completed, by start
    now: datetime

    @cached_property
    def bars(self) -> dict[int, Bars]:
        """The HTML page's uptime bars (2 queries); the JSON documents never read them."""
        return _bars(self.components, self.now)

    @cached_property
    def recent_incidents(self) -> list[PublicIncident]:
        """Read only by the documents that list history (3 more queries then)."""
        return list(public_incidents().order_by("-incident__started_at")[:RECENT_LIMIT])

    @cached_property
    def recent_maintenances(self) -> list[Maintenance]:
        return list(maintenances_public().order_by("-scheduled_for")[:RECENT_LIMIT])

    @property
    def components_by_pk(self) -> dict[int, StatusComponent]:
        return {c.pk: c for c in self.components}

    @property
    def layout(self) -> list[tuple[ComponentGroup | None, list[StatusComponent]]]:
        """What the page lists: ungrouped components and groups by position, a group's own inside it.
        Components shown only when degraded are left out while operational."""
        shown = [c for c in self.components if not c.only_show_if_degraded or c.status != ComponentStatus.OPERATIONAL]
        items = [(c.position, c.name, None, [c]) for c in shown if c.group_id is None]
        for g in self.groups:
            children = [c for c in shown if c.group_id == g.pk]
            if children:
                items.append((g.position, g.name, g, children))
        return [(g, cs) for _, _, g, cs in sorted(items, key=lambda i: (i[0], i[1]))]

    @property
    def active_maintenances(self) -> list[Maintenance]:
        return [m for m in self.maintenances if m.is_active(self.now)]

    @property
    def upcoming_maintenances(self) -> list[Maintenance]:
        return [m for m in self.maintenances if m.status == MaintenanceStatus.SCHEDULED and not m.is_active(self.now)]


def _bars(components: list[StatusComponent], now: datetime) -> dict[int, Bars]:
    """90 days per component: a day's worst state, its incidents and the weighted uptime."""
    today = timezone.localdate(now)
    first = today - timedelta(days=BAR_DAYS - 1)
    window_start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    periods = defaultdict(list)
    for p in ComponentStatusPeriod.objects.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=window_start)).filter(started_at__lt=now):
        periods[p.component_id].append(p)
    day_incidents = defaultdict(lambda: defaultdict(list))
    impacts = (
        ComponentImpact.objects.filter(incident__public__isnull=False)
        .filter(Q(incident__resolved_at__isnull=True) | Q(incident__resolved_at__gt=window_start))
        .select_related("incident__public")
        .order_by("incident__started_at")
    )
    for imp in impacts:
        inc = imp.incident
        start = max(timezone.localdate(inc.started_at), first)
        end = timezone.localdate(inc.resolved_at or now)
        d = start
        while d <= end:
            day_incidents[imp.component_id][d].append(inc.public)
            d += timedelta(days=1)
    result = {}
    for c in components:
        since = max(first, c.start_date or timezone.localdate(c.created_at))
        days = []
        counted = 0.0
        down = 0.0
        for i in range(BAR_DAYS):
            d = first + timedelta(days=i)
            day = Day(d, future=d < since)
            lo = timezone.make_aware(datetime.combine(d, datetime.min.time()))
            hi = min(lo + timedelta(days=1), now)
            for p in periods[c.pk]:
                s, e = max(p.started_at, lo), min(p.ended_at or now, hi)
                if e <= s:
                    continue
                if STATUS_RANK[ComponentStatus(p.status)] > STATUS_RANK[ComponentStatus(day.status)]:
                    day.status = p.status
                day.downtime += (e - s).total_seconds() * DOWNTIME_WEIGHT.get(p.status, 0.0)
                if p.status != ComponentStatus.OPERATIONAL:
                    day.spans[p.status] = day.spans.get(p.status, 0.0) + (e - s).total_seconds()
            day.incidents = day_incidents[c.pk].get(d, [])
            if not day.future and hi > lo:
                counted += (hi - lo).total_seconds()
                down += day.downtime
            days.append(day)
        uptime = round(100.0 * (1 - down / counted), 2) if counted else None
        result[c.pk] = Bars(days, uptime)
    return result


def snapshot(now: datetime | None = None) -> Snapshot:
    now = now or timezone.now()
    page = page_settings()
    groups = list(ComponentGroup.objects.all())
    components = list(StatusComponent.objects.filter(archived_at__isnull=True, service__archived_at__isnull=True)
                      .select_related("group").order_by("position", "name"))
    open_incidents = list(public_incidents().exclude(incident__status="resolved").order_by("-incident__started_at"))
    current = list(maintenances_public().exclude(status=MaintenanceStatus.COMPLETED).order_by("scheduled_for"))
    return Snapshot(page, groups, components, open_incidents, current, now)


def incident_by_code(code: str) -> PublicIncident | None:
    return public_incidents().filter(code=code).first()


def maintenance_by_code(code: str) -> Maintenance | None:
    return maintenances_public().filter(statuspage__code=code).first()


def history(months: int, before: date | None = None) -> list[tuple[date, list[PublicIncident]]]:
    """Published incidents grouped by month, newest first, `months` months ending with `before`'s month."""
    end = before or timezone.localdate()
    month = end.replace(day=1)
    firsts = [month]
    for _ in range(months - 1):
        month = (month - timedelta(days=1)).replace(day=1)
        firsts.append(month)
    start = timezone.make_aware(datetime.combine(firsts[-1], datetime.min.time()))
    next_month = (firsts[0] + timedelta(days=32)).replace(day=1)
    stop = timezone.make_aware(datetime.combine(next_month, datetime.min.time()))
    items = public_incidents().filter(incident__started_at__gte=start, incident__started_at__lt=stop).order_by("-incident__started_at")
    by_month = defaultdict(list)
    for pub in items:
        by_month[timezone.localdate(pub.incident.started_at).replace(day=1)].append(pub)
    return [(m, by_month.get(m, [])) for m in firsts]


def overall_status(snap: Snapshot) -> str:
    return worst(c.status for c in snap.components)
