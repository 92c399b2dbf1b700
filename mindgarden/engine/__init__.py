"""Inference layer: GGUF validation, chat templates and the batched branch engine. Never imports Qt."""
