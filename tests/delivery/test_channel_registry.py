"""A delivery channel is one module: the registry, the language and the delivery engine agree,
and a channel added at run time is named by rulebooks, held back by the sandbox and sent."""

from __future__ import annotations

from typing import Any

import pytest

from ruleform.metadata import channels as language
from ruleform.metadata.compiler import compile_tree
from ruleform.metadata.explain import explain_entity
from ruleform.metadata.schema import rulebook_schema
from ruleform.metadata.source import load_text
from ruleform.workflow_engine.delivery import channels as delivery
from ruleform.workflow_engine.delivery.channels import Channel, Outgoing


def _action_channel_enum() -> list[str]:
    found: list[list[str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "channels" in node.get("properties", {}):
                found.append(node["properties"]["channels"]["items"]["enum"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(rulebook_schema())
    assert found, "no 'channels' list in the schema"
    return found[0]


def test_every_channel_is_known_to_the_language_and_complete():
    assert set(delivery.CHANNELS) == set(language.channel_names())
    assert set(_action_channel_enum()) == set(delivery.CHANNELS)
    for name, channel in delivery.CHANNELS.items():
        assert channel.name == name
        assert channel.label["zh-CN"] and channel.label["en"]
        assert language.channel_label(name, "zh-CN") == channel.label["zh-CN"]
        if channel.external:
            assert channel.send is not None, f"{name}: an external channel needs send()"
        assert channel.reaches_users or channel.address_kind is not None, name
    assert delivery.external_channels() == ("email", "sms", "webhook")


RULEBOOK = """
language: ruleform/v1
name: fax_demo
version: "1"
locales: [zh-CN, en]
default_locale: zh-CN
timezone: Asia/Shanghai
roles:
  sales: {label: {zh-CN: 销售, en: Sales}}
entities:
  customer:
    label: {zh-CN: 客户, en: Customer}
    fields:
      name: {type: string, required: true, label: {zh-CN: 名称, en: Name}}
      due_on: {type: date, label: {zh-CN: 到期日, en: Due on}}
    time_rules:
      fax_reminder:
        label: {zh-CN: 传真提醒, en: Fax reminder}
        after: {field: due_on, offset: 1 days}
        actions:
          - notify: [owner]
            channels: [FAX]
"""


@pytest.fixture
def fax_channel():
    sent: list[Outgoing] = []

    def send(outgoing: Outgoing, settings: Any) -> str:
        sent.append(outgoing)
        return "fax accepted"

    fax = Channel("fax", {"zh-CN": "传真", "en": "fax"}, external=True, reaches_users=True,
                  address_kind="phone", send=send, user_address=lambda user: "+862150001234")  # fmt: skip
    delivery.register_channel(fax)
    yield sent
    delivery.CHANNELS.pop("fax", None)
    language._NAMES.pop("fax", None)
    for listener in language._LISTENERS:
        listener()


def _compile(channel: str) -> Any:
    return compile_tree(load_text(RULEBOOK.replace("FAX", channel), "fax.yaml"))


def test_a_rulebook_cannot_name_a_channel_nobody_delivers():
    result = _compile("fax")
    assert not result.ok
    assert any("fax" in problem.format() for problem in result.errors)


def test_a_channel_added_at_run_time_is_one_module(fax_channel):
    result = _compile("fax")
    assert result.ok, [p.format() for p in result.errors]
    words = explain_entity(result.rulebook, result.rulebook.entities["customer"], "zh-CN")
    assert "传真" in words
    assert "fax" in delivery.external_channels()


@pytest.mark.app
def test_the_added_channel_is_sandboxed_and_sent(fax_channel, dl):
    dl.configure(DELIVERY_MODE="sandbox", DELIVERY_ALLOWLIST=[])
    held = dl.notify("fax", dl.user("sales1"), subject="Held back")
    dl.deliver()
    assert dl.row(held)["status"] == "sandboxed" and fax_channel == []
    dl.configure(DELIVERY_MODE="production")
    sent = dl.notify("fax", dl.user("manager"), subject="Sent by fax")
    dl.deliver()
    assert dl.row(sent)["status"] == "delivered"
    assert [o.address for o in fax_channel] == ["+862150001234"]
