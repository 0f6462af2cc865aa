// Drives a compiled model's --server with the official openai npm client
// (and raw fetch for what a client library would refuse to send), then stops
// it. Every check is against the server itself: a streamed answer must equal
// the same request unstreamed, a stop string must cut that text where it
// first occurs, two concurrent streams must each equal their request run
// alone (same seed), greedy completions batched (@decode_batch) must equal
// those of a one-slot server (@decode). Prints "PASS: N checks" or the
// first failure.
//   node openai_client.mjs MODEL_EXE OPENAI_DIR
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";

const [exe, openaiDir] = process.argv.slice(2);
if (!exe || !openaiDir) {
  console.error("usage: node openai_client.mjs MODEL_EXE OPENAI_DIR");
  process.exit(2);
}
const OpenAI = createRequire(join(openaiDir, "node_modules") + "/")("openai").default;

// A server on any free loopback port, read back from its start-up line.
function startServer(parallel) {
  const proc = spawn(exe, ["--server", "--port", "0", "--parallel", String(parallel), "-t", "1"], {
    stdio: ["ignore", "inherit", "pipe"],
  });
  const s = { proc, log: "", exited: null };
  proc.on("exit", (code, signal) => (s.exited = { code, signal }));
  s.port = new Promise((resolve, reject) => {
    proc.stderr.on("data", (d) => {
      s.log += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(s.log);
      if (m) resolve(Number(m[1]));
    });
    proc.on("exit", () => reject(new Error("the server exited before listening:\n" + s.log)));
  });
  return s;
}
// Two slots: a step evaluates both through @decode_batch.
const main = startServer(2);
const server = main.proc;
let sequential = null; // one slot: @decode, for the batched entry's check
// A hung server or client ends the test instead of the CI job.
const watchdog = setTimeout(() => {
  console.error("FAIL: the test did not finish in 600 s");
  server.kill("SIGKILL");
  sequential?.proc.kill("SIGKILL");
  process.exit(1);
}, 600_000);
const port = await main.port;
const base = `http://127.0.0.1:${port}`;
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0 });

let checks = 0;
function check(ok, what, detail = "") {
  if (!ok) throw new Error(`${what}${detail ? ": " + detail : ""}`);
  checks++;
}
const same = (a, b, what) => check(a === b, what, `${JSON.stringify(a)} != ${JSON.stringify(b)}`);

async function streamText(params) {
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = "", finish = null, usage = null, roles = 0;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta?.role) roles++;
      if (c.delta?.content) text += c.delta.content;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  return { text, finish, usage, roles };
}

async function post(path, body, headers = { "Content-Type": "application/json" }) {
  const r = await fetch(base + path, { method: "POST", headers, body });
  let json = null;
  try {
    json = await r.json();
  } catch {}
  return { status: r.status, json };
}

try {
  check(/the checkpoint's chat template/.test(main.log), "the server renders with the checkpoint's template", main.log);
  const models = await client.models.list();
  check(models.data.length === 1 && models.data[0].object === "model", "one model listed", JSON.stringify(models.data));

  // A chat completion, then the same request streamed.
  const ask = (content, seed, max_tokens = 24) => ({
    model: models.data[0].id,
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content }],
    max_tokens, seed, temperature: 0.9,
  });
  const alone = await client.chat.completions.create(ask("Tell me about the sea.", 11));
  const a = alone.choices[0];
  check(a.message.role === "assistant" && typeof a.message.content === "string", "chat completion has a message");
  check(a.message.content.length > 0, "chat completion has text");
  check(["stop", "length"].includes(a.finish_reason), "finish_reason", a.finish_reason);
  check(alone.usage.completion_tokens >= 1 && alone.usage.completion_tokens <= 24, "completion_tokens within max_tokens",
        JSON.stringify(alone.usage));
  same(alone.usage.total_tokens, alone.usage.prompt_tokens + alone.usage.completion_tokens, "total_tokens");
  const streamed = await streamText(ask("Tell me about the sea.", 11));
  same(streamed.text, a.message.content, "the streamed text equals the unstreamed one (same seed)");
  same(streamed.finish, a.finish_reason, "streamed finish_reason");
  same(streamed.roles, 1, "one role delta");
  same(JSON.stringify(streamed.usage), JSON.stringify(alone.usage), "streamed usage (include_usage)");
  const other = await client.chat.completions.create(ask("Tell me about the sea.", 12));
  check(other.choices[0].message.content !== a.message.content, "another seed, another text");

  // A stop string taken from the middle of that text cuts it where it first occurs.
  const text = a.message.content;
  const cut = Math.max(1, Math.floor(text.length / 2));
  const stop = [...text.slice(cut)].slice(0, 2).join("");
  check(stop.length > 0, "a stop string to use");
  const stopped = await client.chat.completions.create({ ...ask("Tell me about the sea.", 11), stop: [stop, "\u0000never"] });
  same(stopped.choices[0].message.content, text.slice(0, text.indexOf(stop)), `text cut before the stop string ${JSON.stringify(stop)}`);
  same(stopped.choices[0].finish_reason, "stop", "finish_reason at a stop string");
  const stopStream = await streamText({ ...ask("Tell me about the sea.", 11), stop });
  same(stopStream.text, text.slice(0, text.indexOf(stop)), "the streamed text stops there too");

  // /v1/completions: a raw prompt, greedy.
  const comp = await client.completions.create({ model: "x", prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
  check(comp.object === "text_completion" && comp.choices[0].text.length > 0, "a text completion");
  const comp2 = await client.completions.create({ model: "x", prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
  same(comp2.choices[0].text, comp.choices[0].text, "greedy completions repeat");

  // Two concurrent streams (two slots): each equals its request run alone.
  const r1 = ask("Name three rivers.", 21, 32), r2 = ask("Count to ten.", 22, 32);
  const solo1 = (await client.chat.completions.create(r1)).choices[0].message.content;
  const solo2 = (await client.chat.completions.create(r2)).choices[0].message.content;
  const [s1, s2] = await Promise.all([streamText(r1), streamText(r2)]);
  same(s1.text, solo1, "concurrent stream 1 equals its request alone");
  same(s2.text, solo2, "concurrent stream 2 equals its request alone");
  check(solo1 !== solo2, "the two requests differ");

  // Tools: rendered into the system turn (the prompt grows), the answer
  // streamed through the <tool_call> hold-back equals the unstreamed one; a
  // conversation with tool calls and tool results is accepted.
  const tools = [{ type: "function", function: { name: "get_weather", description: "Weather of a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
  const withTools = await client.chat.completions.create({ ...ask("What is the weather in Oslo?", 3), tools });
  const without = await client.chat.completions.create(ask("What is the weather in Oslo?", 3));
  check(withTools.usage.prompt_tokens > without.usage.prompt_tokens + 50, "tools are rendered into the prompt",
        `${withTools.usage.prompt_tokens} vs ${without.usage.prompt_tokens}`);
  const m = withTools.choices[0];
  check(m.finish_reason === "tool_calls" ? m.message.tool_calls.length > 0 : typeof m.message.content === "string",
        "a tool answer is content or tool calls", JSON.stringify(m));
  const toolStream = await streamText({ ...ask("What is the weather in Oslo?", 3), tools });
  if (m.finish_reason !== "tool_calls") same(toolStream.text, m.message.content, "streamed with tools equals unstreamed");
  const followUp = await client.chat.completions.create({
    ...ask("unused", 4),
    tools,
    messages: [
      { role: "user", content: "Weather in Oslo?" },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: "{\"city\": \"Oslo\"}" } }] },
      { role: "tool", tool_call_id: "c1", content: "snow, -3 C" },
    ],
  });
  check(followUp.choices[0].message.role === "assistant", "a conversation with tool calls and results is answered");
  try {
    await client.chat.completions.create({ ...ask("x", 1), tools, tool_choice: "required" });
    check(false, "a forced tool call must be refused");
  } catch (e) {
    check(e.status === 400 && /tool_choice/.test(e.message), "tool_choice required refused with 400", String(e));
  }

  // Bad requests: a 4xx and an OpenAI error naming the problem.
  const bad = [
    ["/v1/chat/completions", "{\"messages\": [", 400, /not valid JSON/],
    ["/v1/chat/completions", JSON.stringify({ messages: "hi" }), 400, /messages/],
    ["/v1/chat/completions", JSON.stringify({ messages: [{ role: "robot", content: "x" }] }), 400, /unknown role/],
    ["/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: 5 }] }), 400, /content/],
    ["/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "x" }], temperature: "warm" }), 400, /temperature/],
    ["/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "x" }], max_tokens: 1e12 }), 400, /max_tokens/],
    ["/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "x" }], max_tokens: -1 }), 400, /max_tokens/],
    ["/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "x" }], n: 3 }), 400, /'n'/],
    ["/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "word ".repeat(4000) }] }), 400, /context/],
    ["/v1/completions", JSON.stringify({ prompt: [1, 2, 1e9] }), 400, /out of range/],
    ["/v1/completions", JSON.stringify({ prompt: "x", stop: 7 }), 400, /stop/],
    ["/v1/completions", "x".repeat(9 << 20), 413, /too large/],
  ];
  for (const [path, body, status, message] of bad) {
    const r = await post(path, body);
    same(r.status, status, `status of ${body.slice(0, 60)}`);
    check(r.json?.error && message.test(r.json.error.message), `error message of ${body.slice(0, 60)}`, JSON.stringify(r.json));
  }
  const notFound = await fetch(base + "/v1/nothing");
  same(notFound.status, 404, "unknown route");

  // A client that disconnects mid-stream: the server drops its request and
  // goes on serving.
  const abort = new AbortController();
  const r = await fetch(base + "/v1/chat/completions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...ask("Go on forever.", 5, 400), stream: true, ignore_eos: true }),
    signal: abort.signal,
  });
  const reader = r.body.getReader();
  await reader.read();
  abort.abort();
  const after = await Promise.all([client.chat.completions.create(r1), client.chat.completions.create(r2)]);
  same(after[0].choices[0].message.content, solo1, "served after a client hung up (1)");
  same(after[1].choices[0].message.content, solo2, "served after a client hung up (2)");
  const health = await fetch(base + "/health");
  same(health.status, 200, "healthy");

  // @decode_batch against @decode: four greedy completions at once through
  // the two-slot server (rows at different positions, joining and leaving
  // between steps) against the same requests on a one-slot server. Greedy
  // tokens are the argmax of each row's logits, which the batched products
  // compute with the same arithmetic per row.
  sequential = startServer(1);
  const single = new OpenAI({ baseURL: `http://127.0.0.1:${await sequential.port}/v1`, apiKey: "unused", maxRetries: 0 });
  const prompts = ["Once upon a time", "The capital of France is", "def main():", "1, 2, 3,"];
  const greedy = (c, p, i) => c.completions.create({ model: "x", prompt: p, max_tokens: 12 + 5 * i, temperature: 0, ignore_eos: true });
  const batched = await Promise.all(prompts.map((p, i) => greedy(client, p, i)));
  for (let i = 0; i < prompts.length; ++i) {
    const one = await greedy(single, prompts[i], i);
    same(batched[i].choices[0].text, one.choices[0].text, `greedy text of ${JSON.stringify(prompts[i])}, batched and alone`);
    same(batched[i].usage.completion_tokens, 12 + 5 * i, "ignore_eos runs to max_tokens");
  }
  sequential.proc.kill("SIGTERM");
} catch (e) {
  console.log(`FAIL after ${checks} checks: ${e.message ?? e}`);
  console.log(main.log);
  server.kill("SIGKILL");
  sequential?.proc.kill("SIGKILL");
  process.exit(1);
}

// SIGTERM stops it cleanly (exit 0).
server.kill("SIGTERM");
while (!main.exited || !sequential.exited) await new Promise((r) => setTimeout(r, 50));
clearTimeout(watchdog);
if (main.exited.code !== 0) {
  console.log(`FAIL: the server exited with ${JSON.stringify(main.exited)} on SIGTERM\n${main.log}`);
  process.exit(1);
}
checks++;
console.log(`PASS: ${checks} checks`);
