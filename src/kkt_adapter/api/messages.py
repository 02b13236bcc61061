"""Error messages for people, in Russian or English, by the error's stable code: the catalogue behind the ``message``
of every error answer (``detail`` stays as it was, in English, for the clients that read it).

The language is the first of the request's ``Accept-Language`` that the adapter speaks (``ru`` or ``en``, by
weight), Russian by default. A code the catalogue does not know gets its kind's general message, never a mix of
languages.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("ru", "en")
DEFAULT_LANGUAGE: Final = "ru"

#: Message by code: Russian, English. Codes are listed in docs/api.md.
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "invalid_request": (
        "Запрос заполнен неверно: проверьте поля, названные в detail.",
        "The request is not filled in correctly: check the fields named in detail.",
    ),
    "invalid_receipt": (
        "Чек составлен неверно: проверьте позиции, суммы и оплаты.",
        "The receipt is not right: check its lines, sums and payments.",
    ),
    "idempotency_conflict": (
        "Этот ключ уже использован для другого чека: отправьте новый чек с новым ключом.",
        "This key was used for another receipt: send a new receipt with a new key.",
    ),
    "request_in_flight": (
        "Этот чек ещё печатается: повторите запрос через секунду.",
        "This receipt is still printing: retry in a second.",
    ),
    "buffer_full": (
        "Буфер неотправленных чеков полон: продажи остановлены, пока связь с ОФД не восстановится.",
        "The buffer of unsent receipts is full: sales stop until the OFD connection is back.",
    ),
    "storage_unavailable": (
        "Хранилище чеков временно недоступно: повторите позже.",
        "The receipts' storage is unavailable for now: retry later.",
    ),
    "not_found": ("Не найдено.", "Not found."),
    "sync_disabled": ("ОФД не настроен: отправка выключена.", "No OFD is configured: delivery is off."),
    "shift_not_open": ("Смена не открыта: откройте смену.", "The shift is not open: open it."),
    "shift_already_open": ("Смена уже открыта.", "The shift is already open."),
    "shift_expired": (
        "Смена открыта больше 24 часов: закройте её (Z-отчёт).",
        "The shift is open for over 24 hours: close it (Z report).",
    ),
    "offline": (
        "ККТ не на связи: проверьте питание и кабель.",
        "The KKT does not answer: check its power and cable.",
    ),
    "paper_out": ("В ККТ закончилась бумага: заправьте бумагу.", "The KKT is out of paper: load paper."),
    "cover_open": ("Крышка ККТ открыта: закройте её.", "The KKT's cover is open: close it."),
    "fn_blocked": (
        "ФН не принимает документы: позвоните в поддержку.",
        "The fiscal drive refuses documents: call support.",
    ),
    "queue_blocked": (
        "Очередь заданий ККТ заблокирована: проверьте ККТ.",
        "The KKT's task queue is blocked: check the KKT.",
    ),
    "taxation_required": (
        "Укажите систему налогообложения: у ККТ их несколько.",
        "Name the taxation system: the KKT has several.",
    ),
    "unknown": (
        "Неизвестно, напечатан ли чек: повторите запрос с тем же ключом — дубля не будет.",
        "Whether the receipt printed is not known yet: retry with the same key, it will not print twice.",
    ),
    "no_device": (
        "Ни одна ККТ не смогла напечатать чек: причины по каждой — в devices.",
        "No KKT could print the receipt: each one's reason is under devices.",
    ),
    "unauthorized": ("Нужен API-токен: введите его на странице или в настройках ERP.", "An API token is required."),
    "host_not_allowed": (
        "Адрес адаптера не разрешён (KKT_ALLOWED_HOSTS): откройте его по разрешённому адресу.",
        "This address of the adapter is not allowed (KKT_ALLOWED_HOSTS): use an allowed one.",
    ),
    "body_too_large": ("Запрос слишком большой.", "The request is too large."),
    "headers_too_large": ("Заголовки запроса слишком большие.", "The request's headers are too large."),
}

#: A kind's general message, for a code the table does not list.
GENERAL: Final[dict[str, tuple[str, str]]] = {
    "device": (
        "ККТ не выполнила операцию: проверьте ККТ и повторите с тем же ключом.",
        "The KKT did not do it: check the KKT and retry with the same key.",
    ),
    "error": ("Адаптер не выполнил запрос.", "The adapter could not do it."),
}


def language(accept_language: str | None) -> str:
    """The language to answer in, from an ``Accept-Language`` header (``ru`` without one, or with none spoken)."""
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        # Equal weights keep the header's order.
        if q > 0 and q - position * 1e-6 > best_q:
            best, best_q = primary, q - position * 1e-6
    return best


def message(code: str, lang: str, *, kind: str = "error") -> str:
    """The message for ``code`` in ``lang``; a code the table lacks gets ``kind``'s general one."""
    texts = MESSAGES.get(code) or GENERAL.get(kind, GENERAL["error"])
    return texts[LANGUAGES.index(lang) if lang in LANGUAGES else 0]
