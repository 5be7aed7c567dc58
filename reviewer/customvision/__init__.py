"""Everything that speaks the Custom Vision Training API v3.3."""
