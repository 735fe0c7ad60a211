"""The medical-insurance catalogue (医保目录): importing it, and the items a settlement reads.

A catalogue file is CSV with the header
``code,name,item_class,selfpay_prop,price_ceiling,account_payable,category,in_catalogue``:
class ``A``/``B``/``C`` (甲/乙/丙), the first self-pay ratio of a class B item as a decimal in
[0, 1] (class A must say 0: it has none), the per-unit price ceiling in yuan (empty for none),
``account_payable`` and ``in_catalogue`` as 0/1, and a category of
:class:`~gongji.settlement.domain.items.ItemCategory`. Items outside basic medical insurance
(wellness, public health, fitness) must say ``in_catalogue`` 0, or the fund would pay for them.
An optional last column ``price_fixed`` (0/1, 0 when absent) marks an item whose ceiling is the
one price every institution charges (统一定价); it needs a ceiling.

Imports are upserts, checked whole and written all or nothing (gongji.kernel.upsert_import):
the same line again changes nothing; a changed line (prices do change) replaces the item and
records when. The shipped ``gongji/data/catalogue.csv`` is a small demo catalogue; its codes
are illustrative, not the national code table's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from typing import ClassVar, Final, TypeVar

from gongji.core.errors import GongjiError, InvariantViolation
from gongji.core.money import parse_yuan
from gongji.kernel.context import Context
from gongji.kernel.reference import DATA_PACKAGE
from gongji.kernel.reference_rows import kept_rows, reads_ahead
from gongji.kernel.upsert_import import UpsertResult, UpsertSpec, upsert_csv
from gongji.settlement.domain.items import (
    ACCOUNT_EXCLUDED_CATEGORIES,
    CatalogueItem,
    ItemCategory,
    ItemClass,
)
from gongji.settlement.store import catalogue_repo as repo
from gongji.store.raw import Read
from gongji.store.uow import UnitOfWork

CATALOGUE_COLUMNS: Final = (
    "code",
    "name",
    "item_class",
    "selfpay_prop",
    "price_ceiling",
    "account_payable",
    "category",
    "in_catalogue",
)
CATALOGUE_OPTIONAL_COLUMNS: Final = ("price_fixed",)
DEMO_CATALOGUE_FILE: Final = "catalogue.csv"
_KEPT_ITEM: Final = "catalogue_item"
ITEM_NAME_LENGTH_MAX: Final = 200
UNKNOWN_CODES_SHOWN_MAX: Final = 20
_ITEM_CODE: Final = re.compile(r"[A-Za-z0-9._-]{1,40}")
_RATIO: Final = re.compile(r"0(\.[0-9]{1,4})?|1(\.0{1,4})?")
_E = TypeVar("_E", bound=StrEnum)


class ItemUnknown(GongjiError):
    """Items a bill names that the catalogue does not hold; ``codes`` lists them all."""

    code: ClassVar[str] = "item_unknown"
    message_zh: ClassVar[str] = "医保目录中没有以下项目：{listed}"
    message_en: ClassVar[str] = "Not in the catalogue: {listed}"


class CatalogueCodeInvalid(GongjiError):
    code: ClassVar[str] = "catalogue_code_invalid"
    message_zh: ClassVar[str] = "项目编码 {item_code} 无效，应为 1 到 40 位字母、数字或 . _ -"
    message_en: ClassVar[str] = "Item code {item_code} is invalid: 1–40 letters, digits or . _ -"


class CatalogueCodeDuplicate(GongjiError):
    code: ClassVar[str] = "catalogue_code_duplicate"
    message_zh: ClassVar[str] = "项目编码 {item_code} 在文件中重复（首次出现在第 {first_line} 行）"
    message_en: ClassVar[str] = "Item code {item_code} is repeated (first on line {first_line})"


class CatalogueFieldInvalid(GongjiError):
    code: ClassVar[str] = "catalogue_field_invalid"
    message_zh: ClassVar[str] = "目录项目 {field} 的值 {value} 无效，应为 {expected}"
    message_en: ClassVar[str] = "Catalogue field {field} has invalid value {value}: {expected}"


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    item: CatalogueItem
    updated_at_us: int


def import_catalogue(ctx: Context, uow: UnitOfWork, text: str) -> UpsertResult:
    """A catalogue file, checked whole and written all or nothing (the caller commits)."""
    connection, now_us = uow.connection, ctx.now_us()

    def write(item: CatalogueItem, new: bool) -> None:
        if new:
            repo.insert_item(connection, item, now_us)
        else:
            repo.update_item(connection, item, now_us)

    spec = UpsertSpec(
        kind="catalogue",
        columns=CATALOGUE_COLUMNS,
        parse=parse_catalogue_line,
        key=lambda item: item.code,
        duplicate=lambda code, line: CatalogueCodeDuplicate(item_code=code, first_line=line),
        stored=lambda codes: repo.items_by_code(connection, codes),
        write=write,
        optional_columns=CATALOGUE_OPTIONAL_COLUMNS,
    )
    return upsert_csv(spec, text)


def seed_catalogue(ctx: Context, uow: UnitOfWork) -> UpsertResult:
    """Load the shipped demo catalogue (idempotent); a broken shipped file is a bug."""
    text = resources.files(DATA_PACKAGE).joinpath(DEMO_CATALOGUE_FILE).read_text("utf-8")
    result = import_catalogue(ctx, uow, text)
    if not result.ok:
        raise InvariantViolation(f"shipped {DEMO_CATALOGUE_FILE} is invalid: {result.errors}")
    return result


def load_items(ctx: Context, uow: UnitOfWork, codes: Iterable[str]) -> dict[str, CatalogueItem]:
    """The catalogue items of a bill, by code; ``item_unknown`` lists every code not held.
    Items this process keeps answer if the reference generation has not moved since they were
    read (kernel/reference_rows.py); the others are read together."""
    wanted = set(codes)
    found = kept_rows(
        ctx.reference_rows,
        uow,
        _KEPT_ITEM,
        wanted,
        lambda missing: repo.items_stamped(uow.connection, missing),
    )
    missing = sorted(wanted - found.keys())
    if missing:
        shown = ", ".join(missing[:UNKNOWN_CODES_SHOWN_MAX])
        more = len(missing) - UNKNOWN_CODES_SHOWN_MAX
        listed = f"{shown} … (+{more})" if more > 0 else shown
        raise ItemUnknown(codes=missing, listed=listed)
    return found


def items_reads(ctx: Context, codes: Iterable[str], uow: UnitOfWork | None = None) -> list[Read]:
    """The reads :func:`load_items` makes for ``codes``, to make ahead (``uow.prefetch``)."""
    return reads_ahead(ctx.reference_rows, uow, _KEPT_ITEM, set(codes), repo.items_reads)


def get_item(ctx: Context, uow: UnitOfWork, code: str) -> CatalogueEntry:
    item = load_items(ctx, uow, [code])[code]
    updated_at_us = repo.item_updated_at_us(uow.connection, code)
    return CatalogueEntry(item, updated_at_us or 0)


SEARCH_LIMIT_MAX: Final = 200
SEARCH_TEXT_LENGTH_MAX: Final = 40


class CatalogueQueryTooLong(GongjiError):
    """A desk search longer than any code or useful part of a name: a scanner run wild."""

    code: ClassVar[str] = "catalogue_query_too_long"
    message_zh: ClassVar[str] = "查询内容过长：最多 {limit} 个字符"
    message_en: ClassVar[str] = "The search is too long: at most {limit} characters"


def search_catalogue(
    ctx: Context, uow: UnitOfWork, text: str, limit: int = 50
) -> list[CatalogueItem]:
    """Items whose code or name contains ``text`` (the desk's item picker), by code."""
    bounded = max(1, min(limit, SEARCH_LIMIT_MAX))
    return repo.search_items(uow.connection, text.strip()[:SEARCH_TEXT_LENGTH_MAX], bounded)


def find_items(ctx: Context, uow: UnitOfWork, text: str, limit: int) -> list[CatalogueItem]:
    """The desk's live search: an item whose code is exactly ``text`` first (what a barcode
    scanner types), then the others whose code or name contains it; nothing for an empty
    search, ``catalogue_query_too_long`` for more than :data:`SEARCH_TEXT_LENGTH_MAX`."""
    wanted = text.strip()
    if len(wanted) > SEARCH_TEXT_LENGTH_MAX:
        raise CatalogueQueryTooLong(limit=SEARCH_TEXT_LENGTH_MAX)
    if not wanted:
        return []
    exact = list(repo.items_by_code(uow.connection, [wanted.upper()]).values())
    found = search_catalogue(ctx, uow, wanted, limit)
    return (exact + [item for item in found if item not in exact])[: max(1, limit)]


# --- one line of a file --------------------------------------------------------------------


def parse_catalogue_line(cells: Mapping[str, str]) -> CatalogueItem:
    """A catalogue item from the cells of one line; refuses with the first problem."""
    code = cells["code"]
    if _ITEM_CODE.fullmatch(code) is None:
        raise CatalogueCodeInvalid(item_code=code[:40])
    name = cells["name"]
    if not name or len(name) > ITEM_NAME_LENGTH_MAX:
        raise _field("name", name[:40], f"1–{ITEM_NAME_LENGTH_MAX} characters")
    item_class = _choice(cells["item_class"], "item_class", ItemClass)
    category = _choice(cells["category"], "category", ItemCategory)
    in_catalogue = _flag(cells["in_catalogue"], "in_catalogue")
    if in_catalogue and category in ACCOUNT_EXCLUDED_CATEGORIES:
        raise _field("in_catalogue", "1", f"0 for {category.value} (outside basic insurance)")
    ceiling = _ceiling(cells["price_ceiling"])
    price_fixed = _flag(cells.get("price_fixed", "0") or "0", "price_fixed")
    if price_fixed and ceiling is None:
        raise _field("price_fixed", "1", "0 without a price ceiling (a fixed price is the ceiling)")
    return CatalogueItem(
        code=code,
        name=name,
        item_class=item_class,
        category=category,
        selfpay_prop=_selfpay(cells["selfpay_prop"], item_class),
        price_ceiling_fen=ceiling,
        account_payable=_flag(cells["account_payable"], "account_payable"),
        in_catalogue=in_catalogue,
        price_fixed=price_fixed,
    )


def _selfpay(text: str, item_class: ItemClass) -> Decimal:
    if _RATIO.fullmatch(text) is None:
        raise _field("selfpay_prop", text[:40], "a decimal from 0 to 1, at most 4 places")
    ratio = Decimal(text)
    if item_class is ItemClass.A and ratio != 0:
        raise _field("selfpay_prop", text, "0 for class A (甲类 has no first self-pay)")
    return ratio


def _ceiling(text: str) -> int | None:
    """Yuan, or empty for no ceiling; zero is refused (it would put every price over it)."""
    return None if text == "" else parse_yuan(text, allow_zero=False)


def _choice(text: str, field: str, kind: type[_E]) -> _E:
    values = [member.value for member in kind]
    if text not in values:
        raise _field(field, text[:40], " | ".join(values))
    return kind(text)


def _flag(text: str, field: str) -> bool:
    if text not in ("0", "1"):
        raise _field(field, text[:40], "0 | 1")
    return text == "1"


def _field(field: str, value: str, expected: str) -> CatalogueFieldInvalid:
    return CatalogueFieldInvalid(field=field, value=value, expected=expected)
