"""Plain-language descriptions of migration steps, in zh-CN and en.

Every step kind has one template per locale; ``render`` fills it for every locale at
once so a plan can be shown to whoever reads it. Parameters that are ``Text`` (labels)
are read in the template's own locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...metadata.model import Text, frozen_map

__all__ = [
    "LOCALES",
    "TEMPLATES",
    "SAFETY_WORDS",
    "PLAN_WORDS",
    "TYPE_WORDS",
    "render",
    "pick",
    "type_words",
]

LOCALES = ("en", "zh-CN")

TEMPLATES: Mapping[str, Mapping[str, str]] = {
    "create_table": {
        "en": "Create the table of {entity_label} ({table}) with {count} fields",
        "zh-CN": "新建「{entity_label}」的数据表 {table}（{count} 个字段）",
    },
    "create_system_table": {
        "en": "Create the system table {table}",
        "zh-CN": "新建系统表 {table}",
    },
    "add_column": {
        "en": "Add field '{column}' ({label}) to {entity_label}",
        "zh-CN": "为「{entity_label}」添加字段 '{column}'（{label}）",
    },
    "add_system_column": {
        "en": "Add column '{column}' to {table}",
        "zh-CN": "为 {table} 添加列 '{column}'",
    },
    "widen_column": {
        "en": "Widen '{column}' of {entity_label} from {old} to {new}",
        "zh-CN": "将「{entity_label}」的 '{column}' 从 {old} 扩大为 {new}",
    },
    "narrow_column": {
        "en": "Narrow '{column}' of {entity_label} from {old} to {new} ({count} values do not fit)",
        "zh-CN": "将「{entity_label}」的 '{column}' 从 {old} 缩小为 {new}（{count} 个值放不下）",
    },
    "change_type": {
        "en": "Change the type of '{column}' of {entity_label} from {old} to {new}"
        " ({count} records hold a value)",
        "zh-CN": "将「{entity_label}」的 '{column}' 类型从 {old} 改为 {new}（{count} 条记录有值）",
    },
    "allow_empty": {
        "en": "Allow '{column}' of {entity_label} to be empty",
        "zh-CN": "允许「{entity_label}」的 '{column}' 为空",
    },
    "require_value": {
        "en": "Make '{column}' of {entity_label} NOT NULL ({count} records are empty)",
        "zh-CN": "将「{entity_label}」的 '{column}' 设为非空（{count} 条记录为空）",
    },
    "alter_link": {
        "en": "Change what deleting a {target} does to '{column}' of {entity_label} ({rule})",
        "zh-CN": "修改删除 {target} 时「{entity_label}」的 '{column}' 的处理方式（{rule}）",
    },
    "add_link": {
        "en": "Link '{column}' of {entity_label} to {target}",
        "zh-CN": "将「{entity_label}」的 '{column}' 关联到 {target}",
    },
    "drop_column": {
        "en": "Remove field '{column}' ({label}) from {entity_label}"
        " ({count} records hold a value)",
        "zh-CN": "从「{entity_label}」删除字段 '{column}'（{label}）（{count} 条记录有值）",
    },
    "drop_table": {
        "en": "Remove the table of {entity_label} ({table}, {count} records)",
        "zh-CN": "删除「{entity_label}」的数据表 {table}（{count} 条记录）",
    },
    "add_index": {
        "en": "Add an index on {columns} of {entity_label}",
        "zh-CN": "为「{entity_label}」的 {columns} 建立索引",
    },
    "add_unique": {
        "en": "Make {columns} of {entity_label} unique",
        "zh-CN": "设置「{entity_label}」的 {columns} 不可重复",
    },
    "add_unique_refused": {
        "en": "Make {columns} of {entity_label} unique — refused: {groups} values are used"
        " more than once ({rows} records), e.g. {examples}",
        "zh-CN": "设置「{entity_label}」的 {columns} 不可重复 —— 无法执行：{groups} 个值重复出现"
        "（共 {rows} 条记录），例如 {examples}",
    },
    "drop_index": {
        "en": "Remove the index {index} of {entity_label}",
        "zh-CN": "删除「{entity_label}」的索引 {index}",
    },
    "add_choice": {
        "en": "Add choice '{value}' ({label}) to '{column}' of {entity_label} (no schema change)",
        "zh-CN": "为「{entity_label}」的 '{column}' 增加选项 '{value}'（{label}）"
        "（无需修改表结构）",
    },
    "remove_choice": {
        "en": "Remove choice '{value}' from '{column}' of {entity_label} ({count} records hold it)",
        "zh-CN": "从「{entity_label}」的 '{column}' 删除选项 '{value}'（{count} 条记录在用）",
    },
    "remove_status": {
        "en": "Remove status '{status}' of {entity_label} (no record is in it)",
        "zh-CN": "删除「{entity_label}」的状态 '{status}'（没有记录处于该状态）",
    },
    "remove_status_refused": {
        "en": "Remove status '{status}' of {entity_label} — refused: {count} records are in it"
        " and {pending} approval requests are pending for it; map them to a status of the new"
        " version (target given: {target}) and decide or withdraw the requests",
        "zh-CN": "删除「{entity_label}」的状态 '{status}' —— 无法执行：{count} 条记录处于该状态，"
        "{pending} 个审批申请与之相关；请将这些记录映射到新版本的状态（已指定：{target}），"
        "并先处理或撤回这些审批",
    },
    "map_status": {
        "en": "Move {count} records of {entity_label} from the removed status '{status}'"
        " to '{target}'",
        "zh-CN": "将「{entity_label}」的 {count} 条记录从已删除的状态 '{status}' 改为 '{target}'",
    },
    "refused_not_null": {
        "en": "Add column '{column}' to {table} — refused: it may not be empty and"
        " {count} records exist",
        "zh-CN": "为 {table} 添加列 '{column}' —— 无法执行：该列不能为空，"
        "而表中已有 {count} 条记录",
    },
}

SAFETY_WORDS: Mapping[str, Mapping[str, str]] = {
    "safe": {"en": "safe", "zh-CN": "安全"},
    "destructive": {"en": "destructive", "zh-CN": "会丢失数据"},
    "refused": {"en": "refused", "zh-CN": "无法执行"},
}

PLAN_WORDS: Mapping[str, Mapping[str, str]] = {
    "empty": {"en": "No database changes.", "zh-CN": "数据库无需变更。"},
    "header": {"en": "Database changes ({count}):", "zh-CN": "数据库变更（共 {count} 项）："},
    "archive_hint": {
        "en": "Steps marked destructive run only with archiving: old values are copied"
        " to archived_values first.",
        "zh-CN": "标记为“会丢失数据”的步骤只有在归档时才会执行：旧值会先复制到 archived_values。",
    },
}

#: How a stored type is named for people (strings are "{n} characters").
TYPE_WORDS: Mapping[str, Mapping[str, str]] = {
    "string": {"en": "{n} characters", "zh-CN": "{n} 个字符"},
    "text": {"en": "unlimited text", "zh-CN": "不限长度的文本"},
    "integer": {"en": "whole number", "zh-CN": "整数"},
    "decimal": {"en": "decimal number", "zh-CN": "小数"},
    "boolean": {"en": "yes/no", "zh-CN": "是/否"},
    "date": {"en": "date", "zh-CN": "日期"},
    "datetime": {"en": "date and time", "zh-CN": "日期时间"},
    "json": {"en": "list", "zh-CN": "列表"},
}


def type_words(family: str, sql: str, length: int | None = None) -> Mapping[str, str]:
    """A stored type in words per locale (``200 characters``, ``整数``); else its SQL."""
    table = TYPE_WORDS.get(family)
    if table is None:
        return frozen_map({locale: sql for locale in LOCALES})
    return frozen_map({k: v.format(n=length) for k, v in table.items()})


def pick(table: Mapping[str, str], locale: str) -> str:
    """The entry of ``table`` for ``locale``, its language, or English."""
    if locale in table:
        return table[locale]
    lang = locale.split("-")[0].lower()
    for key, value in table.items():
        if key.split("-")[0].lower() == lang:
            return value
    return table["en"]


def render(kind: str, **params: Any) -> Mapping[str, str]:
    """The description of a step of ``kind`` in every locale."""
    texts = {}
    for locale in LOCALES:
        values = {k: _localise(v, locale) for k, v in params.items()}
        texts[locale] = pick(TEMPLATES[kind], locale).format(**values)
    return frozen_map(texts)


def _localise(value: Any, locale: str) -> Any:
    if isinstance(value, Text):
        return value.get(locale)
    if isinstance(value, Mapping) and "en" in value:
        return pick(value, locale)
    return value
