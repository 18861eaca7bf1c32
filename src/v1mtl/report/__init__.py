"""The study report: ``report.md`` and ``report.html`` from a study folder (``v1mtl report DIR``)."""

from v1mtl.common.lazy import lazy_exports

# public name -> the submodule that defines it
_EXPORTS = {
    "write_report": "build",
    "RunResult": "collect",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
