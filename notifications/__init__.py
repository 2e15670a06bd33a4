"""Notifications: an in-platform list and e-mail for the events of a person's training."""
