"""Read a compiled rulebook back in plain zh-CN or en, for process owners.

``explain_rulebook`` and ``explain_entity`` return text; ``permission_matrix`` returns the
role × entity × action table that ``ruleform explain --permissions`` prints.
"""

from __future__ import annotations

from collections.abc import Iterable

from .build_workflow import ACTIONS
from .field_types import FIELD_TYPES
from .model import Action, Duration, Entity, Field, Party, Permission, Rulebook, TimeRule, Timing

__all__ = ["explain_rulebook", "explain_entity", "permission_matrix"]

_P = {
    "zh-CN": {
        "rulebook": "制度 {label}（{name}，版本 {version}）", "tz": "时区：{tz}；语言：{locales}",
        "calendar": "工作日：{days}；工作时间：{hours}{holidays}", "holidays": "；法定节假日（含调休）：{c}",
        "roles": "角色", "entity": "【{label}】（{name}）", "fields": "字段", "statuses": "状态",
        "initial": "新记录的状态：{s}", "transitions": "状态流转", "validations": "校验规则",
        "duplicates": "查重规则", "permissions": "权限", "time_rules": "时间规则",
        "required": "必填", "unique": "唯一", "read_only": "只读", "append_only": "录入后不可修改，只能补充",
        "sensitive": "敏感（列表中遮蔽，查看留痕）", "required_when": "当 {c} 时必填",
        "visible_when": "当 {c} 时显示", "editable_when": "当 {c} 时可编辑", "refers": "关联 {e}",
        "computed": "计算：{c}", "choices": "选项：{c}",
        "move": "{label}：从 {src} 到 {dst}", "who": "可执行：{r}", "anyone": "有流转权限的人",
        "guard": "条件：{c}", "require": "需填写：{f}", "set": "同时设置：{f}",
        "approval": "需审批：{steps}", "step": "{label}（{who}，{mode}）", "exception": "例外流转：需说明理由并经主管批准",
        "mode_any": "任一人同意", "mode_all": "全部同意", "mode_n": "至少 {n} 人同意",
        "on_reject": "驳回后回到 {s}", "final": "（终态）",
        "act": {"read": "查看", "create": "新建", "update": "修改", "archive": "归档", "export": "导出", "import": "导入"},
        "scope": {"own": "自己负责的记录", "department": "本部门的记录", "department_tree": "本部门及下级部门的记录",
                  "all": "全部记录", "where": "满足条件的记录：{c}"},
        "perm": "{role}：可{acts}；范围：{scope}", "no_acts": "无操作权限", "fields_read": "；只能查看字段：{f}",
        "fields_read_except": "；不可查看：{f}", "fields_write": "；只能修改：{f}", "fields_write_except": "；不可修改：{f}",
        "tr": "；可执行流转：{t}", "party": {"owner": "负责人", "owner_manager": "负责人的上级", "creator": "创建人"},
        "role_in_dept": "负责人部门的{r}", "role_any": "{r}", "user_field": "字段“{f}”中的用户",
        "users": "指定用户 {u}", "record_field": "客户（{f}）", "where": "适用记录：{c}",
        "timing": {
            "after": "{field} 之后 {d}", "yearly": "每年 {field}{before}", "yearly_before": "（提前 {d}）",
            "inactive_since": "{field} 超过 {d} 未更新", "inactive_related": "超过 {d} 没有新的{e}",
            "deadline": "进入“{s}”后按工作时间计时{pause}", "pause": "（在 {p} 时暂停）",
            "schedule": "按计划 {cron}{top}", "top": "，取前 {n} 名（按 {o}，{per}）",
            "threshold": "每个{per}在 {w} 内的{e}数量{cmp}", "below": "少于 {n}", "above": "多于 {n}",
            "on": "当发生 {ev} {n} 时", "level": "{d} 后：{a}",
        },
        "per": {"organisation": "全公司", "department": "部门", "owner": "负责人"},
        "action": {"notify": "通知 {who}（{ch}）", "escalate": "逐级上报 {who}", "task": "给 {who} 建任务{due}",
                   "reassign": "把记录转给 {who}", "set": "设置 {f}", "webhook": "调用 Webhook {t}"},
        "due": "，期限 {d}", "rollout": "发布阶段：{r}", "caps": "；每次最多 {run}，每天最多 {day}",
        "message": "提示：{m}",
    },
    "en": {
        "rulebook": "Rulebook {label} ({name}, version {version})", "tz": "Time zone: {tz}; locales: {locales}",
        "calendar": "Working days: {days}; working hours: {hours}{holidays}",
        "holidays": "; public holidays (with adjusted working days) of {c}",
        "roles": "Roles", "entity": "[{label}] ({name})", "fields": "Fields", "statuses": "Statuses",
        "initial": "New records start as: {s}", "transitions": "Transitions", "validations": "Validation rules",
        "duplicates": "Duplicate rules", "permissions": "Permissions", "time_rules": "Time rules",
        "required": "required", "unique": "unique", "read_only": "read-only",
        "append_only": "cannot be changed once entered, only supplemented",
        "sensitive": "sensitive (masked in lists, every view logged)", "required_when": "required when {c}",
        "visible_when": "shown when {c}", "editable_when": "editable when {c}", "refers": "refers to {e}",
        "computed": "computed: {c}", "choices": "choices: {c}",
        "move": "{label}: from {src} to {dst}", "who": "who: {r}", "anyone": "anyone allowed the transition",
        "guard": "only when {c}", "require": "asks for {f}", "set": "also sets {f}",
        "approval": "needs approval: {steps}", "step": "{label} ({who}, {mode})",
        "exception": "exception: needs a reason and a manager's approval",
        "mode_any": "any one approves", "mode_all": "all approve", "mode_n": "at least {n} approve",
        "on_reject": "a rejection returns it to {s}", "final": " (final)",
        "act": {a: a for a in ACTIONS},
        "scope": {"own": "records they own", "department": "their department's records",
                  "department_tree": "records of their department and below", "all": "all records",
                  "where": "records where {c}"},
        "perm": "{role}: may {acts}; sees {scope}", "no_acts": "nothing", "fields_read": "; reads only {f}",
        "fields_read_except": "; cannot read {f}", "fields_write": "; writes only {f}",
        "fields_write_except": "; cannot write {f}", "tr": "; transitions: {t}",
        "party": {"owner": "the owner", "owner_manager": "the owner's manager", "creator": "the creator"},
        "role_in_dept": "{r} of the owner's department", "role_any": "{r}", "user_field": "the user in '{f}'",
        "users": "users {u}", "record_field": "the customer ({f})", "where": "applies to records where {c}",
        "timing": {
            "after": "{d} after {field}", "yearly": "every year on {field}{before}", "yearly_before": " ({d} ahead)",
            "inactive_since": "{field} not updated for {d}", "inactive_related": "no new {e} for {d}",
            "deadline": "working-time clock from entering '{s}'{pause}", "pause": " (paused in {p})",
            "schedule": "on schedule {cron}{top}", "top": ", top {n} by {o} per {per}",
            "threshold": "per {per}, the count of {e} in {w} is {cmp}", "below": "below {n}", "above": "above {n}",
            "on": "on {ev} {n}", "level": "after {d}: {a}",
        },
        "per": {"organisation": "organisation", "department": "department", "owner": "owner"},
        "action": {"notify": "notify {who} ({ch})", "escalate": "escalate to {who}", "task": "create a task for {who}{due}",
                   "reassign": "reassign the record to {who}", "set": "set {f}", "webhook": "call webhook {t}"},
        "due": ", due in {d}", "rollout": "rollout: {r}", "caps": "; at most {run} per run, {day} per day",
        "message": "message: {m}",
    },
}  # fmt: skip


def _phrases(locale: str) -> dict:
    return _P["en"] if locale.split("-")[0] == "en" else _P["zh-CN"]


def _join(items: Iterable[str], locale: str) -> str:
    return ("、" if not locale.startswith("en") else ", ").join(items)


def explain_rulebook(rb: Rulebook, locale: str = "zh-CN") -> str:
    """The whole rulebook in plain words."""
    p = _phrases(locale)
    cal = rb.calendar
    days = _join(["一二三四五六日"[d] if not locale.startswith("en") else
                  ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d]
                  for d in sorted(cal.working_days)], locale)  # fmt: skip
    hours = _join([f"{a:%H:%M}-{b:%H:%M}" for a, b in cal.working_hours], locale)
    holidays = p["holidays"].format(c=cal.holiday_country) if cal.holiday_country else ""
    lines = [
        p["rulebook"].format(label=rb.label.get(locale), name=rb.name, version=rb.version),
        p["tz"].format(tz=rb.timezone, locales=", ".join(rb.locales)),
        p["calendar"].format(days=days, hours=hours, holidays=holidays),
        "",
        p["roles"] + ":",
        *[f"  - {r.label.get(locale)} ({r.name})" for r in rb.roles.values()],
    ]
    for entity in rb.entities.values():
        lines += ["", explain_entity(rb, entity, locale)]
    return "\n".join(lines)


def explain_entity(rb: Rulebook, entity: Entity, locale: str = "zh-CN") -> str:
    """One entity in plain words: fields, statuses, transitions, rules, permissions."""
    p = _phrases(locale)
    lines = [p["entity"].format(label=entity.label.get(locale), name=entity.name), p["fields"] + ":"]
    lines += [f"  - {_field(rb, f, locale)}" for f in entity.fields.values()]
    if entity.statuses:
        sm = entity.statuses
        lines += [p["statuses"] + ": " + _join(
            [s.label.get(locale) + (p["final"] if s.final else "") for s in sm.states.values()],
            locale), "  " + p["initial"].format(s=sm.states[sm.initial].label.get(locale))]  # fmt: skip
    if entity.transitions:
        lines.append(p["transitions"] + ":")
        for t in entity.transitions.values():
            lines += _bullet(_transition(rb, entity, t, locale))
    if entity.validations:
        lines.append(p["validations"] + ":")
        lines += [f"  - {v.message.get(locale)}" for v in entity.validations]
    if entity.duplicates:
        lines.append(p["duplicates"] + ":")
        for d in entity.duplicates:
            names = _join([entity.fields[k.field].label.get(locale) for k in d.match], locale)
            lines.append(f"  - {d.label.get(locale)}: {names} → {d.on_match}")
    if entity.permissions:
        lines.append(p["permissions"] + ":")
        lines += [f"  - {_permission(rb, entity, perm, locale)}" for perm in entity.permissions.values()]
    if entity.time_rules:
        lines.append(p["time_rules"] + ":")
        for rule in entity.time_rules.values():
            lines += _bullet(_time_rule(rb, entity, rule, locale))
    return "\n".join(lines)


def _bullet(lines: list[str]) -> list[str]:
    """The first line as a bullet, the rest indented under it."""
    return ["  - " + lines[0], *("  " + line for line in lines[1:])]


def _field(rb: Rulebook, f: Field, locale: str) -> str:
    p = _phrases(locale)
    ftype = FIELD_TYPES[f.type].label[0 if not locale.startswith("en") else 1]
    notes = [ftype]
    for flag in ("required", "unique", "read_only", "append_only", "sensitive"):
        if getattr(f, flag) and not (flag == "read_only" and f.type == "computed"):
            notes.append(p[flag])
    for cond in ("required_when", "visible_when", "editable_when"):
        value = getattr(f, cond)
        if value is not None:
            notes.append(p[cond].format(c=value.text))
    if f.target:
        notes.append(p["refers"].format(e=rb.entities[f.target].label.get(locale)
                                        if f.target in rb.entities else f.target))  # fmt: skip
    if f.expression is not None:
        notes.append(p["computed"].format(c=f.expression.text))
    if f.choices:
        notes.append(p["choices"].format(c=_join([c.label.get(locale) for c in f.choices], locale)))
    sep = "，" if not locale.startswith("en") else ", "
    return f"{f.label.get(locale)} ({f.name}): " + sep.join(notes)


def _status(entity: Entity, name: str, locale: str) -> str:
    assert entity.statuses is not None
    s = entity.statuses.states.get(name)
    return s.label.get(locale) if s else name


def _party(rb: Rulebook, party: Party, locale: str) -> str:
    p = _phrases(locale)
    if party.kind in p["party"]:
        return p["party"][party.kind]
    if party.kind == "role":
        role = rb.roles[party.role].label.get(locale) if party.role in rb.roles else party.role
        return p["role_in_dept" if party.in_owner_department else "role_any"].format(r=role)
    if party.kind == "user_field":
        return p["user_field"].format(f=party.field)
    if party.kind == "users":
        return p["users"].format(u=", ".join(party.users))
    return p["record_field"].format(f=party.field)


def _parties(rb: Rulebook, parties: Iterable[Party], locale: str) -> str:
    return _join([_party(rb, x, locale) for x in parties], locale)


def _transition(rb: Rulebook, entity: Entity, t, locale: str) -> list[str]:  # noqa: ANN001
    p = _phrases(locale)
    src = _join([_status(entity, s, locale) for s in t.sources], locale)
    lines = [p["move"].format(label=t.label.get(locale), src=src, dst=_status(entity, t.target, locale))]
    roles = _join([rb.roles[r].label.get(locale) for r in t.roles if r in rb.roles], locale)
    lines.append("    " + p["who"].format(r=roles or p["anyone"]))
    if t.when is not None:
        lines.append("    " + p["guard"].format(c=t.when.text))
    if t.require:
        labels = [entity.fields[f].label.get(locale) if f in entity.fields else f for f in t.require]
        lines.append("    " + p["require"].format(f=_join(labels, locale)))
    if t.set:
        lines.append("    " + p["set"].format(f=_join(t.set.keys(), locale)))
    if t.exception:
        lines.append("    " + p["exception"])
    if t.approval:
        steps = []
        for step in t.approval.steps:
            mode = p["mode_n"].format(n=step.at_least) if step.mode == "at_least" else p[f"mode_{step.mode}"]
            steps.append(p["step"].format(label=step.label.get(locale),
                                          who=_parties(rb, step.approvers, locale), mode=mode))
        lines.append("    " + p["approval"].format(steps=" → ".join(steps)))
        if t.approval.on_reject:
            lines.append("    " + p["on_reject"].format(s=_status(entity, t.approval.on_reject, locale)))
    return lines


def _permission(rb: Rulebook, entity: Entity, perm: Permission, locale: str) -> str:
    p = _phrases(locale)
    role = rb.roles[perm.role].label.get(locale) if perm.role in rb.roles else perm.role
    acts = _join([p["act"][a] for a in ACTIONS if a in perm.actions], locale) or p["no_acts"]
    scope = p["scope"][perm.scope.kind]
    if perm.scope.kind == "where" and perm.scope.where is not None:
        scope = scope.format(c=perm.scope.where.text)
    text = p["perm"].format(role=role, acts=acts, scope=scope)
    for kind, access in (("read", perm.read), ("write", perm.write)):
        if access.mode != "all":
            labels = [entity.fields[f].label.get(locale) if f in entity.fields else f
                      for f in sorted(access.names)]  # fmt: skip
            key = f"fields_{kind}" + ("_except" if access.mode == "except" else "")
            text += p[key].format(f=_join(labels, locale) or "—")
    if perm.transitions:
        names = [entity.transitions[t].label.get(locale) for t in sorted(perm.transitions)]
        text += p["tr"].format(t=_join(names, locale))
    return text


def _duration(d: Duration | None) -> str:
    return str(d) if d else ""


def _timing(rb: Rulebook, entity: Entity, timing: Timing, locale: str) -> str:
    p = _phrases(locale)
    t = p["timing"]

    def label(name: str | None) -> str:
        f = entity.fields.get(name or "")
        return f.label.get(locale) if f else str(name)

    def entity_label(name: str | None) -> str:
        return rb.entities[name].label.get(locale) if name in rb.entities else str(name)

    kind = timing.kind
    if kind == "after":
        return t["after"].format(field=label(timing.field), d=_duration(timing.offset))
    if kind == "yearly":
        before = t["yearly_before"].format(d=timing.before) if timing.before else ""
        return t["yearly"].format(field=label(timing.field), before=before)
    if kind == "inactive":
        if timing.since:
            return t["inactive_since"].format(field=label(timing.since), d=timing.duration)
        return t["inactive_related"].format(e=entity_label(timing.related), d=timing.duration)
    if kind == "deadline":
        pause = t["pause"].format(p=_join([_status(entity, s, locale) for s in timing.pause_in],
                                          locale)) if timing.pause_in else ""  # fmt: skip
        return t["deadline"].format(s=_status(entity, timing.entered or "", locale), pause=pause)
    if kind == "schedule":
        top = ""
        if timing.top:
            order = _join([("-" if k.descending else "") + label(k.field) for k in timing.order_by],
                          locale)  # fmt: skip
            top = t["top"].format(n=timing.top, o=order, per=p["per"][timing.per])
        return t["schedule"].format(cron=timing.cron, top=top)
    if kind == "threshold":
        cmp = (t["below"].format(n=timing.below) if timing.below is not None
               else t["above"].format(n=timing.above))  # fmt: skip
        return t["threshold"].format(per=p["per"][timing.per], w=timing.window,
                                     e=entity_label(timing.count_entity), cmp=cmp)  # fmt: skip
    return t["on"].format(ev=timing.event, n=timing.event_name)


def _action(rb: Rulebook, action: Action, locale: str) -> str:
    p = _phrases(locale)
    a = p["action"]
    who = _parties(rb, action.recipients, locale)
    if action.kind == "notify":
        return a["notify"].format(who=who, ch=", ".join(action.channels))
    if action.kind == "task":
        due = p["due"].format(d=action.due) if action.due else ""
        return a["task"].format(who=who, due=due)
    if action.kind == "set":
        return a["set"].format(f=_join(action.set.keys(), locale))
    if action.kind == "webhook":
        return a["webhook"].format(t=action.target)
    return a[action.kind].format(who=who)


def _time_rule(rb: Rulebook, entity: Entity, rule: TimeRule, locale: str) -> list[str]:
    p = _phrases(locale)
    lines = [f"{rule.label.get(locale)}: {_timing(rb, entity, rule.timing, locale)}"]
    if rule.where is not None:
        lines.append("    " + p["where"].format(c=rule.where.text))
    for level in rule.timing.levels:
        acts = _join([_action(rb, x, locale) for x in level.actions], locale)
        lines.append("    " + p["timing"]["level"].format(d=level.after, a=acts))
    lines += ["    → " + _action(rb, x, locale) for x in rule.actions]
    if rule.audience == "customers" or rule.rollout != "active":
        caps = p["caps"].format(run=rule.cap_per_run, day=rule.cap_per_day) if (
            rule.cap_per_run or rule.cap_per_day) else ""  # fmt: skip
        lines.append("    " + p["rollout"].format(r=rule.rollout) + caps)
    return lines


def permission_matrix(rb: Rulebook, locale: str = "zh-CN") -> str:
    """Role × entity × action, with scope and field access, as an aligned text table."""
    p = _phrases(locale)
    header = ["role", "entity", *ACTIONS, "scope", "fields", "transitions"]
    rows = [header]
    for role in rb.roles.values():
        for entity in rb.entities.values():
            perm = entity.permissions.get(role.name)
            if perm is None:
                continue
            scope = p["scope"][perm.scope.kind].split("：")[0].split(" where")[0]
            fields = "all" if perm.read.mode == "all" and perm.write.mode == "all" else (
                f"read:{perm.read.mode}({len(perm.read.names)}) write:{perm.write.mode}"
                f"({len(perm.write.names)})")  # fmt: skip
            rows.append([role.name, entity.name, *("✓" if a in perm.actions else "·" for a in ACTIONS),
                         scope, fields, ",".join(sorted(perm.transitions)) or "·"])  # fmt: skip
    widths = [max(_width(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)  # fmt: skip


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
