"""`python -m gongji.cli` runs the same app as the `gongji` script."""

from gongji.cli.main import app

app()
