"""Command-line commands; see ``v1mtl.cli``."""
