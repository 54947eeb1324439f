"""HTTP out to the homeserver: the client-server API as the appservice (mautrix's intent API)."""
