"""Self-registration: organisations' rules and people's requests (filled by issue 18)."""
