"""The console's words in Chinese and English (one table; the page picks the language)."""

from __future__ import annotations

__all__ = ["LANGUAGES", "Words", "text_for"]

LANGUAGES = {"zh": "中文", "en": "English"}

_TEXT: dict[str, tuple[str, str]] = {
    # key: (English, Chinese)
    "title": ("FraudGuard review console", "FraudGuard 审核台"),
    "queue": ("Queue", "待审队列"),
    "dashboard": ("Dashboard", "看板"),
    "logout": ("Log out", "退出"),
    "login": ("Log in", "登录"),
    "api_key": ("API key", "API 密钥"),
    "login_hint": (
        "Log in with your reviewer, analyst or admin API key.",
        "请使用审核员、分析师或管理员的 API 密钥登录。",
    ),
    "login_unknown": ("Unknown API key.", "API 密钥无效。"),
    "login_role": (
        "This key's role cannot use the console (reviewer, analyst or admin only).",
        "该密钥的角色无权使用审核台(仅限审核员、分析师、管理员)。",
    ),
    "csrf_refused": (
        "The form expired or did not come from this console. Reload the page and try again.",
        "表单已过期或并非来自本审核台,请刷新页面后重试。",
    ),
    "case_missing": ("No such case.", "案件不存在。"),
    "read_only": (
        "Your role can read cases but not change them.",
        "您的角色只能查看案件,不能修改。",
    ),
    "signed_in_as": ("Signed in as", "当前用户"),
    "filters": ("Filters", "筛选"),
    "apply": ("Apply", "应用"),
    "clear": ("Clear", "清除"),
    "any": ("any", "全部"),
    "status": ("Status", "状态"),
    "family": ("Family", "类别"),
    "decision": ("Decision", "决策"),
    "platform": ("Platform", "平台"),
    "assignee": ("Assignee", "处理人"),
    "unassigned_hint": ("none = unassigned", "none 表示未分配"),
    "from": ("Opened from", "开始日期"),
    "to": ("Opened before", "结束日期"),
    "score_min": ("Score ≥", "评分 ≥"),
    "score_max": ("Score ≤", "评分 ≤"),
    "sort": ("Sort", "排序"),
    "case": ("Case", "案件"),
    "score": ("Score", "评分"),
    "amount": ("Amount (CNY)", "金额(元)"),
    "paid": ("Paid (CNY)", "实付(元)"),
    "priority": ("Priority", "优先级"),
    "msisdn": ("Phone", "手机号"),
    "age": ("Age (h)", "时长(小时)"),
    "sla": ("SLA", "时限"),
    "overdue": ("overdue", "已超时"),
    "on_time": ("on time", "未超时"),
    "opened": ("Opened", "创建时间"),
    "disposition": ("Disposition", "处置结论"),
    "typology": ("Typology", "欺诈类型"),
    "typology_hint": ("for confirmed fraud only", "仅用于确认欺诈"),
    "comment": ("Comment (required)", "备注(必填)"),
    "record": ("Record disposition", "提交处置"),
    "assign_me": ("Assign to me", "分配给我"),
    "unassign": ("Unassign", "取消分配"),
    "move_to": ("Move to", "变更状态"),
    "move": ("Move", "变更"),
    "no_cases": ("No cases match.", "没有符合条件的案件。"),
    "total": ("cases", "个案件"),
    "page": ("Page", "第"),
    "prev": ("Previous", "上一页"),
    "next": ("Next", "下一页"),
    "why": ("Why it was flagged", "标记原因"),
    "reasons": ("Reasons", "原因"),
    "signals": ("Signals", "信号"),
    "linked": ("Linked cases", "关联案件"),
    "shared": ("Shares", "共同"),
    "no_linked": (
        "No other case shares this payer, instrument, device or platform.",
        "没有其他案件与本案共用付款人、支付工具、设备或平台。",
    ),
    "history": ("History (audit trail)", "操作记录(审计)"),
    "when": ("When", "时间"),
    "who": ("Who", "操作人"),
    "action": ("Action", "操作"),
    "what": ("What changed", "变更内容"),
    "actions": ("Actions", "操作"),
    "errors": ("Not saved", "未保存"),
    "done_assigned": ("Assigned.", "已分配。"),
    "done_status": ("Status changed.", "状态已变更。"),
    "done_disposition": ("Disposition recorded.", "处置结论已记录。"),
    "volume": ("Flagged cases by family per day (UTC)", "每日按类别的标记案件数(UTC)"),
    "backlog": ("Review backlog", "待审积压"),
    "sla_breached": ("Past SLA", "超时"),
    "oldest": ("Oldest open (h)", "最早未结(小时)"),
    "fp_rate": ("False-positive rate per rule", "各规则误报率"),
    "rule": ("Rule", "规则"),
    "confirmed": ("Confirmed fraud", "确认欺诈"),
    "false_positives": ("False positives", "误报"),
    "rate": ("Rate", "比率"),
    "day": ("Day", "日期"),
    "all": ("All", "合计"),
    "no_dispositions": ("No dispositions yet.", "暂无处置结论。"),
    "decision_time": ("Event time", "交易时间"),
    "channel": ("Channel", "渠道"),
    "model": ("Model", "模型"),
    "ruleset": ("Rule pack", "规则包"),
    "s_open": ("open", "待处理"),
    "s_in_review": ("in review", "审核中"),
    "s_escalated": ("escalated", "已升级"),
    "s_resolved": ("resolved", "已结案"),
    "d_confirmed_fraud": ("confirmed fraud", "确认欺诈"),
    "d_false_positive": ("false positive", "误报"),
    "d_needs_info": ("needs info", "需补充信息"),
    "o_review": ("review", "人工审核"),
    "o_block": ("block", "拦截"),
    "a_view": ("viewed", "查看"),
    "a_assign": ("assigned", "分配"),
    "a_status": ("status", "状态变更"),
    "a_disposition": ("disposition", "处置"),
    "a_export": ("export", "导出"),
    "a_export_labels": ("label export", "标签导出"),
    "sort_priority": ("priority", "优先级"),
    "sort_oldest": ("oldest first", "最早优先"),
    "sort_newest": ("newest first", "最新优先"),
    "sort_score": ("score", "评分"),
    "sort_amount": ("amount", "金额"),
    "f_fake_discount": ("fake discount", "虚假优惠"),
    "f_unsafe_network": ("unsafe network", "不安全网络"),
    "f_suspicious_platform": ("suspicious platform", "可疑平台"),
    "f_velocity": ("velocity", "频次异常"),
    "f_promotion_abuse": ("promotion abuse", "羊毛党"),
    "f_payment_risk": ("payment risk", "支付风险"),
    "f_model": ("model", "模型"),
}


class Words:
    """``t.queue`` / ``t["s_open"]`` in templates; a missing key shows itself instead of
    failing the page. Not a dict, so no key can collide with a dict method."""

    def __init__(self, words: dict[str, str]) -> None:
        self._words = words

    def __getitem__(self, key: str) -> str:
        return self._words.get(key, key)

    def __getattr__(self, key: str) -> str:
        if key.startswith("_"):
            raise AttributeError(key)
        return self._words.get(key, key)


_TABLES = {
    "en": Words({key: pair[0] for key, pair in _TEXT.items()}),
    "zh": Words({key: pair[1] for key, pair in _TEXT.items()}),
}


def text_for(lang: str) -> Words:
    """The words of ``lang`` (``zh`` or ``en``; anything else gets Chinese)."""
    return _TABLES.get(lang, _TABLES["zh"])
