//===- BenchReport.cpp ------------------------------------------------------===//
#include "bench/BenchReport.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace qwen3c_bench {
namespace {

std::string escapeXml(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

} // namespace

std::string formatNumber(const char *format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

double Measurement::median() const {
  if (samples.empty()) return 0;
  std::vector<double> s = samples;
  std::sort(s.begin(), s.end());
  size_t n = s.size();
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
double Measurement::lowest() const { return samples.empty() ? 0 : *std::min_element(samples.begin(), samples.end()); }
double Measurement::highest() const { return samples.empty() ? 0 : *std::max_element(samples.begin(), samples.end()); }

std::string renderMarkdown(const Report &r) {
  std::ostringstream o;
  o << "| engine | test | threads | tokens/s (median) | spread (min-max, n) | machine limit | % of limit |\n"
    << "|---|---|---:|---:|---|---:|---:|\n";
  for (const auto &m : r.rows) {
    o << "| " << m.engine << " | " << m.test << " | " << m.threads << " | ";
    if (m.samples.empty()) {
      o << "- | " << m.note << " | | |\n";
      continue;
    }
    o << formatNumber("%.2f", m.median()) << " | " << formatNumber("%.2f", m.lowest()) << "-" << formatNumber("%.2f", m.highest()) << ", "
      << m.samples.size() << " | ";
    if (m.limit > 0)
      o << formatNumber("%.1f", m.limit) << " (" << m.limitBasis << ") | " << formatNumber("%.0f%%", 100 * m.median() / m.limit);
    else
      o << " | ";
    o << " |\n";
  }
  const auto &mc = r.machine;
  o << "\nMachine: " << mc.cpu << ", " << mc.cores << " cores.";
  for (size_t i = 0; i < mc.threads.size(); ++i)
    o << " " << mc.threads[i] << " thread" << (mc.threads[i] > 1 ? "s" : "") << ": read "
      << formatNumber("%.1f", mc.bandwidthGBs[i]) << " GB/s, f32 FMA " << formatNumber("%.0f", mc.f32Gflops[i]) << " GFLOP/s, bf16 dot "
      << formatNumber("%.0f", mc.bf16Gflops[i]) << " GFLOP/s, AMX-BF16 "
      << (i < mc.amxGflops.size() ? formatNumber("%.0f", mc.amxGflops[i]) : std::string("0")) << " GFLOP/s, int8 dot "
      << (i < mc.int8Gops.size() ? formatNumber("%.0f", mc.int8Gops[i]) : std::string("0")) << " GOP/s.";
  o << "\n";
  for (const auto &n : r.notes) o << "\n- " << n;
  if (!r.notes.empty()) o << "\n";
  if (!r.fusion.empty()) o << "\n" << renderFusionTable(r);
  return o.str();
}

std::string renderFusionTable(const Report &r) {
  // Columns: each measured (test, threads), then the IR's counts.
  std::vector<std::pair<std::string, int>> columns;
  for (const auto &m : r.rows)
    if (std::find(columns.begin(), columns.end(), std::make_pair(m.test, m.threads)) == columns.end())
      columns.push_back({m.test, m.threads});
  std::ostringstream o;
  o << "Fusion levels (tokens/s, medians; kernels and activation bytes per token from the IR, decode at KV position "
    << r.fusion.front().decodePosition << "):\n\n| fusion |";
  for (const auto &[test, threads] : columns) o << " " << test << " " << threads << "t |";
  o << " decode kernels | decode act. read / written (B) | prefill kernels | prefill act. read / written (B) |\n|---|";
  for (size_t i = 0; i < columns.size(); ++i) o << "---:|";
  o << "---:|---:|---:|---:|\n";
  for (const auto &f : r.fusion) {
    o << "| " << f.level << " |";
    for (const auto &[test, threads] : columns) {
      std::string cell = "-";
      for (const auto &m : r.rows)
        if (m.engine == f.engine && m.test == test && m.threads == threads && !m.samples.empty())
          cell = formatNumber("%.2f", m.median());
      o << " " << cell << " |";
    }
    o << " " << formatNumber("%.0f", f.decodeKernels) << " | " << formatNumber("%.0f", f.decodeActivationRead) << " / "
      << formatNumber("%.0f", f.decodeActivationWritten) << " | " << formatNumber("%.2f", f.prefillKernels) << " | "
      << formatNumber("%.0f", f.prefillActivationRead) << " / " << formatNumber("%.0f", f.prefillActivationWritten)
      << " |\n";
  }
  return o.str();
}

nlohmann::json toJson(const Report &r) {
  nlohmann::json j;
  j["model"] = r.model;
  j["command"] = r.command;
  j["date"] = r.date;
  auto &m = j["machine"];
  m["cpu"] = r.machine.cpu;
  m["cores"] = r.machine.cores;
  for (size_t i = 0; i < r.machine.threads.size(); ++i)
    m["limits"].push_back({{"threads", r.machine.threads[i]},
                           {"read_GBps", r.machine.bandwidthGBs[i]},
                           {"f32_fma_GFLOPs", r.machine.f32Gflops[i]},
                           {"bf16_dot_GFLOPs", r.machine.bf16Gflops[i]},
                           {"amx_bf16_GFLOPs", i < r.machine.amxGflops.size() ? r.machine.amxGflops[i] : 0.0},
                           {"int8_dot_GOPs", i < r.machine.int8Gops.size() ? r.machine.int8Gops[i] : 0.0}});
  j["rows"] = nlohmann::json::array();
  for (const auto &x : r.rows) {
    nlohmann::json row = {{"engine", x.engine}, {"test", x.test}, {"threads", x.threads},
                          {"samples_tokens_per_s", x.samples}};
    if (!x.samples.empty()) row["median_tokens_per_s"] = x.median();
    if (!x.note.empty()) row["note"] = x.note;
    if (x.limit > 0) {
      row["limit_tokens_per_s"] = x.limit;
      row["limit_basis"] = x.limitBasis;
    }
    j["rows"].push_back(row);
  }
  j["notes"] = r.notes;
  for (const auto &f : r.fusion)
    j["fusion_levels"].push_back({{"engine", f.engine}, {"level", f.level},
                                  {"decode_position", f.decodePosition},
                                  {"decode_kernels_per_token", f.decodeKernels},
                                  {"decode_activation_bytes_read", f.decodeActivationRead},
                                  {"decode_activation_bytes_written", f.decodeActivationWritten},
                                  {"prefill_kernels_per_token", f.prefillKernels},
                                  {"prefill_activation_bytes_read", f.prefillActivationRead},
                                  {"prefill_activation_bytes_written", f.prefillActivationWritten}});
  return j;
}

std::string renderSvg(const Report &r) {
  // Groups in first-seen order of (test, threads); engines likewise.
  std::vector<std::pair<std::string, int>> groups;
  std::vector<std::string> engines;
  std::map<std::pair<std::pair<std::string, int>, std::string>, double> value;
  double top = 1;
  for (const auto &m : r.rows) {
    auto g = std::make_pair(m.test, m.threads);
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    if (std::find(engines.begin(), engines.end(), m.engine) == engines.end()) engines.push_back(m.engine);
    if (!m.samples.empty()) {
      value[{g, m.engine}] = m.median();
      top = std::max(top, m.median());
    }
  }
  // Log scale: decode and prefill rates differ by 10-100x.
  const double decades = std::ceil(std::log10(top) + 1e-9);
  const int bar = 18, gap = 24, left = 60, plotH = 300, topPad = 40;
  const int groupW = int(engines.size()) * bar + gap;
  const int width = left + int(groups.size()) * groupW + 20, legendH = 20 * int(engines.size());
  const int height = topPad + plotH + 50 + legendH;
  static const char *colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"};
  auto y = [&](double v) { return topPad + plotH - (v <= 1 ? 0.0 : std::log10(v) / decades * plotH); };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << left << "\" y=\"20\" font-size=\"14\">" << escapeXml("tokens/s (log scale), " + r.model)
    << "</text>\n";
  for (int d = 0; d <= int(decades); ++d) {
    double v = std::pow(10.0, d);
    o << "<line x1=\"" << left << "\" x2=\"" << width - 10 << "\" y1=\"" << y(v) << "\" y2=\"" << y(v)
      << "\" stroke=\"#ddd\"/><text x=\"" << left - 6 << "\" y=\"" << y(v) + 4 << "\" text-anchor=\"end\">"
      << formatNumber("%g", v) << "</text>\n";
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    int x0 = left + int(g) * groupW + gap / 2;
    for (size_t e = 0; e < engines.size(); ++e) {
      auto it = value.find({groups[g], engines[e]});
      if (it == value.end()) continue;
      double yv = y(it->second);
      o << "<rect x=\"" << x0 + int(e) * bar << "\" y=\"" << yv << "\" width=\"" << bar - 2 << "\" height=\""
        << topPad + plotH - yv << "\" fill=\"" << colors[e % 7] << "\"><title>"
        << escapeXml(engines[e] + " " + groups[g].first + " t" + std::to_string(groups[g].second) + ": " +
                     formatNumber("%.2f", it->second) + " tokens/s")
        << "</title></rect>\n";
    }
    o << "<text x=\"" << x0 + int(engines.size()) * bar / 2 << "\" y=\"" << topPad + plotH + 16
      << "\" text-anchor=\"middle\">" << escapeXml(groups[g].first) << "</text><text x=\""
      << x0 + int(engines.size()) * bar / 2 << "\" y=\"" << topPad + plotH + 30 << "\" text-anchor=\"middle\">"
      << groups[g].second << (groups[g].second == 1 ? " thread" : " threads") << "</text>\n";
  }
  for (size_t e = 0; e < engines.size(); ++e) {
    int ly = topPad + plotH + 50 + 20 * int(e);
    o << "<rect x=\"" << left << "\" y=\"" << ly - 10 << "\" width=\"12\" height=\"12\" fill=\"" << colors[e % 7]
      << "\"/><text x=\"" << left + 18 << "\" y=\"" << ly << "\">" << escapeXml(engines[e]) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

} // namespace qwen3c_bench
