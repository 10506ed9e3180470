"""Qt item models of the desktop app; testable without any window."""

from PySide6.QtCore import QModelIndex, QPersistentModelIndex

Index = QModelIndex | QPersistentModelIndex
"""A model index as Qt hands it to models, proxies and delegates: either kind."""
