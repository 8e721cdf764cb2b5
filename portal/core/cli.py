"""Options shared by the operator commands."""

import click


def progress_every(things: str):
    """``--progress-every N`` (default 10,000): report progress on stderr after N ``things``."""
    return click.option(
        "--progress-every",
        "every",
        type=click.IntRange(min=1),
        default=10_000,
        show_default=True,
        help=f"Report progress on stderr after this many {things}.",
    )
