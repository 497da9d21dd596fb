"""Messages people read, in zh-CN and en, keyed by a stable code.

One table per locale; ``tests/platform/test_messages.py`` checks both locales have every
key and the same placeholders. Pages, the API and services all use ``message()``, so a
validation error says the same thing on every path.
"""

from __future__ import annotations

from typing import Any

__all__ = ["message", "normalise_locale", "SUPPORTED_LOCALES"]

SUPPORTED_LOCALES = ("zh-CN", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "required": "This field is required.",
        "not_text": "Enter text.",
        "too_long": "At most {max} characters.",
        "too_short": "At least {min} characters.",
        "pattern": "The value does not have the expected form.",
        "not_integer": "Enter a whole number.",
        "not_number": "Enter a number.",
        "too_many_decimals": "At most {scale} decimal places.",
        "too_large": "The number is too large.",
        "too_small": "Must be at least {min}.",
        "too_large_max": "Must be at most {max}.",
        "not_boolean": "Choose yes or no.",
        "not_date": "Enter a date as YYYY-MM-DD.",
        "not_datetime": "Enter a date and time as YYYY-MM-DD HH:MM.",
        "not_a_choice": "Choose one of the offered options.",
        "not_list": "Enter a list of values.",
        "not_email": "Enter a valid email address.",
        "not_phone": "Enter a valid phone number (mainland China or +country code).",
        "bad_url_scheme": "Only http, https and mailto links are allowed.",
        "not_url": "Enter a valid web address.",
        "not_reference": "Choose an existing record.",
        "unknown_reference": "No such record, or you may not see it.",
        "read_only": "This field cannot be changed.",
        "not_writable": "You may not change this field.",
        "unknown_field": "Unknown field.",
        "system_field": "This is set by the system and cannot be written.",
        "status_field": "The status changes only through a transition.",
        "not_editable_now": "This field cannot be changed now.",
        "append_only": "Entered values cannot be changed; add a supplement instead.",
        "unique": "Another record already has this value.",
        "version_conflict": "Someone else changed this record after you opened it. "
        "Reload it to see their changes, then make yours again.",
        "not_found": "No such record, or you may not see it.",
        "forbidden": "You do not have permission to do this.",
        "unauthorized": "Please log in.",
        "too_large_request": "The request is too large.",
        "malformed": "The request could not be read: {detail}",
        "unavailable": "The service is briefly unavailable. Please try again shortly.",
        "invalid_filter": "Cannot filter by '{field}' this way.",
        "invalid_sort": "Cannot sort by '{field}'.",
        "too_many_filters": "At most {max} filters.",
        "bad_cursor": "The page cursor is invalid or expired.",
        "saved": "Saved.",
        "created": "Created.",
        "archived": "Archived.",
        "login_failed": "Wrong username or password.",
        "login_throttled": "Too many attempts. Try again in {seconds} seconds.",
        "logged_out": "You have been logged out.",
        "account_inactive": "This account is deactivated.",
    },
    "zh-CN": {
        "required": "此项为必填项。",
        "not_text": "请输入文字。",
        "too_long": "最多 {max} 个字符。",
        "too_short": "至少 {min} 个字符。",
        "pattern": "格式不正确。",
        "not_integer": "请输入整数。",
        "not_number": "请输入数字。",
        "too_many_decimals": "最多 {scale} 位小数。",
        "too_large": "数字太大。",
        "too_small": "不能小于 {min}。",
        "too_large_max": "不能大于 {max}。",
        "not_boolean": "请选择是或否。",
        "not_date": "请按 YYYY-MM-DD 输入日期。",
        "not_datetime": "请按 YYYY-MM-DD HH:MM 输入日期时间。",
        "not_a_choice": "请从给定选项中选择。",
        "not_list": "请输入一组值。",
        "not_email": "请输入有效的电子邮箱。",
        "not_phone": "请输入有效的电话号码（中国大陆号码或带 +国家代码）。",
        "bad_url_scheme": "只允许 http、https 和 mailto 链接。",
        "not_url": "请输入有效的网址。",
        "not_reference": "请选择已有的记录。",
        "unknown_reference": "记录不存在，或您无权查看。",
        "read_only": "此项不能修改。",
        "not_writable": "您无权修改此项。",
        "unknown_field": "未知字段。",
        "system_field": "此项由系统设置，不能写入。",
        "status_field": "状态只能通过流转改变。",
        "not_editable_now": "此项当前不能修改。",
        "append_only": "已录入的内容不能修改，请添加补充信息。",
        "unique": "已有其他记录使用了这个值。",
        "version_conflict": "您打开此记录后，其他人修改了它。请重新加载查看他们的修改，再重新修改。",
        "not_found": "记录不存在，或您无权查看。",
        "forbidden": "您没有执行此操作的权限。",
        "unauthorized": "请先登录。",
        "too_large_request": "请求内容过大。",
        "malformed": "无法读取请求：{detail}",
        "unavailable": "服务暂时不可用，请稍后再试。",
        "invalid_filter": "不能这样按“{field}”筛选。",
        "invalid_sort": "不能按“{field}”排序。",
        "too_many_filters": "最多 {max} 个筛选条件。",
        "bad_cursor": "分页标记无效或已过期。",
        "saved": "已保存。",
        "created": "已创建。",
        "archived": "已归档。",
        "login_failed": "用户名或密码错误。",
        "login_throttled": "尝试次数过多，请 {seconds} 秒后再试。",
        "logged_out": "您已退出登录。",
        "account_inactive": "此账号已停用。",
    },
}


def normalise_locale(locale: str | None) -> str:
    """``zh``, ``zh_CN``, ``zh-Hans`` → ``zh-CN``; anything else English."""
    if locale and locale.replace("_", "-").lower().startswith("zh"):
        return "zh-CN"
    return "en"


def message(code: str, locale: str | None = None, **params: Any) -> str:
    """The text for ``code`` in ``locale`` with ``params`` filled in (the code if unknown)."""
    table = MESSAGES[normalise_locale(locale)]
    text = table.get(code) or MESSAGES["en"].get(code) or code
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text
