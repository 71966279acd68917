// Copyright 2026 The bouncekit authors.
//
// PhraseSet: which of a fixed set of phrases occur in a text, ASCII
// case-insensitively, in one pass. The readers ask many "does this line
// mention X or Y or Z" questions of every line of an e-mail; a chain of
// substring searches reads the line once per phrase, this reads it once.
//
// Phrases are indexed by their first (lower-case) byte; at each position of
// the text only the phrases starting with that byte are compared (see
// anchors below). Each phrase carries a group number (0..63); the result
// is the bitmask of the groups of all phrases found. Linear in text size
// times the longest phrase (phrases are short constants), no allocation
// while scanning.
//
// A phrase may name an anchor: the offset of the three bytes (or, without
// a prefilter, the one byte) it is indexed and prefiltered by, instead of
// its first ones. A phrase whose first bytes are common in the texts
// ("in reply to ehlo", "end of data") but which holds a rare word is then
// compared only where that word occurs (at "ehl", "dat"): fewer candidate
// positions, fewer mispredicted branches. The group mask found is the
// same; only the order in which phrases are found changes (by anchor
// position), which matters to `stop_mask` alone (see Find).
//
// When every phrase has at least three bytes from its anchor on and they
// make at most 16 distinct three-byte prefixes, positions are first ruled
// out sixteen at a time: only where some prefix matches (ignoring case) are
// the phrases compared. Positions are still visited in order, so the result
// (and the early return of `stop_mask`) is the same as the byte loop's. On
// CPUs with SSSE3 (checked at run time) the prefixes are looked up in nibble
// tables with pshufb, the same few instructions for any number of prefixes
// (the prefixes go to eight buckets; a position is a candidate when each of
// its three bytes has both nibbles in the tables of one bucket, so some
// candidates are false, never a match missed). Without SSSE3 each prefix is
// compared (SSE2): six instructions per prefix and block.

#ifndef BOUNCEKIT_SRC_INTERNAL_PHRASE_SET_H_
#define BOUNCEKIT_SRC_INTERNAL_PHRASE_SET_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <tmmintrin.h>  // _mm_shuffle_epi8, in functions compiled for SSSE3 only
#define BOUNCEKIT_PHRASE_SET_SHUFFLE 1
#endif

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace bouncekit::internal {

class PhraseSet {
 public:
  struct Phrase {
    absl::string_view text;  // not empty; ASCII letters lower-case (other bytes match as they are)
    int group;               // 0..63
    size_t anchor = 0;       // where its indexed bytes start (< text.size())
  };

  PhraseSet(std::initializer_list<Phrase> phrases) { Init(phrases); }
  explicit PhraseSet(const std::vector<Phrase>& phrases) { Init(phrases); }

 private:
  template <typename Phrases>
  void Init(const Phrases& phrases) {
    bool prefilter = true;
    for (const Phrase& p : phrases) {
      const size_t a = p.anchor < p.text.size() ? p.anchor : 0;
      const auto first = static_cast<unsigned char>(p.text[a]);
      by_first_[first].push_back(MakeEntry(p.text, uint64_t{1} << p.group, a));
      starts_[first] = 1;
      starts_[static_cast<unsigned char>(absl::ascii_toupper(first))] = 1;
      if (p.text.size() - a < 3) {
        prefilter = false;
        continue;
      }
      // Compared as (byte | 0x20): equal for both cases of a letter, and a
      // non-letter only ever adds candidates (never hides a match).
      const std::array<char, 3> pre = {static_cast<char>(p.text[a] | 0x20),
                                       static_cast<char>(p.text[a + 1] | 0x20),
                                       static_cast<char>(p.text[a + 2] | 0x20)};
      bool known = false;
      for (int i = 0; i < num_prefixes_; ++i) known = known || prefixes_[i] == pre;
      if (known) continue;
      if (num_prefixes_ == kMaxPrefixes) {
        prefilter = false;
        continue;
      }
      prefixes_[num_prefixes_++] = pre;
    }
    if (!prefilter) num_prefixes_ = 0;
#if defined(__SSE2__)
    for (int i = 0; i < num_prefixes_; ++i) {
      for (int j = 0; j < 3; ++j) prefix_vectors_[i][j] = _mm_set1_epi8(prefixes_[i][j]);
    }
#endif
#if defined(BOUNCEKIT_PHRASE_SET_SHUFFLE)
    // Prefix i goes to bucket i % 8; for byte j of the prefix, the bucket's
    // bit is set at its low nibble in low_[j] and at its high nibble in
    // high_[j].
    for (int i = 0; i < num_prefixes_; ++i) {
      const uint8_t bit = static_cast<uint8_t>(1u << (i % 8));
      for (int j = 0; j < 3; ++j) {
        const auto c = static_cast<unsigned char>(prefixes_[i][j]);
        low_[j][c & 0x0f] |= bit;
        high_[j][c >> 4] |= bit;
      }
    }
    set_shuffle(true);
#endif
  }

 public:
  // Bitmask of the groups whose phrases occur in `text` (any case).
  // `stop_mask`: return as soon as any of these groups is found (the mask
  // then holds that group and those found before it: phrases are found in
  // the order of their anchors' positions).
  uint64_t Find(absl::string_view text, uint64_t stop_mask = 0) const {
#if defined(BOUNCEKIT_PHRASE_SET_SHUFFLE)
    if (shuffle_) return FindShuffle(text, stop_mask);
#endif
    uint64_t found = 0;
    const size_t n = text.size();
    const auto* const bytes = reinterpret_cast<const unsigned char*>(text.data());
    size_t k = 0;
#if defined(__SSE2__)
    if (num_prefixes_ > 0) {
      const __m128i fold = _mm_set1_epi8(0x20);
      // Blocks of 16 start positions whose three bytes are all in the text.
      for (; k + 18 <= n; k += 16) {
        const __m128i a = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + k)), fold);
        const __m128i b = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + k + 1)), fold);
        const __m128i c = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + k + 2)), fold);
        __m128i any = _mm_setzero_si128();
        for (int i = 0; i < num_prefixes_; ++i) {
          const __m128i* pre = prefix_vectors_[i];
          const __m128i m = _mm_and_si128(
              _mm_and_si128(_mm_cmpeq_epi8(a, pre[0]), _mm_cmpeq_epi8(b, pre[1])),
              _mm_cmpeq_epi8(c, pre[2]));
          any = _mm_or_si128(any, m);
        }
        unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(any));
        while (mask != 0) {
          const size_t at = k + static_cast<size_t>(__builtin_ctz(mask));
          mask &= mask - 1;
          if (MatchAt(text, at, stop_mask, &found)) return found;
        }
      }
    }
#endif
    for (; k < n; ++k) {
      if (starts_[bytes[k]] == 0) continue;  // the common case: one load, one test
      if (MatchAt(text, k, stop_mask, &found)) return found;
    }
    return found;
  }

  // Whether Find uses the SSSE3 tables (the CPU has SSSE3 and the phrases
  // have a prefilter). Tests turn it off to check the SSE2 path too; it is
  // not meant to be changed while another thread calls Find.
  bool shuffle() const { return shuffle_; }
  void set_shuffle(bool on) {
#if defined(BOUNCEKIT_PHRASE_SET_SHUFFLE)
    __builtin_cpu_init();  // harmless when done; needed if this runs before the CPU model is known
    shuffle_ = on && num_prefixes_ > 0 && __builtin_cpu_supports("ssse3");
#else
    (void)on;
#endif
  }

 private:
#if defined(BOUNCEKIT_PHRASE_SET_SHUFFLE)
  // The buckets that each of the 16 bytes at `at` (ASCII case folded) can
  // stand for, as byte j of a prefix: both of its nibbles in that bucket.
  __attribute__((target("ssse3"))) static __m128i Buckets(const unsigned char* at, __m128i low, __m128i high,
                                                          __m128i fold, __m128i nibble) {
    const __m128i v = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at)), fold);
    return _mm_and_si128(_mm_shuffle_epi8(low, _mm_and_si128(v, nibble)),
                         _mm_shuffle_epi8(high, _mm_and_si128(_mm_srli_epi16(v, 4), nibble)));
  }

  // Find with the nibble tables (only called when the CPU has SSSE3).
  __attribute__((target("ssse3"))) uint64_t FindShuffle(absl::string_view text, uint64_t stop_mask) const {
    uint64_t found = 0;
    const size_t n = text.size();
    const auto* const bytes = reinterpret_cast<const unsigned char*>(text.data());
    const __m128i fold = _mm_set1_epi8(0x20), nibble = _mm_set1_epi8(0x0f);
    __m128i low[3], high[3];
    for (int j = 0; j < 3; ++j) {
      low[j] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(low_[j].data()));
      high[j] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(high_[j].data()));
    }
    size_t k = 0;
    // Blocks of 16 start positions whose three bytes are all in the text.
    for (; k + 18 <= n; k += 16) {
      const __m128i any = _mm_and_si128(_mm_and_si128(Buckets(bytes + k, low[0], high[0], fold, nibble),
                                                      Buckets(bytes + k + 1, low[1], high[1], fold, nibble)),
                                        Buckets(bytes + k + 2, low[2], high[2], fold, nibble));
      unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(any, _mm_setzero_si128()))) ^ 0xffffu;
      while (mask != 0) {
        const size_t at = k + static_cast<size_t>(__builtin_ctz(mask));
        mask &= mask - 1;
        if (MatchAt(text, at, stop_mask, &found)) return found;
      }
    }
    for (; k < n; ++k) {
      if (starts_[bytes[k]] == 0) continue;
      if (MatchAt(text, k, stop_mask, &found)) return found;
    }
    return found;
  }
#endif

  // Compares the phrases whose anchor byte is text[k]'s letter, each with
  // its anchor at k, adding the groups found to `*found`; true as soon as a
  // group of `stop_mask` is found (the caller returns).
  bool MatchAt(absl::string_view text, size_t anchor_at, uint64_t stop_mask, uint64_t* found) const {
    const size_t n = text.size();
    const std::vector<Entry>& cands = by_first_[static_cast<unsigned char>(
        absl::ascii_tolower(static_cast<unsigned char>(text[anchor_at])))];
    for (const Entry& e : cands) {
      if ((*found & e.group_bit) != 0 || e.anchor > anchor_at) continue;
      const size_t k = anchor_at - e.anchor;  // where the phrase would start
      if (e.text.size() > n - k) continue;
      size_t j = e.anchor == 0 ? 1 : 0;  // (the anchor byte itself matched)
      if (n - k >= 8) {
        // The first (up to) eight bytes in one compare.
        uint64_t x;
        std::memcpy(&x, text.data() + k, 8);
        if (((x | e.fold8) & e.keep8) != e.pattern8) continue;
        j = e.text.size() < 8 ? e.text.size() : 8;
      }
      while (j < e.text.size() &&
             absl::ascii_tolower(static_cast<unsigned char>(text[k + j])) == e.text[j]) {
        ++j;
      }
      if (j == e.text.size()) {
        *found |= e.group_bit;
        if ((*found & stop_mask) != 0) return true;
      }
    }
    return false;
  }

  static constexpr int kMaxPrefixes = 16;
  struct Entry {
    std::string text;
    uint64_t group_bit;
    size_t anchor;  // Phrase::anchor
    // The first min(8, size) bytes as one word: a text word w matches them
    // (ignoring ASCII case) iff ((w | fold8) & keep8) == pattern8. fold8
    // has 0x20 where the phrase has a letter (both cases of it then fold to
    // the lower one; no other byte does), keep8 0xff where it has a byte.
    uint64_t pattern8 = 0, fold8 = 0, keep8 = 0;
  };

  static Entry MakeEntry(absl::string_view text, uint64_t group_bit, size_t anchor) {
    Entry e{std::string(text), group_bit, anchor};
    unsigned char pattern[8] = {}, fold[8] = {}, keep[8] = {};
    for (size_t i = 0; i < 8 && i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      pattern[i] = c;
      fold[i] = (c >= 'a' && c <= 'z') ? 0x20 : 0;
      keep[i] = 0xff;
    }
    std::memcpy(&e.pattern8, pattern, 8);
    std::memcpy(&e.fold8, fold, 8);
    std::memcpy(&e.keep8, keep, 8);
    return e;
  }
  std::array<std::vector<Entry>, 256> by_first_;
  std::array<uint8_t, 256> starts_{};  // 1 where a phrase's anchor starts with this byte (any case)
  std::array<std::array<char, 3>, kMaxPrefixes> prefixes_{};  // three bytes from the anchor | 0x20
  int num_prefixes_ = 0;  // 0: no prefilter (a phrase shorter than three bytes, or too many)
#if defined(__SSE2__)
  __m128i prefix_vectors_[kMaxPrefixes][3];  // prefixes_ broadcast, built once
#endif
  // Nibble tables of the SSSE3 prefilter: bit b of low_[j][x] (high_[j][x])
  // is set when a prefix of bucket b has low (high) nibble x at byte j.
  std::array<std::array<uint8_t, 16>, 3> low_{}, high_{};
  bool shuffle_ = false;
};

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_PHRASE_SET_H_
