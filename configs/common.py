"""Shared defaults for every experiment: each config file starts from `get_config()`.

Fields are grouped as big_vision/flax examples do: `config.data`, `config.model`,
`config.train`, `config.eval`, `config.predict`, `config.serve`. Overrides come
from the command line (`--config.train.num_steps=10`); the config is locked, so a
misspelt key is an error.
"""

import ml_collections

# The 27 styles grouped into families for the optional hierarchical style head
# (P(style) = P(family) * P(style | family)); data, not code, so a user can regroup.
STYLE_FAMILIES = {
    'renaissance': ('Early_Renaissance', 'High_Renaissance',
                    'Mannerism_Late_Renaissance', 'Northern_Renaissance'),
    'baroque_rococo': ('Baroque', 'Rococo'),
    'romanticism_realism': ('Romanticism', 'Realism', 'Contemporary_Realism',
                            'New_Realism'),
    'impressionism_and_after': ('Impressionism', 'Post_Impressionism',
                                'Pointillism', 'Fauvism'),
    'modern_figurative': ('Expressionism', 'Symbolism', 'Art_Nouveau',
                          'Naive_Art_Primitivism'),
    'cubism': ('Cubism', 'Analytical_Cubism', 'Synthetic_Cubism'),
    'abstraction': ('Abstract_Expressionism', 'Action_painting',
                    'Color_Field_Painting', 'Minimalism'),
    'pop_and_print': ('Pop_Art', 'Ukiyo_e'),
}


def get_config() -> ml_collections.ConfigDict:
  """Returns the defaults: ViT-B/16 multi-task on the ArtGAN WikiArt tree."""
  config = ml_collections.ConfigDict()
  config.mode = 'train'  # train | eval | predict | serve | bench | prepare | embed
  config.seed = 0  # model init and dropout
  config.init_from = ''  # 'hf:<hub id>' or a local Hugging Face folder; '' = random init

  config.data = data = ml_collections.ConfigDict()
  data.source = 'artgan'  # synthetic | artgan | hf_parquet
  data.raw_dir = ''  # style folders (artgan) or parquet files (hf_parquet)
  data.split_dir = ''  # folder with style_train.csv ...; '' = look in raw_dir, else seeded split
  data.tfds_dir = ''  # where `prepare` writes and training reads; '' = <workdir>/tfds
  data.resize_shorter = 320  # images are stored with this shorter side (never upscaled)
  data.image_size = 224  # crop fed to the model
  # Larger images are refused as possible decompression bombs (2**28: 16,384 x 16,384);
  # above 2**24 pixels they are decoded at a reduced size (data/images.py).
  data.max_image_pixels = 2**28
  data.val_fraction = 0.3  # held out by the seeded split when there are no split files
  data.test_fraction = 0.5  # of the held-out (ArtGAN's val list): stratified by style -> test
  data.batch_size = 128  # global batch (all processes)
  data.eval_batch_size = 256
  data.worker_count = 0  # grain worker processes (0 = in the main process)
  data.artist_balance_alpha = 0.0  # sample weight 1/count**alpha for the artist task; 0 = off
  data.shuffle_seed = 0
  data.class_count_charts = True  # prepare draws class_counts_<task>.png (~1 s of CPU; the JSON tables always)
  data.caption = ml_collections.ConfigDict()
  data.caption.max_len = 48  # BOS + language tag + sentence + EOS, padded
  data.caption.languages = ('en', 'fr')  # one drawn per training example
  data.caption.language_weights = ()  # how often each of those is drawn; () = equally
  data.caption.tokenizer = ''  # 'hf:<id>' or folder, cased and French; '' = a BPE of the descriptions
  data.caption.vocab_size = 1024  # that BPE's size (fewer if the descriptions hold fewer merges)
  data.caption.artemis_csv = ''  # optional ArtEmis CSV (art_style, painting, emotion, utterance)
  data.caption.artemis_ratio = 0.0  # share of English targets taken from ArtEmis
  data.caption.hedge_ratio = 0.0  # share of targets hedged, a quarter "probably", the rest two styles (only with hedge_style_sure)
  data.caption.close_runner_up = 0.0  # share of two-style targets whose runner-up's name shares a word with the style (else any style)
  data.caption.tag_drop = 0.0  # each present tag left out of a target (and its tag tokens) at this rate (captioners with tag tokens)
  data.caption.style_swap = 0.0  # share of targets naming a random other style, which the style token then holds (one-hot label tokens)
  data.caption.artist_swap = 0.0  # the same for the artist
  data.tags = ml_collections.ConfigDict()
  data.tags.clip_from = ''  # CLIP ('hf:<id>' or folder) scoring every image against the tags at prepare; '' = none
  data.tags.clip_lang = 'both'  # the tag prompts' languages: en | fr | both
  data.tags.clip_batch_size = 64  # images per CLIP forward pass at prepare
  data.tags.clip_chunk_size = 1024  # images per saved chunk of scores: what an interrupted prepare redoes
  data.synthetic = ml_collections.ConfigDict()
  data.synthetic.images_per_style = 60  # rendered images per style (train + val)
  data.synthetic.image_size = 64  # side of the rendered images
  data.synthetic.seed = 0
  data.synthetic.val_fraction = 0.3  # share of each style's images held out (val, then split into val and test)

  config.model = model = ml_collections.ConfigDict()
  model.variant = 'B/16'  # tiny | Ti/16 | S/16 | B/16 | L/14 | L/16; sizes below override
  model.image_size = ml_collections.FieldReference(224)  # kept equal to data.image_size
  model.patch_size = ml_collections.FieldReference(None, field_type=int)
  model.hidden_size = ml_collections.FieldReference(None, field_type=int)
  model.num_layers = ml_collections.FieldReference(None, field_type=int)
  model.num_heads = ml_collections.FieldReference(None, field_type=int)
  model.mlp_dim = ml_collections.FieldReference(None, field_type=int)
  model.dropout = 0.0  # dropout in the transformer blocks
  model.layer_norm_eps = 1e-12  # Hugging Face ViT uses 1e-12, CLIP 1e-5
  model.activation = 'gelu'  # gelu (exact, HF ViT) | quick_gelu (CLIP) | gelu_tanh
  model.pre_layernorm = False  # CLIP vision applies a LayerNorm before the blocks
  model.patch_bias = True  # CLIP's patch embedding has no bias
  model.final_norm = 'all'  # all: LayerNorm on every token (HF ViT); cls: on CLS only (CLIP)
  model.pooler = 'none'  # none: pooled = CLS; tanh: HF ViTPooler dense + tanh; norm: the final norm on CLS again (BLIP-2)
  model.qkv = 'separate'  # separate: query/key/value projections; fused: one qkv projection (BLIP-2's EVA tower)
  model.head_hidden = 0  # hidden width of the MLP heads; 0 = a linear head
  model.head_dropout = 0.0
  model.hierarchical_style = False  # P(style) = P(family) * P(style | family)
  model.tags_head = True  # a sigmoid content-tag head, when the dataset has tag targets
  model.period_head = True  # a softmax head over 25-year bins 1400-2025 (the period)
  model.style_families = ml_collections.ConfigDict(
      {k: list(v) for k, v in STYLE_FAMILIES.items()})
  model.dtype = 'bfloat16'  # compute dtype; parameters stay float32
  model.captioner = 'none'  # none | git (GIT decoder over [image; text]) | prefix (GPT-2 with an image prefix) | blip2 (Q-Former + OPT or Flan-T5)
  model.caption_decoder = ml_collections.ConfigDict()
  model.caption_decoder.init_from = ''  # 'hf:<id>' or folder of a GIT (git), GPT-2 (prefix) or BLIP-2 (blip2: also the backbone and tokenizer unless set); its config.json sets the sizes
  model.caption_decoder.architecture = ''  # blip2 without init_from: blip2-opt-2.7b | blip2-flan-t5-xl sizes, random weights (bench, tests)
  model.caption_decoder.lm_dtype = 'float32'  # blip2: storage of the frozen language model; bfloat16 halves it
  model.caption_decoder.lora_rank = 0  # blip2: LoRA adapters of this rank on the language model's attention (qwix); 0 = none
  model.caption_decoder.lora_alpha = 16.0  # blip2: LoRA scale alpha / rank
  model.caption_decoder.int8 = False  # blip2: the frozen language model's weights in int8 (qwix PTQ)
  model.caption_decoder.hidden_size = 512
  model.caption_decoder.num_layers = 4
  model.caption_decoder.num_heads = 8
  model.caption_decoder.mlp_dim = 2048
  model.caption_decoder.image_tokens = 'all'  # all | cls | grid<K>: CLS + patch grid pooled to KxK
  model.caption_decoder.label_tokens = False  # also feed the heads' predictions (soft label embeddings) as tokens
  model.caption_decoder.label_tokens_top1 = False  # those tokens are the heads' top-1 rows, not soft mixes
  model.caption_decoder.tag_slots = 0  # top1: a token per named tag, at most this many (0: one summed tag token)
  model.caption_decoder.hedge_style_sure = 0.0  # top1, > 0: a style-hedge token; the style head's softmax at or above: stated
  model.caption_decoder.hedge_style_probable = 0.0  # at or above: "probably"; below: the two closest styles
  model.caption_decoder.content_tokens = True  # with label_tokens: a tag token and a period token too (when the heads exist)
  model.caption_decoder.max_positions = 512  # git: text positions; prefix: image tokens + text
  model.caption_decoder.dropout = 0.1
  model.attention = 'auto'  # auto (cuDNN on GPU with bf16, tokens padded to x16) | xla | cudnn
  model.remat = 'none'  # none | full | dots: activation memory vs recompute in each block (and in BLIP-2's language model)

  config.train = train = ml_collections.ConfigDict()
  train.num_steps = 20_000
  train.warmup_steps = 1_000
  train.learning_rate = 1e-4  # peak (heads), after linear warm-up; cosine decay to 0 per stage
  train.backbone_learning_rate = ml_collections.FieldReference(None, field_type=float)  # None = learning_rate
  train.layer_decay = 1.0  # backbone block i gets decay**(L-1-i) of its rate; 1 = off
  # Staged unfreezing, 'start:what, ...' with what = heads | last<K> | all, e.g.
  # '0:heads, 2000:last4' (heads first, then the last 4 blocks); '' = all from the start.
  train.stages = ''
  train.stage_unit = 'step'  # step | epoch: the unit of the stage starts
  train.stage_warmup_steps = 100  # warm-up at the start of every stage after the first
  train.adam_mu_dtype = ''  # '' = float32; 'bfloat16' halves the first moment's memory
  train.weight_decay = 0.05
  train.grad_clip_norm = 1.0  # 0 = off
  train.grad_accum_steps = 1  # micro-batches per optimizer step (data.batch_size in all)
  train.fsdp = 1  # devices sharing each parameter and its Adam state (FSDP); 1 = replicated
  train.label_smoothing = 0.1  # on the style task
  train.focal_gamma = 2.0  # focal loss on the artist task
  train.lambda_artist = 0.5
  train.lambda_genre = 1.0
  train.lambda_family = 0.5  # extra loss on P(family) when the style head is hierarchical
  train.lambda_tags = 0.2  # weight of the tag loss (BCE summed over tags, mean over images: large)
  train.lambda_period = 0.2  # weight of the period loss (cross-entropy over the bins + mean term)
  train.period_mean_weight = 1.0  # in the period loss: |expected year - year| / 25 beside the CE
  train.lambda_caption = 1.0  # weight of the captioning loss (when model.captioner is set)
  train.log_every = 50  # steps between training summaries
  train.eval_every = 1_000  # steps between held-out evaluations (and checkpoints)
  train.keep_checkpoints = 3  # the last k are kept, and the best on eval.best_metric
  train.nan_check = True  # stop on a non-finite loss, keeping the last good checkpoint

  config.eval = ml_collections.ConfigDict()
  config.eval.step = -1  # checkpoint step to evaluate; -1 = latest
  config.eval.split = 'val'  # val | test (mode=eval); training selects on val, reports test
  config.eval.best_metric = 'style_top1'  # which metric picks the best checkpoint
  # Confusion matrices drawn at every evaluation (confusion_<task>.png and TensorBoard
  # images): about a second of CPU a figure, four a split. `mode=eval`'s report draws
  # its own either way.
  config.eval.confusion_figures = True
  # What an evaluation measures (evaluators/); 'caption', 'tags' and 'period' run when
  # the model has a captioner, a tag head, a period head; 'calibration' fits each head's
  # temperature on val (saved in <workdir>/calibration.json).
  config.eval.evaluators = ('classification', 'calibration', 'caption', 'tags', 'period')
  # A CLIP checkpoint ('hf:<id>' or folder) for the zero-shot baseline (eval.zero_shot in
  # metrics.json: prompts in English, French and both); '' = off. One CLIP pass per evaluation.
  config.eval.zero_shot_from = ''
  config.eval.caption = ml_collections.ConfigDict()
  config.eval.caption.method = 'greedy'  # greedy | beam | sample (top-p)
  config.eval.caption.num_beams = 4
  config.eval.caption.length_penalty = 1.0
  config.eval.caption.top_p = 0.9
  config.eval.caption.no_repeat_ngram = 0  # n > 0: no n-gram of tokens written twice (transformers' no_repeat_ngram_size)
  config.eval.caption.clip_from = ''  # CLIP ('hf:<id>' or folder) for CLIPScore; '' = skip

  config.predict = ml_collections.ConfigDict()
  config.predict.inputs = ''  # comma-separated image files or folders
  config.predict.output = ''  # .jsonl path; '' = print only
  config.predict.top_k = 5
  config.predict.metadata = ''  # CSV path,title,year: the titles and years descriptions may state
  config.predict.titles_from_wikiart_names = False  # also those of files in WikiArt style folders

  # How surely a description states each prediction (calibrated probabilities).
  config.describe = ml_collections.ConfigDict()
  config.describe.style_sure = 0.6  # at or above: "Impressionist"
  config.describe.style_probable = 0.35  # at or above: "probably Impressionist"; below: two styles
  config.describe.artist_sure = 0.6  # at or above: "by Claude Monet"
  config.describe.artist_attributed = 0.3  # at or above: "attributed to"; below: no artist
  config.describe.genre_sure = 0.5  # at or above: "a landscape"
  config.describe.genre_probable = 0.25  # at or above: "probably a landscape"; below: no genre
  config.describe.period_range_spread = 15.0  # spread (years) up to which: "c. 1870-1895"
  config.describe.period_part_spread = 30.0  # up to which: "late nineteenth century"
  config.describe.period_century_spread = 60.0  # up to which: "nineteenth century"; wider: no period
  config.describe.tag_sure = 0.5  # a content tag at or above: "with a boat"
  config.describe.tag_probable = 0.3  # at or above: "perhaps a boat"; below: not named
  config.describe.max_subjects = 2  # content tags named at most (the most probable)
  config.describe.colour_share = 0.2  # a palette colour covering at least this share is named
  config.describe.max_colours = 2  # palette colours named at most (the largest shares)

  config.embed = ml_collections.ConfigDict()
  config.embed.inputs = ''  # comma-separated image files or folders
  config.embed.output = ''  # .npz path: 'paths' and the pooled backbone features 'pooled'

  config.tracking = ml_collections.ConfigDict()
  config.tracking.wandb = False  # also log to wandb (process 0); TensorBoard is always on
  config.tracking.wandb_project = 'wikiart-jax'
  config.tracking.wandb_entity = ''  # '' = your default entity
  config.tracking.wandb_name = ''  # '' = the workdir's name

  config.distributed = ml_collections.ConfigDict()
  config.distributed.coordinator_address = ''  # host:port of process 0; '' = $JAX_COORDINATOR_ADDRESS or auto (SLURM, Open MPI)
  config.distributed.num_processes = 0  # 0 = $JAX_NUM_PROCESSES, else detected, else 1
  config.distributed.process_id = -1  # -1 = $JAX_PROCESS_ID, else detected

  config.bench = ml_collections.ConfigDict()
  config.bench.steps = 20  # timed train steps
  config.bench.warmup_steps = 3  # untimed steps after compilation
  config.bench.torch = True  # also time the same-size timm ViT when torch and timm import
  config.bench.torch_compile = True  # torch.compile the timm baseline
  config.bench.caption_vocab_size = 0  # captioner vocabulary in bench; 0 = the tokenizer's (set it for a hub tokenizer offline)
  config.bench.timm_model = ''  # '' = from model.variant (B/16, L/14; else timm's generic ViT at our size)
  config.bench.stage = -1  # which train.stages stage's step to time; -1 = the last

  config.serve = ml_collections.ConfigDict()
  config.serve.host = '127.0.0.1'  # any other address needs serve.auth or serve.allow_public
  config.serve.port = 7860
  config.serve.auth = ''  # 'USER:PASSWORD_FILE': Gradio's login, the password read from the file
  config.serve.allow_public = False  # True: serve a non-loopback host without a login
  config.serve.max_upload_mb = 64  # larger uploads are refused before they are read
  config.serve.max_upload_pixels = 0  # larger images are refused; 0 = data.max_image_pixels
  config.serve.examples_dir = ''  # example images; '' = a few from the evaluation split
  config.serve.rating_dir = ''  # images to rate; '' = the evaluation split (style_val.csv)

  # Keep the model's input size tied to the data's crop size.
  config.model.image_size = config.data.get_ref('image_size')
  return config


def use_the_plan_recipe(config: ml_collections.ConfigDict) -> None:
  """The plan's recipe: the heads alone at 1e-4 for 5 epochs (backbone frozen: no
  gradient, no optimizer state), then the last 4 blocks and the final norm at 1e-5;
  L = L_style + 0.5 L_artist + L_genre."""
  config.train.stages = '0:heads, 5:last4'
  config.train.stage_unit = 'epoch'
  config.train.learning_rate = 1e-4
  config.train.backbone_learning_rate = 1e-5
  config.train.lambda_artist = 0.5
  config.train.lambda_genre = 1.0


def use_blip2(config: ml_collections.ConfigDict, checkpoint: str, architecture: str,
              tokenizer_size: int) -> None:
  """A BLIP-2 captioner from `checkpoint` ('hf:<id>' or folder) for one 24 GB GPU: BLIP-2's
  EVA ViT-g is the backbone (the heads read its pooled output), its Q-Former and
  projection train, its language model (stored in bfloat16) stays frozen; the tokenizer
  is the checkpoint's (`tokenizer_size` tokens with BLIP-2's <image>, for offline builds);
  the plan's stages."""
  config.init_from = ''  # the backbone is the checkpoint's own image tower
  # EVA ViT-g as BLIP-2 ships it, spelt out so a random init (bench, tests) matches it.
  model = config.model
  model.variant = 'L/14'
  model.hidden_size, model.num_layers, model.num_heads, model.mlp_dim = 1408, 39, 16, 6144
  model.layer_norm_eps = 1e-6
  model.activation = 'gelu'
  model.pre_layernorm = False
  model.patch_bias = True
  model.final_norm = 'all'  # the Q-Former reads every normalised token
  model.pooler = 'norm'
  model.qkv = 'fused'
  model.captioner = 'blip2'
  dec = model.caption_decoder
  dec.init_from = checkpoint
  dec.architecture = architecture  # the same sizes, for random-weight builds
  dec.lm_dtype = 'bfloat16'  # frozen: no gradient, no optimizer state, half the bytes
  dec.dropout = 0.1  # the Q-Former's, as BLIP-2 trained it
  config.data.caption.tokenizer = ''  # the checkpoint's own
  config.data.image_size = 224
  config.model.dtype = 'bfloat16'  # compute; the trained parameters stay float32
  config.model.remat = 'full'  # the language model's layers, and the tower's unfrozen blocks
  config.data.caption.max_len = 96  # prompt (~30 tokens) and description
  config.bench.caption_vocab_size = tokenizer_size
  config.bench.torch = False  # timm has no captioner to compare with
  config.data.batch_size = 32  # global batch per optimizer step
  config.train.grad_accum_steps = 8  # micro-batches of 4: README's BLIP-2 memory estimate
  config.train.adam_mu_dtype = 'bfloat16'
  use_the_plan_recipe(config)
