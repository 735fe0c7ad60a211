"""HTTP entrypoints: REST under /api/v1 (OpenAPI at /openapi.json, browsable at /docs) and,
later, the national interface under /fsi. Only this layer chooses HTTP status codes.
"""
