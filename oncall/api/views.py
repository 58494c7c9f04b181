"""On-call API: schedules (with who-is-on-call and shifts), overrides, escalation policies.
Writes go through the services."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents import untrusted, zones
from incidents.api.archive import ArchiveActions
from incidents.api.idempotency import IdempotentCreateMixin
from incidents.exceptions import InvalidInput

from .. import selectors
from ..models import EscalationPolicy, Layer, Override, Schedule
from ..services import calendars
from ..services import policies as policy_svc
from ..services import schedules as svc
from . import serializers as s

MAX_RANGE = timedelta(days=92)


def _instant(request, name: str, default=None):
    raw = request.query_params.get(name)
    if not raw:
        if default is None:
            raise InvalidInput(f"Give “{name}” as an ISO 8601 instant.", field=name)
        return default
    try:
        value = parse_datetime(raw.replace(" ", "+"))
    except ValueError:  # well formed, but no such day or time (month 13, February 30)
        value = None
    if value is None:
        raise InvalidInput(f"“{raw[:40]}” is not an ISO 8601 instant.", field=name)
    if timezone.is_naive(value):
        raise InvalidInput(f"“{raw[:40]}” needs a UTC offset (e.g. Z or +02:00).", field=name)
    if not untrusted.in_calendar(value):
        low, high = untrusted.year_range()
        raise InvalidInput(f"Give an instant between the years {low} and {high}.", field=name)
    return value


def _user(user) -> dict | None:
    return s.UserRefSerializer(user).data if user else None


class ScheduleViewSet(ArchiveActions, IdempotentCreateMixin, viewsets.ModelViewSet):
    """Schedules with their layers. `oncall` answers who is on call now or `?at=`; `shifts`
    lists the final shifts between `start` and `end`."""

    serializer_class = s.ScheduleSerializer
    search_fields = ["name", "description"]

    def get_queryset(self):
        return Schedule.objects.prefetch_related("layers__memberships__members", "layers__restrictions").order_by("name")

    def _layers(self, data):
        return [s.LayerSerializer.spec(layer) for layer in data.get("layers", [])]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = svc.schedule_create(name=data["name"], time_zone=data.get("time_zone", zones.SCHEDULE_DEFAULT),
                                                  description=data.get("description", ""), layers=self._layers(data), by=self.request.user)

    @transaction.atomic
    def perform_update(self, serializer):
        schedule, data = serializer.instance, serializer.validated_data
        svc.schedule_update(schedule=schedule, by=self.request.user, **{f: data[f] for f in svc.SCHEDULE_FIELDS if f in data})
        if "layers" in data:
            svc.schedule_layers_replace(schedule=schedule, by=self.request.user, layers=[
                svc.LayerChange(spec=s.LayerSerializer.spec(layer), layer_id=layer.get("id") or None, effective_from=layer.get("effective_from"))
                for layer in data["layers"]])
        serializer.instance = self.get_queryset().get(pk=schedule.pk)

    def perform_destroy(self, instance):
        svc.schedule_delete(schedule=instance, by=self.request.user)

    def _oncall(self, schedule_ids, at):
        compiled = selectors.compile_schedules(schedule_ids, window=(at, at + timedelta(seconds=1)))
        ids = []
        for sched in compiled.values():
            ids.append(sched.who_at(at))
            ids.extend(sched.layer_who_at(layer, at) for layer in sched.layers)
        users = selectors.users_by_id(ids)
        names = dict(Layer.objects.filter(schedule_id__in=list(compiled)).values_list("pk", "name"))
        return [{"schedule": pk, "at": at, "user": _user(users.get(sched.who_at(at))),
                 "layers": [{"layer": layer.key, "name": names.get(layer.key), "user": _user(users.get(sched.layer_who_at(layer, at)))}
                            for layer in sched.layers]} for pk, sched in compiled.items()]

    @extend_schema(parameters=[OpenApiParameter("at", str, description="ISO 8601 instant; default now")], responses=dict)
    @action(detail=True, methods=["get"])
    def oncall(self, request, pk=None):
        schedule = self.get_object()
        return Response(self._oncall([schedule.pk], _instant(request, "at", timezone.now()))[0])

    @extend_schema(operation_id="v1_schedules_oncall_all", responses=dict,
                   parameters=[OpenApiParameter("at", str, description="ISO 8601 instant; default now")])
    @action(detail=False, methods=["get"], url_path="oncall")
    def oncall_all(self, request):
        return Response({"results": self._oncall(None, _instant(request, "at", timezone.now()))})

    @staticmethod
    def archive_with(schedule, by):  # refused while a policy pages it
        return svc.schedule_archive(schedule=schedule, by=by)

    @staticmethod
    def restore_with(schedule, by):
        return svc.schedule_restore(schedule=schedule, by=by)

    @extend_schema(request=None, responses=s.ScheduleSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-calendar")
    def rotate_calendar(self, request, pk=None):
        """A new secret calendar-feed address; the old one stops working at once."""
        schedule = calendars.schedule_rotate_calendar(schedule=self.get_object(), by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=schedule.pk)).data)

    @extend_schema(parameters=[OpenApiParameter("start", str), OpenApiParameter("end", str)], responses=dict)
    @action(detail=True, methods=["get"])
    def shifts(self, request, pk=None):
        schedule = self.get_object()
        start, end = _instant(request, "start"), _instant(request, "end")
        if end <= start:
            raise InvalidInput("“end” must be after “start”.", field="end")
        if end - start > MAX_RANGE:
            raise InvalidInput("Ask for at most 92 days at a time.", field="end")
        shifts = selectors.schedule_shifts(schedule, start, end)
        return Response({"schedule": schedule.pk, "start": start, "end": end,
                         "shifts": [{"start": a, "end": b, "user": _user(u)} for a, b, u in shifts],
                         "gaps": [{"start": a, "end": b} for a, b in selectors.rotation.gaps_of(
                             [(a, b, u) for a, b, u in shifts], start, end)]})


class OverrideViewSet(IdempotentCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = s.OverrideSerializer
    filterset_fields = ["schedule", "user", "layer"]
    ordering_fields = ["start", "end"]

    def get_queryset(self):
        return Override.objects.select_related("schedule").order_by("start", "pk")

    def perform_create(self, serializer):
        d = serializer.validated_data
        serializer.instance = svc.override_create(schedule=d["schedule"], user=d["user"], start=d["start"], end=d["end"],
                                                  layer=d.get("layer"), replaces=d.get("replaces"), reason=d.get("reason", ""),
                                                  by=self.request.user)

    def perform_destroy(self, instance):
        svc.override_delete(override=instance, by=self.request.user)


class EscalationPolicyViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    serializer_class = s.EscalationPolicySerializer
    search_fields = ["name"]

    def get_queryset(self):
        return EscalationPolicy.objects.prefetch_related(
            "levels__severities", "levels__targets__schedule", "levels__targets__layer", "levels__targets__user",
            "levels__targets__group", "service_links__service", "integration_links__integration", "type_links__incident_type").order_by("name")

    def _save(self, serializer, policy=None):
        d = serializer.validated_data
        levels = [s.LevelSerializer.spec(level) for level in d["levels"]] if "levels" in d else None
        if levels is None and policy is not None:
            levels = [s.LevelSerializer.spec(s.LevelSerializer(level).data) for level in policy.levels.all()]
        saved = policy_svc.policy_save(
            policy=policy, name=d.get("name", policy.name if policy else ""), description=d.get("description", policy.description if policy else ""),
            repeat=d.get("repeat", policy.repeat if policy else 0),
            repeat_after_seconds=d.get("repeat_after_seconds", policy.repeat_after_seconds if policy else 900),
            levels=levels or [], services=d.get("services"), integrations=d.get("integrations"),
            incident_types=d.get("incident_types"), by=self.request.user)
        serializer.instance = self.get_queryset().get(pk=saved.pk)

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        policy_svc.policy_delete(policy=instance, by=self.request.user)



