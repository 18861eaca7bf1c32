"""The ``--mlflow [URI]`` option of the commands that train (``run``, ``train``)."""

from __future__ import annotations

import argparse


def add_mlflow_argument(p: argparse.ArgumentParser, what: str) -> None:
    """``--mlflow`` alone: ``V1MTL_MLFLOW_URI``, else a local store in ./mlruns; ``--mlflow URI``: that store
    (``v1mtl.tracking.tracking_uri`` resolves it)."""
    p.add_argument(
        "--mlflow",
        nargs="?",
        const="",
        default=None,
        metavar="URI",
        help=f"log {what} to MLflow: to URI, else V1MTL_MLFLOW_URI, else a local store in ./mlruns "
        "(without the flag: to V1MTL_MLFLOW_URI if it is set)",
    )
