"""Small rulebooks for page tests, as Python data (written to JSON files by ``make_app``)."""

from __future__ import annotations

import copy
from typing import Any


def text(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


ROLES = {
    "sales": {"label": text("销售", "Sales"), "start_page": "thing"},
    "sales_manager": {"label": text("销售主管", "Sales manager"), "manages": True},
    "admin": {"label": text("管理员", "Administrator"), "admin": True},
}

#: One field of every type, a conditional pair, an append-only field, a sensitive field.
THING_FIELDS: dict[str, Any] = {
    "name": {
        "type": "string",
        "label": text("名称", "Name"),
        "required": True,
        "max_length": 80,
        "placeholder": text("例如 样品", "e.g. Sample"),
        "help": text("对外名称", "Public name"),
    },
    "notes": {"type": "text", "label": text("备注", "Notes")},
    "qty": {"type": "integer", "label": text("数量", "Quantity"), "min": 0, "max": 1000},
    "ratio": {"type": "decimal", "scale": 3, "label": text("比例", "Ratio")},
    "price": {"type": "money", "label": text("价格", "Price")},
    "active": {"type": "boolean", "label": text("启用", "Active")},
    "due": {"type": "date", "label": text("到期日", "Due date")},
    "meet_at": {"type": "datetime", "label": text("会面时间", "Meeting")},
    "kind": {
        "type": "choice",
        "label": text("类型", "Kind"),
        "choices": {
            "alpha": text("甲", "Alpha"),
            "beta": {"label": text("乙", "Beta"), "color": "green"},
        },
    },
    "colors": {
        "type": "multi_choice",
        "label": text("颜色", "Colours"),
        "choices": {"red": text("红", "Red"), "blue": text("蓝", "Blue")},
    },
    "labels": {
        "type": "tags",
        "label": text("标签", "Labels"),
        "choices": {"vip": text("重要", "VIP")},
    },
    "mail": {"type": "email", "label": text("邮箱", "Email")},
    "phone": {"type": "phone", "label": text("电话", "Phone")},
    "site": {"type": "url", "label": text("网址", "Website")},
    "account": {
        "type": "reference",
        "entity": "account",
        "label": text("账户", "Account"),
        "related_label": text("物品", "Things"),
    },
    "assignee": {"type": "user", "label": text("经办人", "Assignee")},
    "team": {"type": "department", "label": text("团队", "Team")},
    "total": {
        "type": "computed",
        "returns": "integer",
        "expression": "qty * 2",
        "label": text("合计", "Total"),
    },
    "locked": {"type": "string", "read_only": True, "label": text("锁定", "Locked")},
    "secret": {"type": "string", "sensitive": True, "label": text("机密", "Secret")},
    "outcome": {
        "type": "choice",
        "label": text("结果", "Outcome"),
        "choices": {"won": text("赢", "Won"), "lost": text("输", "Lost")},
    },
    "lost_reason": {
        "type": "text",
        "label": text("流失原因", "Reason for loss"),
        "visible_when": "outcome = 'lost'",
        "required_when": "outcome = 'lost'",
    },
    "first_note": {"type": "text", "append_only": True, "label": text("首次记录", "First note")},
}

KITCHEN: dict[str, Any] = {
    "language": "ruleform/v1",
    "name": "kitchen",
    "version": "1",
    "label": text("测试制度", "Kitchen sink"),
    "locales": ["zh-CN", "en"],
    "default_locale": "en",
    "timezone": "Asia/Shanghai",
    "roles": ROLES,
    "entities": {
        "account": {
            "label": text("账户", "Account"),
            "plural": text("账户", "Accounts"),
            "title": "name",
            "fields": {"name": {"type": "string", "label": text("名称", "Name"), "required": True}},
            "views": {"all": {"label": text("全部", "All"), "columns": ["name"], "default": True}},
            "permissions": {
                "sales": {"actions": ["read", "create", "update"], "scope": "own"},
                "sales_manager": {"actions": "all", "scope": "department_tree"},
                "admin": {"actions": "all", "scope": "all"},
            },
        },
        "thing": {
            "label": text("物品", "Thing"),
            "plural": text("物品", "Things"),
            "title": "name",
            "fields": THING_FIELDS,
            "layout": {
                "main": {
                    "label": text("基本", "Main"),
                    "columns": 2,
                    "fields": ["name", "kind", "qty", "ratio", "price", "total", "active"],
                },
                "more": {
                    "label": text("更多", "More"),
                    "columns": 2,
                    "fields": [
                        "due",
                        "meet_at",
                        "colors",
                        "labels",
                        "mail",
                        "phone",
                        "site",
                        "account",
                        "assignee",
                        "team",
                        "locked",
                        "secret",
                    ],
                },
                "result": {
                    "label": text("结果", "Result"),
                    "fields": ["outcome", "lost_reason", "first_note", "notes"],
                },
            },
            "views": {
                "all": {
                    "label": text("全部", "All"),
                    "default": True,
                    "columns": ["name", "kind", "qty", "due", "secret", "owner"],
                    "filters": ["kind", "due", "qty", "owner", "active", "labels", "name"],
                    "search": ["name"],
                    "sort": ["name"],
                },
            },
            "permissions": {
                "sales": {
                    "actions": ["read", "create", "update"],
                    "scope": "own",
                    "fields": {"write": {"except": ["team"]}},
                },
                "sales_manager": {"actions": "all", "scope": "department_tree"},
                "admin": {"actions": "all", "scope": "all"},
            },
        },
    },
}


def kitchen() -> dict[str, Any]:
    return copy.deepcopy(KITCHEN)


HOSTILE = '"><img src=x onerror=alert(1)>'


def hostile() -> dict[str, Any]:
    """Every piece of text for people is a script injection attempt."""
    h = {"zh-CN": HOSTILE, "en": HOSTILE}
    rb = kitchen()
    rb["label"] = h
    for role in rb["roles"].values():
        role["label"] = h
    thing = rb["entities"]["thing"]
    for entity in rb["entities"].values():
        entity["label"] = h
        entity["plural"] = h
        for f in entity["fields"].values():
            f["label"] = h
            f["help"] = h
            f["placeholder"] = h
            if "choices" in f:
                f["choices"] = {k: {"label": h, "color": "red"} for k in f["choices"]}
            if "related_label" in f:
                f["related_label"] = h
        for view in entity["views"].values():
            view["label"] = h
    for section in thing["layout"].values():
        section["label"] = h
    thing["fields"]["name"]["pattern"] = "^[^!]*$"
    thing["fields"]["name"]["pattern_message"] = h
    thing["statuses"] = {
        "initial": "open",
        "states": {"open": {"label": h}, "done": {"label": h, "final": True}},
    }
    thing["transitions"] = {"finish": {"from": "open", "to": "done", "label": h}}
    thing["views"]["all"]["columns"].append("status")
    thing["views"]["all"]["filters"].append("status")
    thing["views"]["done"] = {"label": h, "columns": ["name", "status"], "where": "status = 'done'"}
    thing["validations"] = {"no_bad_qty": {"forbid": "qty = 13", "field": "qty", "message": h}}
    return rb
