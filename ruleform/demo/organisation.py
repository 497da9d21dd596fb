"""Helpers for tests and for people extending Ruleform: a standard organisation and apps.

``seed_organisation(engine)`` creates the demo organisation every scenario test (and
``ruleform demo``) uses::

    总公司 company (general manager gm)
    ├── 销售部 sales            manager: manager (sales_manager)   sales1, sales2 (sales)
    │   └── 华东销售组 sales_east                                 sales3 (sales)
    ├── 客服部 service          service_manager (service_manager)  service (customer_service)
    ├── 财务部 finance          finance (finance)
    └── IT部 it / 技术部 technical                                  it, tech
    admin (admin role, superuser)

Every password is ``demo``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from ..platform.auth.users import create_department, create_user, departments_table

__all__ = ["Organisation", "seed_organisation", "DEMO_PASSWORD"]

DEMO_PASSWORD = "demo"


@dataclass
class Organisation:
    """Ids of the seeded departments and users, by name."""

    departments: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)

    def user(self, username: str) -> int:
        return self.users[username]


_DEPARTMENTS = [
    # name, zh, en, parent
    ("company", "总公司", "Head office", None),
    ("sales", "销售部", "Sales", "company"),
    ("sales_east", "华东销售组", "Sales East", "sales"),
    ("service", "客服部", "Customer service", "company"),
    ("finance", "财务部", "Finance", "company"),
    ("it", "IT部", "IT", "company"),
    ("technical", "技术部", "Technical", "company"),
    ("marketing", "市场部", "Marketing", "company"),
]

_USERS = [
    # username, display name, department, manager, roles, admin, locale
    ("gm", "王总", "company", None, ["general_manager"], False, "zh-CN"),
    ("admin", "系统管理员", "it", "gm", ["admin"], True, "zh-CN"),
    ("manager", "李经理", "sales", "gm", ["sales_manager"], False, "zh-CN"),
    ("sales1", "张伟", "sales", "manager", ["sales"], False, "zh-CN"),
    ("sales2", "刘洋", "sales", "manager", ["sales"], False, "en"),
    ("sales3", "陈静", "sales_east", "manager", ["sales"], False, "zh-CN"),
    ("service_manager", "赵敏", "service", "gm", ["service_manager"], False, "zh-CN"),
    ("service", "孙丽", "service", "service_manager", ["customer_service"], False, "zh-CN"),
    ("finance", "周红", "finance", "gm", ["finance"], False, "zh-CN"),
    ("it", "吴强", "it", "gm", ["it"], False, "zh-CN"),
    ("tech", "郑磊", "technical", "gm", ["technical"], False, "zh-CN"),
    ("marketing", "钱芳", "marketing", "gm", ["marketing_manager"], False, "zh-CN"),
]


def seed_organisation(engine: Engine, known_roles: Any = None) -> Organisation:
    """Create the standard departments and users (roles the rulebook lacks are skipped)."""
    org = Organisation()
    with engine.begin() as conn:
        for name, zh, en, parent in _DEPARTMENTS:
            org.departments[name] = create_department(
                conn, name, zh, en, org.departments.get(parent) if parent else None
            )
        for username, display, dept, manager, roles, admin, locale in _USERS:
            usable = [r for r in roles if known_roles is None or r in known_roles]
            org.users[username] = create_user(
                conn, username, DEMO_PASSWORD, display_name=display,
                department_id=org.departments[dept], manager_id=org.users.get(manager),
                roles=usable, locale=locale, is_admin=admin,
                email=f"{username}@example.com",
            )  # fmt: skip
        deps = departments_table()
        managers = {"company": "gm", "sales": "manager", "service": "service_manager",
                    "finance": "finance", "it": "it", "technical": "tech",
                    "marketing": "marketing", "sales_east": "manager"}  # fmt: skip
        for dept, username in managers.items():
            conn.execute(deps.update().where(deps.c.id == org.departments[dept])
                         .values(manager_id=org.users[username]))  # fmt: skip
    return org
