"""Counts the prompt tokens of every request in the scripted LLM server's log, with tiktoken's
o200k_base (the encoding of OpenAI's current models), for bench/agents.py. It runs in its own
small virtualenv (bench/peers/tokenizer-venv, only tiktoken), so the project needs no tokenizer.

    tokenizer-venv/bin/python bench/peers/count_tokens.py LOG.jsonl OUT.json

tiktoken downloads o200k_base's ranks file on first use, which this machine cannot do; the
caller rebuilds that file from a vocabulary a package ships and puts it in TIKTOKEN_CACHE_DIR,
where tiktoken checks its SHA-256 against the hash it expects before using it.

For each request (in log order) it writes:
    messages   tokens of the messages, counted as OpenAI bills a chat: each message's text plus
               3 tokens of framing per message (4 with a name) and 3 to prime the reply
    schema     tokens of the response_format or tool definitions sent with the request (a
               provider bills them as prompt tokens too)
    images     image parts in the messages (not counted in tokens)
"""

import json
import sys

import tiktoken


def message_text(message: dict) -> tuple[str, int]:
    content = message.get("content")
    images = 0
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                texts.append(part.get("text", ""))
            elif isinstance(part, dict):
                images += 1
        text = "".join(texts)
    else:
        text = ""
    for call in message.get("tool_calls") or []:
        function = call.get("function", {})
        text += function.get("name", "") + function.get("arguments", "")
    return text, images


def main() -> None:
    log_path, out_path = sys.argv[1], sys.argv[2]
    encoding = tiktoken.get_encoding("o200k_base")
    counts = []
    with open(log_path) as log:
        for line in log:
            record = json.loads(line)
            body = record.get("body") or {}
            messages, images = 3, 0
            for message in body.get("messages", []):
                text, message_images = message_text(message)
                messages += 3 + len(encoding.encode(text, disallowed_special=()))
                messages += len(encoding.encode(message.get("role", "")))
                if message.get("name"):
                    messages += 1 + len(encoding.encode(message["name"]))
                images += message_images
            schema_parts = [body[key] for key in ("response_format", "tools") if body.get(key)]
            schema = (
                len(encoding.encode(json.dumps(schema_parts), disallowed_special=()))
                if schema_parts
                else 0
            )
            counts.append({"messages": messages, "schema": schema, "images": images})
    with open(out_path, "w") as out:
        json.dump(
            {"encoding": encoding.name, "tiktoken": tiktoken.__version__, "counts": counts}, out
        )


if __name__ == "__main__":
    main()
