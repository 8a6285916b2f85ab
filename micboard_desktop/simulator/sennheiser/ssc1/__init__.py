"""SSCv1 simulators over UDP: EW-DX EM 2 / EM 4 and Digital 6000 EM 6000 (sennheiser.md §3)."""
