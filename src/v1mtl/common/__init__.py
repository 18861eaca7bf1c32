"""Shared building blocks below every stage: errors, atomic writes, the typed config loader, neural measures, statistics and CSV tables."""
