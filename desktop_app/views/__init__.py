"""Widgets of the desktop app: layout and wiring only, logic lives in controllers and models."""
