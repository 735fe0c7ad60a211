"""Files institutions upload on the national interface (9101 文件上传), named by the
``file_qury_no`` gongji answers and read back by 3202 (detail reconciliation by file) and 9102
(文件下载), each by its own institution only, until ``expires_at_us``. Created by migration
0080_fsi_batches_and_files.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Table

from gongji.store.tables import metadata

fsi_files = Table(
    "fsi_files",
    metadata,
    Column("institution_code", String(12), primary_key=True),
    Column("file_qury_no", String(40), primary_key=True),
    Column("filename", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_at_us", BigInteger, nullable=False),
    Column("expires_at_us", BigInteger, nullable=False),
    Index("ix_fsi_files_expiry", "expires_at_us"),
)
