"""The chain's arithmetic: what a record hashes to and where a chain breaks. Pure."""
