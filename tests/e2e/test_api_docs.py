"""docs/api.md stays true: every operation the server publishes in its OpenAPI description is
listed there (each REST one with an example; the national interface has its own document), and
nothing listed there is gone from the server.
"""

from __future__ import annotations

import re
from pathlib import Path

from gongji.app.asgi import create_app
from gongji.bootstrap import build
from gongji.config import Settings

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
OPERATION = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`")


def _published(data_dir: Path) -> set[tuple[str, str]]:
    settings = Settings.from_env({"GONGJI_DATA_DIR": str(data_dir), "GONGJI_TEST_CLOCK": "1"})
    container = build(settings)
    try:
        paths = create_app(container).openapi()["paths"]
    finally:
        container.close()
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def _documented(text: str) -> set[tuple[str, str]]:
    return {(method, path) for method, path in OPERATION.findall(text)}


def test_every_published_operation_is_in_the_table_and_has_an_example(tmp_path: Path) -> None:
    text = API_DOC.read_text(encoding="utf-8")
    table, _, examples = text.partition("## Examples")
    published = _published(tmp_path)
    assert published - _documented(table) == set(), "operations missing from docs/api.md's table"
    headings = {
        (method, path)
        for method, path in re.findall(r"^### `(\w+) (\S+)`", examples, flags=re.MULTILINE)
    }
    rest = {(method, path) for method, path in published if path.startswith("/api/")}
    assert rest - headings == set(), "operations without an example in docs/api.md"


def test_the_document_names_no_operation_the_server_lacks(tmp_path: Path) -> None:
    documented = _documented(API_DOC.read_text(encoding="utf-8"))
    api_only = {(method, path) for method, path in documented if path.startswith("/api/")}
    assert api_only - _published(tmp_path) == set()


def test_every_operation_documents_the_refusal_body_it_answers(tmp_path: Path) -> None:
    """A refusal is ``{"code", "message", "detail"}`` whatever its status: the document says so
    for each operation (a fuzzer or a generated client checks answers against it)."""
    settings = Settings.from_env({"GONGJI_DATA_DIR": str(tmp_path)})
    container = build(settings)
    try:
        document = create_app(container).openapi()
    finally:
        container.close()
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "detail"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            refusal = responses["default"]["content"]["application/json"]["schema"]
            assert refusal == {"$ref": "#/components/schemas/Error"}, (method, path)
            if "422" in responses:
                assert responses["422"]["content"]["application/json"]["schema"] == refusal
