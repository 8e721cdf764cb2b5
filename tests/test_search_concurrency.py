"""Several worker processes updating the search index at the same moment lose nothing."""

import multiprocessing

from portal.search.base import IndexedDocument
from portal.search.whoosh_backend import WhooshBackend

DOCUMENTS_PER_WRITER = 15


def _write_documents(path, first_id, start):
    """One worker: index documents one commit at a time, as after-commit hooks do."""
    backend = WhooshBackend(path)
    start.wait(timeout=60)
    for document_id in range(first_id, first_id + DOCUMENTS_PER_WRITER):
        backend.index(
            [
                IndexedDocument(
                    id=document_id,
                    title=f"Guide {document_id}",
                    body="mongoose " * 40,
                    kind="playbook",
                    status="published",
                )
            ]
        )


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    """Two processes publishing different documents into a new index at once: all are kept."""
    path = str(tmp_path / "index")
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [
        context.Process(target=_write_documents, args=(path, first_id, start))
        for first_id in (1, 1001)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]

    backend = WhooshBackend(path)
    assert backend.count() == 2 * DOCUMENTS_PER_WRITER
    with backend._open().searcher() as searcher:
        stored = {int(fields["id"]) for fields in searcher.all_stored_fields()}
    expected = set(range(1, 1 + DOCUMENTS_PER_WRITER)) | set(
        range(1001, 1001 + DOCUMENTS_PER_WRITER)
    )
    assert stored == expected
