"""Reference data the operator maintains: official channels, the promotion catalogue,
number segments, block/allow lists and IP ranges. Shipped as data files with defaults,
each overridable by a ``FRAUDGUARD_*_PATH`` setting."""

from fraudguard.reference.ranges import CidrTable, parse_address
from fraudguard.reference.schemas import Offer, OfficialPromotion
from fraudguard.reference.service import (
    DEFAULT_DATA_DIR,
    PlatformOwner,
    ReferenceData,
    ReferencePaths,
    load_reference,
)

__all__ = [
    "DEFAULT_DATA_DIR",
    "CidrTable",
    "Offer",
    "OfficialPromotion",
    "PlatformOwner",
    "ReferenceData",
    "ReferencePaths",
    "load_reference",
    "parse_address",
]
