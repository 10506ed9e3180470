"""`python -m desktop_app`: the same as the `mediadesk` command."""

from desktop_app.cli import main

raise SystemExit(main())
