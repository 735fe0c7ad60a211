"""SQL for the regions a bureau imported (the ``regions`` table). No decisions.

The shipped regions live in ``gongji/data/regions.csv``; this table holds only what bureaus
imported on top, and start-up merges it over the shipped ones.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from gongji.core.regions import Region, RegionLevel
from gongji.store.tables_people import regions


def stored_regions(connection: Connection) -> list[Region]:
    statement = select(regions.c.code, regions.c.name, regions.c.level).order_by(regions.c.code)
    return [
        Region(row.code, row.name, RegionLevel(row.level)) for row in connection.execute(statement)
    ]


def save_region(connection: Connection, region: Region) -> bool:
    """Insert or update one region; False when it is stored already exactly so."""
    found = connection.execute(
        select(regions.c.name, regions.c.level).where(regions.c.code == region.code)
    ).first()
    values = {"name": region.name, "level": region.level.value}
    if found is None:
        connection.execute(insert(regions), [{"code": region.code, **values}])
        return True
    if (found.name, found.level) == (region.name, region.level.value):
        return False
    connection.execute(update(regions).where(regions.c.code == region.code).values(**values))
    return True
