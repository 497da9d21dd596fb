"""What the delivery pages say, in zh-CN and en (pure data)."""

from __future__ import annotations

from typing import Any

from ...platform.messages import normalise_locale

__all__ = ["TEXTS", "text"]

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "inbox": "Inbox", "inbox_empty": "No messages.", "unread": "{n} unread",
        "mark_read": "Mark read", "mark_all_read": "Mark all read", "read": "read",
        "open": "Open", "marked": "{n} message(s) marked read.", "older": "Older messages",
        "outbox": "Outbox", "sandbox": "Sandbox", "webhooks": "Webhook targets",
        "status": "Status", "channel": "Channel", "recipient": "Recipient", "rule": "Rule",
        "record": "Record", "attempts": "Attempts", "created": "Created", "due": "Next attempt",
        "last_error": "Last error", "all": "All", "filter": "Filter", "retry": "Retry",
        "retried": "Row {id} is pending again.", "not_retried": "Row {id} cannot be retried.",
        "kill_on": "Kill switch ON — nothing is delivered; messages wait in the outbox.",
        "kill_off": "Kill switch off — messages are delivered.",
        "kill_turn_on": "Stop all delivery", "kill_turn_off": "Resume delivery",
        "kill_done_on": "All delivery stopped.", "kill_done_off": "Delivery resumed.",
        "mode_sandbox": "Sandbox mode: only allow-listed recipients receive email, SMS and "
                        "webhooks; everything else is kept here.",
        "mode_production": "Production mode: messages are delivered (the sandbox keeps what "
                           "was held back while sandbox mode was on).",
        "sandbox_empty": "Nothing in the sandbox.", "subject": "Subject", "body": "Message",
        "counts": "Rows by status", "none": "Nothing here.", "name": "Name", "kind": "Kind",
        "url": "URL", "secret": "Secret", "allow_private": "Allow private addresses",
        "active": "Active", "save": "Save", "delete": "Delete", "saved": "Target {name} saved.",
        "deleted": "Target {name} deleted.", "from_settings": "from settings",
        "bad_name": "A name is letters, digits, _ and -, at most 64.",
        "bad_kind": "Choose a kind.", "refused": "Refused: {reason}",
        "when": "When",
    },
    "zh-CN": {
        "inbox": "站内信", "inbox_empty": "暂无消息。", "unread": "{n} 条未读",
        "mark_read": "标为已读", "mark_all_read": "全部标为已读", "read": "已读",
        "open": "打开", "marked": "已将 {n} 条消息标为已读。", "older": "更早的消息",
        "outbox": "发件箱", "sandbox": "沙箱", "webhooks": "Webhook 目标",
        "status": "状态", "channel": "渠道", "recipient": "接收人", "rule": "规则",
        "record": "记录", "attempts": "尝试次数", "created": "创建时间", "due": "下次尝试",
        "last_error": "最近错误", "all": "全部", "filter": "筛选", "retry": "重试",
        "retried": "第 {id} 条已重新排队。", "not_retried": "第 {id} 条无法重试。",
        "kill_on": "总开关已关闭发送——不会发出任何消息，消息在发件箱中等待。",
        "kill_off": "发送正常——消息会被投递。",
        "kill_turn_on": "停止全部发送", "kill_turn_off": "恢复发送",
        "kill_done_on": "已停止全部发送。", "kill_done_off": "已恢复发送。",
        "mode_sandbox": "沙箱模式：只有白名单中的接收人会收到邮件、短信和 Webhook，"
                        "其余消息保留在这里。",
        "mode_production": "生产模式：消息会被投递（沙箱中保留的是沙箱模式期间拦下的消息）。",
        "sandbox_empty": "沙箱中没有消息。", "subject": "主题", "body": "内容",
        "counts": "按状态统计", "none": "暂无。", "name": "名称", "kind": "类型",
        "url": "URL", "secret": "密钥", "allow_private": "允许内网地址",
        "active": "启用", "save": "保存", "delete": "删除", "saved": "已保存目标 {name}。",
        "deleted": "已删除目标 {name}。", "from_settings": "来自配置",
        "bad_name": "名称只能包含字母、数字、_ 和 -，最多 64 个字符。",
        "bad_kind": "请选择类型。", "refused": "已拒绝：{reason}",
        "when": "时间",
    },
}  # fmt: skip


def text(key: str, locale: str | None = None, **params: Any) -> str:
    """The text ``key`` in ``locale`` (English when missing), formatted with ``params``."""
    words = TEXTS.get(normalise_locale(locale or "en"), TEXTS["en"])
    return words.get(key, TEXTS["en"].get(key, key)).format(**params)
