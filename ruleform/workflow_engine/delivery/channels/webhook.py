"""Webhooks: a generic JSON POST, 企业微信 (WeCom) and 钉钉 (DingTalk) group robots.

Every call goes through ``ssrf.post`` (resolved, checked, pinned; no redirects) and carries
``Idempotency-Key: <message id>`` — the same on every resend of one message, so a receiver
can drop duplicates. Bodies by target kind:

``generic``   ``{"id", "subject", "body", "link", "rule", "entity", "record_id"}``; with a
              secret, ``X-Ruleform-Signature: sha256=<HMAC of the body>``
``wecom``     ``{"msgtype": "text", "text": {"content": …}}`` (errcode 0 is success)
``dingtalk``  ``{"msgtype": "text", "text": {"content": …}}``; with a secret, the
              ``timestamp`` and ``sign`` query parameters of DingTalk's 加签
``sms``       ``{"id", "to", "text"}`` (see ``sms.py``)

2xx is success (for WeCom/DingTalk also ``errcode == 0``); 408, 425, 429 and 5xx are
retried; other 4xx, redirects and refused addresses fail at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote

from ....metadata.channels import BUILT_IN
from .. import ssrf
from .base import Channel, Outgoing, SendError

__all__ = ["send", "body_for", "post_to_target"]

_RETRY = {408, 425, 429}


def _text(outgoing: Outgoing, subject: bool = True) -> str:
    """Subject, body and link as one text; an SMS (``subject=False``) has no subject line
    (customers would otherwise read the rule's internal label), unless the body is empty."""
    parts = [outgoing.subject, outgoing.body] if subject else [outgoing.body or outgoing.subject]
    if outgoing.link and outgoing.link not in outgoing.body:
        parts.append(outgoing.link)
    return "\n".join(p for p in parts if p)


def body_for(kind: str, outgoing: Outgoing) -> dict[str, Any]:
    if kind in ("wecom", "dingtalk"):
        return {"msgtype": "text", "text": {"content": _text(outgoing)}}
    if kind == "sms":
        return {
            "id": outgoing.message_id,
            "to": outgoing.address,
            "text": _text(outgoing, subject=False),
        }
    return {"id": outgoing.message_id, "subject": outgoing.subject, "body": outgoing.body,
            "link": outgoing.link, **outgoing.meta}  # fmt: skip


def _signed_url(url: str, secret: str) -> str:
    stamp = str(int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={stamp}&sign={sign}"


def post_to_target(target: dict[str, Any], payload: dict[str, Any], message_id: str,
                   timeout: float) -> str:  # fmt: skip
    """POST ``payload`` to a target (url, kind, secret, allow_private); the answer or SendError."""
    kind, url, secret = target.get("kind", "generic"), target["url"], target.get("secret")
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message_id,
               "User-Agent": "Ruleform-Webhook/1"}  # fmt: skip
    if secret and kind == "dingtalk":
        url = _signed_url(url, secret)
    elif secret:
        mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Ruleform-Signature"] = f"sha256={mac}"
    try:
        response = ssrf.post(url, body, headers, allow_private=bool(target.get("allow_private")),
                             timeout=timeout)  # fmt: skip
    except ssrf.Refused as exc:
        raise SendError(f"refused: {exc}", permanent=True) from None
    except (OSError, ValueError) as exc:  # timeouts, resets: the request may have arrived
        raise SendError(f"webhook call failed: {exc}", in_doubt=True) from None
    return _judge(kind, response)


def _judge(kind: str, response: ssrf.Response) -> str:
    status = response.status
    if 300 <= status < 400:
        raise SendError(f"redirect to {response.location!r} not followed", permanent=True)
    if status >= 500 or status in _RETRY:
        raise SendError(f"HTTP {status}: {response.body[:200]}")
    if status >= 400:
        raise SendError(f"HTTP {status}: {response.body[:200]}", permanent=True)
    if kind in ("wecom", "dingtalk"):
        try:
            answer = json.loads(response.body or "{}")
        except ValueError:
            answer = {}
        if answer.get("errcode", 0) != 0:
            raise SendError(f"{kind} errcode {answer.get('errcode')}: {answer.get('errmsg')}")
    return f"HTTP {status} {response.body[:200]}".strip()


def send(outgoing: Outgoing, settings: Any) -> str:
    target = outgoing.target
    if not target.get("url"):
        raise SendError(f"no webhook target {outgoing.address!r}", permanent=True)
    payload = body_for(target.get("kind", "generic"), outgoing)
    return post_to_target(target, payload, outgoing.message_id, float(settings["WEBHOOK_TIMEOUT"]))


CHANNEL = Channel("webhook", BUILT_IN["webhook"], external=True,
                  reaches_users=False, address_kind="target", send=send)  # fmt: skip
