"""The whole study as resumable stages with file boundaries (``v1mtl run``)."""
