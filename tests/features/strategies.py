"""Shared strategies: valid recharge events that exercise every feature's inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from hypothesis import strategies as st

from fraudguard.reference import load_reference
from fraudguard.schema import RechargeEvent, to_flat

REFERENCE = load_reference()
_CODES = [*REFERENCE.promotions_by_code, "VIP-HALF", "FREE100", None]
_IPS = [
    "36.110.14.2",
    "47.92.1.9",
    "185.220.101.4",
    "104.0.144.9",
    "198.51.100.7",
    "2001:db8::1",
    "58.33.1.1",
    "223.5.5.5",
    None,
]
_SSIDS = ["Home-5G", "CMCC-WEB", "ChinaNet-Free", "Starbucks", "机场免费WiFi", "TP-LINK_2A", None]
_URLS = [
    "https://wap.10086.cn/pay",
    "https://www.189.cn/chongzhi",
    "http://10086-cz.com/a",
    "https://189.cn.pay-secure.top/",
    "https://xn--10086-9n3b.com/",
    "https://www.baidu.com",
    "not a url",
    None,
]
_APPS = ["com.ct.client", "com.greenpoint.android.mc10O86.activity", "com.example.shop", None]
_WECHAT = ["中国移动10086", "中国移動10086", "gh_fake_001", "话费优惠店", None]
_NUMBERS = [
    "18912345678",
    "13812345678",
    "18612345678",
    "17051234567",
    "19212345678",
    "14012345678",
    "16612340000",
]


@st.composite
def events(draw: st.DrawFn) -> RechargeEvent:
    amount = draw(st.sampled_from([10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 37.5]))
    paid = draw(
        st.sampled_from([None, amount, amount * 0.95, amount * 0.5, round(amount * 0.98, 2)])
    )
    when = datetime(2026, 10, 25, tzinfo=UTC) + timedelta(
        minutes=draw(st.integers(0, 60 * 24 * 30))
    )
    data: dict[str, Any] = {
        "transaction_id": f"t{draw(st.integers(0, 10**9))}",
        "event_time": when.isoformat(),
        "msisdn": draw(st.sampled_from(_NUMBERS)),
        "amount": amount,
        "paid_amount": paid,
        "channel": draw(
            st.sampled_from(
                [
                    "operator_app",
                    "operator_web",
                    "third_party_app",
                    "wechat_official_account",
                    "self_service_terminal",
                    "other_web",
                    "unknown",
                ]
            )
        ),
        "platform": {
            "url": draw(st.sampled_from(_URLS)),
            "app_package": draw(st.sampled_from(_APPS)),
            "wechat_account": draw(st.sampled_from(_WECHAT)),
            "name": draw(st.sampled_from(["中国移动", "话费充值", None])),
        },
        "payment": {
            "instrument_id": draw(st.sampled_from(["tok_1", "tok_2", None])),
            "payer_id": draw(st.sampled_from(["u-1", "u-2", None])),
        },
        "device": {
            "id": draw(st.sampled_from(["dev-1", None])),
            "rooted": draw(st.sampled_from([True, False, None])),
            "emulator": draw(st.sampled_from([True, False, None])),
        },
        "network": {
            "type": draw(st.sampled_from(["wifi", "cellular", "wired", "unknown", None])),
            "ssid": draw(st.sampled_from(_SSIDS)),
            "wifi_security": draw(
                st.sampled_from(["open", "wep", "wpa2", "wpa3", "unknown", None])
            ),
            "ip": draw(st.sampled_from(_IPS)),
            "tls": draw(st.sampled_from([True, False, None])),
            "proxy": draw(st.sampled_from([True, False, None])),
            "vpn": draw(st.sampled_from([True, False, None])),
        },
        "promotion": {
            "code": draw(st.sampled_from(_CODES)),
            "discount": draw(st.sampled_from([None, 0.0, 5.0, 10.0, 50.0])),
            "advertised_url": draw(st.sampled_from(_URLS)),
        },
    }
    return RechargeEvent.model_validate(data)


def frame_of(items: list[RechargeEvent]) -> pd.DataFrame:
    """The batch form of events, typed as files load them (times in China time)."""
    frame = pd.DataFrame([to_flat(e) for e in items])
    frame["event_time"] = pd.to_datetime(frame["event_time"], utc=True).dt.tz_convert(
        "Asia/Shanghai"
    )
    for column in ("channel", "network_type", "network_wifi_security", "payment_method"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    return frame
