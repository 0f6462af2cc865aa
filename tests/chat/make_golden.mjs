// Regenerates golden.json: each conversation rendered by an independent Jinja
// implementation (@huggingface/jinja) with the chat_template of the pinned
// Qwen3 tokenizer_config.json.
//   cd /tmp/x && npm install @huggingface/jinja
//   node /path/to/tests/chat/make_golden.mjs TOKENIZER_CONFIG_JSON  (run from /tmp/x)
import { Template } from "@huggingface/jinja";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = process.env.QWEN3C_CHAT_DIR ?? dirname(fileURLToPath(import.meta.url));
const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const template = new Template(config.chat_template);
const cases = JSON.parse(readFileSync(join(here, "conversations.json"), "utf8"));
const golden = cases.map((c) => {
  const vars = { messages: c.messages, add_generation_prompt: c.add_generation_prompt };
  if ("enable_thinking" in c) vars.enable_thinking = c.enable_thinking;
  if ("tools" in c) vars.tools = c.tools;
  return { name: c.name, text: template.render(vars) };
});
writeFileSync(join(here, "golden.json"), "[\n" + golden.map((g) => JSON.stringify(g)).join(",\n") + "\n]\n");
console.log(`wrote ${golden.length} renderings`);
