"""A commitment's rules: statuses derived from facts (pure), facts read from the database."""
