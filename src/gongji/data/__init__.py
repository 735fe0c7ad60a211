"""Reference data shipped with gongji: the region table and the national policy defaults.

Files only, read through ``importlib.resources`` by ``gongji.kernel.reference``; the domain
parses their text and never opens them. A bureau adds its own regions and policy on top.
"""
