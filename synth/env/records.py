"""What a corpus source yields: one `RawDoc` per page/entry, with its links as written.

Sources only parse; they never resolve links (a target title may appear later in the stream). The
builder validates each `RawDoc`, resolves titles to ids and writes the CORPUS directory.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class RawLink:
    """A link as written in the source. `start`/`end` are character offsets of `anchor` in the
    document's final text (text[start:end] == anchor) or None when the source gives no position."""

    target: str
    anchor: str | None = None
    start: int | None = None
    end: int | None = None


@dataclass
class RawDoc:
    id: str
    title: str
    text: str
    links: list[RawLink] = field(default_factory=list)
    updated_at: datetime | None = None
    categories: list[str] = field(default_factory=list)
    redirect: str | None = None  # target *title* of a redirect page (text is then "")
    aliases: list[str] = field(default_factory=list)  # other names; become redirect rows
    where: str = ""  # "file:row" for reject messages
    problem: tuple[str, str] | None = None  # (reject reason, detail) found while parsing


def title_key(title: str) -> str:
    """Loose key for title matching: NFC, case-folded, `_` as space, whitespace collapsed."""
    title = unicodedata.normalize("NFC", title).replace("_", " ")
    return " ".join(title.split()).casefold()


def plural_variants(key: str) -> list[str]:
    """Singular guesses for a plural key, most specific first ({arrays} -> array, {policies} -> policy)."""
    out = []
    if key.endswith("ies") and len(key) > 4:
        out.append(key[:-3] + "y")
    if key.endswith("es") and len(key) > 3:
        out.append(key[:-2])
    if key.endswith("s") and not key.endswith("ss") and len(key) > 2:
        out.append(key[:-1])
    return out


def parse_timestamp(value: object) -> datetime | None:
    """ISO 8601 date or datetime (a trailing Z allowed), epoch seconds, or a datetime -> aware UTC.

    Raises ValueError on anything else, so the builder can reject the record with a clear reason.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        dt = datetime.fromtimestamp(float(value), tz=UTC)
    elif isinstance(value, str):
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    elif hasattr(value, "isoformat"):  # a date
        dt = datetime.fromisoformat(value.isoformat())
    else:
        raise ValueError(f"expected an ISO 8601 timestamp, got {type(value).__name__}")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
