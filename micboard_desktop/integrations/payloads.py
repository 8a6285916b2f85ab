"""Message bodies: the contract's webhook body, a Slack message and a Teams Adaptive Card.

Pure functions of an Alert document (``lan/show.py`` ``alert_json``, contract §6).
"""

from __future__ import annotations

from typing import Any, Final

Json = dict[str, Any]

EVENT_NAMES: Final = {"raised": "alert.raised", "cleared": "alert.cleared"}
"""Contract §6 event names by the ``events`` word a target chooses."""
_ICONS: Final = {"critical": "\U0001f534", "warning": "\U0001f7e0", "info": "\U0001f535"}
_TEAMS_COLOURS: Final = {"critical": "attention", "warning": "warning", "info": "accent"}


def webhook_body(event: str, alert: Json) -> Json:
    """Return the contract's body: ``{"event": "alert.raised"|"alert.cleared", "alert": ...}``."""
    return {"event": EVENT_NAMES[event], "alert": alert}


def headline(event: str, alert: Json) -> str:
    """Return one line a phone notification can show: what, where, how bad."""
    where = " / ".join(
        str(p) for p in (alert.get("receiver_name"), alert.get("channel_name")) if p
    ) or str(alert.get("channel_id") or "")
    state = "CLEARED" if event == "cleared" else str(alert.get("severity", "")).upper()
    text = f"{state}: {alert.get('message') or alert.get('kind')}"
    return f"{text} ({where})" if where else text


def slack_body(event: str, alert: Json) -> Json:
    """Return a Slack incoming-webhook message: ``text`` (the fallback) and ``blocks``."""
    icon = "\u2705" if event == "cleared" else _ICONS.get(str(alert.get("severity")), "")
    text = f"{icon} {headline(event, alert)}".strip()
    fields = [
        {"type": "mrkdwn", "text": f"*Channel*\n{alert.get('channel_name') or '-'}"},
        {"type": "mrkdwn", "text": f"*Receiver*\n{alert.get('receiver_name') or '-'}"},
        {"type": "mrkdwn", "text": f"*Severity*\n{alert.get('severity')}"},
        {"type": "mrkdwn", "text": f"*Raised*\n{alert.get('raised_at')}"},
    ]
    if event == "cleared":
        fields.append({"type": "mrkdwn", "text": f"*Cleared*\n{alert.get('cleared_at')}"})
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_mrkdwn(text)}*"}},
            {"type": "section", "fields": fields},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"Micboard Desktop \u00b7 {alert.get('kind')}"}
            ]},
        ],
    }


def teams_body(event: str, alert: Json) -> Json:
    """Return a Teams message carrying an Adaptive Card (incoming webhook / Workflows)."""
    colour = "good" if event == "cleared" else _TEAMS_COLOURS.get(str(alert.get("severity")), "")
    facts = [
        {"title": "Channel", "value": str(alert.get("channel_name") or "-")},
        {"title": "Receiver", "value": str(alert.get("receiver_name") or "-")},
        {"title": "Severity", "value": str(alert.get("severity"))},
        {"title": "Raised", "value": str(alert.get("raised_at"))},
    ]
    if event == "cleared":
        facts.append({"title": "Cleared", "value": str(alert.get("cleared_at"))})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": headline(event, alert),
                "weight": "Bolder",
                "size": "Medium",
                "color": colour or "default",
                "wrap": True,
            },
            {"type": "FactSet", "facts": facts},
        ],
    }
    return {
        "type": "message",
        "summary": headline(event, alert),
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def body_for(kind: str, event: str, alert: Json) -> Json:
    """Return the body a target of ``kind`` takes for ``event``."""
    if kind == "slack":
        return slack_body(event, alert)
    if kind == "teams":
        return teams_body(event, alert)
    return webhook_body(event, alert)


def _mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
