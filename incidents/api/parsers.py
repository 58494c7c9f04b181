"""The API's JSON parser: bodies are untrusted (see `incidents.untrusted`).

Over DATA_UPLOAD_MAX_MEMORY_SIZE: 413. Not UTF-8, not JSON, NaN or Infinity, or nested deeper
than API_MAX_JSON_DEPTH: 400 with a clear message (the standard parser answered 500 once the
nesting exhausted Python's stack). NUL characters and lone surrogates are taken out of every
string, keys included, so no serializer ever hands PostgreSQL text it refuses. Form bodies
(urlencoded and multipart) get the same cleaning as staff forms (`incidents.middleware`)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser

from .. import untrusted
from ..middleware import cleaned_querydict


class PortalJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise RequestDataTooBig("The request body is larger than the server accepts.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("JSON parse error - the body is not UTF-8 text.") from None
        try:
            data = untrusted.loads(text, max_depth=settings.API_MAX_JSON_DEPTH, strict=True)
        except untrusted.NestingError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        return untrusted.clean_json(data, max_depth=settings.API_MAX_JSON_DEPTH)


class PortalFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        cleaned = cleaned_querydict(data)
        return data if cleaned is None else cleaned


class PortalMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        cleaned = cleaned_querydict(parsed.data)
        return DataAndFiles(parsed.data if cleaned is None else cleaned, parsed.files)
