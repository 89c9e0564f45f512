"""The web demo: describe an artwork, show where the model looked, rate descriptions.

Beside the top-5 lists of style, artist and genre, the page shows the top content
tags and period bins (when the model has those heads), the expected year, and the
palette and light measured from the pixels.

`Demo` holds the restored model and the functions the page calls (tests call
them directly); `build_blocks(demo)` lays out the Gradio page. Everything the
page needs is served by this process: no CDN fonts or scripts, no analytics.
What the page says never names a folder of the server: images by file name only.
"""

import os

# Read by gradio when a Blocks is made, and by its analytics calls: off, whatever
# the environment says; set before any gradio import can run.
os.environ['GRADIO_ANALYTICS_ENABLED'] = 'False'

import html  # pylint: disable=g-import-not-at-top

import gradio as gr  # pylint: disable=g-import-not-at-top
import ml_collections
import numpy as np
from PIL import Image

from wikiart_jax.core import IMAGE_EXTENSIONS, TASKS
from wikiart_jax.data import dataset
from wikiart_jax.data import images as images_lib
from wikiart_jax.data import splits
from wikiart_jax.inference import predictor as predictor_lib
from wikiart_jax.inference import rollout
from wikiart_jax.metrics import ratings

LANGS = {'English': 'en', 'Français': 'fr'}
TOP_K = 5
NUM_EXAMPLES = 6
DISPLAY_SIZE = 512  # longest side of pictures sent to the browser
IMAGE_HEIGHT = 320  # on-page height of the picture boxes, in CSS pixels
SPLIT_FILE = 'style_val.csv'  # the ArtGAN evaluation split


def eval_images(config: ml_collections.ConfigDict, workdir: str) -> list[str]:
  """Images to rate (and to offer as examples), in a stable order.

  `config.serve.rating_dir` when set: every image under it. Otherwise the
  evaluation split: the files `style_val.csv` lists (in data.split_dir or the
  raw tree, e.g. `<workdir>/synthetic_raw`) that exist. May be empty.
  """
  folder = config.serve.rating_dir
  if folder:
    if not os.path.isdir(folder):
      raise FileNotFoundError(f'config.serve.rating_dir={folder} is not a folder')
    found = [os.path.join(root, name) for root, _, names in os.walk(folder)
             for name in names if name.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found)
  try:
    raw = dataset.raw_dir(config.data, workdir)
  except ValueError:  # a real-data config without raw_dir: nothing to list
    return []
  split_file = os.path.join(config.data.split_dir or raw, SPLIT_FILE)
  if not os.path.exists(split_file):
    return []
  paths = (os.path.join(raw, rel) for rel, _ in splits.read_split_csv(split_file))
  return [p for p in paths if os.path.isfile(p)]


def _spread(items: list[str], n: int) -> list[str]:
  """n items evenly spaced through the list (split files are grouped by style)."""
  if len(items) <= n:
    return list(items)
  return [items[i * len(items) // n] for i in range(n)]


def _display(rgb: np.ndarray) -> np.ndarray:
  """A copy sized for the page: big scans shrunk, thumbnails enlarged."""
  longest = max(rgb.shape[:2])
  target = min(max(longest, IMAGE_HEIGHT), DISPLAY_SIZE)
  if target == longest:
    return rgb
  scale = target / longest
  size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
  return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def tag_scores(result: dict) -> dict[str, float] | None:
  """The tags as the page lists them ({English phrase: probability}); None without a tag head."""
  if 'tags' not in result:
    return None
  return {t['en']: t['prob'] for t in reversed(result['tags'])}


def period_scores(result: dict) -> dict[str, float] | None:
  """The top period bins ({'1850–1874': probability}); None without a period head."""
  if 'period' not in result:
    return None
  return {b['label']: b['prob'] for b in reversed(result['period']['top'])}


def content_html(result: dict) -> str:
  """The expected year, the palette as swatches with their names and shares, and the light."""
  parts = []
  if 'period' in result:
    parts.append(f"<p><b>Expected year</b>: about {result['period']['year']}</p>")
  palette, light = result.get('palette'), result.get('light')
  if palette is not None:
    if palette['black_and_white']:
      parts.append('<p><b>Palette</b>: black and white</p>')
    else:
      swatches = ''.join(
          f'<span style="display:inline-block;margin-right:.8em">'
          f'<span style="display:inline-block;width:1.2em;height:1.2em;vertical-align:middle;'
          f'border:1px solid #888;background:{html.escape(c["hex"])}"></span> '
          f'{html.escape(c["en"])} / {html.escape(c["fr"])} {c["share"]:.0%}</span>'
          for c in palette['colours'])
      parts.append(f'<p><b>Palette</b>: {swatches}</p>')
  if light is not None:
    parts.append('<p><b>Light</b>: ' + ', '.join(f'{k} {v:.2f}' for k, v in light.items())
                 + '</p>')
  return '\n'.join(parts)


def shown_descriptions(result: dict) -> dict[str, str]:
  """Per language, the text on the page: the learned captioner's description with
  the composed one beside it, or the composed one alone."""
  generated = result.get('generated')
  if not generated:
    return dict(result['description'])
  if 'description' not in result:  # zero-shot BLIP-2: no labels, no composed sentence
    return dict(generated)
  return {lang: f"{text}\n(composed from the labels: {result['description'][lang]})"
          for lang, text in generated.items()}


class Demo:
  """The restored classifier and the page's callbacks."""

  def __init__(self, config: ml_collections.ConfigDict, workdir: str):
    self.workdir = workdir
    # Uploads (serve.max_upload_pixels, 0 = the data's limit) and images read here.
    self.max_pixels = config.data.max_image_pixels
    self.max_upload_pixels = config.serve.max_upload_pixels or self.max_pixels
    self.predictor = predictor_lib.Predictor(config, workdir)
    self._params = self.predictor.params
    self._rollout = rollout.make_rollout_fn(self.predictor.parts)
    self.eval_images = eval_images(config, workdir)
    examples_dir = config.serve.examples_dir
    if examples_dir:
      if not os.path.isdir(examples_dir):
        raise FileNotFoundError(f'config.serve.examples_dir={examples_dir} is not a folder')
      self.examples = sorted(
          os.path.join(examples_dir, n) for n in os.listdir(examples_dir)
          if n.lower().endswith(IMAGE_EXTENSIONS))[:NUM_EXAMPLES]
    else:
      self.examples = _spread(self.eval_images, NUM_EXAMPLES)

  @property
  def source(self) -> str:
    """What answers: a trained checkpoint, or released BLIP-2 (zero-shot)."""
    if self.predictor.zero_shot:
      return 'zero-shot BLIP-2: its own captions, no labels'
    return f'checkpoint step {self.predictor.step}'

  def analyse(self, rgb: np.ndarray, name: str | None = None) -> dict:
    """Top-5 labels, both descriptions, and the rollout heat map [g, g]."""
    result = self.predictor.label(rgb, k=TOP_K, name=name)
    batch = self.predictor.preprocess(rgb)[None]
    result['heatmap'] = np.asarray(self._rollout(self._params, batch))[0]
    return result

  # The describe tab.

  def describe(self, file_path: str | None, lang: str):
    """Upload -> (result, description, style, artist, genre, image, overlay, tags,
    period, content, status): the status line last, as API clients read it.

    Never raises for a bad upload: the status line says what is wrong and the
    other outputs are cleared, so the page (and the server) carry on.
    """
    empty = (None, '', None, None, None, None, None, None, None, '')
    if not file_path:
      return empty + ('Upload an image (JPEG, PNG, WebP, TIFF...) or pick an example.',)
    name = os.path.basename(file_path)
    try:
      rgb = images_lib.load_rgb(file_path, name=name, max_pixels=self.max_upload_pixels)
    except images_lib.ImageError as e:
      return empty + (f'Error: {e}',)
    result = self.analyse(rgb)  # an upload's name is no title and no year
    # Folder-style names ('High_Renaissance') read better with spaces; reversed so a
    # shared display name keeps its highest probability.
    labels = [{r['label'].replace('_', ' '): r['prob'] for r in reversed(result.get(t, []))}
              for t in TASKS]
    overlay = rollout.overlay(rgb, result.pop('heatmap'))
    result['shown'] = shown_descriptions(result)
    return (result, result['shown'][LANGS.get(lang, 'en')], *labels,
            _display(rgb), overlay, tag_scores(result), period_scores(result),
            content_html(result), f'Described {name}.')

  @staticmethod
  def switch_language(result: dict | None, lang: str) -> str:
    """The text shown for a described image (its 'shown') or a rating item (its
    'description') in `lang`; '' before there is one."""
    if not result:
      return ''
    return (result.get('shown') or result['description'])[LANGS.get(lang, 'en')]

  # The rating tab.

  def start_index(self) -> int:
    """Where a new rating session starts: after the images rated so far."""
    return len(ratings.load(self.workdir)) % max(len(self.eval_images), 1)

  def show_item(self, index: int, lang: str):
    """(index, item, image, description, status) for the index-th eval image.

    Unreadable images are skipped (with a note), so one bad file does not
    block the session.
    """
    if not self.eval_images:
      return index, None, None, '', 'No evaluation images to rate (set config.serve.rating_dir).'
    skipped = []
    for step in range(len(self.eval_images)):
      i = (index + step) % len(self.eval_images)
      path = self.eval_images[i]
      try:
        rgb = images_lib.load_rgb(path, name=os.path.basename(path), max_pixels=self.max_pixels)
      except images_lib.ImageError as e:
        skipped.append(str(e))
        continue
      result = self.predictor.label(rgb, k=1, name=path)
      # The learned captioner's description when the model has one.
      item = {'image': path, 'description': result.get('generated') or result['description'],
              'predicted': {t: result[t][0]['label'] for t in TASKS if t in result}}
      note = f'Image {i + 1} of {len(self.eval_images)}.'
      if skipped:
        note += ' Skipped: ' + '; '.join(skipped)
      return i, item, _display(rgb), item['description'][LANGS.get(lang, 'en')], note
    return index, None, None, '', 'Error: no readable evaluation image: ' + '; '.join(skipped)

  def rate(self, index: int, item: dict | None, lang: str, correctness, fluency,
           comment: str, rater: str):
    """Saves one rating and moves on: (index, item, image, description, status, ...)."""
    keep = (gr.update(), gr.update(), gr.update())  # leave the scores as they are
    if not item:
      return (index, item, gr.update(), gr.update(), 'Error: no image to rate.') + keep
    if correctness is None or fluency is None:
      return (index, item, gr.update(), gr.update(),
              'Error: choose a correctness and a fluency score (1-5).') + keep
    code = LANGS.get(lang, 'en')
    try:
      record = {'image': item['image'], 'lang': code,
                'description': item['description'][code],
                'correctness': int(correctness), 'fluency': int(fluency),
                'comment': (comment or '').strip(), 'rater': (rater or '').strip(),
                'predicted': item['predicted'], 'step': self.predictor.step}
      ratings.append(self.workdir, record)
    except OSError as e:  # its text would name the server's folders
      return (index, item, gr.update(), gr.update(),
              f'Error: rating not saved: {e.strerror or type(e).__name__}') + keep
    except (ValueError, TypeError) as e:
      return (index, item, gr.update(), gr.update(), f'Error: rating not saved: {e}') + keep
    count = len(ratings.load(self.workdir))
    shown = self.show_item(index + 1, lang)
    status = f'Saved (rating {count} in {ratings.RATINGS_FILE}). {shown[-1]}'
    return shown[:-1] + (status, None, None, '')

  def skip(self, index: int, lang: str):
    return self.show_item(index + 1, lang)


def build_blocks(demo: Demo) -> gr.Blocks:
  """The page: a 'Describe' tab and a 'Rate descriptions' tab."""
  # delete_cache: uploads are copied into gradio's cache; drop them after an hour.
  with gr.Blocks(title='WikiArt JAX', analytics_enabled=False,
                 delete_cache=(3600, 3600)) as blocks:
    gr.Markdown(f'# WikiArt JAX\nStyle, artist and genre of an artwork, with a '
                f'description in English or French ({demo.source}).'
                + (f'\n\n**{predictor_lib.SYNTHETIC_NOTE}**' if demo.predictor.synthetic
                   else ''), elem_id='intro')
    with gr.Tab('Describe'):
      result = gr.State(None)
      with gr.Row():
        with gr.Column():
          # Image types only: gradio refuses other uploads, the decoder other contents.
          upload = gr.File(label='Artwork', type='filepath', elem_id='upload',
                           file_types=list(IMAGE_EXTENSIONS))
          lang = gr.Radio(list(LANGS), value='English', label='Language', elem_id='lang')
          if demo.examples:
            gr.Examples([[p] for p in demo.examples], inputs=[upload],
                        example_labels=[os.path.basename(p) for p in demo.examples],
                        label='Examples (evaluation split)')
          status = gr.Markdown(elem_id='status')
          description = gr.Textbox(label='Description', interactive=False,
                                   elem_id='description')
        picture = gr.Image(label='Your image', interactive=False, height=IMAGE_HEIGHT,
                           elem_id='picture')
        heat = gr.Image(label='Where the model looked (attention rollout)',
                        interactive=False, height=IMAGE_HEIGHT, elem_id='heatmap')
      with gr.Row():
        labels = [gr.Label(num_top_classes=TOP_K, label=f'{t.capitalize()}: top {TOP_K}',
                           elem_id=f'top-{t}') for t in TASKS]
      with gr.Row():
        tags = gr.Label(num_top_classes=TOP_K, label=f'What it shows: top {TOP_K} tags',
                        elem_id='top-tags')
        period = gr.Label(num_top_classes=3, label='Period: top 3', elem_id='top-period')
        content = gr.HTML(elem_id='content')
      upload.change(demo.describe, [upload, lang],
                    [result, description, *labels, picture, heat, tags, period, content,
                     status], api_name='describe')
      lang.change(Demo.switch_language, [result, lang], [description],
                  api_visibility='private')

    with gr.Tab('Rate descriptions'):
      index, item = gr.State(0), gr.State(None)
      with gr.Row():
        rate_picture = gr.Image(label='Artwork', interactive=False, height=2 * IMAGE_HEIGHT,
                                elem_id='rate-picture')
        with gr.Column():
          rate_lang = gr.Radio(list(LANGS), value='English', label='Language',
                               elem_id='rate-lang')
          rate_text = gr.Textbox(label='Generated description', interactive=False,
                                 elem_id='rate-description')
          correctness = gr.Radio([1, 2, 3, 4, 5], label='Correctness: do style, '
                                 'artist and genre fit the picture? (1 = wrong, 5 = right)',
                                 elem_id='rate-correctness')
          fluency = gr.Radio([1, 2, 3, 4, 5], label='Fluency: is it well written? '
                             '(1 = broken, 5 = natural)', elem_id='rate-fluency')
          comment = gr.Textbox(label='Comment (optional)', elem_id='rate-comment')
          rater = gr.Textbox(label='Your name or initials (optional)', elem_id='rate-rater')
          with gr.Row():
            submit = gr.Button('Submit rating', variant='primary', elem_id='rate-submit')
            skip = gr.Button('Skip', elem_id='rate-skip')
          rate_status = gr.Markdown(elem_id='rate-status')
      shown = [index, item, rate_picture, rate_text, rate_status]
      submit.click(demo.rate, [index, item, rate_lang, correctness, fluency, comment, rater],
                   shown + [correctness, fluency, comment], api_visibility='private')
      skip.click(demo.skip, [index, rate_lang], shown, api_visibility='private')
      rate_lang.change(Demo.switch_language, [item, rate_lang], [rate_text],
                       api_visibility='private')
      blocks.load(lambda lg: demo.show_item(demo.start_index(), lg), [rate_lang], shown,
                  api_visibility='private')
  return blocks
