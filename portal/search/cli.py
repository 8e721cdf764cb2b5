"""`flask --app wsgi search ...`: operating the search index."""

import click
from flask.cli import AppGroup

search_cli = AppGroup("search", help="Operate the search index.")


@search_cli.command("reindex")
def reindex():
    """Rebuild the whole search index from the database."""
    from portal.search import get_search
    from portal.search.indexing import all_documents_for_index, count_searchable

    backend = get_search()
    total = count_searchable()
    with click.progressbar(length=total, label="Indexing documents") as bar:
        indexed = backend.rebuild(all_documents_for_index(), total, bar.update)
    click.echo(
        f"Indexed {indexed} of {total} searchable documents; the index now holds {backend.count()}."
    )
