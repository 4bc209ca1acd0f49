"""Task data: reading the CoLA, WiC, COPA and BoolQ files users already have.

See ``explorer.data.readers`` for the supported layouts and their quirks.
"""

from explorer.data.readers import (
    FORMATS,
    BoolqItem,
    ColaItem,
    CopaItem,
    Dataset,
    DatasetError,
    Format,
    WicItem,
    read_dataset,
    supported_headers,
)

__all__ = [
    "FORMATS",
    "BoolqItem",
    "ColaItem",
    "CopaItem",
    "Dataset",
    "DatasetError",
    "Format",
    "WicItem",
    "read_dataset",
    "supported_headers",
]
