"""Model internals made visible: padding and attention masks, position embeddings.

Pure computation (torch + transformers); the Streamlit pages live in ``explorer/ui``.
"""

# Attribution choices the CLI offers too, kept here (no torch import) so parsing
# arguments stays cheap; explorer.internals.attributions uses the same names.
METHODS = ("ig", "saliency", "input_x_gradient", "occlusion")
# IG converges well before this on every checkpoint we tried; more only costs time
# (each step is a forward and backward pass), so a larger value is a typo.
MAX_STEPS = 1000
