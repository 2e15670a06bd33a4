"""Single sign-on with OpenID Connect: providers and linked identities (issue 18)."""
