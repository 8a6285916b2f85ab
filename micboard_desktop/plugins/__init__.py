"""Manufacturer plugins: the plugin API, the registry and the built-in plugins."""
