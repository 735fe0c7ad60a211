"""The REST front door's plumbing, shared by every area's routes: who is asking (bearer
tokens, institution signatures), the error body and its HTTP status, request limits, idempotent
writes, sign-in. Areas keep their own routes in ``<area>/http``; only this layer and those routes
choose HTTP status codes.
"""
