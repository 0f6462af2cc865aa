//===- ApiRequest.cpp -------------------------------------------------------===//
#include "runtime/server/ApiRequest.h"
#include "runtime/ChatFormat.h"
#include "runtime/Generate.h"
#include "runtime/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <random>

namespace qwen3c_rt {
namespace {

// Ordered: a tool's JSON is rendered into the prompt in the client's key order.
using json = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string &param, const std::string &message) { throw ApiError(400, message, param); }

// Typed reads of optional fields: absent and null both mean "not given".
const json *field(const json &o, const char *name) {
  auto it = o.find(name);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

double number(const json &o, const char *name, double fallback, double lo, double hi) {
  const json *v = field(o, name);
  if (!v) return fallback;
  if (!v->is_number()) bad(name, std::string("'") + name + "' must be a number");
  double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    bad(name, std::string("'") + name + "' must be in [" + json(lo).dump() + ", " + json(hi).dump() + "], got " +
                  v->dump());
  return x;
}

int64_t integer(const json &o, const char *name, int64_t fallback, int64_t lo, int64_t hi) {
  const json *v = field(o, name);
  if (!v) return fallback;
  if (!v->is_number_integer()) bad(name, std::string("'") + name + "' must be an integer");
  bool inRange = v->is_number_unsigned()
                     ? v->get<uint64_t>() <= uint64_t(hi) && (lo <= 0 || v->get<uint64_t>() >= uint64_t(lo))
                     : v->get<int64_t>() >= lo && v->get<int64_t>() <= hi;
  if (!inRange)
    bad(name, std::string("'") + name + "' must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                  "], got " + v->dump());
  return v->get<int64_t>();
}

bool boolean(const json &o, const char *name, bool fallback) {
  const json *v = field(o, name);
  if (!v) return fallback;
  if (!v->is_boolean()) bad(name, std::string("'") + name + "' must be a boolean");
  return v->get<bool>();
}

// Text of a request, which becomes prompt bytes: UTF-8 checked here so the
// error names the field.
std::string text(const json &v, const std::string &param) {
  if (!v.is_string()) bad(param, "'" + param + "' must be a string");
  std::string s = v.get<std::string>();
  try {
    checkUtf8(s, param);
  } catch (const RunError &e) {
    bad(param, e.what());
  }
  return s;
}

// A message's content: a string, or text parts ([{type: text, text}]).
std::string content(const json &msg, const std::string &param) {
  const json *c = field(msg, "content");
  if (!c) return "";
  if (c->is_string()) return text(*c, param + ".content");
  if (!c->is_array()) bad(param + ".content", "'" + param + ".content' must be a string or an array of text parts");
  std::string out;
  for (size_t i = 0; i < c->size(); ++i) {
    const json &part = (*c)[i];
    std::string at = param + ".content[" + std::to_string(i) + "]";
    if (!part.is_object() || !part.contains("type") || part["type"] != "text")
      bad(at, "'" + at + "': only parts of type 'text' are supported");
    if (!part.contains("text")) bad(at, "'" + at + "' has no 'text'");
    out += text(part["text"], at + ".text");
  }
  return out;
}

// An assistant message's tool_calls: [{id, type: function, function: {name, arguments}}].
std::vector<ToolCall> toolCalls(const json &m, const std::string &at) {
  std::vector<ToolCall> calls;
  const json *list = field(m, "tool_calls");
  if (!list) return calls;
  if (!list->is_array()) bad(at + ".tool_calls", "'" + at + ".tool_calls' must be an array");
  for (size_t k = 0; k < list->size(); ++k) {
    std::string here = at + ".tool_calls[" + std::to_string(k) + "]";
    const json &c = (*list)[k];
    const json *fn = c.is_object() ? field(c, "function") : nullptr;
    if (!fn || !fn->is_object() || !fn->contains("name"))
      bad(here, "'" + here + "' must be {\"type\": \"function\", \"function\": {\"name\", \"arguments\"}}");
    ToolCall call{text((*fn)["name"], here + ".function.name"), "{}"};
    if (const json *args = field(*fn, "arguments")) {
      if (args->is_string()) call.arguments = text(*args, here + ".function.arguments");
      else if (args->is_object()) call.arguments = templateJson(*args);
      else bad(here + ".function.arguments", "'" + here + ".function.arguments' must be a JSON string or an object");
    }
    calls.push_back(std::move(call));
  }
  return calls;
}

// The tools offered: [{type: function, function: {name, description, parameters}}].
json toolList(const json &body) {
  json tools = json::array();
  const json *list = field(body, "tools");
  if (!list) return tools;
  if (!list->is_array()) bad("tools", "'tools' must be an array");
  for (size_t k = 0; k < list->size(); ++k) {
    std::string at = "tools[" + std::to_string(k) + "]";
    const json &t = (*list)[k];
    if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") || !t["function"].is_object() ||
        !t["function"].contains("name") || !t["function"]["name"].is_string())
      bad(at, "'" + at + "' must be {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": ...}}");
    (void)text(t["function"]["name"], at + ".function.name");
    tools.push_back(t);
  }
  if (const json *choice = field(body, "tool_choice")) {
    if (!choice->is_string() || (*choice != "auto" && *choice != "none"))
      bad("tool_choice", "'tool_choice' must be \"auto\" or \"none\" (a forced tool call is not supported)");
    if (*choice == "none") tools.clear(); // no tools offered, none called
  }
  return tools;
}

std::string renderMessages(const json &body, const json &tools, const ChatFormat &format) {
  const json *messages = field(body, "messages");
  if (!messages) bad("messages", "'messages' is required");
  if (!messages->is_array() || messages->empty()) bad("messages", "'messages' must be a non-empty array");
  std::vector<ChatMessage> chat;
  for (size_t i = 0; i < messages->size(); ++i) {
    const json &m = (*messages)[i];
    std::string at = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) bad(at, "'" + at + "' must be an object");
    if (!m.contains("role")) bad(at + ".role", "'" + at + ".role' is required");
    std::string role = text(m["role"], at + ".role");
    if (role == "developer") role = "system"; // OpenAI's newer name for it
    if (role != "system" && role != "user" && role != "assistant" && role != "tool")
      bad(at + ".role", "'" + at + ".role': unknown role '" + role + "' (system, user, assistant or tool)");
    chat.emplace_back(role, content(m, at));
    if (role == "assistant") {
      chat.back().toolCalls = toolCalls(m, at);
      if (const json *r = field(m, "reasoning_content")) chat.back().reasoning = text(*r, at + ".reasoning_content");
    } else if (field(m, "tool_calls")) {
      bad(at + ".tool_calls", "'" + at + ".tool_calls': only assistant messages carry tool calls");
    }
  }
  bool thinking = true;
  if (const json *kw = field(body, "chat_template_kwargs")) {
    if (!kw->is_object()) bad("chat_template_kwargs", "'chat_template_kwargs' must be an object");
    thinking = boolean(*kw, "enable_thinking", true);
  }
  try {
    return format.render(chat, tools, /*addGenerationPrompt=*/true, thinking);
  } catch (const RunError &e) {
    bad("messages", e.what());
  } catch (const JinjaError &e) { // the template refused the conversation (raise_exception)
    bad("messages", std::string("the chat template: ") + e.what());
  }
}

std::vector<int32_t> completionPrompt(const json &body, const ApiLimits &limits) {
  const json *p = field(body, "prompt");
  if (!p) bad("prompt", "'prompt' is required");
  if (p->is_string()) return limits.tokenizer->encode(text(*p, "prompt"));
  if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) return limits.tokenizer->encode(text((*p)[0], "prompt"));
  if (p->is_array() && !p->empty() && std::all_of(p->begin(), p->end(), [](const json &x) { return x.is_number_integer(); })) {
    std::vector<int32_t> ids;
    for (const json &x : *p) {
      int64_t id = x.is_number_unsigned() ? int64_t(std::min<uint64_t>(x.get<uint64_t>(), uint64_t(limits.vocab)))
                                          : x.get<int64_t>();
      if (id < 0 || id >= limits.vocab)
        bad("prompt", "token id " + x.dump() + " is out of range (vocabulary of " + std::to_string(limits.vocab) + ")");
      ids.push_back(int32_t(id));
    }
    return ids;
  }
  bad("prompt", "'prompt' must be a string or an array of token ids (one prompt per request)");
}

} // namespace

std::string ApiError::json() const {
  nlohmann::ordered_json e;
  e["error"]["message"] = what();
  e["error"]["type"] = type;
  e["error"]["param"] = param.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(param);
  e["error"]["code"] = nullptr;
  return e.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

CompletionRequest parseCompletionRequest(const std::string &body, bool chat, const ApiLimits &limits) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw ApiError(400, "the request body is not valid JSON");
  if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
  if (!limits.tokenizer) throw ApiError(400, "this model has no tokenizer");

  CompletionRequest r;
  r.chat = chat;
  // What the server cannot do is refused, not silently done differently.
  if (integer(j, "n", 1, 1, 1 << 20) != 1) bad("n", "'n' must be 1 (one choice per request)");
  if (const json *lp = field(j, "logprobs"); lp && !(lp->is_boolean() && !lp->get<bool>()) && !(lp->is_number() && lp->get<double>() == 0))
    bad("logprobs", "logprobs are not supported");
  if (!chat && field(j, "tools")) bad("tools", "tools need /v1/chat/completions");
  if (const json *rf = field(j, "response_format"); rf && !(rf->is_object() && rf->value("type", "") == "text"))
    bad("response_format", "only response_format {\"type\": \"text\"} is supported");
  if (field(j, "logit_bias") && !j["logit_bias"].empty()) bad("logit_bias", "logit_bias is not supported");

  // Qwen3's recommended sampling where the request says nothing.
  SamplerOptions &s = r.sampling;
  s.temp = number(j, "temperature", 0.6, 0, 2);
  s.topP = number(j, "top_p", 0.95, 0, 1);
  if (s.topP == 0) s.topP = 1e-9; // the most likely token alone
  s.topK = integer(j, "top_k", 20, 0, limits.vocab);
  s.minP = number(j, "min_p", 0, 0, 1);
  s.presencePenalty = number(j, "presence_penalty", 0, -2, 2);
  s.frequencyPenalty = number(j, "frequency_penalty", 0, -2, 2);
  s.repeatPenalty = number(j, "repetition_penalty", 1, 0.01, 10);
  s.seed = field(j, "seed") ? uint64_t(integer(j, "seed", 0, INT64_MIN, INT64_MAX)) : uint64_t(std::random_device{}());
  r.stream = boolean(j, "stream", false);
  if (const json *so = field(j, "stream_options")) {
    if (!so->is_object()) bad("stream_options", "'stream_options' must be an object");
    r.includeUsage = boolean(*so, "include_usage", false);
  }
  r.ignoreEos = boolean(j, "ignore_eos", false);
  if (const json *stop = field(j, "stop")) {
    if (stop->is_string()) {
      r.stops.push_back(text(*stop, "stop"));
    } else if (stop->is_array() && stop->size() <= 4) {
      for (size_t i = 0; i < stop->size(); ++i) r.stops.push_back(text((*stop)[i], "stop[" + std::to_string(i) + "]"));
    } else {
      bad("stop", "'stop' must be a string or an array of at most 4 strings");
    }
    for (const std::string &st : r.stops)
      if (st.empty()) bad("stop", "stop strings must not be empty");
  }

  if (chat) {
    json tools = toolList(j);
    r.tools = !tools.empty();
    if (!limits.chat) throw ApiError(500, "internal error: no chat format", "", "server_error");
    r.prompt = limits.tokenizer->encode(renderMessages(j, tools, *limits.chat));
  } else {
    r.prompt = completionPrompt(j, limits);
  }
  const int64_t n = int64_t(r.prompt.size());
  if (n == 0) bad(chat ? "messages" : "prompt", "the prompt is empty");
  if (n >= limits.context)
    bad(chat ? "messages" : "prompt", "the prompt is " + std::to_string(n) + " tokens; this server's context is " +
                                          std::to_string(limits.context) + " tokens, room for at most " +
                                          std::to_string(limits.context - 1) + " with one to generate");
  const char *maxName = field(j, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  int64_t room = limits.context - n;
  if (field(j, maxName)) {
    r.maxTokens = integer(j, maxName, 0, 1, INT64_MAX);
    if (r.maxTokens > room)
      bad(maxName, "the context is " + std::to_string(limits.context) + " tokens: a prompt of " + std::to_string(n) +
                       " tokens leaves room for " + std::to_string(room) + ", not " + maxName + " = " +
                       std::to_string(r.maxTokens));
  } else {
    r.maxTokens = room;
  }
  return r;
}

} // namespace qwen3c_rt
