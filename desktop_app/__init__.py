"""MediaDesk desktop application: PySide6 views, Qt item models and controllers over core."""
