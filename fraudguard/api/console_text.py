"""The console's words in Chinese and English, and how it writes values and times.

* :data:`_TEXT`: the pages' own words (headings, buttons, messages), by key.
* :data:`VALUE_LABELS`: every value a reviewer reads (statuses, decisions, families,
  severities, channels, dispositions, feature values, operators...) keyed by
  ``(kind, code)``; :class:`Labels` shows the label with the code kept as secondary text.
  ``tests/console/test_console_china.py`` walks every enum the console shows and fails on a
  value without both labels.
* :class:`LocalTime`: times in the operator's zone (``FRAUDGUARD_CONSOLE_TIMEZONE``), named.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from markupsafe import Markup, escape

__all__ = [
    "FEATURE_KINDS",
    "LANGUAGES",
    "VALUE_LABELS",
    "Labels",
    "LocalTime",
    "Words",
    "labels_for",
    "text_for",
]

LANGUAGES = {"zh": "中文", "en": "English"}

_TEXT: dict[str, tuple[str, str]] = {
    # key: (English, Chinese)
    "title": ("FraudGuard review console", "FraudGuard 审核台"),
    "queue": ("Queue", "待审队列"),
    "dashboard": ("Dashboard", "看板"),
    "changes": ("Changes", "变更管理"),
    "logout": ("Log out", "退出"),
    "login": ("Log in", "登录"),
    "api_key": ("API key", "API 密钥"),
    "login_hint": (
        "Log in with your reviewer, analyst, approver or admin API key.",
        "请使用审核员、分析师、审批人或管理员的 API 密钥登录。",
    ),
    "login_unknown": ("Unknown API key.", "API 密钥无效。"),
    "login_role": (
        "This key's role cannot use the console (reviewer, analyst, approver or admin only).",
        "该密钥的角色无权使用审核台(仅限审核员、分析师、审批人、管理员)。",
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
    "score_min": ("Fraud probability ≥", "欺诈概率 ≥"),
    "score_max": ("Fraud probability ≤", "欺诈概率 ≤"),
    "sort": ("Sort", "排序"),
    "case": ("Case", "案件"),
    "score": ("Model fraud probability", "模型欺诈概率"),
    "score_hint": (
        "The model's calibrated probability that the order is fraud (plus any score rules' "
        "adjustments). It does not decide alone: a rule can block an order the model "
        "scores low.",
        "模型给出的该订单为欺诈的校准概率(含评分类规则的调整)。它不单独决定结果:"
        "规则可以拦截模型评分很低的订单。",
    ),
    "decided_by": ("Decided by", "决策依据"),
    "decided_by_hint": (
        "What made the decision: the rule(s) of the rule pack, the model, or the fail-closed "
        "failure policy.",
        "决定该结果的是:规则包中的规则、模型,或故障关闭策略。",
    ),
    "asks_for": ("asks for", "要求"),
    "rule_gone": ("not in the live rule pack", "已不在当前规则包中"),
    "model_did_not_flag": (
        "the model alone did not flag this order",
        "模型本身未标记此订单",
    ),
    "degraded": ("degraded decision", "降级决策"),
    "degraded_hint": (
        "Made while the model or the velocity store was unavailable.",
        "决策时模型或频次存储不可用。",
    ),
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
    "choose": ("choose…", "请选择…"),
    "choose_status": (
        "Choose the status to move the case to; nothing was changed.",
        "请选择要变更到的状态;案件未作任何变更。",
    ),
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
    # outcomes reported after the decision, missed fraud, realised performance
    "origin": ("Origin", "来源"),
    "outcomes": ("Reported after the decision", "事后上报的结果"),
    "no_outcomes": ("Nothing reported after the decision.", "决策后暂无上报结果。"),
    "outcome_kind": ("Outcome", "结果"),
    "reported_at": ("Reported", "上报时间"),
    "reported_by": ("Reported by", "上报方"),
    "reference": ("Reference", "编号"),
    "note": ("Note", "说明"),
    "missed_fraud_hint": (
        "FraudGuard allowed this order; an outcome reported after it says fraud.",
        "FraudGuard 放行了该订单,事后上报的结果显示为欺诈。",
    ),
    "performance": (
        "Realised performance (fraud money, labels as known now)",
        "实际效果(欺诈金额,按当前已知标签)",
    ),
    "performance_hint": (
        "Per week of orders: fraud caught (reviewed or blocked) and missed (allowed). A week "
        "is final once its orders have matured; until then it is drawn faded with the share "
        "still immature, and it counts in no total.",
        "按订单周统计:已拦截(审核或拦截)与漏判(放行)的欺诈金额。订单成熟后该周数据才为"
        "最终结果;此前以淡色显示并标出未成熟比例,不计入合计。",
    ),
    "caught": ("Caught", "已拦截"),
    "missed": ("Missed (allowed)", "漏判(已放行)"),
    "immature": ("immature", "未成熟"),
    "precision_review": ("Precision of review", "人工审核准确率"),
    "precision_block": ("Precision of block", "拦截准确率"),
    "fraud_money_allowed": ("Fraud money allowed", "放行的欺诈金额"),
    "not_mature_yet": (
        "No week has matured yet: its fraud is not all known.",
        "尚无成熟的周:欺诈尚未全部知晓。",
    ),
    "no_changes": ("No changes yet.", "暂无变更。"),
    "views_summary": (
        "Viewed {n} times, last by {who} at {when}",
        "已查看 {n} 次,最近一次:{who},{when}",
    ),
    "views_none": ("Not viewed yet.", "尚无查看记录。"),
    "when": ("When", "时间"),
    "who": ("Who", "操作人"),
    "action": ("Action", "操作"),
    "what": ("What changed", "变更内容"),
    "actions": ("Actions", "操作"),
    "errors": ("Not saved", "未保存"),
    "done_assigned": ("Assigned.", "已分配。"),
    "done_status": ("Status changed.", "状态已变更。"),
    "done_disposition": ("Disposition recorded.", "处置结论已记录。"),
    "volume": ("Flagged cases by family per day", "每日按类别的标记案件数"),
    "days_in": ("days in", "日期按时区"),
    "times_in": ("Times in", "时间按时区"),
    "model_only": ("(model only)", "(仅模型)"),
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
    "model": ("Model version", "模型版本"),
    "ruleset": ("Rule pack", "规则包"),
}


# --- values ----------------------------------------------------------------------------

#: Every value a reviewer reads, ``(kind, code): (English, Chinese)``. Kinds: the enums of
#: :mod:`fraudguard.schema`, :mod:`fraudguard.cases.enums` and the features (promotion
#: status, look-alike kind, IP category), operator and partner ids, provinces, booleans.
VALUE_LABELS: dict[tuple[str, str], tuple[str, str]] = {
    # case status
    ("status", "open"): ("open", "待处理"),
    ("status", "in_review"): ("in review", "审核中"),
    ("status", "escalated"): ("escalated", "已升级"),
    ("status", "resolved"): ("resolved", "已结案"),
    # decision
    ("decision", "allow"): ("allow", "放行"),
    ("decision", "review"): ("review", "人工审核"),
    ("decision", "block"): ("block", "拦截"),
    # reason family
    ("family", "fake_discount"): ("fake discount", "虚假优惠"),
    ("family", "unsafe_network"): ("unsafe network", "不安全网络"),
    ("family", "suspicious_platform"): ("suspicious platform", "可疑平台"),
    ("family", "velocity"): ("velocity", "频次异常"),
    ("family", "promotion_abuse"): ("promotion abuse", "羊毛党"),
    ("family", "payment_risk"): ("payment risk", "支付风险"),
    ("family", "model"): ("model", "模型"),
    # reason severity
    ("severity", "low"): ("low", "低"),
    ("severity", "medium"): ("medium", "中"),
    ("severity", "high"): ("high", "高"),
    ("severity", "critical"): ("critical", "严重"),
    # ordering channel
    ("channel", "operator_app"): ("operator app", "运营商 App"),
    ("channel", "operator_web"): ("operator website", "运营商网站"),
    ("channel", "third_party_app"): ("third-party app", "第三方 App"),
    ("channel", "wechat_official_account"): ("WeChat official account", "微信公众号"),
    ("channel", "self_service_terminal"): ("self-service terminal", "自助终端"),
    ("channel", "other_web"): ("other website", "其他网站"),
    ("channel", "unknown"): ("unknown", "未知"),
    # payment method
    ("payment_method", "bank_card"): ("bank card", "银行卡"),
    ("payment_method", "alipay"): ("Alipay", "支付宝"),
    ("payment_method", "wechat_pay"): ("WeChat Pay", "微信支付"),
    ("payment_method", "operator_balance"): ("operator balance", "话费余额"),
    ("payment_method", "cash"): ("cash", "现金"),
    ("payment_method", "other"): ("other", "其他"),
    # network type and Wi-Fi security
    ("network_type", "wifi"): ("Wi-Fi", "Wi-Fi 无线网络"),
    ("network_type", "cellular"): ("cellular", "蜂窝移动网络"),
    ("network_type", "wired"): ("wired", "有线网络"),
    ("network_type", "unknown"): ("unknown", "未知"),
    ("wifi_security", "open"): ("open (no password)", "开放(无密码)"),
    ("wifi_security", "wep"): ("WEP", "WEP 加密"),
    ("wifi_security", "wpa"): ("WPA", "WPA 加密"),
    ("wifi_security", "wpa2"): ("WPA2", "WPA2 加密"),
    ("wifi_security", "wpa3"): ("WPA3", "WPA3 加密"),
    ("wifi_security", "unknown"): ("unknown", "未知"),
    # promotion verification verdict
    ("promotion_verdict", "genuine"): ("genuine", "真实活动"),
    ("promotion_verdict", "unknown"): ("unknown", "未知"),
    ("promotion_verdict", "fake"): ("fake", "虚假活动"),
    # disposition and typology
    ("disposition", "confirmed_fraud"): ("confirmed fraud", "确认欺诈"),
    ("disposition", "false_positive"): ("false positive", "误报"),
    ("disposition", "needs_info"): ("needs info", "需补充信息"),
    ("typology", "fake_discount_scam"): ("fake discount scam", "虚假优惠诈骗"),
    ("typology", "laundering"): ("laundering", "洗钱"),
    ("typology", "account_takeover"): ("account takeover", "账户盗用"),
    ("typology", "card_testing"): ("card testing", "盗卡测试"),
    ("typology", "promotion_abuse"): ("promotion abuse", "薅羊毛"),
    ("typology", "other"): ("other", "其他"),
    # audit trail
    ("audit_action", "view"): ("viewed", "查看"),
    ("audit_action", "assign"): ("assigned", "分配"),
    ("audit_action", "status"): ("status changed", "状态变更"),
    ("audit_action", "disposition"): ("disposition", "处置"),
    ("audit_action", "export"): ("export", "导出"),
    ("audit_action", "export_labels"): ("label export", "标签导出"),
    ("audit_action", "outcome"): ("outcome reported", "结果上报"),
    ("audit_action", "outcome_import"): ("outcomes imported", "结果批量导入"),
    ("audit_action", "change_draft"): ("change drafted", "变更草拟"),
    ("audit_action", "change_propose"): ("change proposed", "变更提交审批"),
    ("audit_action", "change_approve"): ("change approved", "变更已批准"),
    ("audit_action", "change_reject"): ("change rejected", "变更已驳回"),
    ("audit_action", "change_activate"): ("change activated", "变更已生效"),
    ("audit_action", "change_rollback"): ("change rolled back", "变更已回滚"),
    ("audit_action", "change_seed"): ("first version recorded", "登记初始版本"),
    ("audit_field", "status"): ("status", "状态"),
    ("audit_field", "assignee"): ("assignee", "处理人"),
    ("audit_field", "disposition"): ("disposition", "处置结论"),
    ("audit_field", "typology"): ("typology", "欺诈类型"),
    ("audit_field", "comment"): ("comment", "备注"),
    ("audit_field", "outcome_id"): ("outcome", "结果编号"),
    ("audit_field", "kind"): ("kind", "类型"),
    ("audit_field", "reported_at"): ("reported", "上报时间"),
    ("audit_field", "amount"): ("amount", "金额"),
    ("audit_field", "opened"): ("opened as", "开立为"),
    # why a case exists, and outcomes reported on orders
    ("origin", "scoring"): ("flagged when scored", "评分时标记"),
    ("origin", "missed_fraud"): ("missed fraud, reported later", "漏判欺诈(事后报告)"),
    ("outcome_kind", "chargeback"): ("chargeback", "拒付"),
    ("outcome_kind", "refund"): ("refund", "退款"),
    ("outcome_kind", "complaint_not_delivered"): (
        "complaint: top-up not delivered",
        "投诉:充值未到账",
    ),
    ("outcome_kind", "complaint_unauthorised"): (
        "complaint: not authorised by the payer",
        "投诉:非本人授权",
    ),
    ("outcome_kind", "fraud_report"): ("fraud report", "欺诈举报"),
    ("outcome_kind", "confirmed_genuine"): ("confirmed genuine", "确认为正常交易"),
    # what linked cases share
    ("link", "payer"): ("payer", "付款人"),
    ("link", "instrument"): ("payment instrument", "支付工具"),
    ("link", "device"): ("device", "设备"),
    ("link", "platform"): ("platform", "平台"),
    # queue order
    ("sort", "priority"): ("priority (probability × amount)", "优先级(概率 × 金额)"),
    ("sort", "oldest"): ("oldest first", "最早优先"),
    ("sort", "newest"): ("newest first", "最新优先"),
    ("sort", "score"): ("fraud probability", "欺诈概率"),
    ("sort", "amount"): ("amount", "金额"),
    # what decided, and what the score is
    ("decider", "rule"): ("rule", "规则"),
    ("decider", "model"): ("model", "模型"),
    ("decider", "failure_policy"): ("fail-closed policy", "故障关闭策略"),
    ("score_source", "model"): ("model fraud probability", "模型欺诈概率"),
    ("score_source", "rules_only"): ("rules-only score (no model)", "规则估算分(无模型)"),
    # feature values
    ("boolean", "true"): ("yes", "是"),
    ("boolean", "false"): ("no", "否"),
    ("promotion_status", "none"): ("no promotion claimed", "未声称优惠"),
    ("promotion_status", "genuine"): ("matches an official offer", "与官方活动一致"),
    ("promotion_status", "excessive"): ("benefit above the official offer", "优惠超出官方活动"),
    ("promotion_status", "unknown_code"): ("code not in the catalogue", "活动代码不在官方目录中"),
    ("promotion_status", "out_of_window"): ("outside the offer's dates", "不在活动有效期内"),
    ("promotion_status", "wrong_operator"): ("another operator's offer", "非本运营商的活动"),
    ("promotion_status", "wrong_province"): ("another province's offer", "非本省的活动"),
    ("promotion_status", "wrong_channel"): ("offer not for this channel", "该渠道不适用此活动"),
    ("promotion_status", "wrong_denomination"): (
        "offer not for this face value",
        "该面值不适用此活动",
    ),
    ("promotion_status", "uncoded_discount"): (
        "discount without a code, above any offer",
        "无活动代码且超出所有官方活动的折扣",
    ),
    ("lookalike_kind", "none"): ("none", "无"),
    ("lookalike_kind", "confusable"): ("look-alike characters", "形近字符仿冒"),
    ("lookalike_kind", "punycode"): ("punycode (xn--) domain", "Punycode(xn--)编码域名"),
    ("lookalike_kind", "typosquat"): ("misspelt name (typosquatting)", "拼写仿冒"),
    ("lookalike_kind", "brand_embedding"): ("brand name embedded", "嵌入品牌名"),
    ("lookalike_kind", "mixed_script"): ("mixed scripts", "混用多种文字"),
    ("ip_category", "datacenter"): ("data centre / hosting", "数据中心/托管"),
    ("ip_category", "proxy"): ("proxy", "代理"),
    ("ip_category", "vpn"): ("VPN", "VPN 网段"),
    ("ip_category", "tor"): ("Tor", "Tor 网络"),
    ("ip_category", "clean"): ("clean", "正常"),
    # operators and authorised partners (fraudguard/reference/data/channels.yaml)
    ("operator", "china_telecom"): ("China Telecom", "中国电信"),
    ("operator", "china_mobile"): ("China Mobile", "中国移动"),
    ("operator", "china_unicom"): ("China Unicom", "中国联通"),
    ("operator", "china_broadnet"): ("China Broadnet", "中国广电"),
    ("operator", "alipay"): ("Alipay", "支付宝"),
    ("operator", "wechat_pay"): ("WeChat Pay", "微信支付"),
    ("operator", "unionpay"): ("UnionPay QuickPass", "云闪付"),
    ("operator", "icbc"): ("ICBC", "中国工商银行"),
    ("operator", "ccb"): ("China Construction Bank", "中国建设银行"),
    ("operator", "abc"): ("Agricultural Bank of China", "中国农业银行"),
    ("operator", "boc"): ("Bank of China", "中国银行"),
    ("operator", "cmb"): ("China Merchants Bank", "招商银行"),
    ("operator", "jd"): ("JD.com", "京东"),
    ("operator", "taobao"): ("Taobao", "淘宝"),
    ("operator", "pinduoduo"): ("Pinduoduo", "拼多多"),
    ("operator", "meituan"): ("Meituan", "美团"),
    # provinces (fraudguard/reference/data/provinces.csv)
    ("province", "beijing"): ("Beijing", "北京"),
    ("province", "tianjin"): ("Tianjin", "天津"),
    ("province", "hebei"): ("Hebei", "河北"),
    ("province", "shanxi"): ("Shanxi", "山西"),
    ("province", "neimenggu"): ("Inner Mongolia", "内蒙古"),
    ("province", "liaoning"): ("Liaoning", "辽宁"),
    ("province", "jilin"): ("Jilin", "吉林"),
    ("province", "heilongjiang"): ("Heilongjiang", "黑龙江"),
    ("province", "shanghai"): ("Shanghai", "上海"),
    ("province", "jiangsu"): ("Jiangsu", "江苏"),
    ("province", "zhejiang"): ("Zhejiang", "浙江"),
    ("province", "anhui"): ("Anhui", "安徽"),
    ("province", "fujian"): ("Fujian", "福建"),
    ("province", "jiangxi"): ("Jiangxi", "江西"),
    ("province", "shandong"): ("Shandong", "山东"),
    ("province", "henan"): ("Henan", "河南"),
    ("province", "hubei"): ("Hubei", "湖北"),
    ("province", "hunan"): ("Hunan", "湖南"),
    ("province", "guangdong"): ("Guangdong", "广东"),
    ("province", "guangxi"): ("Guangxi", "广西"),
    ("province", "hainan"): ("Hainan", "海南"),
    ("province", "chongqing"): ("Chongqing", "重庆"),
    ("province", "sichuan"): ("Sichuan", "四川"),
    ("province", "guizhou"): ("Guizhou", "贵州"),
    ("province", "yunnan"): ("Yunnan", "云南"),
    ("province", "xizang"): ("Tibet", "西藏"),
    ("province", "shaanxi"): ("Shaanxi", "陕西"),
    ("province", "gansu"): ("Gansu", "甘肃"),
    ("province", "qinghai"): ("Qinghai", "青海"),
    ("province", "ningxia"): ("Ningxia", "宁夏"),
    ("province", "xinjiang"): ("Xinjiang", "新疆"),
    # any kind: what a feature says when it knows nothing
    ("any", "unknown"): ("unknown", "未知"),
    ("any", "none"): ("none", "无"),
}

#: The kind of each category feature's values; ``None``: shown as stored (a domain).
FEATURE_KINDS: dict[str, str | None] = {
    "number_operator": "operator",
    "number_province": "province",
    "net_ip_province": "province",
    "net_ip_category": "ip_category",
    "platform_owner": "operator",
    "platform_imitated_operator": "operator",
    "platform_lookalike_kind": "lookalike_kind",
    "platform_registrable_domain": None,
    "promotion_url_imitated_operator": "operator",
    "promotion_url_lookalike_kind": "lookalike_kind",
    "promotion_url_registrable_domain": None,
    "promo_status": "promotion_status",
}

#: Audit detail fields whose values are codes of a kind.
_DETAIL_KINDS = {
    "status": "status",
    "disposition": "disposition",
    "typology": "typology",
    "kind": "outcome_kind",
    "opened": "origin",
}


class Labels:
    """Values in words for one language: ``v.text("severity", "high")`` is ``高``;
    ``v("severity", "high")`` the same as HTML, with the code as its title (and, with
    ``code=True``, as secondary text: ``高 <small>high</small>``). A code without a label
    shows itself (in English with spaces for underscores), never an error."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._index = 0 if lang == "en" else 1

    def label(self, kind: str, code: Any) -> str | None:
        key = str(code)
        pair = VALUE_LABELS.get((kind, key)) or VALUE_LABELS.get(("any", key))
        return pair[self._index] if pair else None

    def text(self, kind: str, code: Any) -> str:
        if code is None:
            return "—"
        found = self.label(kind, code)
        if found is not None:
            return found
        return str(code).replace("_", " ") if self.lang == "en" else str(code)

    def __call__(self, kind: str, code: Any, *, code_shown: bool = False) -> Markup:
        if code is None:
            return Markup("—")
        value = str(code)
        html = Markup('<span class="v" title="{}">{}</span>').format(value, self.text(kind, value))
        if code_shown and self.label(kind, value) not in (None, value):
            html += Markup(' <small class="code">{}</small>').format(value)
        return html

    def feature(self, name: str, value: Any) -> Markup:
        """A stored feature's value: booleans as yes/no, category codes in words (the code
        kept as secondary text), numbers as numbers."""
        if isinstance(value, bool):
            return self("boolean", str(value).lower(), code_shown=True)
        if isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                return self("any", "unknown")
            return Markup("<code>{}</code>").format(value)
        kind = FEATURE_KINDS.get(name)
        if kind is None:
            return Markup("<code>{}</code>").format(value)
        return self(kind, value, code_shown=True)

    def detail(self, key: str, value: Any) -> Markup:
        """One audit detail value: ``[before, after]`` as ``before → after``, codes in words."""
        kind = _DETAIL_KINDS.get(key)

        def one(item: Any) -> Markup:
            if item is None or item == "":
                return Markup("—")
            return self(kind, item) if kind else escape(str(item))

        if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
            return Markup("{} → {}").format(one(value[0]), one(value[1]))
        return one(value)

    def decider(self, decider: Any, *, outcome: bool = False) -> Markup:
        """``rule FD-004``, ``model``, ``fail-closed policy (MODEL.UNAVAILABLE)``; with
        ``outcome``, what it asked for."""
        kind = decider.kind.value
        html = Markup('<span class="decider d-{}">{}').format(kind, self.text("decider", kind))
        if decider.id and kind != "model":
            html += Markup(" <code>{}</code>").format(decider.id)
        html += Markup("</span>")
        if outcome:
            words = text_for(self.lang)
            if decider.outcome is not None:
                html += Markup(' <small class="asks">{} {}</small>').format(
                    words["asks_for"], self("decision", decider.outcome.value)
                )
            elif kind == "rule":
                html += Markup(' <small class="asks">{}</small>').format(words["rule_gone"])
        return html


class LocalTime:
    """Times in the operator's zone, named: ``2026-11-05 21:00 (Asia/Shanghai, UTC+08:00)``
    (the offset of that instant, so right across daylight-saving changes); the UTC instant
    stays in the ``<time datetime>`` attribute and its title."""

    def __init__(self, zone: tzinfo, name: str) -> None:
        self.zone = zone
        self.name = name

    def offset(self, value: datetime | None = None) -> str:
        local = (value or datetime.now(UTC)).astimezone(self.zone)
        delta = local.utcoffset()
        minutes = int(delta.total_seconds() // 60) if delta is not None else 0
        sign = "+" if minutes >= 0 else "-"
        return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    def zone_label(self, value: datetime | None = None) -> str:
        """``Asia/Shanghai, UTC+08:00``."""
        return f"{self.name}, {self.offset(value)}"

    def text(self, value: datetime) -> str:
        local = value.astimezone(self.zone)
        return f"{local:%Y-%m-%d %H:%M} ({self.zone_label(value)})"

    def __call__(self, value: datetime | None) -> Markup:
        if value is None:
            return Markup("")
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        local = value.astimezone(self.zone)
        return Markup(
            '<time datetime="{}" title="{} UTC">{} <small class="tz">({})</small></time>'
        ).format(
            value.isoformat(),
            value.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            local.strftime("%Y-%m-%d %H:%M"),
            self.zone_label(value),
        )


class Words:
    """``t.queue`` / ``t["done_status"]`` in templates; a missing key shows itself instead of
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


_LABELS = {"en": Labels("en"), "zh": Labels("zh")}


def labels_for(lang: str) -> Labels:
    """The value labels of ``lang`` (``zh`` or ``en``; anything else gets Chinese)."""
    return _LABELS.get(lang, _LABELS["zh"])
