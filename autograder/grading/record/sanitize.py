"""A student's notebook made inert before anyone's browser shows it.

Graded notebooks are what formgrader shows a TA (inside an authenticated JupyterLab, with the
gradebook and a terminal one request away) and what `feedback` renders for the student. Any HTML,
JavaScript, SVG or Markdown a student's code displayed, and any raw HTML written into an answer,
would run there. `sanitize_notebook` rewrites a notebook so that every renderer (nbconvert's
templates, formgrader's, JupyterLab) shows such content as text:

- outputs keep text, tracebacks and images: PNG, JPEG and GIF only when their bytes are really such
  an image; SVG only after a whitelist pass (no scripts, event handlers, foreign objects, styles or
  outside links). HTML, JavaScript, Markdown, LaTeX, JSON, widgets and anything else become text/plain;
- Markdown the student wrote (any markdown cell that is not the release's own text) keeps its
  formatting and math but loses raw HTML (``<`` becomes ``&lt;``), links and ``\\href`` with a
  scheme other than http, https or mailto, and mermaid blocks; attachments keep real images only;
- raw cells the student wrote become fenced text; cell tags, ids and nbgrader metadata that could
  break out of an HTML attribute are dropped; notebook metadata (widget state) comes from the release;
- the trusted grader's record on a test cell (``metadata["autograder"]``, written by the grading
  worker) is kept with its known keys only, as plain numbers and capped plain strings, and a failed
  test's reason is added as a text output of its cell, so formgrader (which shows no metadata) shows it.
"""

import base64
import binascii
import copy
import html
import math
import re
import uuid
import xml.etree.ElementTree as ET

import nbformat

IMAGE_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
SAFE_SCHEMES = ("http", "https", "mailto")
UNSAFE_LINK = "#unsafe-link-removed"
OBJECT_REPR = re.compile(r"^<[\w.]+ object( at 0x[0-9a-fA-F]+)?>$")
SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
CELL_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
RECORD_TEXT_LIMIT = 2000
RECORD_CHECKS_LIMIT = 50
RECORD_CHECK_LIMIT = 300

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
SVG_ELEMENTS = {
    "svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan",
    "defs", "clipPath", "use", "title", "desc", "linearGradient", "radialGradient", "stop", "symbol",
    "marker", "pattern", "mask", "image",
}  # fmt: skip
UNSAFE_STYLE = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)|expression|@import|javascript|behavior|binding", re.I)


# terminal control sequences other than colours (SGR, "ESC [ ... m", which the renderers turn into styled
# text): window titles and hyperlinks (OSC), cursor moves and screen clears (CSI), other ESC sequences,
# and every other C0/C1 control character but tab, newline and carriage return
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*([@-~])")
_ESC = re.compile(r"\x1b(?!\[[0-9;]*m)[ -~]?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]")


def terminal_safe(text):
    """text with its colour codes kept and every other control sequence or character removed."""
    if not any(ord(char) < 32 or 127 <= ord(char) < 160 for char in text):
        return text
    text = _OSC.sub("", text)
    text = _CSI.sub(lambda match: match.group(0) if match.group(1) == "m" else "", text)
    text = _ESC.sub("", text)
    return _CONTROL.sub("", text)


def plain_text(text):
    """text without any terminal control sequence or control character, colours included (tab, newline and
    carriage return kept): for what the trusted grader says of a test, which quotes student values."""
    return _CSI.sub("", terminal_safe(str(text)))


def _as_text(value):
    if isinstance(value, str):
        return terminal_safe(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return terminal_safe("".join(value))
    import json

    return json.dumps(value, indent=1, default=str)


def safe_image(mime, value):
    """Canonical base64 of a real PNG/JPEG/GIF, or None."""
    try:
        raw = base64.b64decode(re.sub(r"\s+", "", _as_text(value)), validate=True)
    except (binascii.Error, ValueError):
        return None
    if not any(raw.startswith(magic) for magic in IMAGE_MAGIC[mime]):
        return None
    return base64.b64encode(raw).decode("ascii")


def _safe_url(url, allow_images=False):
    value = re.sub(r"[\s\x00-\x1f]+", "", html.unescape(url or ""))
    if value.startswith("#"):
        return True
    if allow_images and re.match(r"^data:image/(png|jpeg|gif);base64,", value, re.I):
        return True
    return False


def clean_svg(text):
    """The SVG with only drawing elements and harmless attributes left, or None when it cannot be parsed."""
    text = _as_text(text)
    if "<!ENTITY" in text.upper():
        return None
    try:
        root = ET.fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", text))
    except ET.ParseError:
        return None
    if _local(root.tag) != "svg":
        return None

    def clean(element):
        for child in list(element):
            if not isinstance(child.tag, str) or _local(child.tag) not in SVG_ELEMENTS:
                element.remove(child)
                continue
            clean(child)
        for name in list(element.attrib):
            local = _local(name).lower()
            value = element.attrib[name]
            if local.startswith("on") or local in ("formaction", "action"):
                del element.attrib[name]
            elif local == "href" and not _safe_url(value, allow_images=_local(element.tag) == "image"):
                del element.attrib[name]
            elif local == "style":
                if UNSAFE_STYLE.search(html.unescape(value)):
                    del element.attrib[name]
            elif "url(" in value.replace(" ", "").lower() and not re.fullmatch(r"\s*url\(\s*#[\w.\-]+\s*\)\s*", value):
                del element.attrib[name]

    clean(root)
    ET.register_namespace("", SVG)
    ET.register_namespace("xlink", XLINK)
    return ET.tostring(root, encoding="unicode")


def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def sanitize_output(output):
    """(the output with nothing a browser would run or None when nothing of it is safe, whether anything changed)."""
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return nbformat.v4.new_output("stream", name=name, text=_as_text(output.get("text", ""))), False
    if kind == "error":
        clean = nbformat.v4.new_output(
            "error",
            ename=_as_text(output.get("ename", "")),
            evalue=_as_text(output.get("evalue", "")),
            traceback=[_as_text(line) for line in output.get("traceback", []) or []],
        )
        return clean, False
    if kind not in ("display_data", "execute_result"):
        return None, True
    data, metadata, as_text = {}, {}, []
    for mime, value in (output.get("data") or {}).items():
        if mime == "text/plain":
            data[mime] = _as_text(value)
        elif mime in IMAGE_MAGIC:
            image = safe_image(mime, value)
            if image is None:
                as_text.append((mime, "(not a valid image; removed)"))
                continue
            data[mime] = image
            size = (output.get("metadata") or {}).get(mime) or {}
            dims = {k: int(v) for k, v in size.items() if k in ("width", "height") and isinstance(v, (int, float))}
            if dims:
                metadata[mime] = dims
        elif mime == "image/svg+xml":
            svg = clean_svg(value)
            if svg is None:
                as_text.append((mime, _as_text(value)))
            else:
                data[mime] = svg
        else:
            as_text.append((mime, _as_text(value)))
    plain = data.get("text/plain")
    if as_text and (not plain or OBJECT_REPR.match(plain.strip())):
        mime, value = as_text[0]
        data["text/plain"] = f"[{mime} output shown as text]\n{value}"
    if not data:
        return None, True
    if kind == "execute_result":
        count = output.get("execution_count")
        clean = nbformat.v4.new_output(
            kind, data=data, metadata=metadata, execution_count=count if isinstance(count, int) else None
        )
    else:
        clean = nbformat.v4.new_output(kind, data=data, metadata=metadata)
    return clean, bool(as_text)


def _neutralise_link(match):
    prefix, url = match.group(1), match.group(2)
    plain = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", html.unescape(url))
    plain = re.sub(r"[\s\x00-\x1f]+", "", plain).lower()
    scheme = re.match(r"^([a-z][a-z0-9+.\-]*):", plain)
    if scheme and scheme.group(1) not in SAFE_SCHEMES:
        return prefix + UNSAFE_LINK
    return match.group(0)


INLINE_LINK = re.compile(r"(\]\(\s*)([^\s)]+)")
REFERENCE_LINK = re.compile(r"(^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*)(\S+)", re.M)
TEX_LINK = re.compile(r"(\\(?:href|url)\s*\{\s*)([^}]*)")
MERMAID_FENCE = re.compile(r"^([ \t]{0,3}(?:`{3,}|~{3,})[ \t]*)mermaid", re.M | re.I)


def inert_markdown(source):
    """Markdown with its formatting and math kept but no raw HTML, unsafe link or mermaid block.

    ``<`` becomes ``&lt;`` everywhere, code spans included (where it then shows as ``&lt;``):
    deciding what is code exactly as every renderer does is where sanitisers go wrong.
    """
    text = _as_text(source).replace("<", "&lt;")
    text = INLINE_LINK.sub(_neutralise_link, text)
    text = REFERENCE_LINK.sub(_neutralise_link, text)
    text = TEX_LINK.sub(_neutralise_link, text)
    return MERMAID_FENCE.sub(r"\1text", text)


def _fenced(text):
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _release_texts(release):
    if release is None:
        return set(), None
    texts = {_as_text(cell.get("source", "")) for cell in release.cells if cell.get("cell_type") in ("markdown", "raw")}
    grade_ids = {
        cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        for cell in release.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    }
    return texts, grade_ids


def _capped(text, limit):
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trusted_record(record):
    """The trusted grader's record on a test cell with only its known keys, as plain data, or None.

    score and points: finite numbers; passed: a bool; message: a string of at most 2000 characters;
    checked: at most 50 strings of at most 300 characters. Renderers show every string as plain text.
    """
    if not isinstance(record, dict):
        return None
    clean = {}
    for key in ("score", "points"):
        value = record.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            clean[key] = float(value)
    if isinstance(record.get("passed"), bool):
        clean["passed"] = record["passed"]
    if isinstance(record.get("message"), str):
        clean["message"] = _capped(plain_text(record["message"]), RECORD_TEXT_LIMIT)
    checked = record.get("checked")
    if isinstance(checked, list):
        items = [_capped(plain_text(item), RECORD_CHECK_LIMIT) for item in checked if isinstance(item, str)]
        clean["checked"] = items[:RECORD_CHECKS_LIMIT]
    return clean or None


def trusted_reason_output(record):
    """A stream output stating a failed test's reason from its trusted record, or None."""
    if not record or record.get("passed") is True or not record.get("message"):
        return None
    text = "Trusted grader: " + " ".join(record["message"].split())  # one line: never a line of test code
    if "score" in record and "points" in record:
        text += f" ({record['score']:g} / {record['points']:g} points)"
    if record.get("checked"):
        text += "\nchecked: " + "; ".join(" ".join(item.split()) for item in record["checked"])
    return nbformat.v4.new_output("stream", name="stderr", text=text + "\n")


def _clean_metadata(cell, grade_ids):
    metadata = cell.get("metadata", {})
    tags = metadata.get("tags")
    if tags is not None:
        metadata["tags"] = [tag for tag in tags if isinstance(tag, str) and SAFE_TOKEN.match(tag)]
    meta = metadata.get("nbgrader")
    if meta is not None:
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        known = grade_ids is None or grade_id in grade_ids
        if not isinstance(meta, dict) or (grade_id is not None and (not SAFE_TOKEN.match(str(grade_id)) or not known)):
            del metadata["nbgrader"]
        elif "points" in meta:
            try:
                meta["points"] = float(meta["points"])
            except (TypeError, ValueError):
                meta["points"] = 0.0
    if "autograder" in metadata:
        record = trusted_record(metadata.get("autograder")) if (metadata.get("nbgrader") or {}).get("grade") else None
        if record is None:
            del metadata["autograder"]
        else:
            metadata["autograder"] = record
    for key in list(metadata):
        if key not in (
            "tags",
            "nbgrader",
            "autograder",
            "jupyter",
            "collapsed",
            "scrolled",
            "editable",
            "deletable",
            "trusted",
        ):
            del metadata[key]
    if not isinstance(cell.get("id"), str) or not CELL_ID.match(cell.get("id", "")):
        cell["id"] = uuid.uuid4().hex[:8]


def sanitize_notebook(notebook, release=None):
    """(an inert copy of notebook, [what was changed]).

    release: the release notebook (instructor's text and graded cells), whose markdown is kept as
    written and whose metadata replaces the notebook's. Without it every markdown cell is treated as
    the student's.
    """
    notebook = copy.deepcopy(nbformat.from_dict(notebook))
    release_texts, grade_ids = _release_texts(release)
    changes = []
    cells = []
    for index, cell in enumerate(notebook.cells):
        kind = cell.get("cell_type")
        label = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
        _clean_metadata(cell, grade_ids)
        if kind == "code":
            outputs = []
            for output in cell.get("outputs", []):
                clean, changed = sanitize_output(output)
                if changed:
                    changes.append(f"{label}: {output.get('output_type')} output made inert")
                if clean is not None:
                    outputs.append(clean)
            reason = trusted_reason_output(cell.get("metadata", {}).get("autograder"))
            if reason is not None and reason not in outputs:
                outputs.append(reason)
            cell["outputs"] = outputs
        elif kind == "markdown":
            source = _as_text(cell.get("source", ""))
            if source not in release_texts:
                inert = inert_markdown(source)
                if inert != source:
                    changes.append(f"{label}: raw HTML or unsafe links in markdown shown as text")
                cell["source"] = inert
            attachments = cell.get("attachments") or {}
            kept = {}
            for name, bundle in attachments.items():
                images = {m: safe_image(m, v) for m, v in (bundle or {}).items() if m in IMAGE_MAGIC}
                images = {m: v for m, v in images.items() if v}
                if images and SAFE_TOKEN.match(str(name)):
                    kept[name] = images
            if attachments and kept != attachments:
                changes.append(f"{label}: attachments other than images removed")
            if kept:
                cell["attachments"] = kept
            else:
                cell.pop("attachments", None)
        elif kind == "raw":
            source = _as_text(cell.get("source", ""))
            if source not in release_texts:
                cell = nbformat.v4.new_markdown_cell(_fenced(source), id=cell["id"])
                changes.append(f"{label}: raw cell shown as text")
        else:
            changes.append(f"{label}: unknown cell type {kind!r} removed")
            continue
        cells.append(cell)
    notebook.cells = cells
    if release is not None:
        notebook.metadata = copy.deepcopy(release.metadata)
    else:
        notebook.metadata = {
            key: value for key, value in notebook.metadata.items() if key in ("kernelspec", "language_info")
        }
    return notebook, changes
