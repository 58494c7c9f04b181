"""DRF's browsable API under the Content-Security-Policy: its pages set inline styles (never
inline script), so they alone get style-src 'unsafe-inline'; scripts stay 'self' only."""

from csp.constants import SELF, UNSAFE_INLINE
from rest_framework.renderers import BrowsableAPIRenderer


class PortalBrowsableAPIRenderer(BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = {"style-src": [SELF, UNSAFE_INLINE]}  # read by csp.middleware.CSPMiddleware
        return super().render(data, accepted_media_type, renderer_context)
