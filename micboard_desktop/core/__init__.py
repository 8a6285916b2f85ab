"""Normalized model, state store, meters, coordinators: the Qt-free ground floor."""
