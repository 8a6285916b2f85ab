"""Simulated MCP devices: an ew G4 EM receiver and an IEM G4 SR (sennheiser.md §4, §7)."""
