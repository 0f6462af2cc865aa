//===- ExplainReport.cpp - the explain report as text and as one HTML page ----===//
//
// Both renderings walk one document (sections of labelled lines and
// preformatted excerpts), so the page and the terminal say the same things.
//
//===----------------------------------------------------------------------===//
#include "tools/qwen3c/explain/ExplainReport.h"

#include <cstdio>
#include <regex>
#include <sstream>

namespace q3c::explain {
namespace {

struct Part {
  enum Kind { Line, Pre } kind = Line;
  std::string label, text, style; // style of a Pre: "ir", "asm" or ""
  Part(Kind kind, std::string label, std::string text, std::string style = "")
      : kind(kind), label(std::move(label)), text(std::move(text)), style(std::move(style)) {}
};
struct Section {
  std::string title, id;
  std::vector<Part> parts;
};

std::string shortName(const std::string &n) {
  const std::string prefix = "model.layers.{layer}.";
  return n.rfind(prefix, 0) == 0 ? n.substr(prefix.size()) : n;
}

std::string joined(const std::vector<std::string> &v, const std::string &sep, bool shorten = false) {
  std::string s;
  for (const auto &x : v) s += (s.empty() ? "" : sep) + (shorten ? shortName(x) : x);
  return s;
}

std::string bytes(double b) {
  char buf[64];
  if (b >= 1 << 20) std::snprintf(buf, sizeof buf, "%.2f MiB", b / (1 << 20));
  else if (b >= 1 << 10) std::snprintf(buf, sizeof buf, "%.1f KiB", b / (1 << 10));
  else std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}

std::string flops(double f) {
  char buf[64];
  if (f >= 1e9) std::snprintf(buf, sizeof buf, "%.2f GFLOP", f / 1e9);
  else if (f >= 1e6) std::snprintf(buf, sizeof buf, "%.2f MFLOP", f / 1e6);
  else if (f >= 1e3) std::snprintf(buf, sizeof buf, "%.1f kFLOP", f / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f FLOP", f);
  return buf;
}

std::string firstLines(const std::vector<std::string> &lines, int64_t max) {
  std::string s;
  for (size_t i = 0; i < lines.size() && int64_t(i) < max; ++i) s += lines[i] + "\n";
  if (int64_t(lines.size()) > max) s += "... (" + std::to_string(lines.size() - size_t(max)) + " more)\n";
  return s;
}

std::string countsLine(const InstructionCounts &c) {
  std::string s = std::to_string(c.total) + " instructions";
  auto add = [&](const char *what, int64_t n) {
    if (n) s += ", " + std::string(what) + " " + std::to_string(n);
  };
  add("FMA", c.fma);
  add("vdpbf16ps", c.bf16Dot);
  add("int8 dot", c.int8Dot);
  add("tile", c.tile);
  s += ", loads " + std::to_string(c.loads) + ", stores " + std::to_string(c.stores) + ", prefetches " +
       std::to_string(c.prefetches) + ", spills " + std::to_string(c.spills) + ", reloads " + std::to_string(c.reloads);
  s += c.widestRegister.empty() ? "; no vector registers" : "; widest register " + c.widestRegister;
  return s;
}

std::vector<Section> document(const Report &r, int64_t lines) {
  std::vector<Section> doc;
  Section head{"qwen3c explain: " + r.model, "top", {}};
  head.parts.push_back({Part::Line, "entry",
                        "@" + r.entry + " (" + std::to_string(r.tokens) + (r.tokens == 1 ? " token" : " tokens") +
                            " a call; attention costed at KV position " + std::to_string(r.position) + ")"});
  head.parts.push_back({Part::Line, "fusion",
                        r.fusion + (r.fusionPasses.empty() ? " (no passes)" : " (" + joined(r.fusionPasses, ", ") + ")")});
  head.parts.push_back({Part::Line, "target", r.target});
  char buf[160];
  std::snprintf(buf, sizeof buf, "%lld instructions in @%s, %lld (%.0f%%) on a kernel's line",
                (long long)r.asmInstructions, r.entry.c_str(), (long long)r.asmAttributed,
                r.asmInstructions ? 100.0 * double(r.asmAttributed) / double(r.asmInstructions) : 0.0);
  head.parts.push_back({Part::Line, "assembly", buf});
  if (!r.measuredRun.empty()) head.parts.push_back({Part::Line, "measured", r.measuredRun});
  doc.push_back(head);

  for (const BlockReport &b : r.blocks) {
    Section s{b.block->title, b.block->id, {}};
    s.parts.push_back({Part::Line, "formula", b.block->formula});
    std::string cfg;
    for (const auto &[k, v] : b.config) cfg += (cfg.empty() ? "" : ", ") + k + " = " + v;
    s.parts.push_back({Part::Line, "config.json", cfg});
    if (b.graphOps.empty()) {
      s.parts.push_back({Part::Line, "graph",
                         b.block->sparseOnly  ? "not in this model (no sparse layer)"
                         : b.block->denseOnly ? "not in this model (no dense layer)"
                                              : "not in this entry"});
      doc.push_back(s);
      continue;
    }
    s.parts.push_back({Part::Pre, "graph builder's q3 ops", firstLines(b.graphOps, lines), "ir"});
    std::vector<std::string> fusions;
    for (const FusionEvent &e : b.fusions) fusions.push_back(e.pass + ": " + e.op + " of " + joined(e.names, ", ", true));
    s.parts.push_back({Part::Line, "fusion " + r.fusion, fusions.empty() ? "no fusion pass changes it" : joined(fusions, "; ")});
    if (!b.fusions.empty()) s.parts.push_back({Part::Pre, "after fusion", firstLines(b.fusedOps, lines), "ir"});
    for (const KernelReport &k : b.kernels) {
      std::string title = "kernel " + std::to_string(k.number) + ": " + k.op + " [" + joined(k.names, ", ", true) + "]";
      if (!k.alsoComputes.empty()) title += ", also " + joined(k.alsoComputes, ", ");
      s.parts.push_back({Part::Line, "", title});
      std::string strategy;
      for (const auto &[name, value] : k.attributes) strategy += (strategy.empty() ? "" : "; ") + name + " = " + value;
      s.parts.push_back({Part::Line, "  attributes", strategy.empty() ? "none" : strategy});
      for (const std::string &w : k.weights) s.parts.push_back({Part::Line, "  weight", w});
      s.parts.push_back({Part::Line, "  cost per token" + std::string(k.perLayer ? " and layer" : ""),
                         "activations read " + bytes(k.cost.activationRead) + ", written " +
                             bytes(k.cost.activationWritten) + ", weights " + bytes(k.cost.weightRead) + ", " +
                             flops(k.cost.flops)});
      if (!r.measuredRun.empty()) {
        char t[160];
        if (k.measuredCalls)
          std::snprintf(t, sizeof t, "%.1f us per call (%lld calls, %.3f ms in all)",
                        k.measuredSeconds * 1e6 / double(k.measuredCalls), (long long)k.measuredCalls,
                        k.measuredSeconds * 1e3);
        else
          std::snprintf(t, sizeof t, "not called in the measured run");
        s.parts.push_back({Part::Line, "  measured", t});
      }
      if (!k.loopNest.empty()) s.parts.push_back({Part::Pre, "  loop nest (after q3-lower-to-loops)", k.loopNest, "ir"});
      if (k.asmCounts.total == 0) {
        s.parts.push_back({Part::Line, "  assembly", "no instruction carries this kernel's line (LLVM merged or folded it)"});
        continue;
      }
      s.parts.push_back({Part::Line, "  assembly", countsLine(k.asmCounts) + "; " + std::to_string(k.asmLoops) +
                                                       " innermost loop" + (k.asmLoops == 1 ? "" : "s")});
      if (k.loops.size() > 1) {
        std::string all;
        for (const AsmLoop &l : k.loops)
          all += (all.empty() ? "" : "; ") + l.header + " in " + l.function + " (" + std::to_string(l.counts.total) +
                 " instructions, " + std::to_string(l.counts.fma + l.counts.bf16Dot + l.counts.int8Dot + l.counts.tile) +
                 " FMA/dot/tile)";
        s.parts.push_back({Part::Line, "  innermost loops", all});
      }
      if (k.hasHotLoop) {
        // From a few instructions before its first FMA, dot or tile op:
        // the arithmetic, not the address set-up, is what the excerpt is for.
        const auto &ins = k.hotLoop.instructions;
        size_t first = 0;
        while (first < ins.size()) {
          InstructionCounts one;
          one.add(ins[first]);
          if (one.fma + one.bf16Dot + one.int8Dot + one.tile) break;
          ++first;
        }
        first = first == ins.size() || first < 4 ? 0 : first - 4;
        std::vector<std::string> text;
        if (first) text.push_back("... (" + std::to_string(first) + " instructions before)");
        for (size_t i = first; i < ins.size(); ++i) text.push_back(render(ins[i]));
        s.parts.push_back({Part::Pre,
                           "  innermost loop " + k.hotLoop.header + " in " + k.hotLoop.function + ": " +
                               countsLine(k.hotLoop.counts),
                           firstLines(text, lines), "asm"});
      }
    }
    doc.push_back(s);
  }
  return doc;
}

std::string escape(const std::string &s) {
  std::string o;
  for (char ch : s) {
    switch (ch) {
    case '&': o += "&amp;"; break;
    case '<': o += "&lt;"; break;
    case '>': o += "&gt;"; break;
    case '"': o += "&quot;"; break;
    default: o += ch;
    }
  }
  return o;
}

// Light highlighting of an escaped excerpt: q3 ops and attributes in IR,
// mnemonics and vector registers in assembly.
std::string highlight(const std::string &text, const std::string &style) {
  std::string e = escape(text);
  if (style == "ir") {
    e = std::regex_replace(e, std::regex(R"(#q3\.[a-z_]+)"), "<span class=\"at\">$&</span>");
    e = std::regex_replace(e, std::regex(R"(\b(q3|scf|vector|memref|arith|math|x86vector|amx)\.[a-z_0-9.]+)"),
                           "<span class=\"op\">$&</span>");
  } else if (style == "asm") {
    e = std::regex_replace(e, std::regex(R"((^|\n)([a-z][a-z0-9]*))"), "$1<span class=\"op\">$2</span>");
    e = std::regex_replace(e, std::regex(R"(%[xyz]mm[0-9]+|%tmm[0-9])"), "<span class=\"at\">$&</span>");
  }
  return e;
}

} // namespace

std::string renderText(const Report &r, int64_t lines) {
  std::string out;
  for (const Section &s : document(r, lines)) {
    out += s.id == "top" ? s.title + "\n" : "\n== " + s.title + " (" + s.id + ") ==\n";
    for (const Part &p : s.parts) {
      if (p.kind == Part::Line) {
        out += p.label.empty() ? p.text + "\n" : p.label + ": " + p.text + "\n";
        continue;
      }
      out += p.label + ":\n";
      std::string indent(p.label.find_first_not_of(' ') + 4, ' ');
      std::istringstream in(p.text);
      std::string line;
      while (std::getline(in, line)) out += indent + line + "\n";
    }
  }
  return out;
}

std::string renderHtml(const Report &r, int64_t lines) {
  std::vector<Section> doc = document(r, lines);
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(doc[0].title) +
                  "</title>\n<style>\n"
                  "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n"
                  "nav a{margin-right:.8em} section{border-top:1px solid #ccc;margin-top:1.5em}\n"
                  "pre{background:#f6f6f4;padding:.6em;overflow-x:auto;font-size:12px;line-height:1.35}\n"
                  ".op{color:#0550ae;font-weight:600}.at{color:#8a3c00}.k{margin-top:1em;font-weight:600}\n"
                  ".label{color:#555} figure{display:inline-block;vertical-align:top;margin:0 1em 0 0;max-width:48%}\n"
                  "figure svg{max-width:100%;height:auto}\n"
                  "</style></head><body>\n<h1>" + escape(doc[0].title) + "</h1>\n";
  for (const Part &p : doc[0].parts) h += "<p><span class=\"label\">" + escape(p.label) + ":</span> " + escape(p.text) + "</p>\n";
  h += "<nav>";
  for (size_t i = 1; i < doc.size(); ++i) h += "<a href=\"#" + doc[i].id + "\">" + escape(doc[i].title) + "</a>";
  h += "</nav>\n";
  if (!r.graphNone.empty()) {
    auto figure = [](const std::string &content, const std::string &caption) {
      bool svg = content.find("<svg") != std::string::npos;
      std::string body = svg ? content.substr(content.find("<svg")) : "<pre>" + escape(content) + "</pre>";
      return "<figure>" + body + "<figcaption>" + escape(caption) + "</figcaption></figure>";
    };
    h += "<section id=\"graph\"><h2>A decode layer</h2>\n" + figure(r.graphNone, "fusion none") +
         figure(r.graphFused, "fusion " + r.fusion) + "</section>\n";
  }
  for (size_t i = 1; i < doc.size(); ++i) {
    const Section &s = doc[i];
    h += "<section id=\"" + s.id + "\"><h2>" + escape(s.title) + "</h2>\n";
    for (const Part &p : s.parts) {
      if (p.kind == Part::Line) {
        std::string label = p.label.substr(std::min(p.label.size(), p.label.find_first_not_of(' ')));
        h += label.empty() ? "<p class=\"k\">" + escape(p.text) + "</p>\n"
                           : "<p><span class=\"label\">" + escape(label) + ":</span> " + escape(p.text) + "</p>\n";
      } else {
        std::string label = p.label.substr(std::min(p.label.size(), p.label.find_first_not_of(' ')));
        h += "<p class=\"label\">" + escape(label) + "</p><pre>" + highlight(p.text, p.style) + "</pre>\n";
      }
    }
    h += "</section>\n";
  }
  h += "</body></html>\n";
  return h;
}

} // namespace q3c::explain
