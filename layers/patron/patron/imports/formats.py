"""Import files read as a stream: Rfmcube's JSON payload, JSON Lines and CSV (described in docs/imports.md),
turned into customer records one at a time, and grouped into chunks bounded in records and in bytes.

Memory stays bounded whatever the file's size. The file is read in blocks (`read(n)`, never the whole body), and
what is held at any moment is one block, one record (at most `max_record_bytes` of the file; a larger one is
skipped without being held and reported `too_large`) and the chunk being filled.

A record is either a customer, decoded exactly as `patron.http.jsonbody.loads` decodes a request body (numbers as
int or Decimal, never float), or a problem with one record (its index and a reason code), so one bad record does
not stop the rest. A record holding text that is not Unicode (a lone UTF-16 surrogate, escaped in JSON or made
of bytes that are not UTF-8), which nothing downstream could store, is such a problem: `invalid_text`, with the
path of that text. A problem marked `final` ends the stream: the file cannot be read further (broken JSON, a CSV
quote never closed, a bad header); the records before it stand and nothing follows it. Records are numbered from
0 in file order, problems included, so `index` is the `customers[index]` an import's rejections name.

Speed: in JSON, an element's end is found by regular expressions that skip whole strings and bracket-free runs
in C (one match per customer when nesting stays within eight levels, a loop over brackets only beyond), and the
element is then decoded by the json module's C scanner. No Python code runs per character. Only a record whose
JSON text holds a surrogate escape (`may_be_unencodable`) is checked for text that is not Unicode.
"""

from __future__ import annotations

import csv
import io
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from patron.errors import FieldIssue, MalformedJsonError, ValidationError
from patron.http import jsonbody
from patron.imports.model import CUSTOMERS_PER_CHUNK

FORMATS = ("json", "jsonl", "csv")
FLAGS = ("overwriteDescriptors", "triggerIntegrations", "recalculateStats")
BLOCK_SIZE = 1 << 20  # bytes asked of the source per read
MAX_RECORD_BYTES = 4 << 20  # one customer with its orders, as written in the file (JSON) or its rows (CSV)
CHUNK_MAX_BYTES = 200 * 1024  # a chunk's customers as JSON; a single larger record makes a chunk of its own


class Readable(Protocol):
    """A binary stream: io.BytesIO, an open file, or boto3's StreamingBody (an S3 object's Body)."""

    def read(self, size: int, /) -> bytes: ...


class CustomerRecord(msgspec.Struct, frozen=True):
    """One customer (an element of Rfmcube's `customers`, orders nested under `orders`)."""

    index: int
    customer: dict[str, Any]
    json: bytes  # the customer as JSON text that decodes (jsonbody.loads) to `customer`: a chunk is these joined
    line: int | None = None  # JSON Lines, CSV: the file line the record starts on (1-based)


class RecordProblem(msgspec.Struct, frozen=True):
    """A record that could not be read. `final`: nothing can be read after it, and the stream ends with it."""

    index: int  # the record's position; for a final problem, the number of records read before it
    reason: str  # malformed_json, malformed_csv, invalid_value, invalid_text, too_large, invalid_header, ...
    path: str  # `customers[3]`, `customers[3].orders[0].amount`, `$` (the file), `header[2]`, a top-level key
    line: int | None = None
    offset: int | None = None  # JSON: the byte offset in the file where the record (or the break) begins
    final: bool = False


ImportRecord = CustomerRecord | RecordProblem


def unencodable_path(value: Any, root: str) -> str | None:
    """The path (under `root`) of the first string or key in a decoded record that is not Unicode text, or None
    when there is none. One encoding in C decides; only a value that fails it is walked. The path is escaped
    where it quotes such a key, so that the path itself can be stored."""
    try:
        jsonbody.encoded_size(value)
    except UnicodeEncodeError:
        paths = jsonbody.unencodable_paths(value, root, limit=1)
        return storable_path(paths[0] if paths else root)
    return None


def storable_path(path: str) -> str:
    """A path that may quote a key that is not text, written escaped (`\\ud800`) as FieldIssue writes it, so that
    the path itself can be stored."""
    return path.encode("utf-8", "backslashreplace").decode("utf-8")


class ImportReader:
    """One pass over an import file. Iterate it (once) for its records in file order; `flags` holds the Rfmcube
    flags a JSON file carries (`{"triggerIntegrations": True}`), complete once the iteration has ended, wherever
    they stood in the file."""

    def __init__(
        self,
        source: Readable,
        file_format: str,
        *,
        block_size: int = BLOCK_SIZE,
        max_record_bytes: int = MAX_RECORD_BYTES,
    ) -> None:
        if file_format not in FORMATS:
            raise ValidationError(
                "The import format is unknown.", [FieldIssue("format", "invalid_value", "One of json, jsonl, csv.")]
            )
        if block_size < 1 or max_record_bytes < 1:
            raise ValueError("block_size and max_record_bytes must be positive")
        self.format = file_format
        self.flags: dict[str, bool] = {}
        self._input = _Input(source, block_size)
        self._max = max_record_bytes
        self._started = False

    def __iter__(self) -> Iterator[ImportRecord]:
        if self._started:
            raise RuntimeError("an import file is read once")
        self._started = True
        if self.format == "json":
            return _JsonReader(self._input, self._max, self.flags).records()
        if self.format == "jsonl":
            return _json_lines(self._input, self._max)
        return _csv_records(self._input, self._max)


# -- chunks ------------------------------------------------------------------------------------------------


class Chunk(msgspec.Struct, frozen=True):
    """Consecutive records: `first_index` is the first one's index, the others follow without gaps."""

    first_index: int
    records: tuple[ImportRecord, ...]
    size: int  # bytes of customers_json()

    @property
    def customers(self) -> tuple[CustomerRecord, ...]:
        return tuple(record for record in self.records if isinstance(record, CustomerRecord))

    @property
    def problems(self) -> tuple[RecordProblem, ...]:
        return tuple(record for record in self.records if isinstance(record, RecordProblem))

    def customers_json(self) -> bytes:
        """The chunk's customers as one JSON array (problems are not in it), without encoding them again."""
        return b"[" + b",".join(record.json for record in self.customers) + b"]"


def chunked(
    records: Iterable[ImportRecord], max_records: int = CUSTOMERS_PER_CHUNK, max_bytes: int = CHUNK_MAX_BYTES
) -> Iterator[Chunk]:
    """Groups records into chunks of at most `max_records` records (problems count) whose customers_json() is at
    most `max_bytes`; a customer alone above `max_bytes` gets a chunk of its own."""
    if max_records < 1:
        raise ValueError("max_records must be positive")
    pending: list[ImportRecord] = []
    size, customers = 2, 0  # "[]"
    for record in records:
        text = len(record.json) if isinstance(record, CustomerRecord) else None  # problems add no bytes
        if pending and (
            len(pending) >= max_records or (text is not None and size + text + (customers > 0) > max_bytes)
        ):
            yield Chunk(pending[0].index, tuple(pending), size)
            pending, size, customers = [], 2, 0
        pending.append(record)
        if text is not None:
            size += text + (customers > 0)  # a comma before every customer but the first
            customers += 1
    if pending:
        yield Chunk(pending[0].index, tuple(pending), size)


# -- the input ---------------------------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"


class _Input:
    """The file as a sliding window: `data[pos:]` is read and not consumed yet. Each read drops what is consumed,
    so positions in progress are kept relative to `pos`."""

    def __init__(self, source: Readable, block_size: int) -> None:
        self._source = source
        self._block_size = block_size
        self.data = b""
        self.pos = 0
        self.base = 0  # the file offset of data[0]
        self.eof = False

    def more(self) -> bool:
        """Reads one more block; False at the end of the file."""
        if self.eof:
            return False
        block = self._source.read(self._block_size)
        if not block:
            self.eof = True
            return False
        self.base += self.pos
        self.data = self.data[self.pos :] + block
        self.pos = 0
        return True

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def skip_bom(self) -> None:
        while len(self.data) - self.pos < len(_BOM) and self.more():
            pass
        if self.data.startswith(_BOM, self.pos):
            self.pos += len(_BOM)


class _Broken(Exception):
    """The file cannot be read further: becomes the stream's final problem."""

    def __init__(self, reason: str, path: str = "$", offset: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path
        self.offset = offset  # JSON: where the broken record began; else where reading stopped


# -- JSON --------------------------------------------------------------------------------------------------

_QUOTE, _OPENERS = ord('"'), frozenset(b"[{")
_STRING = rb'"(?:[^"\\]++|\\.)*+"'
_PLAIN = rb'[^"{}\[\]]++'  # anything outside strings but brackets: whitespace, commas, colons, scalars


def _nested(levels: int) -> re.Pattern[bytes]:
    """A whole array or object nested at most `levels` deep. Brackets are counted, not paired (`{]` passes and
    the decoder refuses it): the element's end is where the count returns to zero."""
    value = rb"[\[{](?:%s|%s)*+[\]}]" % (_PLAIN, _STRING)
    for _ in range(levels - 1):
        value = rb"[\[{](?:%s|%s|%s)*+[\]}]" % (_PLAIN, _STRING, value)
    return re.compile(value, re.DOTALL)


_CONTAINER = _nested(8)
_SKIP = re.compile(rb"(?:%s|%s)*+" % (_PLAIN, _STRING), re.DOTALL)  # stops at a bracket or an unended string
_STRING_RE = re.compile(_STRING, re.DOTALL)
_STRING_BODY = re.compile(rb'(?:[^"\\]++|\\.)*+', re.DOTALL)  # stops at the closing quote or a last backslash
_SCALAR = re.compile(rb'[^\s,:\[\]{}"]*+')
_SPACE = re.compile(rb"[ \t\r\n]*+")


def _scan(data: bytes, position: int, depth: int) -> tuple[int, int, bool]:
    """From `position` (outside strings) inside a container `depth` deep: (where it stopped, the depth there,
    whether the container closed). It stops at the end of `data` or at a string that does not end in it."""
    end = len(data)
    while True:
        position = _SKIP.match(data, position).end()  # type: ignore[union-attr]  # `*+` always matches
        if position == end or data[position] == _QUOTE:
            return position, depth, False
        depth += 1 if data[position] in _OPENERS else -1
        position += 1
        if depth == 0:
            return position, 0, True


class _JsonReader:
    """Rfmcube's payload: `{"customers": [...], "overwriteDescriptors": ..., ...}`, keys in any order."""

    def __init__(self, source: _Input, max_record_bytes: int, flags: dict[str, bool]) -> None:
        self._input = source
        self._max = max_record_bytes
        self._flags = flags
        self._index = 0

    def records(self) -> Iterator[ImportRecord]:
        try:
            yield from self._document()
        except _Broken as broken:
            offset = self._input.offset if broken.offset is None else broken.offset
            # A top-level key is quoted in its path: one that is not text is written escaped.
            yield RecordProblem(self._index, broken.reason, storable_path(broken.path), offset=offset, final=True)

    def _document(self) -> Iterator[ImportRecord]:
        source = self._input
        source.skip_bom()
        first = self._peek()
        if first != ord("{"):
            raise _Broken("invalid_value" if first == ord("[") else "malformed_json")  # an array: not Rfmcube's
        source.pos += 1
        seen: set[str] = set()
        if self._peek() == ord("}"):
            source.pos += 1
        else:
            while True:
                name = self._key()
                if name not in FLAGS and name != "customers":
                    raise _Broken("unknown_field", name[:200])
                if name in seen:
                    raise _Broken("invalid_value", name)  # a key given twice
                seen.add(name)
                if self._peek() != ord(":"):
                    raise _Broken("malformed_json")
                source.pos += 1
                if name == "customers":
                    yield from self._customers()
                else:
                    self._flag(name)
                following = self._peek()
                if following == ord("}"):
                    source.pos += 1
                    break
                if following != ord(","):
                    raise _Broken("malformed_json")
                source.pos += 1
        if self._peek() is not None:
            raise _Broken("malformed_json")  # something after the document
        if "customers" not in seen:
            raise _Broken("missing_field", "customers")

    def _customers(self) -> Iterator[ImportRecord]:
        for offset, raw in self.elements("customers"):
            if raw is None:
                yield RecordProblem(self._index, "too_large", f"customers[{self._index}]", offset=offset)
            else:
                try:
                    record = read_json_record(raw, self._index, offset=offset)
                except MalformedJsonError:
                    raise _Broken("malformed_json", f"customers[{self._index}]", offset) from None
                yield record
            self._index += 1

    def elements(self, name: str) -> Iterator[tuple[int, bytes | None]]:
        """The array at `pos` (the value of `name`), element by element: each one's file offset and JSON text, not
        decoded (None when it was larger than max_record_bytes), consumed once taken."""
        source = self._input
        start = self._peek()
        if start != ord("["):
            raise _Broken("malformed_json" if start is None else "invalid_value", name)
        source.pos += 1
        if self._peek() == ord("]"):
            source.pos += 1
            return
        for position in itertools.count():
            if self._peek() is None:
                raise _Broken("malformed_json")
            offset = source.offset
            try:
                raw = self._value()
            except _Broken as broken:
                raise _Broken(broken.reason, f"{name}[{position}]", offset) from None
            yield offset, raw
            following = self._peek()
            if following == ord("]"):
                source.pos += 1
                return
            if following != ord(","):
                raise _Broken("malformed_json")
            source.pos += 1

    def members(self) -> dict[str, bytes]:
        """The object at `pos`, consumed: each member's value as its JSON text, not decoded."""
        source = self._input
        if self._peek() != ord("{"):
            raise _Broken("malformed_json")
        source.pos += 1
        found: dict[str, bytes] = {}
        if self._peek() == ord("}"):
            source.pos += 1
            return found
        while True:
            name = self._key()
            if self._peek() != ord(":"):
                raise _Broken("malformed_json")
            source.pos += 1
            raw = self._value() if self._peek() is not None else None
            if raw is None:
                raise _Broken("malformed_json")  # the end of the file, or a value over max_record_bytes
            found[name] = raw
            following = self._peek()
            if following != ord(",") and following != ord("}"):
                raise _Broken("malformed_json")
            source.pos += 1
            if following == ord("}"):
                return found

    def at_end(self) -> bool:
        return self._peek() is None

    def _flag(self, name: str) -> None:
        if self._peek() is None:
            raise _Broken("malformed_json")
        raw = self._value()
        try:
            value = jsonbody.loads(raw) if raw is not None else None
        except MalformedJsonError:
            raise _Broken("malformed_json") from None
        if not isinstance(value, bool):
            raise _Broken("invalid_value", name)
        self._flags[name] = value

    def _key(self) -> str:
        if self._peek() != _QUOTE:
            raise _Broken("malformed_json")
        raw = self._string()
        if raw is None:
            raise _Broken("unknown_field")  # a key over max_record_bytes
        try:
            name: str = jsonbody.loads(raw)
        except MalformedJsonError:
            raise _Broken("malformed_json") from None
        return name

    def _peek(self) -> int | None:
        """The next byte that is not whitespace (not consumed), or None at the end of the file."""
        source = self._input
        while True:
            source.pos = _SPACE.match(source.data, source.pos).end()  # type: ignore[union-attr]
            if source.pos < len(source.data):
                return source.data[source.pos]
            if not source.more():
                return None

    def _value(self) -> bytes | None:
        """The JSON text of the value at `pos` (its first byte is there), consumed; None when it was larger than
        max_record_bytes (consumed without being held)."""
        source = self._input
        first = source.data[source.pos]
        if first in _OPENERS:
            match = _CONTAINER.match(source.data, source.pos)
            if match is None:
                return self._container()  # not whole in the window, or nested deeper than the pattern
            return self._take(match.end() - source.pos)
        if first == _QUOTE:
            return self._string()
        return self._scalar()

    def _take(self, size: int) -> bytes | None:
        source = self._input
        raw = source.data[source.pos : source.pos + size] if size <= self._max else None
        source.pos += size
        return raw

    def _container(self) -> bytes | None:
        source = self._input
        scanned, depth = 0, 0  # relative to pos, which moves when a block is read
        while True:
            stop, depth, closed = _scan(source.data, source.pos + scanned, depth)
            scanned = stop - source.pos
            if closed:
                return self._take(scanned)
            if len(source.data) - source.pos > self._max:  # not `scanned`: it waits at a string that goes on
                source.pos = stop
                self._skip(depth, in_string=False)
                return None
            if not source.more():
                raise _Broken("malformed_json")  # the file ends inside the value

    def _string(self) -> bytes | None:
        source = self._input
        while True:
            match = _STRING_RE.match(source.data, source.pos)
            if match is not None:
                return self._take(match.end() - source.pos)
            if len(source.data) - source.pos > self._max:
                source.pos += 1
                self._skip(0, in_string=True)
                return None
            if not source.more():
                raise _Broken("malformed_json")

    def _scalar(self) -> bytes:
        """A number, true, false or null (or something broken, which the decoder refuses)."""
        source = self._input
        while True:
            end = _SCALAR.match(source.data, source.pos).end()  # type: ignore[union-attr]
            if end < len(source.data) or end - source.pos > self._max or not source.more():
                break
        if end == source.pos or end - source.pos > self._max:
            raise _Broken("malformed_json")  # no value where one belongs (`[1,]`), or megabytes of digits
        raw = source.data[source.pos : end]
        source.pos = end
        return raw

    def _skip(self, depth: int, in_string: bool) -> None:
        """Consumes the rest of a value too large to keep, holding no more than a block of it at a time."""
        source = self._input
        while True:
            data, position, end = source.data, source.pos, len(source.data)
            while True:
                if in_string:
                    position = _STRING_BODY.match(data, position).end()  # type: ignore[union-attr]
                    if position == end or data[position] != _QUOTE:
                        break  # the string goes on in the next block (a last backslash waits for it)
                    in_string = False
                    position += 1
                    if depth == 0:
                        source.pos = position
                        return
                position = _SKIP.match(data, position).end()  # type: ignore[union-attr]
                if position == end:
                    break
                if data[position] == _QUOTE:
                    in_string = True
                    position += 1
                    continue
                depth += 1 if data[position] in _OPENERS else -1
                position += 1
                if depth == 0:
                    source.pos = position
                    return
            source.pos = position
            if not source.more():
                raise _Broken("malformed_json")


def read_json_record(
    raw: bytes, index: int, *, line: int | None = None, offset: int | None = None
) -> CustomerRecord | RecordProblem:
    """The customer a record's JSON text holds, or the problem that keeps it out: a value that is not an object,
    or text that is not Unicode. Raises MalformedJsonError when the text is not JSON. (The import worker reads
    the records of a damaged chunk with it too.)"""
    path = f"customers[{index}]"
    try:
        customer = jsonbody.loads(raw)
        suspect = jsonbody.may_be_unencodable(raw)
    except MalformedJsonError:
        # Strings that are not UTF-8 break no JSON syntax: read with each bad byte as a lone surrogate, the record
        # is refused for its text, as one holding an escaped lone surrogate is, and the file goes on.
        customer = jsonbody.loads(raw.decode("utf-8", "surrogateescape"))
        suspect = True
    if not isinstance(customer, dict):
        return RecordProblem(index, "invalid_value", path, line=line, offset=offset)
    if suspect and (where := unencodable_path(customer, path)) is not None:
        return RecordProblem(index, "invalid_text", where, line=line, offset=offset)
    return CustomerRecord(index, customer, raw, line=line)


def _in_memory(data: bytes) -> _JsonReader:
    """A reader of JSON text held whole: one block, and no value too large."""
    return _JsonReader(_Input(io.BytesIO(data), max(len(data), 1)), len(data) + 1, {})


def split_members(data: bytes) -> dict[str, bytes]:
    """The members of the JSON object `data`, each value as its JSON text, delimited as the reader delimits a file's
    records and not decoded: a document whose decoding failed can then be decoded part by part, one bad part
    hiding no other (the import worker reads a damaged chunk so). MalformedJsonError when the object's own
    structure is broken."""
    reader = _in_memory(data)
    try:
        members = reader.members()
    except _Broken:
        raise MalformedJsonError() from None
    if not reader.at_end():
        raise MalformedJsonError()
    return members


def split_elements(data: bytes) -> list[bytes]:
    """The elements of the JSON array `data`, each as its JSON text, as split_members delimits values."""
    reader = _in_memory(data)
    try:
        elements = [raw for _, raw in reader.elements("$") if raw is not None]  # in memory, none is too large
    except _Broken:
        raise MalformedJsonError() from None
    if not reader.at_end():
        raise MalformedJsonError()
    return elements


# -- JSON Lines --------------------------------------------------------------------------------------------


def _json_lines(source: _Input, max_record_bytes: int) -> Iterator[ImportRecord]:
    """One customer object per line; blank lines are skipped; a bad line is a problem and the next is read."""
    source.skip_bom()
    index, line = 0, 0
    while True:
        data, start = source.data, source.pos
        newline = data.find(b"\n", start)
        if newline < 0:
            if len(data) - start > max_record_bytes:
                line += 1
                yield RecordProblem(index, "too_large", f"customers[{index}]", line=line)
                index += 1
                _skip_line(source)
                continue
            if source.more():
                continue
            if start == len(data):
                return
            newline = len(data)  # the last line has no newline
        text = data[start:newline].strip()
        source.pos = min(newline + 1, len(data))
        line += 1
        if not text:
            continue
        path = f"customers[{index}]"
        if len(text) > max_record_bytes:
            yield RecordProblem(index, "too_large", path, line=line)
        else:
            try:
                record: ImportRecord = read_json_record(text, index, line=line)
            except MalformedJsonError:
                record = RecordProblem(index, "malformed_json", path, line=line)
            yield record
        index += 1


def _skip_line(source: _Input) -> None:
    """Consumes up to the end of the current line without holding it."""
    while True:
        newline = source.data.find(b"\n", source.pos)
        if newline >= 0:
            source.pos = newline + 1
            return
        source.pos = len(source.data)
        if not source.more():
            return


# -- CSV ---------------------------------------------------------------------------------------------------

_TYPES = frozenset({"string", "number", "boolean", "json"})
_ENTITIES = ("customer", "order", "item")
_DEFAULT_TYPES: dict[tuple[str, tuple[str, ...]], str] = {("order", ("amount",)): "number"}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?P<fraction>(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)")
_BAD = object()
_ENCODER = msgspec.json.Encoder(decimal_format="number")  # every digit of a Decimal; jsonbody.dumps is slower


class _Column(msgspec.Struct, frozen=True):
    position: int
    entity: str  # customer, order, item
    path: tuple[str, ...]  # `order.delivery.city` -> ("delivery", "city")
    kind: str  # string, number, boolean, json
    parents: tuple[str, ...]  # ("delivery",)
    name: str  # "city"


def _columns(header: list[str]) -> list[_Column]:
    """The header's columns: `<entity>.<name>[.<name>...][:<type>]`; a bad header ends the import."""
    columns: list[_Column] = []
    for position, cell in enumerate(header):
        name, _, kind = cell.strip().partition(":")
        entity, _, rest = name.partition(".")
        path = tuple(rest.split("."))
        unreadable = jsonbody.is_unencodable(cell)  # bytes that are not UTF-8 (see _text)
        if entity not in _ENTITIES or not all(path) or (kind and kind not in _TYPES) or unreadable:
            raise _Broken("invalid_header", f"header[{position}]")
        kind = kind or _DEFAULT_TYPES.get((entity, path), "string")
        columns.append(_Column(position, entity, path, kind, path[:-1], path[-1]))
    with_items = any(column.entity == "item" for column in columns)
    for column in columns:
        orders = column.entity == "customer" and column.path[0] == "orders"
        if orders or (column.entity == "order" and column.path[0] == "items" and with_items):
            raise _Broken("invalid_header", f"header[{column.position}]")  # where the rows' orders or items go
    # A column whose path is another's or begins with it (`order.delivery` and `order.delivery.city`): sorted,
    # a path is followed by those that extend it.
    ordered = sorted(columns, key=lambda column: (column.entity, column.path))
    for before, after in itertools.pairwise(ordered):
        if before.entity == after.entity and after.path[: len(before.path)] == before.path:
            raise _Broken("invalid_header", f"header[{max(before.position, after.position)}]")
    named = {column.path for column in columns if column.entity == "customer"}
    if not named & {("id",), ("email",)} or (with_items and not any(c.entity == "order" for c in columns)):
        raise _Broken("invalid_header", "header")
    return columns


def _number(text: str) -> Any:
    """A JSON number's text read as jsonbody.loads reads it (a unit test holds them together): an integer of
    at most 40 characters as int, anything else as Decimal, every zero with a fraction or exponent as 0."""
    match = _NUMBER.fullmatch(text)
    if match is None:
        return _BAD
    if not match["fraction"] and len(text) <= 40:
        return int(text)
    number = Decimal(text)
    return Decimal(0) if number.is_zero() else number


def _cell(text: str, kind: str) -> Any:
    if kind == "number":
        return _number(text.strip())
    if kind == "boolean":
        word = text.strip().lower()
        return True if word == "true" else False if word == "false" else _BAD
    try:
        return jsonbody.loads(text)
    except MalformedJsonError:
        return _BAD


def _typed(columns: list[_Column], row: list[str]) -> tuple[dict[str, Any], str | None]:
    """The object the cells make (an empty cell: no field), and the name of the first cell of a wrong type."""
    result: dict[str, Any] = {}
    for column in columns:
        text = row[column.position]
        if not text:
            continue
        value = text if column.kind == "string" else _cell(text, column.kind)
        if value is _BAD:
            return result, ".".join(column.path)
        target = result
        if column.parents:
            for name in column.parents:
                target = target.setdefault(name, {})
        target[column.name] = value
    return result, None


class _Group:
    """The customer being read: consecutive rows whose customer cells are all equal."""

    def __init__(self, index: int, line: int, key: tuple[str, ...]) -> None:
        self.index = index
        self.line = line
        self.key = key
        self.customer: dict[str, Any] = {}
        self.orders: list[dict[str, Any]] = []
        self.order_key: tuple[str, ...] | None = None
        self.size = 0
        self.problem: tuple[str, str] | None = None  # reason, path

    def fail(self, reason: str, path: str) -> None:
        if self.problem is None:
            self.problem = (reason, path)
            self.customer, self.orders = {}, []

    def record(self) -> ImportRecord:
        if self.problem is not None:
            return RecordProblem(self.index, self.problem[0], self.problem[1], line=self.line)
        if self.orders:
            self.customer["orders"] = self.orders
        try:
            text = _ENCODER.encode(self.customer)
        except UnicodeEncodeError:
            # A cell of bytes that are not UTF-8 (read as lone surrogates), or a JSON cell's lone surrogate escape:
            # the encoding that every record goes through finds them at no extra cost.
            root = f"customers[{self.index}]"
            where = unencodable_path(self.customer, root) or root
            return RecordProblem(self.index, "invalid_text", where, line=self.line)
        return CustomerRecord(self.index, self.customer, text, line=self.line)


def _csv_records(source: _Input, max_record_bytes: int) -> Iterator[ImportRecord]:
    rows = csv.reader(_text_lines(source, max_record_bytes), strict=True)
    index, line, group = 0, 0, None
    try:
        for header in rows:
            if header:
                break  # blank lines before the header are skipped
        else:
            raise _Broken("missing_field", "header")  # an empty file
        columns = _columns(header)
        line = rows.line_num
        by_entity = {entity: [c for c in columns if c.entity == entity] for entity in _ENTITIES}
        customer_cells, order_cells, item_cells = (_cells(by_entity[entity]) for entity in _ENTITIES)
        for row in rows:
            first_line, line = line + 1, rows.line_num
            if not row:
                continue  # a blank line
            if len(row) != len(columns):
                if group is not None:
                    yield group.record()
                    group = None
                yield RecordProblem(index, "invalid_value", f"customers[{index}]", line=first_line)
                index += 1
                continue
            key = customer_cells(row)
            if group is None or key != group.key or not any(key):
                if group is not None:
                    yield group.record()
                group = _Group(index, first_line, key)
                index += 1
                group.customer, bad = _typed(by_entity["customer"], row)
                if bad is not None:
                    group.fail("invalid_value", f"customers[{group.index}].{bad}")
            group.size += sum(map(len, row)) + len(row)
            if group.size > max_record_bytes:
                group.fail("too_large", f"customers[{group.index}]")
            if group.problem is not None:
                continue
            _order_row(group, row, by_entity, order_cells(row), any(item_cells(row)))
        if group is not None:
            yield group.record()
    except (_Broken, csv.Error) as error:
        # The customer being read is dropped with the rest: the problem takes its index.
        reason, path = (error.reason, error.path) if isinstance(error, _Broken) else ("malformed_csv", "$")
        where = max(rows.line_num, line + 1)
        yield RecordProblem(group.index if group else index, reason, path, line=where, final=True)


def _cells(columns: list[_Column]) -> Callable[[list[str]], tuple[str, ...]]:
    """The cells of these columns in a row, as a tuple."""
    if len(columns) > 1:
        return operator.itemgetter(*(column.position for column in columns))
    return lambda row: tuple(row[column.position] for column in columns)


def _order_row(
    group: _Group, row: list[str], by_entity: dict[str, list[_Column]], order_key: tuple[str, ...], has_item: bool
) -> None:
    """Adds the row's order to the customer; with item columns, a row whose order cells are those of the row
    before adds its item to that order instead."""
    if not any(order_key):
        if has_item:
            group.fail("invalid_value", f"customers[{group.index}].orders")  # an item without an order
        return
    if order_key != group.order_key or not by_entity["item"]:
        order, bad = _typed(by_entity["order"], row)
        if bad is not None:
            group.fail("invalid_value", f"customers[{group.index}].orders[{len(group.orders)}].{bad}")
            return
        group.orders.append(order)
        group.order_key = order_key
    if has_item:
        order = group.orders[-1]
        items = order.setdefault("items", [])
        item, bad = _typed(by_entity["item"], row)
        if bad is not None:
            where = f"customers[{group.index}].orders[{len(group.orders) - 1}].items[{len(items)}].{bad}"
            group.fail("invalid_value", where)
            return
        items.append(item)


def _text(data: bytes) -> str:
    """UTF-8 bytes as text. A byte that is not UTF-8 becomes a lone surrogate (`surrogateescape`): the record holding
    it is refused alone (`invalid_text`, Group.record), and the lines around it are read as they are."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "surrogateescape")


def _text_lines(source: _Input, max_line_bytes: int) -> Iterator[str]:
    """The file's lines as text, each with its newline (what csv.reader expects); UTF-8, a BOM skipped. Blocks are
    cut after a newline, so no character is ever cut in two."""
    source.skip_bom()
    while True:
        data, start = source.data, source.pos
        last = data.rfind(b"\n", start)
        if last >= 0:
            source.pos = last + 1
            lines = _text(data[start : last + 1]).split("\n")
            lines.pop()  # what follows the last newline: nothing
            for text in lines:
                yield text + "\n"
            continue
        if len(data) - start > max_line_bytes:
            raise _Broken("too_large")
        if not source.more():
            if start < len(data):
                source.pos = len(data)
                yield _text(data[start:])
            return
