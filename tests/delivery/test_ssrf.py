"""Outgoing webhooks cannot reach inside the network: the SSRF corpus is refused, an
allow-listed target is called, the resolved address is pinned, redirects are not followed."""

from __future__ import annotations

import ipaddress
import json

import pytest

from ruleform.workflow_engine.delivery import ssrf
from ruleform.workflow_engine.delivery.channels import Outgoing, SendError
from ruleform.workflow_engine.delivery.channels import webhook as webhook_channel
from tests.delivery.sink import HttpSink


@pytest.fixture
def fake_dns(monkeypatch):
    names = {"loopback.test": ["127.0.0.1"], "mixed.test": ["93.184.216.34", "10.1.2.3"],
             "public.test": ["93.184.216.34"], "v6.test": ["::ffff:169.254.169.254"]}  # fmt: skip
    real = ssrf.resolver
    monkeypatch.setattr(ssrf, "resolver", lambda host, port: names.get(host) or real(host, port))
    return names


CORPUS = [
    "http://127.0.0.1/", "http://127.1/", "http://localhost:8080/admin", "http://10.0.0.1/",
    "http://172.16.0.1/", "http://172.31.255.255/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/", "http://0.0.0.0/", "http://[::]/", "http://2130706433/",
    "http://0x7f.1/", "http://0x7f000001/", "http://0177.0.0.1/", "http://017700000001/",
    "http://100.64.0.1/", "http://[fe80::1]/", "http://224.0.0.1/", "http://240.0.0.1/",
    "http://[fc00::1]/", "http://[2002:7f00:1::]/", "http://[64:ff9b::a9fe:a9fe]/",
    "http://loopback.test/", "http://mixed.test/", "http://v6.test/", "http://LOCALHOST./",
    "ftp://example.com/", "file:///etc/passwd", "http://user:pw@public.test/", "http:///x",
    "gopher://127.0.0.1:6379/_INFO",
]  # fmt: skip


@pytest.mark.parametrize("url", CORPUS)
def test_the_ssrf_corpus_is_refused(url, fake_dns):
    with pytest.raises(ssrf.Refused):
        ssrf.pin(url)


def test_public_addresses_are_allowed_and_pinned(fake_dns):
    pinned = ssrf.pin("https://public.test/hook?x=1")
    assert (pinned.address, pinned.host, pinned.port, pinned.target) == (
        "93.184.216.34",
        "public.test",
        443,
        "/hook?x=1",
    )
    assert ssrf.refusal(ipaddress.ip_address("8.8.8.8")) is None
    assert ssrf.refusal(ipaddress.ip_address("2001:4860:4860::8888")) is None


def test_the_address_checked_is_the_address_connected_to_dns_rebinding(monkeypatch):
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # a rebinding DNS server
    calls = []
    monkeypatch.setattr(ssrf, "resolver", lambda host, port: calls.append(host) or next(answers))
    seen = {}

    class FakeConnection:
        def __init__(self, pinned):
            seen["address"] = pinned.address

        def request(self, method, target, body, headers):
            seen["host"] = headers["Host"]

        def getresponse(self):
            class Answer:
                status = 200

                def read(self, n):
                    return b"ok"

                def getheader(self, name):
                    return None

            return Answer()

        def close(self):
            pass

    monkeypatch.setattr(ssrf, "_connection", lambda pinned, timeout: FakeConnection(pinned))
    assert ssrf.post("http://rebind.test:8080/x", b"{}", {}).status == 200
    assert calls == ["rebind.test"]  # resolved once, never again for the connection
    assert seen == {"address": "93.184.216.34", "host": "rebind.test:8080"}


def test_an_allow_listed_target_on_loopback_is_called():
    with HttpSink() as sink:
        with pytest.raises(ssrf.Refused, match="loopback"):
            ssrf.post(sink.url, b"{}", {})
        answer = ssrf.post(sink.url, b'{"a": 1}', {"Content-Type": "application/json"},
                           allow_private=True)  # fmt: skip
    assert answer.status == 200 and sink.requests[0]["body"] == {"a": 1}
    assert sink.requests[0]["headers"]["Host"] == f"127.0.0.1:{sink.port}"


def _outgoing(**target) -> Outgoing:
    return Outgoing("k1", "webhook", "group", "Subject", "Body", "https://crm.example.com/x",
                    "rf-abc", target=target, meta={"rule": "r", "entity": "customer",
                                                   "record_id": 7})  # fmt: skip


def test_redirects_are_not_followed():
    with HttpSink(status=302, location="http://169.254.169.254/") as sink:
        with pytest.raises(SendError, match="not followed") as refused:
            webhook_channel.send(_outgoing(url=sink.url, allow_private=True),
                                 {"WEBHOOK_TIMEOUT": 2})  # fmt: skip
    assert refused.value.permanent and len(sink.requests) == 1


def test_webhook_bodies_by_kind_and_signatures():
    settings = {"WEBHOOK_TIMEOUT": 2}
    with HttpSink() as sink:
        webhook_channel.send(_outgoing(url=sink.url, kind="wecom", allow_private=True), settings)
        webhook_channel.send(_outgoing(url=sink.url + "?access_token=t", kind="dingtalk",
                                       secret="SEC", allow_private=True), settings)  # fmt: skip
        webhook_channel.send(_outgoing(url=sink.url, kind="generic", secret="s3",
                                       allow_private=True), settings)  # fmt: skip
    wecom, dingtalk, generic = sink.requests
    assert wecom["body"] == {
        "msgtype": "text",
        "text": {"content": "Subject\nBody\nhttps://crm.example.com/x"},
    }
    assert dingtalk["body"]["msgtype"] == "text"
    assert "access_token=t&timestamp=" in dingtalk["path"] and "&sign=" in dingtalk["path"]
    assert generic["body"] == {"id": "rf-abc", "subject": "Subject", "body": "Body",
                               "link": "https://crm.example.com/x", "rule": "r",
                               "entity": "customer", "record_id": 7}  # fmt: skip
    import hashlib
    import hmac

    raw = json.dumps(generic["body"], ensure_ascii=False).encode()
    expected = hmac.new(b"s3", raw, hashlib.sha256).hexdigest()
    assert generic["headers"]["X-Ruleform-Signature"] == f"sha256={expected}"
    assert all(r["headers"]["Idempotency-Key"] == "rf-abc" for r in sink.requests)


def test_errors_are_classified():
    for status, permanent in ((500, False), (429, False), (404, True)):
        with HttpSink(status=status) as sink:
            with pytest.raises(SendError) as failed:
                webhook_channel.send(_outgoing(url=sink.url, allow_private=True),
                                     {"WEBHOOK_TIMEOUT": 2})  # fmt: skip
        assert failed.value.permanent is permanent
    with HttpSink(body=b'{"errcode": 93000, "errmsg": "invalid webhook url"}') as sink:
        with pytest.raises(SendError, match="errcode 93000"):
            webhook_channel.send(_outgoing(url=sink.url, kind="wecom", allow_private=True),
                                 {"WEBHOOK_TIMEOUT": 2})  # fmt: skip
    with pytest.raises(SendError, match="refused") as refused:
        webhook_channel.send(_outgoing(url="http://169.254.169.254/"), {"WEBHOOK_TIMEOUT": 2})
    assert refused.value.permanent
