"""Where Qt Multimedia's FFmpeg writes its lines: through Qt's message handler, so that they go
to the log file (app.route_qt_messages), not straight to stderr. No Qt import here: the routing
is set up at start-up, before Qt Multimedia is loaded."""

from __future__ import annotations

import os

# Set before Qt's FFmpeg plugin loads, it has the plugin hand FFmpeg's lines to qDebug() …
# qCritical(), as "FFmpeg log: …" without a category, and start FFmpeg at its debug level
# (media_pool.quiet_ffmpeg lowers it)
THROUGH_QT = "QT_FFMPEG_DEBUG"
LINE = ('"FFmpeg log: ', "FFmpeg log: ")  # quoted as qDebug() quotes a QString


def route_through_qt() -> None:
    """FFmpeg wrote "[vp9 @ 0x…] A hardware frames or device context is required…" and "Failed
    setup for format vaapi…" on the console at every RGB VP9 WebM previewed (its fallback to
    its own decoder), past Qt's message handler. Only before the first media player is made:
    the plugin reads this when it loads."""
    os.environ.setdefault(THROUGH_QT, "1")


def routed() -> bool:
    return bool(os.environ.get(THROUGH_QT))
