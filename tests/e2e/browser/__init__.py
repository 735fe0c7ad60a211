"""Helpers for the web tests: a real gongji on a temporary database, and page checks."""
