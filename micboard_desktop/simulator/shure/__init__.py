"""Shure simulators: one subpackage per protocol, mirroring ``plugins/shure/``."""
