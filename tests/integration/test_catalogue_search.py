"""The desk's item picker (catalogue.search_catalogue), on both databases: by code, name or the
name's pinyin initials, wildcards typed by a user are plain characters, and the limit holds."""

from __future__ import annotations

from gongji.kernel.context import Context
from gongji.settlement.service import catalogue
from support.world import run


def test_search_by_code_or_name_with_wildcards_taken_literally(ctx: Context) -> None:
    run(ctx, lambda uow: catalogue.seed_catalogue(ctx, uow))

    def search(text: str, limit: int = 50) -> list[str]:
        found = run(ctx, lambda uow: catalogue.search_catalogue(ctx, uow, text, limit))
        return [item.code for item in found]

    assert search("血压") == ["C14020100001000000014"]
    assert search("c1402010") == ["C14020100001000000014"]  # case does not matter
    assert search("C1402010") == ["C14020100001000000014"]
    assert search("%") == [] and search("_") == [] and search("\\") == []
    everything = search("", 500)
    assert len(everything) == 28 and everything == sorted(everything)
    assert len(search("", 5)) == 5
    assert len(search("", 0)) == 1  # at least one, at most SEARCH_LIMIT_MAX


def test_the_desks_live_search_puts_an_exact_code_first_and_bounds_the_query(
    ctx: Context,
) -> None:
    run(ctx, lambda uow: catalogue.seed_catalogue(ctx, uow))

    def find(text: str, limit: int = 20) -> list[str]:
        found = run(ctx, lambda uow: catalogue.find_items(ctx, uow, text, limit))
        return [item.code for item in found]

    assert find("胰岛素") == ["XA10ABM020B001010100009"]  # by name
    assert find("xa10abm020b001010100009") == ["XA10ABM020B001010100009"]  # by code, any case
    # A scanned code comes first, before items whose codes merely contain it.
    assert find("001101000010000")[0] == "001101000010000"
    assert find("  血糖 ") == ["C14030100001000000016", "C14030200001000000015"]
    assert find("不在目录里的东西") == [] and find("") == [] and find("   ") == []
    assert find("%") == [] and find("_") == [] and find("血%") == [] and find("\\") == []
    assert len(find("0", 3)) == 3
    assert len(find("x" * catalogue.SEARCH_TEXT_LENGTH_MAX)) == 0  # at the limit: searched
    try:
        find("x" * (catalogue.SEARCH_TEXT_LENGTH_MAX + 1))
    except catalogue.CatalogueQueryTooLong as refused:
        assert refused.code == "catalogue_query_too_long"
        assert "最多 40 个字符" in refused.message("zh")
    else:
        raise AssertionError("a 41-character search was answered")


AMOXICILLIN = "XJ01CAA040A001010100001"  # 阿莫西林胶囊 0.25g×24粒 in the shipped catalogue
IMPORT_HEADER = (
    "code,name,item_class,selfpay_prop,price_ceiling,account_payable,category,in_catalogue"
)


def test_a_cashier_finds_an_item_by_the_pinyin_initials_of_its_name(ctx: Context) -> None:
    run(ctx, lambda uow: catalogue.seed_catalogue(ctx, uow))

    def find(text: str) -> list[str]:
        found = run(ctx, lambda uow: catalogue.find_items(ctx, uow, text, 20))
        return [item.code for item in found]

    assert find("amxl") == [AMOXICILLIN]  # 阿莫西林
    assert find("AMXL") == find("amxljn") == find("jn025g") == [AMOXICILLIN]
    assert find("xt") == ["C14030100001000000016", "C14030200001000000015"]  # 血糖仪, 血糖试纸
    assert find("a%l") == [] and find("amx_") == []  # wildcards stay plain here too

    def load(name: str) -> None:
        line = f"XTEST000000000000000001,{name},A,0,10.00,1,drug,1"
        result = run(
            ctx, lambda uow: catalogue.import_catalogue(ctx, uow, f"{IMPORT_HEADER}\n{line}\n")
        )
        assert result.ok, result.errors

    load("布地奈德鼻喷雾剂")  # an imported item gets its initials when it is written
    assert find("bdnd") == ["XTEST000000000000000001"]
    load("对乙酰氨基酚片")  # and a renamed one its new initials
    assert find("bdnd") == [] and find("dyxajfp") == ["XTEST000000000000000001"]


def test_a_fixed_price_is_imported_only_with_a_ceiling_and_absent_means_not_fixed(
    ctx: Context,
) -> None:
    header = "code,name,item_class,selfpay_prop,price_ceiling,account_payable,category,in_catalogue"
    with_column = (
        f"{header},price_fixed\n"
        "FX1,统一定价诊查费,A,0,15.00,1,service,1,1\n"
        "FX2,自主定价器械,B,0.10,98.00,1,device,1,0\n"
    )
    result = run(ctx, lambda uow: catalogue.import_catalogue(ctx, uow, with_column))
    assert result.ok and result.created == 2
    without_column = f"{header}\nFX3,老格式项目,A,0,5.00,1,drug,1\n"
    assert run(ctx, lambda uow: catalogue.import_catalogue(ctx, uow, without_column)).ok
    items = run(ctx, lambda uow: catalogue.load_items(ctx, uow, ["FX1", "FX2", "FX3"]))
    assert [items[code].price_fixed for code in ("FX1", "FX2", "FX3")] == [True, False, False]

    no_ceiling = f"{header},price_fixed\nFX4,无限价却统一定价,A,0,,1,service,1,1\n"
    refused = run(ctx, lambda uow: catalogue.import_catalogue(ctx, uow, no_ceiling))
    assert not refused.ok and refused.errors[0].code == "catalogue_field_invalid"
    assert "price_fixed" in refused.errors[0].message
    flipped = f"{header},price_fixed\nFX2,自主定价器械,B,0.10,98.00,1,device,1,1\n"
    again = run(ctx, lambda uow: catalogue.import_catalogue(ctx, uow, flipped))
    assert again.ok and again.updated == 1  # a changed flag replaces the item
