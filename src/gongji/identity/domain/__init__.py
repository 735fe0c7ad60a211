"""Pure rules and values of this area: no IO, no clock; tested without a database."""
