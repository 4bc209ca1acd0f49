"""Streamlit building blocks shared by pages (the only streamlit importers)."""
