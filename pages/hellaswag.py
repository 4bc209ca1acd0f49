"""What happens next (KoBEST HellaSwag): which of four endings follows the context? One row per model."""

from explorer.tasks.registry import get
from explorer.ui.task_page import render

render(get("hellaswag"))
