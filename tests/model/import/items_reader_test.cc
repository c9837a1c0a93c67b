#include "model/items_reader.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recd::model {
namespace {

using ::testing::HasSubstr;

std::string Error(std::string_view text) {
  auto r = ParseItems(text, "items.txt");
  EXPECT_FALSE(r.ok());
  return std::string(r.status().message());
}

TEST(ItemsReader, ReadsOneIdPerLineWithOrWithoutFinalNewline) {
  for (std::string_view text : {"a\nsku-9\nü\n", "a\nsku-9\nü"}) {
    auto ids = ParseItems(text, "items.txt");
    ASSERT_TRUE(ids.ok()) << ids.status();
    ASSERT_EQ(ids->count(), 3u);
    EXPECT_EQ(ids->Id(0), "a");
    EXPECT_EQ(ids->Id(1), "sku-9");
    EXPECT_EQ(ids->Id(2), "ü");
    EXPECT_EQ(ids->bytes, "asku-9ü");
  }
}

TEST(ItemsReader, NamesTheLineOfADuplicateAndOfItsFirstOccurrence) {
  std::string text;
  for (int i = 1; i <= 16; ++i) text += (i == 3 ? "sku-9" : "id-" + std::to_string(i)) + "\n";
  text += "sku-9\n";
  EXPECT_EQ(Error(text), "items.txt line 17: duplicate item id \"sku-9\" (first on line 3)");
}

TEST(ItemsReader, RejectsWindowsLineEndings) {
  EXPECT_THAT(Error("a\r\nb\r\n"), HasSubstr("items.txt line 1: ends with CR"));
}

TEST(ItemsReader, RejectsEmptyLines) {
  EXPECT_THAT(Error("a\n\nb\n"), HasSubstr("items.txt line 2: empty line"));
  EXPECT_THAT(Error("a\nb\n\n"), HasSubstr("items.txt line 3: empty line"));
  EXPECT_THAT(Error("\n"), HasSubstr("items.txt line 1: empty line"));
}

TEST(ItemsReader, RejectsAnEmptyFile) {
  EXPECT_THAT(Error(""), HasSubstr("items.txt: file is empty"));
}

TEST(ItemsReader, RejectsInvalidIds) {
  EXPECT_THAT(Error("a\nb\x01"
                    "c\n"),
              HasSubstr("items.txt line 2: item id \"b\\x01c\" is not valid"));
  EXPECT_THAT(Error("a\n\xff\xfe\n"), HasSubstr("items.txt line 2: item id"));
  EXPECT_THAT(Error("a\tb\n"), HasSubstr("line 1"));
}

TEST(ItemsReader, RejectsIdsLongerThan128Bytes) {
  EXPECT_TRUE(ParseItems(std::string(128, 'x'), "items.txt").ok());
  EXPECT_THAT(Error(std::string(129, 'x')),
              HasSubstr("items.txt line 1: item id is 129 bytes, more than 128"));
}

TEST(ItemsReader, RejectsAByteOrderMark) {
  EXPECT_THAT(Error("\xEF\xBB\xBFsku-1\n"), HasSubstr("byte order mark"));
}

}  // namespace
}  // namespace recd::model
