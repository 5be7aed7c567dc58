"""Write and change many plain rows fast."""

from django.db import connection
from django.db.models import Model


def insert_rows(model: type[Model], columns: list[str], rows: list[tuple]) -> None:
    """Insert plain rows, the other fields at their defaults.

    On PostgreSQL a COPY skips building and preparing a model per row, which is most
    of the time of a sync or of planning a promotion otherwise. Nothing comes back:
    use it for rows nobody needs the new keys of.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects)
        return

    defaults = [
        (field.column, field.get_db_prep_save(field.get_default(), connection))
        for field in model._meta.concrete_fields
        if field.attname not in columns
        and not field.null
        and not getattr(field, "db_returning", False)
    ]
    names = [model._meta.get_field(name).column for name in columns]
    names += [column for column, _ in defaults]
    fixed = tuple(value for _, value in defaults)
    quote = connection.ops.quote_name
    copy = (
        f"COPY {quote(model._meta.db_table)} ({', '.join(map(quote, names))}) "
        "FROM STDIN"
    )
    with connection.cursor() as cursor, cursor.copy(copy) as stream:
        for row in rows:
            stream.write_row(row + fixed)


# Keys named by one UPDATE: a longer IN list only slows the planner.
UPDATE_CHUNK = 1000


def update_rows(model: type[Model], keys: list, **fields) -> None:
    """Set the fields of the rows with these primary keys, some keys a statement."""
    for start in range(0, len(keys), UPDATE_CHUNK):
        model.objects.filter(pk__in=keys[start : start + UPDATE_CHUNK]).update(**fields)
