"""People through the API: `/api/v1/users/` for those who manage accounts (list with groups and
contact-method state, invite, update, deactivate; never delete), `/api/v1/users/me/` for
everyone signed in (their own profile and calendar feed). Writes go through
`oncall.services.people`."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response

from incidents.api.idempotency import idempotent
from incidents.bounded import PortalModelSerializer, PortalSerializer

from ..notifications import selectors as notification_selectors
from ..services import calendars, people

User = get_user_model()


class ReachabilitySerializer(PortalSerializer):
    count = serializers.IntegerField(source="methods_count")
    active = serializers.IntegerField(source="methods_active")
    last_failure = serializers.SerializerMethodField()

    def get_last_failure(self, user) -> dict | None:
        if user.last_failure_at is None:
            return None
        return {"at": user.last_failure_at, "error": user.last_failure_error[:500]}


class ProfileValue:
    """A field read from the person's profile (`oncall.models.Profile`), written through the
    people services."""

    def get_attribute(self, user):
        profile = getattr(user, "oncall_profile", None) if user.pk else None
        return getattr(profile, self.source, None) if profile else self.absent

    absent = None


class TimeZoneField(ProfileValue, serializers.CharField):
    absent = ""


class WorkingDaysField(ProfileValue, serializers.CharField):
    absent = "12345"


class WorkingTimeField(ProfileValue, serializers.TimeField):
    pass


class WorkingHoursFields(PortalSerializer):
    working_days = WorkingDaysField(required=False, max_length=7, help_text=(
        "ISO weekdays a working period starts on, 1 Monday … 7 Sunday: 12345 is Monday to Friday. Low-urgency "
        "incidents notify the person inside their working hours only."))
    working_start = WorkingTimeField(required=False, format="%H:%M", help_text="In the person's zone, e.g. 09:00.")
    working_end = WorkingTimeField(required=False, format="%H:%M", help_text="Before the start: ends the next day.")


WORKING_HOURS = ("working_days", "working_start", "working_end")


class PersonSerializer(PortalModelSerializer, WorkingHoursFields):
    groups = serializers.SlugRelatedField(slug_field="name", many=True, queryset=Group.objects.all(), required=False)
    time_zone = TimeZoneField(required=False, allow_blank=True, max_length=64)
    contact_methods = ReachabilitySerializer(source="*", read_only=True)
    invite = serializers.BooleanField(write_only=True, default=True, help_text="Email a set-password link (needs an email address).")

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "is_active", "groups", "time_zone",
                  "working_days", "working_start", "working_end", "contact_methods", "last_login", "date_joined", "invite"]
        read_only_fields = ["last_login", "date_joined"]
        # The service reports a taken name; the characters are checked here.
        extra_kwargs = {"username": {"validators": [UnicodeUsernameValidator()]}}


class PersonUpdateSerializer(PersonSerializer):
    class Meta(PersonSerializer.Meta):
        read_only_fields = ["username", "last_login", "date_joined"]


class ProfileSerializer(PortalModelSerializer, WorkingHoursFields):
    groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    time_zone = TimeZoneField(required=False, allow_blank=True, max_length=64)

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "groups", "time_zone", "working_days", "working_start",
                  "working_end"]
        read_only_fields = ["id", "username", "email", "groups"]


class CalendarSerializer(PortalSerializer):
    url = serializers.CharField()
    webcal_url = serializers.CharField()


def _calendar(token) -> dict:
    url = settings.SITE_URL + reverse("oncall:ical_user", args=[token.token])
    return {"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                  viewsets.GenericViewSet):
    """People. Admins list, invite, update and deactivate; nobody deletes (DELETE answers 405:
    deactivate instead, so incidents, rotations and the change log keep their names)."""

    serializer_class = PersonSerializer
    filterset_fields = ["is_active", "groups__name"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering_fields = ["username", "date_joined", "last_login"]

    def get_queryset(self):
        users = User.objects.select_related("oncall_profile").prefetch_related("groups").order_by("username")
        return notification_selectors.people_with_reachability(users)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return PersonUpdateSerializer
        if self.action in ("me", "me_update"):
            return ProfileSerializer
        return super().get_serializer_class()

    def _detail(self, person, code=status.HTTP_200_OK):
        return Response(PersonSerializer(self.get_queryset().get(pk=person.pk), context=self.get_serializer_context()).data, status=code)

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():  # a refused working-hours value leaves no half-made person behind
            person = people.person_invite(
                username=data["username"], email=data.get("email", ""), first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""), groups=data.get("groups", []), time_zone=data.get("time_zone", ""),
                invite=data.get("invite", True), by=request.user,
            )
            hours = {name: data[name] for name in WORKING_HOURS if name in data}
            if hours:
                people.person_update(person=person, by=request.user, **hours)
        return self._detail(person, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        person = self.get_object()
        serializer = self.get_serializer(person, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("invite", None)
        people.person_update(person=person, by=request.user, **data)
        return self._detail(person)

    @extend_schema(responses={405: None})
    def destroy(self, request, *args, **kwargs):
        raise MethodNotAllowed("DELETE", detail="People are deactivated, not deleted: POST /api/v1/users/{id}/deactivate/ "
                                                "or PATCH is_active=false. Their incidents, rotations and history keep their name.")

    @extend_schema(request=None, responses=PersonSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Deactivate: no sign-in, no API tokens, no pages; history keeps the name."""
        return self._detail(people.person_deactivate(person=self.get_object(), by=request.user))

    @extend_schema(methods=["GET"], responses=ProfileSerializer)
    @extend_schema(methods=["PUT", "PATCH"], request=ProfileSerializer, responses=ProfileSerializer)
    @action(detail=False, methods=["get", "put", "patch"], url_path="me")
    def me(self, request):
        """Your own profile: names and time zone can be changed here."""
        person = request.user
        if request.method != "GET":
            serializer = ProfileSerializer(person, data=request.data, partial=request.method == "PATCH")
            serializer.is_valid(raise_exception=True)
            people.profile_update(person=person, **serializer.validated_data)
        person = User.objects.select_related("oncall_profile").prefetch_related("groups").get(pk=person.pk)
        return Response(ProfileSerializer(person).data)

    @extend_schema(responses=CalendarSerializer)
    @action(detail=False, methods=["get"], url_path="me/calendar", url_name="me-calendar")
    def me_calendar(self, request):
        """Your personal calendar-feed address (a secret: only you see it)."""
        return Response(_calendar(calendars.calendar_for(request.user)))

    @extend_schema(request=None, responses=CalendarSerializer)
    @action(detail=False, methods=["post"], url_path="me/rotate-calendar", url_name="me-rotate-calendar")
    def me_rotate_calendar(self, request):
        """A new personal calendar-feed address; the old one stops working at once."""
        return Response(_calendar(calendars.calendar_rotate(user=request.user, by=request.user)))


