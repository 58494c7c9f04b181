"""Channel names within each chat's rules; untrusted text made literal in each chat's markup."""

from types import SimpleNamespace

from chatops import formats


def incident(title, number="INC-20261130-007"):
    return SimpleNamespace(number=number, title=title)


def test_the_default_pattern_and_each_chats_name_rules():
    assert formats.channel_name("slack", "inc-{date}-{seq}-{slug}", incident("Checkout 5xx")) == "inc-20261130-007-checkout-5xx"
    long = formats.channel_name("slack", "inc-{date}-{seq}-{slug}-{slug}-{slug}", incident("é" * 10 + "A very long title " * 10))
    assert len(long) <= 80 and long == long.lower() and set(long) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_")
    mm = formats.channel_name("mattermost", "{number}-{slug}-{slug}", incident("Payments API: 500s on /charge!!"))
    assert len(mm) <= 64 and mm.startswith("inc-20261130-007-payments-api-500s-on-charge")
    assert formats.channel_name("slack", "{nope}", incident("x")) == "inc-20261130-007-x"  # a bad pattern falls back
    assert formats.channel_name("slack", "{slug}", incident("!!!")) == "inc-20261130-007"  # never empty


def test_slack_text_cannot_mention_or_link():
    message = formats.slack_message(formats.card(title="<!channel> down", text="<@U1> see <http://evil|bank> & more"))
    section = message["blocks"][1]["text"]["text"]
    assert section == "&lt;@U1&gt; see &lt;http://evil|bank&gt; &amp; more"
    assert message["blocks"][0]["text"]["type"] == "plain_text"
    assert "<!channel>" not in message["text"]


def test_mattermost_text_cannot_mention_or_format():
    post = formats.mattermost_post(formats.card(title="@all outage", text="@channel [click](http://evil) **x**"))
    attachment = post["props"]["attachments"][0]
    assert "@all" not in attachment["title"] and "@channel" not in attachment["text"]
    assert "\\[click\\]\\(http://evil\\) \\*\\*x\\*\\*" in attachment["text"]
    assert "actions" not in attachment  # no buttons without the portal's action URL
