//===- AsmListing.cpp - kernels, innermost loops and instruction counts --------===//
#include "tools/qwen3c/explain/AsmListing.h"
#include "passes/KernelLocation.h"

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

namespace q3c::explain {
namespace {

bool startsWith(const std::string &s, const char *p) { return s.rfind(p, 0) == 0; }

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Splits "a, (b,c), d" at the commas outside parentheses.
std::vector<std::string> operandList(const std::string &ops) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char ch : ops) {
    if (ch == '(') ++depth;
    if (ch == ')') --depth;
    if (ch == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

struct Block {
  std::string name;          // BB3_7, or "" for a function's entry block
  std::string loopHeader;    // the innermost loop it is in (its header's name), "" for none
  bool innerHeader = false;  // the header of a loop with no loop inside
  std::vector<AsmInstruction> instructions;
};

} // namespace

void InstructionCounts::add(const AsmInstruction &i) {
  ++total;
  const std::string &m = i.mnemonic;
  if (startsWith(m, "vfmadd") || startsWith(m, "vfmsub") || startsWith(m, "vfnmadd") || startsWith(m, "vfnmsub")) ++fma;
  if (startsWith(m, "vdpbf16ps")) ++bf16Dot;
  if (startsWith(m, "vpdpbusd") || startsWith(m, "vpdpbssd") || startsWith(m, "vpmaddubsw") || startsWith(m, "vpmaddwd"))
    ++int8Dot;
  if (startsWith(m, "tdp") || startsWith(m, "tileload") || startsWith(m, "tilestore")) ++tile;
  if (startsWith(m, "prefetch")) ++prefetches;
  if (i.comment.find("Spill") != std::string::npos) ++spills;
  if (i.comment.find("Reload") != std::string::npos) ++reloads;
  if (!startsWith(m, "prefetch") && !startsWith(m, "lea") && !startsWith(m, "nop")) {
    std::vector<std::string> ops = operandList(i.operands);
    for (size_t k = 0; k < ops.size(); ++k) {
      if (ops[k].find('(') == std::string::npos) continue;
      // AT&T order: the destination is last.
      (k + 1 == ops.size() && ops.size() > 1 ? stores : loads)++;
    }
  }
  auto rank = [](const std::string &r) { return r == "zmm" ? 3 : r == "ymm" ? 2 : r == "xmm" ? 1 : 0; };
  for (const char *r : {"zmm", "ymm", "xmm"})
    if (i.operands.find(std::string("%") + r) != std::string::npos && rank(r) > rank(widestRegister)) widestRegister = r;
}

const AsmLoop *AsmKernel::hottest() const {
  const AsmLoop *best = nullptr;
  auto work = [](const AsmLoop &l) { return l.counts.fma + l.counts.bf16Dot + l.counts.int8Dot + l.counts.tile; };
  // A loop of a parallel region first: the strategy parallelises a
  // kernel's bulk (a product's blocks, attention's heads), while a folded
  // norm's sum of squares, say, runs before it on one thread.
  auto parallel = [](const AsmLoop &l) { return l.function.find("omp_par") != std::string::npos; };
  auto key = [&](const AsmLoop &l) { return std::make_tuple(parallel(l), work(l), l.counts.total); };
  for (const AsmLoop &l : loops)
    if (!best || key(l) > key(*best)) best = &l;
  return best;
}

std::string render(const AsmInstruction &i) {
  std::string s = i.mnemonic;
  if (!i.operands.empty()) s += std::string(std::max<size_t>(1, 12 - std::min<size_t>(12, s.size())), ' ') + i.operands;
  if (!i.comment.empty()) s += "  # " + i.comment;
  return s;
}

AsmListing AsmListing::parse(const std::string &text) {
  AsmListing out;
  static const std::regex fileRe(R"(^\s*\.file\s+(\d+)\s+"([^"]*)\"(?:\s+"([^"]*)\")?)");
  static const std::regex locRe(R"(^\s*\.loc\s+(\d+)\s+(\d+))");
  static const std::regex memberRe(R"(in Loop: Header=(BB\d+_\d+))");
  std::set<std::string> kernelFiles;
  std::istringstream in(text);
  std::string line, function;
  int64_t current = 0;
  std::vector<Block> blocks;       // of the current function
  bool blockComments = false;      // still reading the comment lines of a block label
  auto flush = [&]() {             // the function's innermost loops
    std::map<std::string, AsmLoop> loops;
    std::vector<std::string> order;
    for (const Block &b : blocks)
      if (b.innerHeader) {
        order.push_back(b.name);
        loops[b.name].function = function;
        loops[b.name].header = b.name;
      }
    for (const Block &b : blocks) {
      std::string h = b.innerHeader ? b.name : b.loopHeader;
      auto it = loops.find(h);
      if (it == loops.end()) continue;
      it->second.instructions.insert(it->second.instructions.end(), b.instructions.begin(), b.instructions.end());
    }
    for (const std::string &h : order) {
      AsmLoop &l = loops[h];
      std::map<int64_t, int64_t> votes;
      for (const AsmInstruction &i : l.instructions) {
        l.counts.add(i);
        if (i.kernel) ++votes[i.kernel];
      }
      if (votes.empty()) continue;
      l.kernel = std::max_element(votes.begin(), votes.end(), [](auto &a, auto &b) { return a.second < b.second; })->first;
      out.kernels[l.kernel].loops.push_back(std::move(l));
    }
    blocks.clear();
  };
  while (std::getline(in, line)) {
    std::smatch m;
    std::string body = line, comment;
    size_t hash = line.find('#');
    if (hash != std::string::npos) {
      body = line.substr(0, hash);
      comment = trim(line.substr(hash + 1));
    }
    std::string t = trim(body);
    if (std::regex_search(line, m, fileRe)) {
      std::string name = m[3].matched ? m[3].str() : m[2].str();
      if (name == q3::kKernelFile) kernelFiles.insert(m[1].str());
      continue;
    }
    if (std::regex_search(line, m, locRe)) {
      current = kernelFiles.count(m[1].str()) ? std::stoll(m[2].str()) : 0;
      continue;
    }
    const bool labelLine = !t.empty() && t.back() == ':' && t.find_first_of(" \t") == std::string::npos;
    if (labelLine && !startsWith(t, ".L")) { // a function (or a data symbol) starts
      flush();
      function = t.substr(0, t.size() - 1);
      current = 0;
      blocks.push_back({});
      blockComments = false;
      continue;
    }
    const bool blockStart = (labelLine && startsWith(t, ".LBB")) || (t.empty() && startsWith(comment, "%bb."));
    if (blockStart) {
      Block b;
      if (labelLine) b.name = t.substr(2, t.size() - 3); // .LBB3_7: -> BB3_7
      blocks.push_back(b);
      blockComments = true;
    }
    if (blockComments && !blocks.empty() && (blockStart || t.empty())) {
      if (comment.find("Inner Loop Header") != std::string::npos) blocks.back().innerHeader = true;
      if (std::regex_search(comment, m, memberRe)) blocks.back().loopHeader = m[1].str();
      continue;
    }
    if (t.empty() || t[0] == '.' || labelLine) continue; // directives, other labels
    blockComments = false;
    AsmInstruction i;
    size_t sp = t.find_first_of(" \t");
    i.mnemonic = t.substr(0, sp);
    i.operands = sp == std::string::npos ? "" : trim(t.substr(sp));
    if (comment.find("Spill") != std::string::npos || comment.find("Reload") != std::string::npos) i.comment = comment;
    i.kernel = current;
    ++out.instructions;
    if (current) {
      ++out.attributed;
      out.kernels[current].counts.add(i);
    }
    if (blocks.empty()) blocks.push_back({});
    blocks.back().instructions.push_back(i);
  }
  flush();
  return out;
}

} // namespace q3c::explain
