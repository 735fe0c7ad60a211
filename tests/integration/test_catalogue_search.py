"""The desk's item picker (catalogue.search_catalogue), on both databases: by code or name,
wildcards typed by a user are plain characters, and the limit holds."""

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
