// CompletionText: what a client sees of a completion growing token by token.
#include "runtime/CompletionText.h"

#include <gtest/gtest.h>

using qwen3c_rt::CompletionText;

namespace {
// Feeds pieces; returns everything sent, with "|" between add() results.
std::string feed(CompletionText &t, const std::vector<std::string> &pieces) {
  std::string out;
  for (const auto &p : pieces) out += t.add(p) + "|";
  return out + t.finish();
}
} // namespace

TEST(CompletionText, WithoutStopsPassesTextThrough) {
  CompletionText t({});
  EXPECT_EQ(feed(t, {"Hel", "lo", " world"}), "Hel|lo| world|");
  EXPECT_FALSE(t.stopped());
  EXPECT_EQ(t.sent(), "Hello world");
}

TEST(CompletionText, HoldsBackHalfACharacter) {
  CompletionText t({});
  // "é" = C3 A9 split across two tokens.
  EXPECT_EQ(t.add("caf\xC3"), "caf");
  EXPECT_EQ(t.add("\xA9!"), "\xC3\xA9!");
  // A character never completed becomes U+FFFD at the end.
  EXPECT_EQ(t.add("\xE2\x82"), "");
  EXPECT_EQ(t.finish(), "\xEF\xBF\xBD");
}

TEST(CompletionText, StopsBeforeTheStopString) {
  CompletionText t({"END"});
  EXPECT_EQ(feed(t, {"abc ", "E", "N", "D tail"}), "abc ||||");
  EXPECT_TRUE(t.stopped());
  EXPECT_EQ(t.sent(), "abc ");
  EXPECT_EQ(t.add("more"), "");
}

TEST(CompletionText, ReleasesAHeldTailThatDidNotBecomeAStop) {
  CompletionText t({"END"});
  EXPECT_EQ(t.add("x EN"), "x ");
  EXPECT_EQ(t.add("TRY"), "ENTRY");
  EXPECT_EQ(t.add("E"), "");
  EXPECT_EQ(t.finish(), "E"); // the end: the held "E" was no stop string
  EXPECT_FALSE(t.stopped());
}

TEST(CompletionText, TheEarliestOfSeveralStopsWins) {
  CompletionText t({"world", "lo w"});
  EXPECT_EQ(feed(t, {"hello world"}), "hel|");
  EXPECT_EQ(t.sent(), "hel");
}

TEST(CompletionText, AStopInsideOneTokenCutsIt) {
  CompletionText t({"\n\n"});
  EXPECT_EQ(feed(t, {"one", "\n", "\ntwo"}), "one|||");
}

TEST(CompletionText, OverlappingPrefixes) {
  // "aaa" may still end in "aab": only its first "a" is final.
  CompletionText t({"aab"});
  EXPECT_EQ(feed(t, {"a", "a", "a", "b"}), "||a||");
  EXPECT_TRUE(t.stopped());
  EXPECT_EQ(t.sent(), "a");
}
