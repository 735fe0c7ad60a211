"""The risk rules as pure functions over typed facts; no IO, no clock."""
