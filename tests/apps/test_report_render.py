"""The report's blocks rendered as HTML (parsed back with html.parser) and as Markdown."""

from html.parser import HTMLParser

from wikiart_jax.apps import report_render as r

BLOCKS = [
    r.Heading(1, 'Report <b>'),
    r.Para('top-1 & *all* | of_it'),
    r.Figure('figures/style.png', 'style "confusion"'),
    r.Table(['class', 'top1'], [['Baroque', '0.953'], ['<i>x</i>', 'n/a']], summary='per class'),
    r.Cards([r.Card('samples/0.jpg', 'A # title', [('truth', 'Baroque'), ('en', 'a_b')],
                    strip='samples/0_palette.png'),
             r.Card(None, 'unreadable', [])]),
]


class _Collector(HTMLParser):
  """The start tags (with attributes) and the text of a document."""

  def __init__(self):
    super().__init__()
    self.tags, self.text = [], []

  def handle_starttag(self, tag, attrs):
    self.tags.append((tag, dict(attrs)))

  def handle_data(self, data):
    self.text.append(data)


def test_html_holds_every_block_with_its_text_escaped():
  page = r.render_html(BLOCKS)
  parsed = _Collector()
  parsed.feed(page)
  tags = [t for t, _ in parsed.tags]
  # The text comes back as written: nothing of it became markup (the <b> are the
  # card lines' labels).
  assert tags.count('b') == 2 and 'i' not in tags and 'script' not in tags
  text = ''.join(parsed.text)
  for words in ('Report <b>', 'top-1 & *all* | of_it', '<i>x</i>', 'per class', 'A # title',
                'image unavailable'):
    assert words in text
  images = [a for t, a in parsed.tags if t == 'img']
  assert [a['src'] for a in images] == ['figures/style.png', 'samples/0.jpg',
                                        'samples/0_palette.png']
  assert images[0]['alt'] == 'style "confusion"'
  # Numbers (and n/a) are right-aligned cells; the table folds under its summary.
  cells = [a.get('class') for t, a in parsed.tags if t == 'td']
  assert cells == [None, 'num', None, 'num']
  assert tags.index('details') < tags.index('summary') < tags.index('table')
  assert not [a for t, a in parsed.tags if t in ('link', 'script')]  # self-contained


def test_markdown_holds_every_block_with_its_text_escaped():
  md = r.render_markdown(BLOCKS)
  assert md.startswith('# Report &lt;b&gt;\n')
  assert 'top-1 &amp; \\*all\\* \\| of\\_it' in md
  assert '![style "confusion"](figures/style.png)' in md
  assert '| class | top1 |\n|---|---|\n| Baroque | 0.953 |\n| &lt;i&gt;x&lt;/i&gt; | n/a |' in md
  assert '#### A \\# title\n' in md and '![palette](samples/0_palette.png)' in md
  assert '- **truth**: Baroque\n- **en**: a\\_b' in md
  assert '#### unreadable\n\n*image unavailable*' in md
