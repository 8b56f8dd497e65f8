"""The frame of a reader's page, put around the HTML nbconvert writes.

Works on the page's text with regular expressions: the page holds base64 images of
hundreds of kilobytes, which a full HTML parse would walk through at a cost. Every
piece of data placed here is escaped.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from .findings import finding_html
from .texts import t

# nbconvert's headings (with their hidden ¶ links) and images, in page order
_PARTS = re.compile(r"<h([1-3])\b[^>]*>(.*?)</h\1>|<img\b[^>]*>", re.S)
_ANCHOR = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.S)
# Filled in by :func:`fill_nav` once every page of the report is rendered.
NAV_PLACEHOLDER = "<!--workbench-nav-->"


def plain(fragment: str) -> str:
    """The text of an HTML fragment, tags dropped and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", _ANCHOR.sub("", fragment))).strip()


def figure_titles(nb) -> list[list[str]]:
    """For each image a notebook's outputs show, in order, the titles drawn on it (from
    :data:`analysis.page.captions.CAPTION_MIME`; empty where the kernel gave none)."""
    from .captions import CAPTION_MIME

    out = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output.get("output_type") in ("display_data", "execute_result") and any(
                    k.startswith("image/") for k in data):
                given = data.get(CAPTION_MIME)
                out.append([str(x) for x in given.get("titles", [])] if isinstance(given, dict) else [])
    return out


def _caption(section: str, titles: list[str], language: str) -> str:
    # a figure with one or two titles is named by them; more (a panel per indicator)
    # would make a caption longer than the section's heading says
    named = (";" if language == "en" else "；").join(titles) if 0 < len(titles) <= 2 else ""
    # a figure under a heading that names its measure (the trends page's subsection per
    # outcome) says where and when on the title's next line: the caption need not say
    # the measure twice
    # (the title's lines may break the measure's name where it is long)
    lines = named.split("\n")
    bare = "".join(section.split())
    for k in range(1, len(lines)):
        if bare and "".join("".join(lines[:k]).split()) == bare:
            named = "\n".join(lines[k:]).strip()
            break
    # a caption is one line: a title's "level · span" line follows its measure after a
    # dot, a measure's name broken over two lines is joined again
    lines = [x.strip() for x in named.split("\n") if x.strip()]
    named = "".join(x if not i else (" · " if " · " in x else " ") + x for i, x in enumerate(lines))
    if not section:
        return named or t("figure_plain", language)
    if not named or named == section:
        return section
    return f"{section}：{named}" if language == "zh" else f"{section}: {named}"


def arrange(body: str, title: str, language: str, *, data_text: str = "", findings: list[dict] | None = None,
            appendix: str = "", figure_titles: list[list[str]] | None = None) -> tuple[str, list[dict]]:
    """``body`` (a page from nbconvert) with numbered sections (``id="s2"``, ``"s2-1"``),
    numbered figures with captions and alt text, the title, ``data_text``, the key
    ``findings`` (``[{"text", "section", "occurrence"}]``, ``section`` a heading's text,
    ``occurrence`` which of several headings of that text, 0 by default) and a table of
    contents at the top, ``appendix`` at the end and a :data:`NAV_PLACEHOLDER` first.

    Returns the page and the findings as placed: ``[{"text", "href"}]``, with ``"names"``
    where a finding quotes units, ``href`` the anchor of the finding's section (``"#s3"``)
    or None where the page has no such section. A figure's caption is its section's heading and the titles drawn on it
    (``figure_titles``, one list per image in page order; ignored when they do not
    match the page's images), numbered when several figures would share a caption."""
    numbers = [0, 0]
    ids: dict[str, list[str]] = {}  # heading text -> anchors, a page may repeat a heading
    toc: list[tuple[int, str, str, str]] = []  # level, id, number, text
    figures: list[tuple[int, str]] = []  # start of each image, caption
    section = ""
    parts: list[str] = []
    last = 0
    for m in _PARTS.finditer(body):
        parts.append(body[last:m.start()])
        last = m.end()
        if m.group(1) is None:  # an image
            figures.append((len(parts), section))
            parts.append(m.group(0))
            continue
        level, inner = int(m.group(1)), _ANCHOR.sub("", m.group(2))
        text = plain(inner)
        if level == 1:
            parts.append(f"<h1>{inner}</h1>")
            continue
        if level == 2:
            numbers = [numbers[0] + 1, 0]
            anchor, number = f"s{numbers[0]}", f"{numbers[0]}"
        else:
            numbers[1] += 1
            anchor, number = f"s{numbers[0]}-{numbers[1]}", f"{numbers[0]}.{numbers[1]}"
        ids.setdefault(text, []).append(anchor)
        toc.append((level, anchor, number, text))
        section = text
        parts.append(f'<h{level} id="{anchor}"><span class="secno">{number}</span> {inner}</h{level}>')
    parts.append(body[last:])

    # figures: numbered through the page; figures that would share a caption are told apart
    drawn = figure_titles if figure_titles is not None and len(figure_titles) == len(figures) else [[]] * len(figures)
    captions = [_caption(section, titles, language) for (_, section), titles in zip(figures, drawn)]
    total = {c: captions.count(c) for c in captions}
    seen: dict[str, int] = {}
    for n, ((index, _), caption) in enumerate(zip(figures, captions), start=1):
        seen[caption] = seen.get(caption, 0) + 1
        shown = caption
        if total[caption] > 1:
            shown += f"（{seen[caption]}）" if language == "zh" else f" ({seen[caption]})"
        alt = html.escape(t("figure_alt", language, number=n, caption=shown), quote=True)
        tag = re.sub(r'\salt="[^"]*"', "", parts[index], count=1).replace("<img", f'<img alt="{alt}"', 1)
        parts[index] = (f'<figure class="workbench-figure" id="fig-{n}">{tag}<figcaption>'
                        f'{html.escape(t("figure", language, number=n, caption=shown))}</figcaption></figure>')
    page = "".join(parts)

    def href(finding: dict) -> str | None:
        anchors = ids.get(finding.get("section"))
        if not anchors:
            return None
        return "#" + anchors[min(max(int(finding.get("occurrence") or 0), 0), len(anchors) - 1)]

    # "names" (the unit names the finding quotes) only where there are any: the index bounds them too
    placed = [{"text": f["text"], "href": href(f), **({"names": list(f["names"])} if f.get("names") else {})}
              for f in (findings or [])]
    number_of = {anchor: number for _, anchor, number, _ in toc}
    intro = ""
    if data_text:
        intro += f'<p class="workbench-data">{html.escape(data_text)}</p>'
    if placed:
        items = "".join(
            f"<li>{finding_html(f)}"
            + (f' <a href="{f["href"]}">{html.escape(t("see_section", language, number=number_of[f["href"][1:]]))}</a>'
               if f["href"] else "") + "</li>" for f in placed)
        intro += (f'<section class="workbench-findings" aria-labelledby="key-findings">'
                  f'<h2 id="key-findings">{html.escape(t("key_findings", language))}</h2><ul>{items}</ul></section>')
    entries = [(level, anchor, f"{number} {text}") for level, anchor, number, text in toc]
    if appendix:
        entries.append((2, "reproducibility", t("appendix", language)))
    if entries:
        items = "".join(f'<li class="toc-{level}"><a href="#{anchor}">{html.escape(text)}</a></li>'
                        for level, anchor, text in entries)
        intro += (f'<nav class="workbench-toc" aria-labelledby="contents"><h2 id="contents">'
                  f'{html.escape(t("contents", language))}</h2><ol>{items}</ol></nav>')
    # the title first, then what the data is, the findings and the contents
    h1 = page.find("</h1>")
    if h1 < 0:
        page = page.replace("<main>", f"<main><h1>{html.escape(title)}</h1>{intro}", 1)
    else:
        page = page[:h1 + 5] + intro + page[h1 + 5:]
    page = page.replace("<main>", f"<main>{NAV_PLACEHOLDER}", 1)
    end = page.rfind("</main>")
    if appendix and end >= 0:
        page = page[:end] + appendix + page[end:]
    return page, placed


def nav_html(pages: list[tuple[str, str]], current: str | None, language: str) -> str:
    """Links to the index and to every page, ``pages`` as ``[(file name, title)]``; the
    page ``current`` (a file name) is marked, not linked."""
    links = [f'<a href="index.html">{html.escape(t("index_link", language))}</a>' if current != "index.html"
             else f'<span aria-current="page">{html.escape(t("index_link", language))}</span>']
    for name, title in pages:
        label = html.escape(title)
        links.append(f'<span aria-current="page">{label}</span>' if name == current
                     else f'<a href="{html.escape(name, quote=True)}">{label}</a>')
    return f'<nav class="workbench-nav" aria-label="{html.escape(t("pages_heading", language))}">{"".join(links)}</nav>'


def fill_nav(page: str, nav: str) -> str:
    return page.replace(NAV_PLACEHOLDER, nav, 1)


# parameters whose values are ids of period grains or of levels, written in words
GRAIN_PARAMETERS = ("periods", "trend_periods", "pile_periods", "effect_periods")
LEVEL_PARAMETERS = ("level", "trend_level", "effect_level")


def readable(name: str, value: object, language: str, report_dir: Path | None = None) -> str:
    """A parameter's value as a reader would say it: ``sheet ""`` is the first sheet,
    other empty values are "not set" (not "none", which ``rounding`` takes as a value),
    grains and levels in words ("as_is" is the period as given), ``break_at`` 0 is none,
    paths are shown relative to the report folder (or by file name when outside it:
    never a path of the machine that made it), booleans yes/no, lists joined."""
    from ..i18n import TEXT as WORDS
    from ..i18n import level_name
    from ..i18n import t as say

    if name == "sheet" and value in ("", None):
        return t("first_sheet", language)
    if name == "sheet" and value == "all":
        return t("all_sheets", language)
    if value is None or value == "" or value == [] or value == {}:
        return t("not_set", language)
    if name in GRAIN_PARAMETERS and f"grain_{value}" in WORDS:
        return say(f"grain_{value}", language)
    if name == "rounding" and f"rounding_{value}" in WORDS:
        return say(f"rounding_{value}", language)
    if name in LEVEL_PARAMETERS and isinstance(value, str):
        try:
            return level_name(value, language)
        except KeyError:
            return value
    if name == "break_at" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return t("none", language) if value == 0 else f"{value:g}"
    if isinstance(value, bool):
        return t("yes" if value else "no", language)
    if isinstance(value, (list, tuple)):
        return t("list_sep", language).join(readable("", v, language, report_dir) for v in value)
    if isinstance(value, dict):
        return t("list_sep", language).join(f"{k}: {readable('', v, language, report_dir)}" for k, v in value.items())
    text = str(value)
    if name.endswith(("_path", "_file")) or os.path.isabs(text):
        path = Path(text)
        if report_dir is not None and path.is_absolute():
            try:
                return os.path.relpath(path, report_dir) if path.resolve().is_relative_to(report_dir.resolve()) \
                    else path.name
            except (OSError, ValueError):
                return path.name
        return path.name if path.is_absolute() else text
    return text


def appendix_html(facts: dict, parameters: dict, language: str, report_dir: Path | None = None) -> str:
    """The folded appendix: the notebook's ``parameters`` and the run ``facts`` (as in
    ``run.json``), values written for people; nothing in it is an absolute path."""
    sheet = facts["data"].get("sheet") or ""
    # run.json keeps the loader's own "first … last (n sheets)": said in the page's language
    stacked = re.fullmatch(r"(.+) … (.+) \((\d+) sheets\)", str(sheet))
    rows = [
        (t("data_file", language), facts["data"]["file"]),
        (t("sheet", language), t("sheets_span", language, first=stacked[1], last=stacked[2], n=stacked[3])
         if stacked else readable("sheet", sheet, language)),
        (t("data_sha", language), facts["data"]["sha256"]),
        (t("version", language), facts["package_version"]),
        (t("commit", language), facts.get("git_commit") or "—"),
        (t("started", language), facts["started"]),
        (t("finished", language), facts.get("notebook_finished") or "—"),
    ]
    # tables_dir is where the run wrote its downloads, not a choice that changes the report
    params = [(k, readable(k, v, language, report_dir)) for k, v in parameters.items() if k != "tables_dir"]

    def table(items, code: bool):
        key = (lambda k: f"<code>{html.escape(str(k))}</code>") if code else (lambda k: html.escape(str(k)))
        return "<table>" + "".join(f"<tr><th>{key(k)}</th><td>{html.escape(str(v))}</td></tr>"
                                   for k, v in items) + "</table>"

    return (f'<details class="workbench-facts" id="reproducibility"><summary>{html.escape(t("appendix", language))}'
            f'</summary><p>{html.escape(t("appendix_intro", language))}</p>'
            f'<h3>{html.escape(t("parameters", language))}</h3>{table(params, True)}'
            f'<h3>{html.escape(t("run_facts", language))}</h3>{table(rows, False)}</details>')


def data_statement(frame, file: str, sheet: object, language: str) -> str:
    """One sentence on what the data is: file, sheet, units, periods and births, from a
    canonical frame (totals left out)."""
    from ..i18n import periods_text, sheet_clause, sheets_of, units_text
    from ..periods import sort_key
    from ..reports import data_summary

    s = data_summary(frame)
    periods = sorted(frame["period"].dropna().astype(str).unique(), key=sort_key) if "period" in frame else []
    births = t("data_births", language, births=s["births"]) if s.get("births") else ""
    # the sheets the rows came from, not the option given: "all" is no sheet's name
    sheets = sheets_of(frame) or ([str(sheet)] if sheet not in (None, "", "all") else [])
    return t("data_statement", language, file=file, sheet=sheet_clause(sheets, language),
             units=f"{s['units']:,}", unit_word=units_text(s["units"], "unit", language),
             periods=periods_text(periods, language), births=births)


def index_html(title: str, data_text: str, pages: list[dict], language: str, font_css: str) -> str:
    """The report's ``index.html``: the data, then each page (``{"file", "title",
    "findings": [{"text", "href"}]}``) with its key findings linked into it."""
    blocks = []
    for p in pages:
        items = "".join(
            f"<li>{finding_html(f)}"
            + (f' <a href="{html.escape(p["file"] + f["href"], quote=True)}">'
               f'{html.escape(t("see_section", language, number=f["href"][2:].replace("-", ".")))}</a>'
               if f.get("href") else "")
            + "</li>" for f in p["findings"])
        blocks.append(f'<section><h2><a href="{html.escape(p["file"], quote=True)}">{html.escape(p["title"])}</a></h2>'
                      + (f"<ul>{items}</ul>" if items else "") + "</section>")
    lang = "zh-CN" if language == "zh" else "en"
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8" />\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
            f'<title>{html.escape(title)}</title>\n'
            f'<style type="text/css">\n{font_css}\n{INDEX_CSS}</style>\n</head>\n<body>\n<main>\n{NAV_PLACEHOLDER}'
            f'<h1>{html.escape(title)}</h1><p class="workbench-data">{html.escape(data_text)}</p>'
            f'{"".join(blocks)}\n</main>\n</body>\n</html>\n')


INDEX_CSS = """
body { font-family: 'Workbench CJK', system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1f2328;
  line-height: 1.6; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 0 1rem 3rem; }
h1 { font-size: 1.8rem; } h2 { font-size: 1.25rem; margin-top: 1.6rem; }
a { color: #0b57d0; }
.workbench-data { color: #3b4450; }
.workbench-nav { display: flex; flex-wrap: wrap; gap: 0.2rem 1rem; padding: 0.6rem 0; border-bottom: 1px solid #d0d7de;
  font-size: 0.9rem; }
.workbench-nav [aria-current] { font-weight: 600; }
"""
