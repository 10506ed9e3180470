"""MediaDesk's embedded HTTP API (aiohttp) over the core library service."""
