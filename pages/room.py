"""Peer room: a shared live board of items, human judgements and the models' answers (explorer.ui.room)."""

from explorer.ui.room import render
from explorer.ui.state import leave_legacy_multipage_mode

leave_legacy_multipage_mode()
render()
