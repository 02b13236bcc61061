"""A catalogue exported from a Russian ERP prints without editing: twenty names of an optics store's catalogue, full of
the typography 1C, Word and ERPs put in on their own, sold through ``kkt-adapter serve`` on the emulated KKT.

Every sale answers 200 with ``warnings`` naming each field and substitution; the device's journal holds the
normalized text; the buffer keeps the text as sent (``text_as_sent``); under ``KKT_TEXT_POLICY=strict`` the same
names are one 422 listing every offending character of each field at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from kkt_adapter.domain.text import code_point
from kkt_adapter.testing import AdapterProcess, bodies
from ready_device import journal

#: (as exported, as printed): the optics store's catalogue, and the text the policy's table makes of it.
CATALOGUE: list[tuple[str, str]] = [
    ("Оправа «Ray-Ban» RB5154 — 49□21", 'Оправа "Ray-Ban" RB5154 - 49-21'),
    ("Линза Hoya 1.67 ±2.50", "Линза Hoya 1.67 +/-2.50"),
    ("Футляр™ Ø 60 мм", "Футляр(TM) O 60 мм"),
    ("Очки солнцезащитные „Polaroid“ PLD 2088/S", 'Очки солнцезащитные "Polaroid" PLD 2088/S'),
    ("Линзы контактные Acuvue® Oasys −3.25 (6 шт.)", "Линзы контактные Acuvue(R) Oasys -3.25 (6 шт.)"),
    ("Салфетка из микрофибры 15×18 см", "Салфетка из микрофибры 15x18 см"),
    ("Раствор “Opti-Free” 355 мл – для линз", 'Раствор "Opti-Free" 355 мл - для линз'),
    ("Капли увлажняющие Hilo\u2011Comod 10 мл", "Капли увлажняющие Hilo-Comod 10 мл"),
    ("Оправа Bär детская 44□16 • розовая", "Оправа Bar детская 44-16 * розовая"),
    ("Цепочка для очков… позолота", "Цепочка для очков... позолота"),
    ("Линза Essilor Varilux® X series 1.6 ±0.75", "Линза Essilor Varilux(R) X series 1.6 +/-0.75"),
    ("Проверка зрения — 500 ₽ скидка", "Проверка зрения - 500 руб. скидка"),
    ("Оправа Silhouette™ Titan Minimal Art", "Оправа Silhouette(TM) Titan Minimal Art"),
    ("Спрей очищающий 30 мл\t", "Спрей очищающий 30 мл"),
    ("Футляр жёсткий, «Классика» № 3", 'Футляр жёсткий, "Классика" № 3'),
    ("Линза Zeiss ClearView 1.5 DuraVision® Platinum", "Линза Zeiss ClearView 1.5 DuraVision(R) Platinum"),
    ("Набор: салфетка + спрей ’Clean’", "Набор: салфетка + спрей 'Clean'"),
    ("Оправа Lindberg Ø 50 мм — титан", "Оправа Lindberg O 50 мм - титан"),
    ("Подголовник для окулиста 20×30", "Подголовник для окулиста 20x30"),
    ("Линза Rodenstock Perfalit 1.74 −6.00 ± цилиндр", "Линза Rodenstock Perfalit 1.74 -6.00 +/- цилиндр"),
]


def outside_cp866(text: str) -> list[str]:
    """The characters of ``text`` a fiscal drive cannot store, each once, in order (what the policy changes)."""
    seen: list[str] = []
    for char in text:
        try:
            char.encode("cp866")
        except UnicodeEncodeError:
            if char not in seen:
                seen.append(char)
        else:
            if char == "\t" and char not in seen:
                seen.append(char)
    return seen


def sale(name: str) -> dict[str, Any]:
    return bodies.sale("1500.00", name=name, paid_by="card")


def test_an_optics_catalogue_prints_normalized_and_keeps_the_text_as_sent(tmp_path: Path) -> None:
    """Twenty sales, one per catalogue name: each 200 with a warning per substituted character of the item's name;
    the journal prints the table's text; ``text_as_sent`` keeps the original beside what was printed."""
    data = tmp_path / "data"
    printed_by_key: dict[str, str] = {}
    with AdapterProcess(data) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:
        for n, (as_sent, printed) in enumerate(CATALOGUE):
            key = f"optics-{n}"
            response = http.post("/v1/kkt/receipt", json=sale(as_sent), headers={"Idempotency-Key": key})
            assert response.status_code == 200, (as_sent, response.text)
            warnings = response.json()["warnings"]
            assert {w["field"] for w in warnings} == {"items[0].name"}, warnings
            assert [w["from"] for w in warnings] == outside_cp866(as_sent), warnings
            for warning in warnings:
                assert warning["code"] == "text_replaced"
                assert warning["code_point"] == code_point(warning["from"])
                assert warning["count"] == as_sent.count(warning["from"])
            view = http.get(f"/v1/kkt/receipt/{response.json()['receipt_id']}").json()
            (kept,) = view["text_as_sent"]
            assert (kept["field"], kept["as_sent"], kept["printed"]) == ("items[0].name", as_sent, printed)
            printed_by_key[key] = printed
    documents = {d.idempotency_key: d for d in journal(data / "kkt") if d.idempotency_key in printed_by_key}
    assert len(documents) == len(CATALOGUE)
    for key, printed in printed_by_key.items():
        assert [item["1030"] for item in documents[key].tags["1059"]] == [printed], key


def test_strict_refuses_the_catalogue_listing_every_character_of_every_field_at_once(tmp_path: Path) -> None:
    """``KKT_TEXT_POLICY=strict``: one receipt of the twenty names is one 422 naming each field and every character
    the table would change in it, as the character and its code point; nothing is printed."""
    body = bodies.sale("1500.00", name="x", paid_by="card")
    body["items"] = [dict(body["items"][0], name=as_sent) for as_sent, _ in CATALOGUE]
    body["payments"] = [{"type": "card", "amount": f"{1500 * len(CATALOGUE)}.00"}]
    env = {"KKT_TEXT_POLICY": "strict"}
    with AdapterProcess(tmp_path / "data", env=env) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:
        response = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": "strict-1"})
        assert response.status_code == 422, response.text
        problems = {tuple(p["loc"]): p["msg"] for p in response.json()["detail"]}
        assert set(problems) == {("body", "items", n, "name") for n in range(len(CATALOGUE))}, problems
        for n, (as_sent, _) in enumerate(CATALOGUE):
            message = problems[("body", "items", n, "name")]
            for char in outside_cp866(as_sent):
                assert f"{char!r} ({code_point(char)})" in message, (as_sent, message)
        assert http.get("/v1/kkt/shift").json()["receipts"] == 0
    assert not [d for d in journal(tmp_path / "data" / "kkt") if d.idempotency_key == "strict-1"]
