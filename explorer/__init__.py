"""ko-model-explorer core library.

Everything the Streamlit pages show is computed here, so it can be tested
without a browser. Only ``explorer.ui`` imports streamlit.
"""

__version__ = "0.1.0"
