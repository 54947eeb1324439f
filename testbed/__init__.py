"""A local Matrix world for the tests, the benchmarks and the demo: a real Synapse and a bridge
emulator that plays mautrix-whatsapp. Nothing here runs in production."""
