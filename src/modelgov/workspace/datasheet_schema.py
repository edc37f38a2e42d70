"""``datasets/<dataset-id>.yml``: a datasheet (Gebru et al., 2021) for one dataset a model was
trained or evaluated on — where it came from, its licence, whether it holds personal data and on
what legal basis, and whether its records may appear on the site.
"""

from __future__ import annotations

from pydantic import Field, StrictBool

from modelgov.inputs import Strict, Text


class DataFile(Strict):
    path: Text
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")


class Collection(Strict):
    method: Text
    period: str | None = None


class Datasheet(Strict):
    """`datasets/<dataset-id>.yml`: a datasheet (Gebru et al., 2021) for one dataset."""

    name: Text
    description: Text
    source: Text
    licence: Text
    collection: Collection
    rows: int | None = Field(None, ge=0)
    contains_pii: bool = False
    pii_fields: list[Text] = Field(default_factory=list)
    publish_records: StrictBool = Field(
        False,
        description="Individual records of this dataset (their ids and feature values) may appear on the site, "
        "except the `pii_fields`, which stay masked. false: explained decisions show no id and no value.",
    )
    legal_basis: str | None = None
    known_gaps: str | None = None
    files: list[DataFile] = Field(default_factory=list)
    references: list[Text] = Field(default_factory=list)
