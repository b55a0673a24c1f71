"""The models: model files checked by hash (files), embeddings, the ONNX export, generation.

Generation runs in-process on llama.cpp (generation) or on an OpenAI-compatible server
(openai_backend). Imports only the shared modules (records, errors, settings, text).
"""
