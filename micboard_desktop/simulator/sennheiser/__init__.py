"""Sennheiser simulators: one subpackage per protocol, mirroring ``plugins/sennheiser/``."""
