# Names vulture cannot see being used: the framework calls or reads them, not our code.
# Checked by `make lint` (vulture core server desktop_app tests scripts/vulture_whitelist.py).
# Regenerate candidates with `vulture --make-whitelist ...`; keep only framework entries here.
# ruff: noqa
_ = object()

# Alembic reads these module variables of every revision.
down_revision
branch_labels
depends_on

# SQLAlchemy: TypeDecorator hooks, event listeners, columns written through the ORM.
impl
cache_ok
_.process_bind_param
_.process_result_value
_sqlite_pragmas  # @event.listens_for
_sqlite_begin  # @event.listens_for
_.isolation_level  # DBAPI connection attribute
recorded_at  # ORM column
_.recorded_at
is_prefix  # ORM column
updated_at  # ORM column, and a record field filled by name (core.records.from_columns)
inherit_cache  # read by SQLAlchemy's statement cache (core/catalog.py _CrossJoin)
_compile_cross_join  # @compiles

# Pillow / PyAV attributes we set for the library to read.
_.MAX_IMAGE_PIXELS
_.thread_type
_.gop_size
_.pict_type

# Qt: virtual overrides Qt calls, properties it reads, lupdate-only strings.
_.closeEvent
_.contextMenuEvent
_.dragEnterEvent
_.dragMoveEvent
_.dropEvent
_.filterAcceptsRow
_.keyboardSearch
_.paint
_.textAlignment
_.textVisible
_.textElideMode
_.keep_alive  # keeps a QObject alive as long as the callable
QT_GAPS  # read by lupdate, not by Python

# aiohttp / asyncio: protocol class swap; protocol callbacks asyncio calls (server/rawbody.py).
_.__class__
_.data_received

# urllib3: the connection class a pool makes its connections of (core/storage/s3_send.py).
_.ConnectionCls

# http.server handlers and options in test servers.
_.do_GET
_.do_HEAD
_.do_PUT
_.do_POST
_.do_DELETE
_.protocol_version
_.log_message
_.daemon_threads

# pytest: module marks, fixtures requested by name or used for their side effect.
pytestmark
pytest_configure  # pytest hooks (tests/conftest.py)
pytest_collection_finish
pytest_runtest_logreport  # tests/worker_crashes.py, through tests/conftest.py
pytest_sessionfinish
qapp
tmp_data
pg_team
sqlite_team
_quiet_multimedia
mkv  # MediaFiles fields reached through getattr(media, name) in parametrised tests
mov
wmv

# logging: a LogRecord's cached traceback text, read by logging.Formatter.format.
_.exc_text

# fusepy: operations of the test FUSE file system, called by name (tests/fuse_passthrough.py).
_.readdir
_.utimens
_.statfs
