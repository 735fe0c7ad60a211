"""The desk reads the catalogue, over HTTP on SQLite and PostgreSQL: the live item search the
bill page's script calls (signed-in desks only; by name or code; wildcards literal; bounded),
prices taken from the catalogue (a fixed price cannot be changed, an institution's own price
must be typed), and the scan field (Enter adds an item, a second scan adds one more)."""

from __future__ import annotations

import re
from pathlib import Path

from browser.site import MOTHER
from test_web_desk import PHARMACY, amount, bill, csrf_of, family, key_of, signed_in

from gongji.core.clock import ManualClock
from gongji.kernel.context import Context
from gongji.people.service.credentials_lookup import issue_ec_token
from support.api import make_client
from support.credentials import card_of

__all__ = ["family"]  # the fixture, shared with the desk's own tests

STATIN = "XC10AAA050A001010100005"  # 阿托伐他汀钙片: class B, fixed price 6.00 (集采)
MONITOR = "C14020100001000000014"  # 电子血压计: class B, ceiling 198.00, the pharmacy's price


def test_the_live_search_answers_a_signed_in_desk_by_name_code_or_initials(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    outside = client.get("/desk/catalogue/search", params={"q": "血压"})
    assert outside.status_code == 401
    assert outside.json()["code"] == "desk_sign_in_needed" and "登录" in outside.json()["message"]
    signed_in(client, key_of(family, PHARMACY))

    def search(text: str) -> list[dict[str, object]]:
        answer = client.get("/desk/catalogue/search", params={"q": text})
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
        items: list[dict[str, object]] = answer.json()["items"]
        return items

    [monitor] = search("血压")
    assert monitor == {
        "code": MONITOR,
        "name": "电子血压计（上臂式）",
        "item_class": "B",
        "class_label": "乙类",
        "price_ceiling": "198.00",
        "price_fixed": False,
        "in_catalogue": True,
    }
    [statin] = search(STATIN.lower())
    assert (statin["price_fixed"], statin["price_ceiling"], statin["class_label"]) == (
        True,
        "6.00",
        "乙类",
    )
    assert search("维生素C")[0]["price_ceiling"] is None  # class C, no ceiling
    [by_initials] = search("atftt")  # 阿托伐他汀, typed as pinyin initials
    assert by_initials["code"] == STATIN
    assert search("没有这种药") == [] and search("") == []
    assert search("%") == [] and search("_") == [] and search("血_计") == []
    english = client.get("/desk/catalogue/search", params={"q": "血压", "lang": "en"})
    assert english.json()["items"][0]["class_label"] == "class B"
    too_long = client.get("/desk/catalogue/search", params={"q": "1" * 41})
    assert too_long.status_code == 400
    assert too_long.json()["code"] == "catalogue_query_too_long"
    assert too_long.json()["message"] == "查询内容过长：最多 40 个字符"
    page = client.get("/desk/catalogue", params={"q": "阿托伐他汀"})  # the page without script
    assert "统一定价 6.00" in page.text and "乙类" in page.text


def test_prices_come_from_the_catalogue_where_it_fixes_them(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    csrf = csrf_of(signed_in(client, key_of(family, PHARMACY)))
    statin = {"item_code_1": STATIN, "quantity_1": "2"}

    typed = client.post("/desk/quote", data=bill(csrf, **statin, unit_price_1="5.00"))
    assert typed.status_code == 400
    assert 'id="f-unit_price_1-error"' in typed.text
    assert "为统一定价 6.00 元，不能修改单价" in typed.text

    taken = client.post("/desk/quote", data=bill(csrf, **statin))  # the price left empty
    assert taken.status_code == 200, taken.text[:400]
    assert amount(taken, "medfee_sumamt") == "132.00"  # 120.00 + 2 × 6.00
    assert 'name="unit_price_1" value="6.00"' in taken.text  # carried into the settle form
    assert re.search(r'id="f-unit_price_1"[^>]*value="6.00"[^>]*readonly', taken.text)
    assert "统一定价 6.00 元" in taken.text and "限价 198.00 元" in taken.text
    same = client.post("/desk/quote", data=bill(csrf, **statin, unit_price_1="6.00"))
    assert same.status_code == 200 and amount(same, "medfee_sumamt") == "132.00"

    own_price_missing = client.post("/desk/quote", data=bill(csrf, unit_price_0=""))
    assert own_price_missing.status_code == 400
    assert 'id="f-unit_price_0-error"' in own_price_missing.text
    assert "该项目由机构自行定价" in own_price_missing.text


def test_a_scan_and_enter_adds_an_item_and_a_second_scan_adds_one_more(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    csrf = csrf_of(signed_in(client, key_of(family, PHARMACY)))
    first = client.post("/desk/find", data={"csrf_token": csrf, "scan": STATIN.lower()})
    assert first.status_code == 200  # no patient named yet: the scan alone is fine
    assert re.search(rf'id="f-item_code_0"[^>]*value="{STATIN}"', first.text)
    assert re.search(r'id="f-unit_price_0"[^>]*value="6.00"', first.text)
    assert re.search(r'id="f-scan"[^>]*value=""[^>]*autofocus', first.text)  # ready for the next
    assert "阿托伐他汀钙片" in first.text

    carried = {"csrf_token": csrf, "item_code_0": STATIN, "quantity_0": "1", "unit_price_0": "6.00"}
    second = client.post("/desk/find", data={**carried, "scan": STATIN})
    assert re.search(r'id="f-quantity_0"[^>]*value="2"', second.text)
    assert re.search(r'id="f-item_code_1"[^>]*value=""', second.text)  # no second line of it

    named = {**carried, "scan": MONITOR, **card_of(MOTHER.id_number, MOTHER.name)}
    third = client.post("/desk/find", data=named)
    assert third.status_code == 200 and 'id="patient-name">王**<' in third.text
    assert re.search(rf'id="f-item_code_1"[^>]*value="{MONITOR}"', third.text)
    assert re.search(r'id="f-unit_price_1"[^>]*value=""', third.text)  # the pharmacy's to type

    unknown = client.post("/desk/find", data={**carried, "scan": "NOT-AN-ITEM"})
    assert unknown.status_code == 400
    assert (
        'id="f-scan-error"' in unknown.text
        and "医保目录中没有以下项目：NOT-AN-ITEM" in unknown.text
    )
    full = {**carried, **{f"item_code_{n}": f"X{n}" for n in range(1, 8)}}
    no_room = client.post("/desk/find", data={**full, "scan": MONITOR})
    assert no_room.status_code == 400 and "最多 8 项" in no_room.text


def test_the_scan_field_takes_the_patients_e_voucher_too(
    family: Context, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(family, clock, tmp_path)
    csrf = csrf_of(signed_in(client, key_of(family, PHARMACY)))
    token = issue_ec_token(family, MOTHER.psn_no)
    assert len(token) > 40  # longer than any item code
    carried = {"csrf_token": csrf, "item_code_0": STATIN, "quantity_0": "1"}
    found = client.post("/desk/find", data={**carried, "scan": token})
    assert found.status_code == 200 and 'id="patient-name">王**<' in found.text
    assert f'name="psn_no" value="{MOTHER.psn_no}"' in found.text
    assert token not in found.text  # a credential is never echoed
    assert re.search(rf'id="f-item_code_0"[^>]*value="{STATIN}"', found.text)  # the bill kept

    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    refused = client.post("/desk/find", data={**carried, "scan": forged})
    assert refused.status_code == 400 and 'id="f-scan-error"' in refused.text
    assert forged not in refused.text and token not in refused.text
