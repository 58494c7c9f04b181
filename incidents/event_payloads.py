"""Timeline events that one app writes and another reads: their kinds and payload shapes.

An app reacting to another app's event must not depend on that app's internals (the layers in
pyproject.toml forbid importing it when it sits above). So the shape of such an event lives
here, below both: the writer builds its `data` with `as_data()`, every reader parses it with
`from_data()`, and neither touches the raw keys. `from_data` never raises: event data is stored
JSON that outlives the code that wrote it.
"""

from dataclasses import dataclass


def _text(value) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class PostmortemPublished:
    """`postmortem.published`: written by the postmortems app when a postmortem is published;
    the status page shows `public_summary` (Markdown; empty when there is none to show) on the
    incident's public page.

    data = {"postmortem": <its id>, "public_summary": <text>, "url": <the postmortem's page>}
    """

    KIND = "postmortem.published"

    postmortem_id: int | None
    public_summary: str
    url: str

    def as_data(self) -> dict:
        return {"postmortem": self.postmortem_id, "public_summary": self.public_summary, "url": self.url}

    @classmethod
    def from_data(cls, data) -> "PostmortemPublished":
        data = data if isinstance(data, dict) else {}
        postmortem = data.get("postmortem")
        return cls(
            postmortem_id=postmortem if isinstance(postmortem, int) and not isinstance(postmortem, bool) else None,
            public_summary=_text(data.get("public_summary")),
            url=_text(data.get("url")),
        )
