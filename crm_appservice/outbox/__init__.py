"""The way out: managers' replies from the outbox to the homeserver (and by e-mail)."""
