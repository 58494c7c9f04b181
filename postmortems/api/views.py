from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.idempotency import IdempotentCreateMixin

from .. import gamedays, reports, selectors, services
from ..export import postmortem_markdown
from ..forms import range_from_params
from ..models import ActionCategory, ActionItem, ActionStatus, GameDay, Postmortem
from . import serializers as s


class _CreatePostmortem(mixins.CreateModelMixin):
    """Below IdempotentCreateMixin in the MRO, so an `Idempotency-Key` replays instead of creating twice."""

    @extend_schema(request=s.PostmortemCreateSerializer, responses={201: s.PostmortemSerializer})
    def create(self, request, *args, **kwargs):
        data = self._input(s.PostmortemCreateSerializer)
        postmortem = services.postmortem_create(
            incident=data["incident"], by=request.user, owner=data.get("owner"), due_at=data.get("due_at"),
            template=data.get("template"), reviewers=data.get("reviewers", ()),
        )
        return self._detail(postmortem, status.HTTP_201_CREATED)


class _CreateActionItem(mixins.CreateModelMixin):
    def create(self, request, *args, **kwargs):
        serializer = s.ActionItemSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        item = services.action_item_create(
            incident=data["incident"], by=request.user, title=data["title"], description=data.get("description", ""),
            owner=data.get("owner"), due_date=data.get("due_date"), category=data.get("category", ActionCategory.PREVENTION),
            priority=data.get("priority", "medium"), ticket_url=data.get("ticket_url", ""),
        )
        return Response(s.ActionItemSerializer(selectors.action_item_queryset(request.user).get(pk=item.pk)).data, status=status.HTTP_201_CREATED)


class PostmortemViewSet(IdempotentCreateMixin, _CreatePostmortem, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Postmortems, addressed by their incident's number. State changes are the action endpoints."""

    serializer_class = s.PostmortemSerializer
    queryset = Postmortem.objects.none()
    lookup_field = "incident__number"
    lookup_url_kwarg = "id"
    filterset_fields = {"status": ["exact"], "owner__username": ["exact"]}
    ordering_fields = ["created_at", "due_at", "published_at"]

    def get_queryset(self):
        return selectors.postmortem_queryset(self.request.user).order_by("-created_at", "-pk")

    def _detail(self, postmortem, code=status.HTTP_200_OK):
        fresh = selectors.postmortem_queryset(self.request.user).get(pk=postmortem.pk)
        return Response(s.PostmortemSerializer(fresh).data, status=code)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context={"request": self.request})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=s.PostmortemUpdateSerializer, responses=s.PostmortemSerializer)
    def update(self, request, *args, **kwargs):
        postmortem = self.get_object()
        serializer = s.PostmortemUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        services.postmortem_update(postmortem=postmortem, by=request.user, **data)
        return self._detail(postmortem)

    @extend_schema(request=None, responses=s.PostmortemSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, id=None):
        postmortem = self.get_object()
        services.postmortem_submit_for_review(postmortem=postmortem, by=request.user)
        return self._detail(postmortem)

    @extend_schema(request=None, responses=s.PostmortemSerializer)
    @action(detail=True, methods=["post"], url_path="return-to-draft")
    def return_to_draft(self, request, id=None):
        postmortem = self.get_object()
        services.postmortem_return_to_draft(postmortem=postmortem, by=request.user)
        return self._detail(postmortem)

    @extend_schema(request=s.PublishSerializer, responses=s.PostmortemSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, id=None):
        postmortem = self.get_object()
        data = self._input(s.PublishSerializer)
        services.postmortem_publish(postmortem=postmortem, by=request.user, public_summary=data.get("public_summary"))
        return self._detail(postmortem)

    @extend_schema(responses={(200, "text/markdown"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"])
    def markdown(self, request, id=None):
        return HttpResponse(postmortem_markdown(self.get_object()), content_type="text/markdown; charset=utf-8")


class ActionItemViewSet(IdempotentCreateMixin, _CreateActionItem, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Action items across incidents. Filters: owner (username or `me`), category, status, overdue=true."""

    serializer_class = s.ActionItemSerializer
    queryset = ActionItem.objects.none()
    ordering_fields = ["due_date", "created_at", "priority"]

    @extend_schema(parameters=[
        OpenApiParameter("owner", str, description="Username, or `me`."),
        OpenApiParameter("category", str, enum=ActionCategory.values),
        OpenApiParameter("status", str, enum=ActionStatus.values),
        OpenApiParameter("overdue", bool, description="Only open items past their due date."),
        OpenApiParameter("incident", str, description="Incident number."),
    ])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        qs = selectors.action_item_queryset(self.request.user).order_by("due_date", "pk")
        if self.action != "list":
            return qs
        params = self.request.query_params
        owner = params.get("owner")
        if owner:
            qs = qs.filter(owner=self.request.user) if owner == "me" else qs.filter(owner__username=owner)
        if params.get("category"):
            qs = qs.filter(category=params["category"])
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        if params.get("overdue") in ("1", "true", "yes"):
            qs = qs.filter(status__in=("open", "in_progress"), due_date__lt=timezone.localdate())
        if params.get("incident"):
            qs = qs.filter(incident__number=params["incident"])
        return qs

    @extend_schema(request=s.ActionItemUpdateSerializer, responses=s.ActionItemSerializer)
    def update(self, request, *args, **kwargs):
        item = self.get_object()
        serializer = s.ActionItemUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        services.action_item_update(item=item, by=request.user, **serializer.validated_data)
        return Response(s.ActionItemSerializer(selectors.action_item_queryset(request.user).get(pk=item.pk)).data)


class MetricsView(APIView):
    """Incident metrics over a date range: the figures of the metrics page."""

    @extend_schema(
        summary="Incident metrics over a date range",
        description=reports.__doc__,
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATE, description="First day (inclusive). Default: 89 days before `until`."),
            OpenApiParameter("until", OpenApiTypes.DATE, description="Last day (inclusive). Default: today."),
        ],
        responses=s.MetricsSerializer,
    )
    def get(self, request):
        form, rng = range_from_params(request.query_params)
        if form.errors:
            raise ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        return Response(reports.as_dict(reports.compute(rng, viewer=request.user)))


class _CreateGameDay(mixins.CreateModelMixin):
    """Below IdempotentCreateMixin in the MRO, so an `Idempotency-Key` replays instead of creating twice."""

    @extend_schema(request=s.GameDayWriteSerializer, responses={201: s.GameDaySerializer})
    def create(self, request, *args, **kwargs):
        serializer = s.GameDayWriteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        game_day = gamedays.game_day_create(by=request.user, **serializer.validated_data)
        return self._detail(game_day, status.HTTP_201_CREATED)


class GameDayViewSet(IdempotentCreateMixin, _CreateGameDay, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Game days, addressed by their UUID. Filters: status; `when=upcoming|past`. Starting one
    declares its drill; `results` closes it; `cancel` cancels it and its pending reminders."""

    serializer_class = s.GameDaySerializer
    queryset = GameDay.objects.none()
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = {"status": ["exact"]}
    ordering_fields = ["starts_at", "created_at"]

    @extend_schema(parameters=[OpenApiParameter("when", str, enum=["upcoming", "past"])])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        when = self.request.query_params.get("when") if self.action == "list" else None
        if when in ("upcoming", "past"):
            return gamedays.game_day_list(self.request.user, when=when)
        return gamedays.game_day_queryset(self.request.user).order_by("-starts_at", "-pk")

    def _detail(self, game_day, code=status.HTTP_200_OK):
        fresh = gamedays.game_day_queryset(self.request.user).get(pk=game_day.pk)
        return Response(s.GameDaySerializer(fresh).data, status=code)

    def _input(self, serializer_class, partial=False):
        serializer = serializer_class(data=self.request.data, partial=partial, context={"request": self.request})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(request=s.GameDayWriteSerializer, responses=s.GameDaySerializer)
    def update(self, request, *args, **kwargs):
        game_day = self.get_object()
        data = self._input(s.GameDayWriteSerializer, partial=kwargs.get("partial", False))
        gamedays.game_day_update(game_day=game_day, by=request.user, **data)
        return self._detail(game_day)

    @extend_schema(request=s.GameDayStartSerializer, responses=s.GameDaySerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, id=None):
        game_day = self.get_object()
        data = self._input(s.GameDayStartSerializer)
        gamedays.game_day_start(game_day=game_day, by=request.user, title=data.get("title", ""))
        return self._detail(game_day)

    @extend_schema(request=s.GameDayResultsSerializer, responses=s.GameDaySerializer)
    @action(detail=True, methods=["post"])
    def results(self, request, id=None):
        game_day = self.get_object()
        data = self._input(s.GameDayResultsSerializer)
        items = [gamedays.NewActionItem(title=i["title"], owner=i.get("owner"), due_date=i.get("due_date"),
                                        category=i.get("category", ActionCategory.RESPONSE)) for i in data.get("action_items", [])]
        gamedays.game_day_record_results(game_day=game_day, by=request.user, learnt=data["learnt"], outcome=data["outcome"],
                                         action_items=items)
        return self._detail(game_day)

    @extend_schema(request=s.GameDayCancelSerializer, responses=s.GameDaySerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, id=None):
        game_day = self.get_object()
        data = self._input(s.GameDayCancelSerializer)
        gamedays.game_day_cancel(game_day=game_day, by=request.user, reason=data.get("reason", ""))
        return self._detail(game_day)
