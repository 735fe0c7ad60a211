"""Server-rendered pages (Jinja2): the wallet for insured persons, the settlement desk for
institutions, the operators' back office. Pages call the same services as the API.
"""
