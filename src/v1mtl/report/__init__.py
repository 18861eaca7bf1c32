"""The study report: ``report.md`` and ``report.html`` from a study folder (``v1mtl report DIR``)."""
