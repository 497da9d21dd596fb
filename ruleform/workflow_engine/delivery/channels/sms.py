"""SMS through a gateway called as a webhook (the target named by ``SMS_GATEWAY``).

The gateway receives ``{"id": <message id>, "to": <phone>, "text": …}`` with
``Idempotency-Key`` — most commercial gateways accept a client message id and drop repeats,
which is what makes a resend after a crash harmless. ``prepare.py`` resolves the target
(table or settings) in the delivery transaction and hands it over in ``outgoing.target``.
"""

from __future__ import annotations

from typing import Any

from ....metadata.channels import BUILT_IN
from .base import Channel, Outgoing, SendError
from .webhook import body_for, post_to_target

__all__ = ["send"]


def send(outgoing: Outgoing, settings: Any) -> str:
    if not outgoing.target.get("url"):
        raise SendError("no SMS gateway configured (SMS_GATEWAY names a webhook target)")
    target = {**outgoing.target, "kind": "sms"}
    return post_to_target(target, body_for("sms", outgoing), outgoing.message_id,
                          float(settings["WEBHOOK_TIMEOUT"]))  # fmt: skip


CHANNEL = Channel("sms", BUILT_IN["sms"], external=True, reaches_users=False,
                  address_kind="phone", send=send, target_setting="SMS_GATEWAY")  # fmt: skip
