"""Controllers: the desktop app's logic between the views and the core library."""
