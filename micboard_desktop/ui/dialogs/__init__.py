"""Dialogs: settings, groups, discovery, about."""
