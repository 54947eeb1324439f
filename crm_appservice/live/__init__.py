"""Live updates: the WebSocket hub that pushes every change to the managers' browsers."""
