"""The commitments themselves: definitions (YAML or form), edited by coordinators."""
