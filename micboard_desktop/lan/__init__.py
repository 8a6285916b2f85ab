"""The embedded LAN API (aiohttp) that mirrors /api/data/ for other machines."""
