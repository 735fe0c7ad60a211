"""gongji (共济): the medical-insurance wallet and family mutual aid of employee personal accounts.

Layers (arrows point down only; enforced by import-linter, see pyproject.toml):
entrypoints (api, web, cli, jobs, sim) → bootstrap → services → ledger → store → domain.
"""

__version__ = "0.1.0"
