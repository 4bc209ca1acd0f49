"""Home: what is registered and loaded, and how to add checkpoints."""

import streamlit as st

from explorer.tasks.registry import TASKS
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode

leave_legacy_multipage_mode()
st.title("ko-model-explorer")
st.markdown(
    "Explore fine-tuned Korean transformer checkpoints on the 2021 NIKL benchmark tasks and KoBEST's: type sentences and see "
    "every model's judgement side by side."
)
for task in TASKS.values():
    st.page_link(task.nav.file, label=task.nav.blurb, icon="➡️")
st.page_link("pages/evaluate.py", label="Evaluate: checkpoints on NIKL/KoBEST files", icon="➡️")

# Everything above needs only the task registry; the table below needs torch and transformers, which a fresh
# server is still importing in the background (explorer.ui.boot). So they are imported here, after the title.
with st.spinner("Loading the model registry…"):
    from explorer.device import pick_device
    from explorer.ui.home import loaded_names, registry_frame
    from explorer.ui.tables import MISSING

    explorer = get_explorer()

entries, problems = explorer.registry()
for problem in problems:
    st.warning(problem)
st.subheader("Registered models")
frame = registry_frame(explorer, entries)
st.dataframe(
    frame,
    hide_index=True,
    width="stretch",
    height="content",  # every model in sight: with the six from `make models` there are 13, past the default ten rows
    placeholder=MISSING,  # a scorer without a parameter count (Kiwi) shows a dash, not "None"
    column_config={
        "model": st.column_config.TextColumn("model", width="medium", pinned=True),
        "task inferred from": st.column_config.TextColumn("task inferred from", width="medium"),
        "parameters": st.column_config.NumberColumn("parameters", format="compact"),
        "status": st.column_config.TextColumn("status", width="medium"),
        "about": st.column_config.TextColumn("about", width="large"),
    },
)
choice = st.session_state.get("device", explorer.settings.device)
st.caption(
    f"Device: {pick_device(choice)} (setting: {choice}) · loaded now: {', '.join(loaded_names(explorer, entries)) or 'none'}"
    f" · at most {explorer.settings.max_models} models and {explorer.settings.cache_bytes / 2**30:.1f} GB of weights"
    " stay loaded (the least recently used go first)"
)

task_ids = ", ".join(list(TASKS)[:-1]) + " or " + list(TASKS)[-1]
with st.expander("How to add your checkpoints", expanded=not any(e.origin != "default" for e in entries)):
    st.markdown(
        f"""
- **Drop a folder** saved with `model.save_pretrained(...)` and `tokenizer.save_pretrained(...)` into
  `{explorer.settings.checkpoints_dir}`. The task is inferred from `config.json` (`finetuning_task`, `id2label`,
  `architectures`) or the folder name (`koelectra-cola`), and the table above says how. A classification head
  whose labels no task uses is listed as a classifier of its own labels (the *Other classifiers* page); set
  `finetuning_task` in its config, or `task` below, to use it for one of the tasks.
- **Or describe it** in `{explorer.settings.models_toml.name}`:
```toml
[[model]]
name = "koelectra-cola"
path = "checkpoints/koelectra-cola"     # or: hub = "monologg/koelectra-base-v3-discriminator"
task = "cola"                           # {task_ids}
acceptable_label = 1                    # which class means acceptable, when id2label does not say

[[model]]                               # a raw torch.save(model.state_dict()) from your own loop
name = "my-bert-cola"
path = "checkpoints/my_bert_cola.pt"
base = "klue/bert-base"                 # config and tokenizer it was trained from
task = "cola"
```
- Start with another folder: `make run ARGS="--checkpoints /data/ckpts"` or `EXPLORER_CHECKPOINTS=/data/ckpts`.
"""
    )
