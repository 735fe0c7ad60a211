"""The assembly: one ASGI application from every area's routers and pages, the health and
ledger-check endpoints, and the test clock. The only module that knows every front door.
"""
