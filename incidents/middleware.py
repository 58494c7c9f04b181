"""Every text a person sends is untrusted: query strings, form fields and URL parts lose NUL
characters and lone surrogates here, before any view, form or filter sees them, so PostgreSQL
never refuses a row or a lookup because of what someone typed (SQLite would have stored it).
JSON bodies of the API are cleaned by its parser (`incidents.api.parsers`)."""

from django.http import QueryDict

from .untrusted import clean_text

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def cleaned_querydict(query: QueryDict) -> QueryDict | None:
    """A cleaned copy, or None when nothing needed cleaning (the common case costs a scan)."""
    if not any(clean_text(k) != k or any(clean_text(v) != v for v in values if isinstance(v, str)) for k, values in query.lists()):
        return None
    copy = QueryDict(mutable=True, encoding=query.encoding)
    for key, values in query.lists():
        copy.setlist(clean_text(key), [clean_text(v) if isinstance(v, str) else v for v in values])
    copy._mutable = False
    return copy


class UntrustedInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cleaned = cleaned_querydict(request.GET)
        if cleaned is not None:
            request.GET = cleaned
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        for name, value in view_kwargs.items():
            if isinstance(value, str):
                view_kwargs[name] = clean_text(value)
        # Forms only: the ingest endpoints (csrf-exempt) read their raw bodies themselves.
        raw_body_view = getattr(view_func, "csrf_exempt", False) and not hasattr(view_func, "cls")  # DRF views have .cls
        if request.method == "POST" and request.content_type in FORM_TYPES and not raw_body_view:
            cleaned = cleaned_querydict(request.POST)
            if cleaned is not None:
                request.POST = cleaned
        return None
