"""Showing a service's refusal on the form that caused it."""

from portal.core.errors import InvalidInput


def apply_errors(form, error: InvalidInput) -> None:
    """Attach each message to its field, or to the whole form when no field matches."""
    for name, message in error.errors.items():
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            form.form_errors.append(message)
