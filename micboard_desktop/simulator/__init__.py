"""Device simulators serving real sockets on loopback (no Qt)."""
