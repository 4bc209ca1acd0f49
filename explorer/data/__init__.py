"""Task data: the generic reader of tab-separated task files.

The layouts and item classes belong to their tasks (``explorer.tasks.<task>``);
``explorer.tasks.registry.read_dataset`` reads a file in any registered layout.
See ``explorer.data.readers`` for decoding, quoting and header detection.
"""

from explorer.data.readers import Dataset, DatasetError, Format, Layout, Row, header_lines, read_table

__all__ = ["Dataset", "DatasetError", "Format", "Layout", "Row", "header_lines", "read_table"]
