"""ew G3, ew G4, ew 2000 and IEM G4 over the Media Control Protocol (sennheiser.md §4)."""
