"""The asyncio engine (no Qt): market feed, portfolio tracking, and the event bus the window listens to."""
