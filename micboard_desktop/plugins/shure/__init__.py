"""Shure plugin: System API inventory plus command-string telemetry."""
