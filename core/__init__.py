"""MediaDesk's shared domain: settings, catalog, storage, validation and the library service."""
