"""Model internals made visible: padding and attention masks, position embeddings.

Pure computation (torch + transformers); the Streamlit pages live in ``explorer/ui``.
"""
