"""`archive/` and `restore/` actions for the viewsets of archivable things (incidents.archive)."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response


class ArchiveActions:
    """The viewset names its services: `archive_with(obj, by)` and `restore_with(obj, by)`."""

    archive_with = None
    restore_with = None

    def _fresh(self, obj) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def archive(self, request, *args, **kwargs):
        """Archive: gone from pickers, lists and the public page; kept on the history that names it."""
        return self._fresh(type(self).archive_with(self.get_object(), request.user))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        """Back from the archive."""
        return self._fresh(type(self).restore_with(self.get_object(), request.user))
