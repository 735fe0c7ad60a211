"""The OpenAPI document says what a refusal looks like, for every operation.

FastAPI documents only the success and a 422 with its own validation body; gongji answers every
refusal (a 400 of a rule, a 401 without credentials, a 404, a 409, a 413, a 422 of a malformed
body, a 429) with ``{"code", "message", "detail"}`` (``gongji.api.errors``). A client generated
from the document, or a fuzzer checking answers against it, must see that body: each
operation's 422 and its ``default`` response name the ``Error`` schema.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI

ERROR_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["code", "message", "detail"],
    "properties": {
        "code": {"type": "string", "description": "stable snake_case code"},
        "message": {"type": "string", "description": "in Chinese, or English on request"},
        "detail": {"type": "object", "description": "what the refusal is about"},
    },
}
_ERROR_REF: Final = {"$ref": "#/components/schemas/Error"}
_ERROR_CONTENT: Final = {"application/json": {"schema": _ERROR_REF}}
_METHODS: Final = frozenset({"get", "put", "post", "delete", "patch"})


def describe_refusals(app: FastAPI) -> None:
    """Replace ``app.openapi`` by one that documents gongji's refusal body (built once)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_refusals(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_refusals(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "Malformed request", "content": _ERROR_CONTENT}
            responses["default"] = {"description": "A refusal", "content": _ERROR_CONTENT}
    return document
