"""A notebook as one self-contained, inert HTML page: no scripts, no requests, formulas as MathML.

    page, text = render_page(notebook, title="Feedback: linear_classifiers", summary_html="<section>...</section>")

Student work is hostile input here. The page is built in three layers, each enough on its own for
scripts: (1) the notebook is rebuilt with only what a page needs (known output types, images as
base64, plain cell ids, tags and execution counts); (2) nbconvert's HTMLExporter renders it with
`sanitize_html` on (no JavaScript outputs) and a template without any script (no MathJax, RequireJS,
widgets or Mermaid), and every piece of Markdown or HTML goes through an allowlist sanitiser (tags
that are not allowed show as text; images only from data: URLs, so the page requests nothing);
(3) the finished page is parsed once more and anything active left is removed. `active_content`
lists what would still run or load, and a page that has any is never returned.

Formulas in Markdown ($...$, $$...$$, \\(...\\), \\[...\\], \\begin{env}) and text/latex outputs become
MathML at build time (math_render), which browsers render natively.
"""

import html
import re
import uuid

import nbformat

from autograder.grading.report.math_render import latex_source, latex_to_mathml

SHOWN_MIMETYPES = ("text/html", "text/markdown", "text/latex", "image/svg+xml", "image/png", "image/jpeg", "text/plain")
BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
PLAIN_NAME = re.compile(r"^[A-Za-z0-9_-]+$")

ALLOWED_TAGS = frozenset(
    "a abbr acronym b blockquote br caption code col colgroup dd del details div dl dt em figcaption figure "
    "h1 h2 h3 h4 h5 h6 hr i img input ins kbd li mark ol p pre q s samp small span strike strong sub summary "
    "sup table tbody td tfoot th thead tr tt u ul".split()
)
PLAIN_ATTRIBUTES = frozenset({"class", "title", "align", "alt", "colspan", "rowspan", "width", "height"})
IMAGE_URL = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*$")
LINK_URL = re.compile(r"^(https?://|mailto:|#)", re.IGNORECASE)

ACTIVE_ELEMENTS = ("script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link", "form")
URL_ATTRIBUTES = ("href", "src", "xlink:href", "action", "formaction", "srcset", "background", "poster", "data")
ACTIVE_SCHEMES = re.compile(r"^\s*(javascript|vbscript|data|file|https?|ftp):", re.IGNORECASE)
REMOTE_CSS = re.compile(r"@import|url\(\s*['\"]?\s*(https?:|//)", re.IGNORECASE)
DISPLAY_LATEX = re.compile(r"^\s*(\$\$(?P<a>.*)\$\$|\\\[(?P<b>.*)\\\]|\$(?P<c>.*)\$|\\\((?P<d>.*)\\\))\s*$", re.DOTALL)

CSS = """
.feedback-summary { margin: 1em 0 2em; font-family: var(--jp-ui-font-family); }
.feedback-summary table { border-collapse: collapse; margin-top: .5em; }
.feedback-summary th, .feedback-summary td { border: 1px solid #ccc; padding: 3px 8px; text-align: left;
  vertical-align: top; }
.feedback-summary .counts { font-size: 110%; }
.feedback-passed { color: #1b6e20; }
.feedback-failed, .feedback-withheld { color: #b00020; }
.feedback-partial { color: #a15c00; }
.feedback-pending, .feedback-unanswered { color: #555; }
.feedback-note { margin: 1.2em 0 .3em; padding: .4em .8em; border-left: 4px solid #888; background: #f6f6f6;
  font-family: var(--jp-ui-font-family); }
.feedback-note.feedback-passed { border-color: #1b6e20; }
.feedback-note.feedback-failed, .feedback-note.feedback-withheld { border-color: #b00020; }
.feedback-note.feedback-partial { border-color: #a15c00; }
.feedback-note .feedback-comment, .feedback-summary .feedback-comment { color: #0b3d91; }
.feedback-shortened { font-style: italic; color: #555; padding: .3em 0; }
math[display="block"] { margin: .6em 0; }
code.math-source { color: #555; }
"""

TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}<style type="text/css">{{ resources.feedback_css }}</style>{%- endblock extra_css -%}
{%- block body_header -%}{{ super() }}{{ resources.feedback_summary }}{%- endblock body_header -%}
{%- block any_cell scoped -%}{{ cell.metadata.get('feedback_note', '') }}{{ super() }}{%- endblock any_cell -%}
{%- block input -%}
{#- Pygments escapes all code; the sanitiser's time goes to Markdown and HTML outputs -#}
<div class="jp-CodeMirrorEditor jp-Editor jp-InputArea-editor" data-type="inline"><div class="cm-editor cm-s-jupyter">
{{ cell.source | highlight_code(metadata=cell.metadata) }}
</div></div>
{%- endblock input -%}
{%- block data_javascript scoped -%}<pre>(JavaScript output not shown)</pre>{%- endblock data_javascript -%}
{%- block data_widget_view scoped -%}<pre>(widget not shown)</pre>{%- endblock data_widget_view -%}
{%- block data_mermaid scoped -%}<pre>{{ output.data['text/vnd.mermaid'] | escape_html }}</pre>{%- endblock data_mermaid -%}
{%- block data_latex scoped -%}
<div class="jp-RenderedLatex jp-OutputArea-output" data-mime-type="text/latex">{{ output.data['text/latex'] | latex_output }}</div>
{%- endblock data_latex -%}
{%- block footer -%}
</html>
{%- endblock footer -%}
"""


# -- layer 1: a notebook with only what the page shows ---------------------------------------------


def _text(value):
    return "".join(value) if isinstance(value, list) else str(value)


def _output(output):
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return nbformat.v4.new_output("stream", name=name, text=_text(output.get("text", "")))
    if kind == "error":
        traceback = [_text(line) for line in output.get("traceback", [])]
        return nbformat.v4.new_output(
            "error", ename=_text(output.get("ename", "")), evalue=_text(output.get("evalue", "")), traceback=traceback
        )
    if kind not in ("display_data", "execute_result"):
        return None
    data = {}
    for mime, value in output.get("data", {}).items():
        value = _text(value)
        if mime not in SHOWN_MIMETYPES or (mime in ("image/png", "image/jpeg") and not BASE64.match(value)):
            continue
        data[mime] = value
    if not data:
        dropped = ", ".join(sorted(output.get("data", {}))) or "nothing"
        data = {"text/plain": f"[output not shown: {dropped}]"}
    metadata = {}
    for mime, meta in output.get("metadata", {}).items():
        if mime in ("image/png", "image/jpeg") and isinstance(meta, dict):
            sizes = {k: meta[k] for k in ("width", "height") if isinstance(meta.get(k), int)}
            if sizes:
                metadata[mime] = sizes
    if kind == "execute_result":
        return nbformat.v4.new_output("execute_result", data=data, metadata=metadata, execution_count=None)
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata)


def _attachments(cell):
    kept = {}
    for name, bundle in (cell.get("attachments") or {}).items():
        images = {m: _text(v) for m, v in bundle.items() if m in ("image/png", "image/jpeg") and BASE64.match(_text(v))}
        if images and PLAIN_NAME.match(name.replace(".", "_")):
            kept[name] = images
    return kept


def plain_notebook(notebook):
    """A copy of `notebook` holding only what the page shows; `feedback_note` metadata is the caller's to set."""
    cells = []
    for index, cell in enumerate(notebook.cells):
        source = _text(cell.get("source", ""))
        tags = [t for t in cell.get("metadata", {}).get("tags", []) if isinstance(t, str) and PLAIN_NAME.match(t)]
        cell_id = str(cell.get("id") or f"cell-{index}")
        cell_id = cell_id if PLAIN_NAME.match(cell_id) and len(cell_id) <= 64 else f"cell-{index}"
        if cell.get("cell_type") == "code":
            count = cell.get("execution_count")
            fresh = nbformat.v4.new_code_cell(source, execution_count=count if isinstance(count, int) else None)
            fresh.outputs = [o for o in (_output(output) for output in cell.get("outputs", [])) if o is not None]
        elif cell.get("cell_type") == "markdown":
            fresh = nbformat.v4.new_markdown_cell(source)
            attachments = _attachments(cell)
            if attachments:
                fresh.attachments = attachments
        else:
            fresh = nbformat.v4.new_raw_cell(source)  # rendered by no template here: raw cells show nothing
        fresh.id = cell_id
        if tags:
            fresh.metadata["tags"] = tags
        cells.append(fresh)
    plain = nbformat.v4.new_notebook()
    plain.metadata = {"language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    plain.cells = cells
    return plain


# -- layer 2: rendering with a sanitiser for every piece of Markdown and HTML ----------------------


def _allowed_attribute(tag, name, value):
    if name in PLAIN_ATTRIBUTES:
        return True
    if name == "id":
        return not value.startswith("feedback-")  # the page's own anchors cannot be shadowed
    if tag == "a" and name == "href":
        return bool(LINK_URL.match(value))
    if tag == "img" and name == "src":
        return bool(IMAGE_URL.match(value))
    if tag == "input":
        return (name == "type" and value == "checkbox") or name in ("checked", "disabled")
    return False


def clean_html(markup):
    """Markup with only allowed tags (others shown as text) and attributes (no styles, scripts or remote URLs)."""
    import bleach

    return bleach.clean(
        str(markup),
        tags=ALLOWED_TAGS,
        attributes=_allowed_attribute,
        protocols=["http", "https", "mailto", "data"],
        strip=False,
        strip_comments=True,
    )


def latex_output(text):
    """A text/latex output (e.g. IPython's Math) as MathML."""
    text = _text(text)
    found = DISPLAY_LATEX.match(text)
    if not found:
        return latex_source(text, display=True).replace("$$", "")
    latex = next(group for group in found.group("a", "b", "c", "d") if group is not None)
    return latex_to_mathml(latex, display=True)


def _exporter_class():
    from jinja2 import pass_context
    from nbconvert import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class MathTokens(IPythonRenderer):
        """Markdown renderer that leaves a token for every formula; the tokens become MathML after sanitising."""

        def __init__(self, formulas, nonce, **options):
            super().__init__(**options)
            self.formulas = formulas
            self.nonce = nonce

        def _token(self, latex, display):
            # entities read as the browser (and MathJax in Jupyter) would: `a &lt; b` is a < b
            self.formulas.append((html.unescape(latex), display))
            return f"feedbackmath{self.nonce}n{len(self.formulas) - 1}x"

        def block_math(self, body):
            return self._token(body, True)

        def inline_math(self, body):
            return self._token(body, False)

        def latex_environment(self, name, body):
            return self._token(f"\\begin{{{name}}}{body}\\end{{{name}}}", True)

    class FeedbackExporter(HTMLExporter):
        """HTMLExporter with a script-free template, an allowlist sanitiser and formulas as MathML."""

        def __init__(self, **kwargs):
            from jinja2 import DictLoader

            super().__init__(
                template_name="lab",
                sanitize_html=True,
                exclude_anchor_links=True,
                extra_loaders=[DictLoader({"feedback.html.j2": TEMPLATE})],
                **kwargs,
            )
            self.template_file = "feedback.html.j2"
            self.formulas = []
            self.nonce = uuid.uuid4().hex
            self.token = re.compile(f"feedbackmath{self.nonce}n([0-9]+)x")

        @pass_context
        def markdown2html(self, context, source):
            cell = context.get("cell", {})
            renderer = MathTokens(
                self.formulas,
                self.nonce,
                escape=False,
                attachments=cell.get("attachments", {}),
                exclude_anchor_links=True,
            )
            return MarkdownWithMath(renderer=renderer).render(source)

        def clean_with_math(self, markup):
            cleaned = clean_html(markup)
            if not self.token.search(cleaned):
                return cleaned
            return self._insert_math(cleaned)

        def _insert_math(self, cleaned):
            from bs4 import BeautifulSoup

            soup = BeautifulSoup(cleaned, "html.parser")
            for tag in soup.find_all(True):
                for name, value in list(tag.attrs.items()):
                    if isinstance(value, str) and self.token.search(value):
                        tag[name] = self.token.sub(lambda m: self.formulas[int(m.group(1))][0], value)
            for text in list(soup.find_all(string=self.token)):
                pieces = []
                position = 0
                for found in self.token.finditer(str(text)):
                    pieces.append(html.escape(str(text)[position : found.start()], quote=False))
                    latex, display = self.formulas[int(found.group(1))]
                    pieces.append(latex_to_mathml(latex, display))
                    position = found.end()
                pieces.append(html.escape(str(text)[position:], quote=False))
                replacement = BeautifulSoup("".join(pieces), "html.parser")
                text.replace_with(*list(replacement.contents))
            return str(soup)

        def default_filters(self):
            yield from super().default_filters()
            yield ("markdown2html", self.markdown2html)
            yield ("clean_html", self.clean_with_math)
            yield ("latex_output", latex_output)

    return FeedbackExporter


# -- layer 3: the finished page, checked ----------------------------------------------------------


def make_inert(page):
    """The page with anything that could run or load removed (a last pass; the layers above leave none)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    for element in soup.find_all(ACTIVE_ELEMENTS):
        element.decompose()
    for element in soup.find_all("meta"):
        if element.get("http-equiv"):
            element.decompose()
    for element in soup.find_all("style"):
        if element.find_parent("head") is None or REMOTE_CSS.search(element.get_text()):
            element.decompose()
    for element in soup.find_all(True):
        for name in list(element.attrs):
            value = element.attrs[name]
            value = " ".join(value) if isinstance(value, list) else str(value)
            if name.lower().startswith("on") or name.lower() == "style":
                del element.attrs[name]
            elif name.lower() in URL_ATTRIBUTES and not _safe_url(element.name, name.lower(), value):
                del element.attrs[name]
    return str(soup)


def _safe_url(tag, name, value):
    if tag == "img" and name == "src":
        return bool(IMAGE_URL.match(value))
    if tag == "a" and name == "href":
        return bool(LINK_URL.match(value))
    return not ACTIVE_SCHEMES.match(value) and name not in ("src", "srcset", "data", "background", "poster")


def active_content(page):
    """What in the page would run a script or make a request: [] for an inert, self-contained page.

    `page` is HTML text or a parsed BeautifulSoup document.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser") if isinstance(page, str) else page
    found = [f"<{element.name}> element" for element in soup.find_all(ACTIVE_ELEMENTS)]
    found += [f"<meta http-equiv> ({m.get('http-equiv')})" for m in soup.find_all("meta") if m.get("http-equiv")]
    found += ["CSS that loads from another host" for s in soup.find_all("style") if REMOTE_CSS.search(s.get_text())]
    for element in soup.find_all(True):
        for name, value in element.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            if name.lower().startswith("on"):
                found.append(f"<{element.name} {name}=...> event handler")
            elif name.lower() == "style" and REMOTE_CSS.search(value):
                found.append(f"<{element.name} style=...> loads from another host")
            elif name.lower() in URL_ATTRIBUTES and not _safe_url(element.name, name.lower(), value):
                found.append(f"<{element.name} {name}={value[:60]!r}>")
    return found


def render_page(notebook, title, summary_html=""):
    """(page, text): the notebook as an inert, self-contained HTML page with `summary_html` at the top,
    and the page's text, read two ways (for checks on what it shows).

    Cells may carry metadata["feedback_note"] (trusted HTML shown above the cell); every other
    piece of the notebook is treated as untrusted.
    """
    from bs4 import BeautifulSoup

    notes = [cell.get("metadata", {}).get("feedback_note", "") for cell in notebook.cells]
    plain = plain_notebook(notebook)
    for cell, note in zip(plain.cells, notes):
        if note:
            cell.metadata["feedback_note"] = note
    exporter = _exporter_class()()
    resources = {
        "metadata": {"name": title},
        "feedback_css": CSS,
        "feedback_summary": summary_html,
    }
    page, _ = exporter.from_notebook_node(plain, resources=resources)
    page = make_inert(page)
    # checked as a browser would see it: the serialised page, parsed again
    soup = BeautifulSoup(page, "html.parser")
    problems = active_content(soup)
    if problems:
        raise RuntimeError(f"the page still has active content ({problems[0]}); not written")
    # for checks on what the page shows: the text as one string (a line of code split into highlighted
    # spans stays whole), then the prose string by string (text of neighbouring elements not run together)
    prose = (text for text in soup.find_all(string=True) if text.find_parent(["pre", "code", "style"]) is None)
    return page, soup.get_text() + "\n" + "\n".join(prose)
