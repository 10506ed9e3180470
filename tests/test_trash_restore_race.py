"""A restore while the trash is being emptied: it waits for that file's deletion and answers
not_found, or it comes first and the file stays whole. It once answered 200 for a file whose
deletion went on (the file then vanished from the library after "restored")."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from core.errors import NotFound
from core.library import Library
from core.settings import Settings
from tests.faults import CuttableProxy, wait_for
from tests.internals import storage_of

pytestmark = pytest.mark.timeout(90)


def test_a_restore_during_the_emptying_of_the_trash_does_not_answer_for_a_deleted_file(
    s3_settings: Settings, media_dir: Any
) -> None:
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url))
    try:
        record = lib.uploads.ingest(media_dir.png, "image")
        lib.trash(record.id)
        proxy.stall()  # the emptying stops at the store, between its check and the row
        emptied: list[list[int]] = []
        emptying = threading.Thread(target=lambda: emptied.append(lib.empty_trash()))
        emptying.start()
        wait_for(lambda: proxy.waiting() >= 1, what="the object's deletion reached the store")
        answers: list[object] = []

        def restore() -> None:
            try:
                answers.append(lib.restore(record.id))
            except NotFound as exc:
                answers.append(exc)

        restoring = threading.Thread(target=restore)
        restoring.start()
        restoring.join(1.0)
        proxy.restore()
        emptying.join(30)
        restoring.join(30)
        assert emptied == [[record.id]]
        assert len(answers) == 1 and isinstance(answers[0], NotFound), answers
        with pytest.raises(NotFound):
            lib.get_file(record.id)
    finally:
        lib.close()


def test_a_file_restored_before_its_turn_is_kept_whole(library: Library, media_dir: Any) -> None:
    kept = library.uploads.ingest(media_dir.png, "image")
    gone = library.uploads.ingest(media_dir.jpeg, "image")
    library.trash(kept.id)
    library.trash(gone.id)
    library.restore(kept.id)
    assert library.empty_trash() == [gone.id]
    assert not library.get_file(kept.id).is_trashed
    assert storage_of(library).exists(kept.storage_key)
    assert not storage_of(library).exists(gone.storage_key)
