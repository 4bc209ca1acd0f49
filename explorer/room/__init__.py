"""The peer room: a shared board where peers add items and their own judgements, beside the models'.

``store`` keeps rooms, items, votes and model judgements in a real database (SQLite by default, PostgreSQL when
``EXPLORER_DB_URL`` names one); ``summary`` turns a board into agreement numbers; ``board`` exports and imports
boards. None of them imports Streamlit or the model service: the page (``explorer.ui.room``) joins them.
"""
