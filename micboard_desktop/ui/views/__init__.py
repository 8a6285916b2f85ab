"""The main window's views (dashboard, hardware, connections, alerts)."""
