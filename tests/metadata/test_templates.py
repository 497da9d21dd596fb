"""Message templates: checked when the rulebook is checked, rendered in a sandbox.

The payload corpus is the usual Jinja server-side template injection set: every payload
must be refused by ``check_template`` — before it is stored, long before it is rendered —
and a rulebook carrying one must fail ``ruleform check`` at the template's line.
"""

from __future__ import annotations

import time

import pytest

from ruleform.metadata.compiler import check_rulebook
from ruleform.metadata.message_templates import (
    MAX_TEMPLATE,
    TemplateError,
    check_template,
    render_template,
)

PAYLOADS = {
    "dunder attribute": "{{ record.__class__ }}",
    "string mro": "{{ ''.__class__.__mro__ }}",
    "mro subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler globals": "{{ cycler.__init__.__globals__ }}",
    "self": "{{ self }}",
    "self dict": "{{ self.__dict__ }}",
    "config": "{{ config }}",
    "config items": "{{ config.items() }}",
    "lipsum globals": "{{ lipsum.__globals__ }}",
    "lipsum os": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "attr filter": "{{ record|attr('__class__') }}",
    "attr filter, plain name": "{{ record|attr('company_name') }}",
    "include": "{% include 'x' %}",
    "extends": "{% extends 'base.html' %}",
    "import": "{% import 'macros.html' as m %}",
    "from import": "{% from 'macros.html' import m %}",
    "request": "{{ request }}",
    "request environ": "{{ request.environ }}",
    "joiner": "{{ joiner }}",
    "namespace": "{{ namespace }}",
    "namespace init": "{{ namespace.__init__ }}",
    "range": "{{ range(10) }}",
    "getitem dunder": "{{ record['__class__'] }}",
    "getitem underscore": "{{ record['_sa_instance_state'] }}",
    "underscore attribute": "{{ record._private }}",
    "set from a global": "{% set x = lipsum %}{{ x }}",
    "loop over a global": "{% for k in config %}{{ k }}{% endfor %}",
    "macro": "{% macro m() %}x{% endmacro %}{{ m() }}",
    "call block": "{% call record.items() %}x{% endcall %}",
    "format filter": "{{ '%s'|format(record) }}",
    "map to dunder": "{{ record.tags|map(attribute='__class__')|list }}",
    "power": "{{ 9**9**9 }}",
    "string times": "{{ 'x' * 1000000000 }}",
    "percent formatting": "{{ '%0999999999d' % 1 }}",
    "center": "{{ record.company_name|center(1000000000) }}",
    "indent": "{{ record.company_name|indent(1000000000) }}",
    "deep loops": (
        "{% for a in record.tags %}{% for b in record.tags %}{% for c in record.tags %}"
        "x{% endfor %}{% endfor %}{% endfor %}"
    ),
}


@pytest.mark.parametrize("template", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_payload_is_refused_at_check_time(template):
    with pytest.raises(TemplateError):
        check_template(template)


@pytest.mark.parametrize("template", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_payload_is_refused_before_rendering(template):
    started = time.perf_counter()
    with pytest.raises(TemplateError):
        render_template(template, {"record": {"company_name": "Acme", "tags": ["a"]}})
    assert time.perf_counter() - started < 1.0


def test_messages_say_what_is_wrong():
    cases = {
        "{{ record.__class__ }}": "'__class__' is not allowed",
        "{{ config }}": "unknown name 'config'; available: entity, link, recipient, record, rule",
        "{% include 'x' %}": "cannot include or import",
        "{{ record|attr('x') }}": "the 'attr' filter is not allowed",
        "{{ record['__class__'] }}": "'__class__' is not allowed",
        "{{ 'x'|center(9) }}": "the filter 'center' is not allowed",
        "{{ 2 ** 8 }}": "'**' is not allowed",
        "{{ record.name }": "syntax error on line 1",
        "x" * (MAX_TEMPLATE + 1): "too long",
    }
    for template, fragment in cases.items():
        with pytest.raises(TemplateError) as info:
            check_template(template)
        assert fragment in str(info.value), template


def test_a_computed_key_cannot_reach_internals_either():
    # not refused at check time (the key is computed), but the sandbox gives nothing
    template = "{{ record['__cla' ~ 'ss__'] }}"
    assert render_template(template, {"record": {"company_name": "Acme"}}) == ""


GOOD = {
    "{{ record.company_name }}": "Acme Ltd",
    "客户 {{ record.company_name }} 已45天未更新": "客户 Acme Ltd 已45天未更新",
    "{% for tag in record.tags %}#{{ tag }} {% endfor %}": "#vip #repeat_buyer ",
    "{{ record.tags|join(', ') }}": "vip, repeat_buyer",
    "{% if record.amount > 100000 %}large{% else %}small{% endif %}": "large",
    "{{ record.contact_name|default('—', true) }}": "—",
    "{{ record.company_name|upper }} ({{ record.tags|length }})": "ACME LTD (2)",
    "{{ recipient.name }}: {{ rule.label }} {{ link }}": "Li Lei: Stale https://crm/x/1",
    "{% set n = record.tags|length %}{{ n }} tags": "2 tags",
    "{{ record.amount / 2 }}": "75000.0",
    "{{ record['company_name'] }}": "Acme Ltd",
    "{% for a in record.tags %}{% for b in record.tags %}{{ a == b }}{% endfor %}{% endfor %}": (
        "TrueFalseFalseTrue"
    ),
}


@pytest.mark.parametrize("template", GOOD, ids=range(len(GOOD)))
def test_good_templates_render(template):
    context = {
        "record": {"company_name": "Acme Ltd", "tags": ["vip", "repeat_buyer"],
                   "amount": 150000, "contact_name": None},
        "recipient": {"name": "Li Lei"},
        "rule": {"label": "Stale"},
        "link": "https://crm/x/1",
    }  # fmt: skip
    check_template(template)
    assert render_template(template, context) == GOOD[template]


def test_render_uses_no_autoescaping_and_keeps_text_as_is():
    assert render_template("{{ record.note }}", {"record": {"note": "<b>&</b>"}}) == "<b>&</b>"


RULEBOOK = """\
language: ruleform/v1
name: t
version: "1"
locales: [zh-CN, en]
default_locale: zh-CN
timezone: UTC
entities:
  customer:
    label: {{zh-CN: 客户, en: Customer}}
    fields:
      company_name: {{type: string, label: {{zh-CN: 名称, en: Name}}}}
      since: {{type: date, label: {{zh-CN: 日期, en: Since}}}}
    time_rules:
      remind:
        after: {{field: since, offset: 3 days}}
        actions:
          - notify: [owner]
            message:
              subject: {{zh-CN: "好 {{{{ record.company_name }}}}", en: "{payload}"}}
"""


@pytest.mark.parametrize(
    "payload",
    ["{{ record.__class__ }}", "{{ cycler.__init__.__globals__ }}", "{% include 'x' %}"],
)
def test_a_rulebook_carrying_a_payload_fails_check_at_the_message(tmp_path, payload):
    path = tmp_path / "rulebook.yaml"
    path.write_text(RULEBOOK.format(payload=payload), "utf-8")
    result = check_rulebook(path)
    (problem,) = result.errors
    assert problem.path == "entities.customer.time_rules.remind.actions[0].message.subject"
    assert problem.line == 19
    assert "message template (en)" in problem.message


def test_the_crm_messages_all_pass_the_check():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = check_rulebook(root / "metadata" / "crm")
    assert result.ok
    messages = [
        text
        for entity in result.rulebook.entities.values()
        for rule in entity.time_rules.values()
        for action in rule.actions
        for part in (action.message.subject, action.message.body)
        for text in part.translations.values()
    ]
    assert len(messages) > 50
    for text in messages:
        check_template(text)
