"""Media out to the browser: the homeserver's files through the CRM's own origin."""
