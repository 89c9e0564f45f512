"""BLIP-2's prompts: the labels as text, and the ids its language model reads."""

import pytest

from wikiart_jax.text import prompts
from wikiart_jax.text import tokenizer as tok_lib


def test_the_label_prompt_names_the_labels_and_the_language():
  assert prompts.label_prompt('Post_Impressionism', 'Vincent van Gogh', 'still_life', 'en') == (
      'Style: Post Impressionism. Artist: Vincent van Gogh. Genre: still life. '
      'Description in English:')
  # Unknown labels are left out, not guessed.
  assert prompts.label_prompt('Baroque', None, None, 'fr') == (
      'Style: Baroque. Description en français\u00a0:')
  assert prompts.zero_shot_prompt('en') == ''
  with pytest.raises(ValueError, match="caption language must be one of .*'de'"):
    prompts.label_prompt('Baroque', None, None, 'de')


def test_framing_places_bos_or_eos_as_each_family_reads_a_prompt(tmp_path):
  tok = tok_lib.build_bpe_tokenizer(str(tmp_path), ['Style: Baroque.'], vocab_size=300)
  ids = tok.encode('Style: Baroque.', add_special_tokens=False)
  assert prompts.Framing('opt', bos=1, eos=2, pad=0).prompt(tok, 'Style: Baroque.') == [1, *ids]
  assert prompts.Framing('t5', bos=0, eos=2, pad=0).prompt(tok, 'Style: Baroque.') == [*ids, 2]
  assert prompts.Framing('opt', bos=1, eos=2, pad=0).prompt(tok, '') == [1]  # zero-shot English
  with pytest.raises(ValueError, match="family must be one of .*'gpt2'"):
    prompts.Framing('gpt2', bos=1, eos=2, pad=0)
