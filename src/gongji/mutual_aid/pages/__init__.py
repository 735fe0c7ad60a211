"""This area's server-rendered pages: read a form, call a use case, render."""
