"""A wider tenant app: 19 tables, each with an index, a unique column, a check and (after the
first) a foreign key to the one before, so a tenant schema holds 20 tables with ``notes``, as
real tenant apps do (the cost measurements need them).

The last table has a later history (migrations 0002 and 0003): its ``active`` column dropped,
its ``when`` made NOT NULL. A tenant schema left before them is what the deploy plan judges."""

from django.db import models

TABLES = 19


def _entry(n: int) -> type[models.Model]:
    attrs = {
        "__module__": __name__,
        "title": models.CharField(max_length=100, db_index=True),
        "code": models.CharField(max_length=20, unique=True),
        "amount": models.DecimalField(max_digits=12, decimal_places=2, default=0),
        "count": models.PositiveIntegerField(default=0),
        "active": models.BooleanField(default=True),
        "when": models.DateTimeField(null=True),
    }
    if n == TABLES:
        del attrs["active"]
        attrs["when"] = models.DateTimeField()
    if n > 1:
        attrs["parent"] = models.ForeignKey(
            f"ledger.Entry{n - 1}", null=True, on_delete=models.CASCADE
        )
    return type(f"Entry{n}", (models.Model,), attrs)


for _n in range(1, TABLES + 1):
    globals()[f"Entry{_n}"] = _entry(_n)
