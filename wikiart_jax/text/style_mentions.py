"""Which style a written description names, read back from its words.

The caption evaluator's `style_named` metric (and the check that the learned
description agrees with the style head) reads it: each style's English
adjective and French adjective and movement noun, lower-cased, longest first.
"""

import re

from wikiart_jax.text import lexicon


def _style_forms() -> dict[str, list[tuple[str, str]]]:
  """Lower-cased ways each style is written, per language, longest first."""
  forms = {}
  for lang, tables in (('en', (lexicon.STYLE_EN,)),
                       ('fr', (lexicon.STYLE_FR, lexicon.STYLE_FR_NOUN))):
    pairs = []
    for table in tables:
      for style, text in table.items():
        text = re.sub(r"^(l'|le |la |les )", '', text.lower())
        pairs.append((text, style))
    # Longest first; among equal lengths by text, so that the order (and which style
    # a sentence naming two is read as) never depends on Python's hash seed.
    forms[lang] = sorted(set(pairs), key=lambda p: (-len(p[0]), p))
  return forms


_FORMS = _style_forms()


def named_style(text: str, lang: str) -> str | None:
  """The style a description names: its longest style form found, or None.

  Longest first, so 'Analytical Cubist' is not read as 'Cubist'.
  """
  lowered = text.lower()
  for form, style in _FORMS[lang]:
    if re.search(rf'(?<!\w){re.escape(form)}(?!\w)', lowered):
      return style
  return None
