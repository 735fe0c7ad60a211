"""Reports: service results rendered as files people and other systems read (JSON, CSV, SVG,
PNG). A top-layer package beside cli and api, which both use it.

Rendering never changes a figure: amounts come in as integer fen and go out through
:func:`gongji.domain.money.format_yuan`, and the same result always renders to the same bytes.
"""
