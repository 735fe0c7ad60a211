"""Use cases of this area: load, decide with the rules, write, in the caller's unit of work."""
