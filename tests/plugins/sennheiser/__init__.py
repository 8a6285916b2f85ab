"""Tests of the Sennheiser SSCv2 plugin."""
