"""Sennheiser plugin: SSCv2 over HTTPS with Server-Sent Events."""
