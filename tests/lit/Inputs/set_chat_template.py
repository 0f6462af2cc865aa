# Sets tokenizer_config.json's chat_template (a test checkpoint's):
#   set_chat_template.py FILE TEMPLATE   ("\n" in TEMPLATE is a newline)
import json
import sys

path, template = sys.argv[1], sys.argv[2].replace("\\n", "\n")
with open(path) as f:
    config = json.load(f)
config["chat_template"] = template
with open(path, "w") as f:
    json.dump(config, f, ensure_ascii=False, indent=2)
