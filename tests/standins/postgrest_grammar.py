"""PostgREST's URL grammar, as much as the appliance may use: select lists, column
filters (eq, neq, gt, gte, lt, lte, in, is), or=()/and=() trees, order, limit/offset and
the Range header. Anything else is refused the way PostgREST refuses it (PGRST100)."""

from datetime import datetime, timezone
import re


class ApiError(Exception):
    """An error PostgREST would answer with: HTTP status and {code, details, hint, message}."""

    def __init__(self, status, code, message, details=None, hint=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.hint, self.headers = details, hint, headers or {}

    def body(self):
        return {"code": self.code, "details": self.details, "hint": self.hint, "message": self.message}


OPS = {"eq", "neq", "gt", "gte", "lt", "lte", "in", "is"}


def parse_time(text):
    t = text.strip().replace("Z", "+00:00")
    if len(t) >= 3 and t[-3] in "+-" and t[-2:].isdigit() and ":" not in t[-6:]:
        t += ":00"
    try:
        d = datetime.fromisoformat(t)
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def split_top(text, sep=","):
    """Splits on `sep` outside parentheses and double quotes."""
    parts, depth, quoted, cur, i = [], 0, False, "", 0
    while i < len(text):
        c = text[i]
        if c == "\\" and quoted and i + 1 < len(text):
            cur += text[i:i + 2]
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
        if c == sep and depth == 0 and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def unquote(v):
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        return re.sub(r"\\(.)", r"\1", v[1:-1])
    return v


def bad_filter(text):
    return ApiError(400, "PGRST100", '"failed to parse filter (%s)" (line 1, column 1)' % text,
                    "unexpected end of input expecting operator")


def parse_condition(column, text, columns):
    """column + "op.value" → a predicate on a row."""
    if column not in columns:
        raise ApiError(400, "42703", "column %s does not exist" % column)
    negate = False
    if text.startswith("not."):
        negate, text = True, text[4:]
    if "." not in text:
        raise bad_filter(text)
    op, value = text.split(".", 1)
    if op not in OPS:
        raise bad_filter(op + "." + value)
    kind = columns[column]
    if op == "in":
        if not (value.startswith("(") and value.endswith(")")):
            raise bad_filter("in." + value)
        items = [coerce(unquote(v), kind, column) for v in split_top(value[1:-1]) if v != ""]
        pred = lambda row: row.get(column) is not None and coerce(row[column], kind, column) in items
    elif op == "is":
        if value not in ("null", "true", "false", "unknown"):
            raise bad_filter("is." + value)
        want = {"null": None, "true": True, "false": False, "unknown": None}[value]
        pred = lambda row: row.get(column) is want if want is None else row.get(column) == want
    else:
        target = coerce(unquote(value), kind, column)
        cmp = {"eq": lambda a, b: a == b, "neq": lambda a, b: a != b, "gt": lambda a, b: a > b,
               "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}[op]
        pred = lambda row: row.get(column) is not None and cmp(coerce(row[column], kind, column), target)
    return (lambda row: not pred(row)) if negate else pred


def coerce(value, kind, column):
    if value is None:
        return None
    if kind == "timestamptz":
        t = parse_time(str(value))
        if t is None:
            raise ApiError(400, "22007", 'invalid input syntax for type timestamp with time zone: "%s"' % value)
        return t
    if kind == "timestamp":   # without time zone, as the seed's columns: PostgreSQL ignores a zone given
        t = parse_time(str(value))
        if t is None:
            raise ApiError(400, "22007", 'invalid input syntax for type timestamp: "%s"' % value)
        return t.replace(tzinfo=timezone.utc)
    if kind in ("int", "bigint"):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, "22P02", 'invalid input syntax for type %s: "%s"' % (
                "bigint" if kind == "bigint" else "integer", value))
    if kind == "uuid":
        if not re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", str(value)):
            raise ApiError(400, "22P02", 'invalid input syntax for type uuid: "%s"' % value)
        return str(value).lower()
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() in ("true", "t", "1")
    return str(value)


def parse_logic(op, text, columns):
    """or=(a.eq.1,and(b.gt.2,c.lt.3)) → predicate."""
    if not (text.startswith("(") and text.endswith(")")):
        raise bad_filter(op + "=" + text)
    preds = []
    for item in split_top(text[1:-1]):
        item = item.strip()
        m = re.fullmatch(r"(not\.)?(and|or)(\(.*\))", item, re.S)
        if m:
            inner = parse_logic(m.group(2), m.group(3), columns)
            preds.append((lambda p: lambda row: not p(row))(inner) if m.group(1) else inner)
            continue
        if "." not in item:
            raise bad_filter(item)
        col, rest = item.split(".", 1)
        preds.append(parse_condition(unquote(col), rest, columns))
    if op == "or":
        return lambda row: any(p(row) for p in preds)
    return lambda row: all(p(row) for p in preds)


def parse_select(text, columns, table):
    if text in ("", "*"):
        return list(columns)
    out = []
    for c in split_top(text):
        c = c.strip()
        if "(" in c or ":" in c:
            raise ApiError(400, "PGRST100", "embedding and renames are not served by this stand-in: " + c)
        if c not in columns:
            raise ApiError(400, "42703", "column %s.%s does not exist" % (table, c))
        out.append(c)
    return out


def parse_order(text, columns):
    keys = []
    for item in split_top(text):
        parts = item.split(".")
        col, direction = parts[0], "asc"
        for p in parts[1:]:
            if p in ("asc", "desc"):
                direction = p
            elif p not in ("nullsfirst", "nullslast"):
                raise ApiError(400, "PGRST100", '"failed to parse order (%s)" (line 1, column 1)' % item)
        if col not in columns:
            raise ApiError(400, "42703", "column %s does not exist" % col)
        keys.append((col, direction))
    return keys


def parse_range(header, unit):
    """'Range: 0-499' → (offset, limit or None)."""
    if not header:
        return 0, None
    if unit and unit.lower() != "items":
        return 0, None
    m = re.fullmatch(r"\s*(\d+)-(\d*)\s*", header)
    if not m:
        return 0, None
    first = int(m.group(1))
    if m.group(2) == "":
        return first, None
    last = int(m.group(2))
    if last < first:
        raise ApiError(416, "PGRST103", "Requested range not satisfiable", "The lower boundary must be lower than or "
                       "equal to the upper boundary in the Range header.")
    return first, last - first + 1
