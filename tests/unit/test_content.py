"""Content parsing alone: a message's list preview as parts, its HTML kept to the published
allow-list, and the reply fallback removed only when it is one."""

from __future__ import annotations

from crm_appservice.ingest.content import parse_message, preview, strip_reply_fallback

from ..cases import shared

MXC = "mxc://crm.localhost/AbCdEf123"


def test_list_previews_read_as_whatsapp_lists_them() -> None:
    """The list's preview of a message is its parts (kind, words, file name, length), the same
    table of cases as the web's test of how it words them (📷 Photo, 🎤 Voice message 0:04)."""
    cases = shared("preview-cases")["cases"]
    assert len(cases) > 10
    for case in cases:
        if case.get("deleted"):
            continue  # deleting is a later change: test_outbox and the redaction test check it
        content = parse_message("m.room.message", {"url": MXC, **case["content"]})
        parts = {
            "kind": content.kind,
            "text": preview(content),
            "filename": content.media.filename if content.media else None,
            "duration_ms": content.media.duration_ms if content.media else None,
        }
        assert parts == case["parts"], case["content"]


def test_message_html_keeps_the_one_list_the_inbox_draws() -> None:
    """Ingest keeps the tags and attributes the API publishes (x-rules.html) and nothing else:
    no class or style to borrow the inbox's look, no table, no image, no attribute off its tag."""
    from crm_appservice.api.openapi import document
    from crm_appservice.ingest import html

    published = document()["x-rules"]["html"]
    assert published["tags"] == sorted(html.TAGS)
    assert html.sanitize('<p class="row" style="position:fixed">Pay <b id="x">here</b></p>') == (
        "<p>Pay <b>here</b></p>"
    )
    assert html.sanitize("<table><tr><td>cell</td></tr></table><img src=https://x.example>") == (
        "cell"
    )
    assert html.sanitize('<ol start="3"><li href="https://x.example">a</li></ol>') == (
        '<ol start="3"><li>a</li></ol>'
    )
    assert html.sanitize('<a href="https://x.example" target="_top">x</a>') == (
        '<a href="https://x.example" rel="noopener noreferrer nofollow">x</a>'
    )
    assert html.sanitize("<div>" * (html.MAX_TAGS + 1)) is None


def test_reply_fallback_is_removed_only_when_it_is_one() -> None:
    assert strip_reply_fallback("> <@a:b> hi\n> there\n\nmy answer") == "my answer"
    assert strip_reply_fallback("> not a fallback\nno blank line") == (
        "> not a fallback\nno blank line"
    )
    assert strip_reply_fallback("plain") == "plain"
    content = {
        "msgtype": "m.text",
        "body": "> <@a:b> q\n\nA",
        "m.relates_to": {"m.in_reply_to": {}},
    }
    assert parse_message("m.room.message", content).body == "A"
