"""This area's REST routes: parse, call a use case, answer."""
