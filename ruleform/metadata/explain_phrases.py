"""The words of ``ruleform explain``, per locale: zh-CN (the default) and en.

Each phrase is a ``str.format`` template; ``explain.py`` fills them in. Everything a
process owner reads is here, so a translation is one table and no code.
"""

from __future__ import annotations

from .build_workflow import ACTIONS
from .model import Duration

__all__ = ["PHRASES"]

_ZH = {
    "colon": "：",
    "rulebook": "制度 {label}（{name}，版本 {version}）",
    "tz": "时区：{tz}；语言：{locales}",
    "calendar": "工作日：{days}；工作时间：{hours}{holidays}",
    "holidays": "；法定节假日（含调休）：{c}",
    "weekdays": ["一", "二", "三", "四", "五", "六", "日"],
    "roles": "角色",
    "entity": "【{label}】（{name}）",
    "fields": "字段",
    "statuses": "状态",
    "initial": "新记录的状态：{s}",
    "transitions": "状态流转",
    "validations": "校验规则",
    "duplicates": "查重规则",
    "permissions": "权限",
    "time_rules": "时间规则",
    "required": "必填",
    "unique": "唯一",
    "read_only": "只读",
    "append_only": "录入后不可修改，只能补充",
    "sensitive": "敏感（列表中遮蔽，查看留痕）",
    "required_when": "当 {c} 时必填",
    "visible_when": "当 {c} 时显示",
    "editable_when": "当 {c} 时可编辑",
    "refers": "关联 {e}",
    "computed": "计算：{c}",
    "choices": "选项：{c}",
    "move": "{label}：从 {src} 到 {dst}",
    "who": "可执行：{r}",
    "anyone": "有流转权限的人",
    "guard": "条件：{c}",
    "require": "需填写：{f}",
    "set": "同时设置：{f}",
    "approval": "需审批：{steps}",
    "step": "{label}（{who}，{mode}）",
    "exception": "例外流转：需说明理由并经主管批准",
    "mode_any": "任一人同意",
    "mode_all": "全部同意",
    "mode_n": "至少 {n} 人同意",
    "on_reject": "驳回后回到 {s}",
    "final": "（终态）",
    "on_match": {
        "allow": "允许保存",
        "warn": "提醒",
        "block": "禁止保存",
        "conflict": "提交客户冲突处理",
    },  # fmt: skip
    "act": {
        "read": "查看",
        "create": "新建",
        "update": "修改",
        "archive": "归档",
        "export": "导出",
        "import": "导入",
    },  # fmt: skip
    "scope": {
        "own": "自己负责的记录",
        "department": "本部门的记录",
        "department_tree": "本部门及下级部门的记录",
        "all": "全部记录",
        "where": "满足条件的记录：{c}",
    },  # fmt: skip
    "party": {"owner": "负责人", "owner_manager": "负责人的上级", "creator": "创建人"},
    "role_in_dept": "负责人部门的{r}",
    "role_any": "{r}",
    "user_field": "字段“{f}”中的用户",
    "users": "指定用户 {u}",
    "record_field": "客户（{f}）",
    "where": "适用记录：{c}",
    "system": {
        "id": "编号",
        "created_at": "创建时间",
        "updated_at": "更新时间",
        "created_by": "创建人",
        "updated_by": "更新人",
        "owner": "负责人",
        "department": "部门",
        "status": "状态",
        "archived_at": "归档时间",
    },
    "units": {
        "minutes": "分钟",
        "hours": "小时",
        "days": "天",
        "weeks": "周",
        "working_days": "个工作日",
        "working_hours": "个工作小时",
    },  # fmt: skip
    "duration": "{n} {unit}",
    "ascending": "{f} 升序",
    "descending": "{f} 降序",
    "timing": {
        "after": "{field} 之后 {d}",
        "yearly": "每年 {field}{before}",
        "yearly_before": "（提前 {d}）",
        "inactive_since": "{field} 超过 {d} 未更新",
        "inactive_related": "超过 {d} 没有新的{e}",
        "deadline": "进入“{s}”后按工作时间计时{pause}",
        "pause": "（在 {p} 时暂停）",
        "schedule": "按计划（cron：{cron}）{top}",
        "working_days_only": "，仅在工作日（节假日不提醒，调休上班日照常）",
        "top": "，{per}取前 {n} 名（按 {o}）",
        "threshold": "每个{per}在 {w} 内的{e}数量{cmp}",
        "below": "少于 {n}",
        "above": "多于 {n}",
        "level": "{d} 后：{a}",
        "on": {
            "transition": "执行流转“{n}”时",
            "entered": "进入状态“{n}”时",
            "approved": "流转“{n}”审批通过时",
            "rejected": "流转“{n}”审批被驳回时",
        },
    },  # fmt: skip
    "per": {"organisation": "全公司", "department": "部门", "owner": "负责人"},
    "per_top": {"organisation": "全公司", "department": "每个部门", "owner": "每位负责人"},
    "action": {
        "notify": "通知 {who}（{ch}）",
        "escalate": "逐级上报 {who}",
        "task": "给 {who} 建任务{due}",
        "reassign": "把记录转给 {who}",
        "set": "设置 {f}",
        "webhook": "调用 Webhook {t}",
    },  # fmt: skip
    "due": "，期限 {d}",
    "rollout": "发布阶段：{r}",
    "rollouts": {
        "draft": "草稿（不运行）",
        "dry_run": "演练（只记录，不发送）",
        "canary": "试点",
        "active": "已启用",
        "paused": "已暂停",
    },  # fmt: skip
    "caps": "；每次最多 {run}，每天最多 {day}",
    "message": "提示：{m}",
    "cond": {
        "traverse": "{ref}的{f}",
        "user": {"id": "本人", "department": "本人的部门", "departments": "本人的部门及其下级部门"},
        "null": "空",
        "true": "是",
        "false": "否",
        "quote": "“{v}”",
        "and": "，且",
        "or": "，或",
        "not": "并非（{c}）",
        "cmp": {
            "plain": {
                "=": "{x}是{y}",
                "!=": "{x}不是{y}",
                "<": "{x}小于{y}",
                "<=": "{x}不大于{y}",
                ">": "{x}大于{y}",
                ">=": "{x}不小于{y}",
            },
            "date": {
                "=": "{x}是{y}",
                "!=": "{x}不是{y}",
                "<": "{x}早于{y}",
                "<=": "{x}不晚于{y}",
                ">": "{x}晚于{y}",
                ">=": "{x}不早于{y}",
            },
        },  # fmt: skip
        "in": "{x}是{v}之一",
        "not_in": "{x}不是{v}之一",
        "in_depts": "{x}属于{v}",
        "not_in_depts": "{x}不属于{v}",
        "empty": "{x}为空",
        "not_empty": "{x}不为空",
        "contains": "{x}包含{v}",
        "starts_with": "{x}以{v}开头",
        "ends_with": "{x}以{v}结尾",
        "has_role": "本人有角色“{r}”",
        "is_true": "{x}为“是”",
    },
    "matrix": {
        "title": "权限矩阵：{label}",
        "legend": [
            "✓ 允许，· 不允许。未列出的角色不能访问该实体（导航、页面、接口中都没有）。",
            "数据范围限制角色的每一项操作；凡能查看记录者都能看到系统字段（编号、负责人、部门、状态、"
            "创建和更新时间）；只读字段和计算字段任何角色都不能修改。",
            "* 敏感字段：列表、导出和通知中遮盖，显示时写入查看日志。",
        ],
        "role": "角色",
        "role_title": "{label}（{name}）",
        "actions": "操作：{a}",
        "none": "无",
        "transitions": "状态变更：{t}",
        "scope": "数据范围：{s}",
        "scope_any": "数据范围：满足下列任一条件的记录",
        "scope_where": "数据范围：满足条件的记录——{c}",
        "written": "条件原文：{c}",
        "read_all": "可查看：全部字段",
        "read_only": "只能查看：{f}",
        "read_except": "可查看：全部字段，除了 {f}",
        "write_all": "可修改：全部字段",
        "write_only": "只能修改：{f}",
        "write_except": "可修改：全部字段，除了 {f}",
        "write_nothing": "可修改：无",
        "write_no_right": "可修改：无（没有新建或修改权限）",
        "sensitive": "可查看的敏感字段：{f}",
        "no_roles": "没有角色可以访问。",
    },
}

_EN = {
    "colon": ": ",
    "rulebook": "Rulebook {label} ({name}, version {version})",
    "tz": "Time zone: {tz}; locales: {locales}",
    "calendar": "Working days: {days}; working hours: {hours}{holidays}",
    "holidays": "; public holidays (with adjusted working days) of {c}",
    "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "roles": "Roles",
    "entity": "[{label}] ({name})",
    "fields": "Fields",
    "statuses": "Statuses",
    "initial": "New records start as: {s}",
    "transitions": "Transitions",
    "validations": "Validation rules",
    "duplicates": "Duplicate rules",
    "permissions": "Permissions",
    "time_rules": "Time rules",
    "required": "required",
    "unique": "unique",
    "read_only": "read-only",
    "append_only": "cannot be changed once entered, only supplemented",
    "sensitive": "sensitive (masked in lists, every view logged)",
    "required_when": "required when {c}",
    "visible_when": "shown when {c}",
    "editable_when": "editable when {c}",
    "refers": "refers to {e}",
    "computed": "computed: {c}",
    "choices": "choices: {c}",
    "move": "{label}: from {src} to {dst}",
    "who": "who: {r}",
    "anyone": "anyone allowed the transition",
    "guard": "only when {c}",
    "require": "asks for {f}",
    "set": "also sets {f}",
    "approval": "needs approval: {steps}",
    "step": "{label} ({who}, {mode})",
    "exception": "exception: needs a reason and a manager's approval",
    "mode_any": "any one approves",
    "mode_all": "all approve",
    "mode_n": "at least {n} approve",
    "on_reject": "a rejection returns it to {s}",
    "final": " (final)",
    "on_match": {
        "allow": "allowed",
        "warn": "warns",
        "block": "refused",
        "conflict": "opens a conflict case",
    },  # fmt: skip
    "act": {a: a for a in ACTIONS},
    "scope": {
        "own": "records they own",
        "department": "their department's records",
        "department_tree": "records of their department and below",
        "all": "all records",
        "where": "records where {c}",
    },  # fmt: skip
    "party": {
        "owner": "the owner",
        "owner_manager": "the owner's manager",
        "creator": "the creator",
    },  # fmt: skip
    "role_in_dept": "{r} of the owner's department",
    "role_any": "{r}",
    "user_field": "the user in '{f}'",
    "users": "users {u}",
    "record_field": "the customer ({f})",
    "where": "applies to records where {c}",
    "system": {
        "id": "ID",
        "created_at": "Created at",
        "updated_at": "Updated at",
        "created_by": "Created by",
        "updated_by": "Updated by",
        "owner": "Owner",
        "department": "Department",
        "status": "Status",
        "archived_at": "Archived at",
    },
    "units": {
        "minutes": "minute",
        "hours": "hour",
        "days": "day",
        "weeks": "week",
        "working_days": "working day",
        "working_hours": "working hour",
    },  # fmt: skip
    "duration": "{n} {unit}",
    "ascending": "{f}, ascending",
    "descending": "{f}, descending",
    "timing": {
        "after": "{d} after {field}",
        "yearly": "every year on {field}{before}",
        "yearly_before": " ({d} ahead)",
        "inactive_since": "{field} not updated for {d}",
        "inactive_related": "no new {e} for {d}",
        "deadline": "working-time clock from entering '{s}'{pause}",
        "pause": " (paused in {p})",
        "schedule": "on schedule (cron: {cron}){top}",
        "working_days_only": (
            ", on working days only (not on public holidays; on adjusted working days)"
        ),
        "top": ", top {n} by {o} ({per})",
        "threshold": "per {per}, the count of {e} in {w} is {cmp}",
        "below": "below {n}",
        "above": "above {n}",
        "level": "after {d}: {a}",
        "on": {
            "transition": "when the transition '{n}' is made",
            "entered": "when a record enters '{n}'",
            "approved": "when '{n}' is approved",
            "rejected": "when '{n}' is rejected",
        },
    },  # fmt: skip
    "per": {"organisation": "organisation", "department": "department", "owner": "owner"},
    "per_top": {
        "organisation": "whole organisation",
        "department": "per department",
        "owner": "per owner",
    },  # fmt: skip
    "action": {
        "notify": "notify {who} ({ch})",
        "escalate": "escalate to {who}",
        "task": "create a task for {who}{due}",
        "reassign": "reassign the record to {who}",
        "set": "set {f}",
        "webhook": "call webhook {t}",
    },  # fmt: skip
    "due": ", due in {d}",
    "rollout": "rollout: {r}",
    "rollouts": {
        "draft": "draft (not run)",
        "dry_run": "dry run (logged, not sent)",
        "canary": "canary (pilot group only)",
        "active": "active",
        "paused": "paused",
    },  # fmt: skip
    "caps": "; at most {run} per run, {day} per day",
    "message": "message: {m}",
    "cond": {
        "traverse": "{f} of {ref}",
        "user": {
            "id": "the user",
            "department": "the user's department",
            "departments": "the user's department or one below it",
        },  # fmt: skip
        "null": "empty",
        "true": "yes",
        "false": "no",
        "quote": "“{v}”",
        "and": ", and ",
        "or": ", or ",
        "not": "not ({c})",
        "cmp": {
            "plain": {
                "=": "{x} is {y}",
                "!=": "{x} is not {y}",
                "<": "{x} is less than {y}",
                "<=": "{x} is at most {y}",
                ">": "{x} is more than {y}",
                ">=": "{x} is at least {y}",
            },
            "date": {
                "=": "{x} is {y}",
                "!=": "{x} is not {y}",
                "<": "{x} is before {y}",
                "<=": "{x} is on or before {y}",
                ">": "{x} is after {y}",
                ">=": "{x} is on or after {y}",
            },
        },  # fmt: skip
        "in": "{x} is one of {v}",
        "not_in": "{x} is none of {v}",
        "in_depts": "{x} is {v}",
        "not_in_depts": "{x} is not {v}",
        "empty": "{x} is empty",
        "not_empty": "{x} is filled in",
        "contains": "{x} contains {v}",
        "starts_with": "{x} starts with {v}",
        "ends_with": "{x} ends with {v}",
        "has_role": "the user has the role “{r}”",
        "is_true": "{x} is yes",
    },
    "matrix": {
        "title": "Permissions: {label}",
        "legend": [
            "✓ allowed, · not allowed. A role not listed has no access to the entity (not in"
            " its navigation, pages or API).",
            "The row scope limits every action of the role. Whoever may read a record sees its"
            " system fields (ID, owner, department, status, created and updated); read-only"
            " and computed fields are written by no one.",
            "* sensitive field: masked in lists, exports and notifications; every reveal is"
            " written to the read audit.",
        ],
        "role": "role",
        "role_title": "{label} ({name})",
        "actions": "actions: {a}",
        "none": "none",
        "transitions": "transitions: {t}",
        "scope": "rows: {s}",
        "scope_any": "rows: records where any of these holds",
        "scope_where": "rows: records where {c}",
        "written": "as written: {c}",
        "read_all": "reads: all fields",
        "read_only": "reads only: {f}",
        "read_except": "reads all fields except: {f}",
        "write_all": "writes: all fields",
        "write_only": "writes only: {f}",
        "write_except": "writes all fields except: {f}",
        "write_nothing": "writes: no field",
        "write_no_right": "writes: nothing (no create or update right)",
        "sensitive": "sensitive fields it reads: {f}",
        "no_roles": "No role has access.",
    },
}

#: Phrases by locale; a locale's language picks its table (``en-GB`` → ``en``), else zh-CN.
PHRASES: dict[str, dict] = {"zh-CN": _ZH, "en": _EN}


def duration_text(d: Duration | None, locale: str = "zh-CN") -> str:
    """``45 days`` → ``45 天``, ``2 working days`` → ``2 个工作日`` (zh-CN); en: ``45 days``."""
    if d is None:
        return ""
    en = locale.split("-")[0].lower() == "en"
    p = PHRASES["en" if en else "zh-CN"]
    unit = p["units"][d.unit]
    if en and d.amount != 1:
        unit += "s"
    return p["duration"].format(n=f"{d.amount:g}", unit=unit)
