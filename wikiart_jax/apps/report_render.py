"""The report's building blocks and their two renderings, HTML and Markdown.

The report (apps/report_html.py) is a list of these blocks, rendered twice so that
the HTML and the Markdown never disagree. The HTML has inline CSS and relative
image links only (no CDN, no script); every piece of text is escaped.
"""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;
  padding:0 1em;color:#222}
h1,h2,h3{color:#1a3a5f}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#eef2f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
img.figure{max-width:100%;border:1px solid #ddd}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));
  gap:1em}
.card{border:1px solid #ddd;border-radius:6px;padding:.6em;font-size:.9em}
.card img{width:100%;height:auto}
.card img.strip{height:18px;display:block;margin-top:2px}
.card ul{padding-left:1.2em;margin:.3em 0}
.missing{color:#a00}
"""


@dataclasses.dataclass
class Heading:
  level: int
  text: str


@dataclasses.dataclass
class Para:
  text: str


@dataclasses.dataclass
class Table:
  header: list[str]
  rows: list[list[Any]]
  summary: str = ''  # when set, the HTML folds the table under this line


@dataclasses.dataclass
class Figure:
  src: str  # relative to out_dir
  alt: str


@dataclasses.dataclass
class Card:
  src: str | None  # thumbnail, None when the image could not be read
  title: str
  lines: list[tuple[str, str]]  # (label, text)
  strip: str | None = None  # the palette strip under the thumbnail


@dataclasses.dataclass
class Cards:
  cards: list[Card]


_NUMERIC = re.compile(r'^-?\d+(\.\d+)?$|^n/a$')


def render_html(blocks) -> str:
  esc = html.escape  # quote=True: also safe inside attributes
  out = ['<!doctype html>', '<html lang="en"><head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         '<title>wikiart-jax evaluation report</title>',
         f'<style>{_CSS}</style></head><body>']
  for b in blocks:
    if isinstance(b, Heading):
      out.append(f'<h{b.level}>{esc(b.text)}</h{b.level}>')
    elif isinstance(b, Para):
      out.append(f'<p>{esc(b.text)}</p>')
    elif isinstance(b, Figure):
      # Linked so a large matrix (50 artists) opens at full resolution.
      out.append(f'<p><a href="{esc(b.src)}"><img class="figure" '
                 f'src="{esc(b.src)}" alt="{esc(b.alt)}"></a></p>')
    elif isinstance(b, Table):
      head = ''.join(f'<th>{esc(h)}</th>' for h in b.header)
      rows = ''.join(
          '<tr>' + ''.join(
              f'<td class="num">{esc(str(c))}</td>' if _NUMERIC.match(str(c))
              else f'<td>{esc(str(c))}</td>' for c in row) + '</tr>'
          for row in b.rows)
      table = f'<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
      if b.summary:
        table = (f'<details><summary>{esc(b.summary)}</summary>{table}'
                 '</details>')
      out.append(table)
    elif isinstance(b, Cards):
      out.append('<div class="grid">')
      for c in b.cards:
        img = (f'<img src="{esc(c.src)}" alt="{esc(c.title)}">' if c.src else
               '<p class="missing">image unavailable</p>')
        if c.strip:
          img += f'<img class="strip" src="{esc(c.strip)}" alt="palette">'
        items = ''.join(f'<li><b>{esc(k)}</b>: {esc(v)}</li>'
                        for k, v in c.lines)
        out.append(f'<div class="card">{img}<h4>{esc(c.title)}</h4>'
                   f'<ul>{items}</ul></div>')
      out.append('</div>')
  out.append('</body></html>\n')
  return '\n'.join(out)


_MD_SPECIAL = re.compile(r'([\\`*_\[\]|~#])')


def _md(text: Any) -> str:
  """Escapes text for Markdown: no raw HTML, no emphasis, no table breaks."""
  text = html.escape(str(text), quote=False).replace('\n', ' ')
  return _MD_SPECIAL.sub(r'\\\1', text)


def render_markdown(blocks) -> str:
  out = []
  for b in blocks:
    if isinstance(b, Heading):
      out.append(f'{"#" * b.level} {_md(b.text)}\n')
    elif isinstance(b, Para):
      out.append(f'{_md(b.text)}\n')
    elif isinstance(b, Figure):
      out.append(f'![{_md(b.alt)}]({b.src})\n')
    elif isinstance(b, Table):
      lines = ['| ' + ' | '.join(_md(h) for h in b.header) + ' |',
               '|' + '---|' * len(b.header)]
      lines += ['| ' + ' | '.join(_md(c) for c in row) + ' |'
                for row in b.rows]
      out.append('\n'.join(lines) + '\n')
    elif isinstance(b, Cards):
      for c in b.cards:
        out.append(f'#### {_md(c.title)}\n')
        out.append(f'![{_md(c.title)}]({c.src})\n' if c.src else
                   '*image unavailable*\n')
        if c.strip:
          out.append(f'![palette]({c.strip})\n')
        out.append('\n'.join(f'- **{_md(k)}**: {_md(v)}' for k, v in c.lines)
                   + '\n')
  return '\n'.join(out)
