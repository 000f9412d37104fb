"""Chat with a local LLM: the reply streams into the page token by token and is spoken as it is written.

    conversation.py   a chat turn (an LLM job and a speech job fed by the same deltas), and each session's history
    llm_client.py     a small streaming client for OpenAI-compatible chat servers (Ollama, llama.cpp, LM Studio)
"""
