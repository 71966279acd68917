// Copyright 2026 The bouncekit authors.
//
// The Parquet reader's decoder of the RLE / bit-packing hybrid encoding
// (definition levels, dictionary indices), declared here so that its tests
// can call it on hand-made runs.

#ifndef BOUNCEKIT_SRC_INTERNAL_PARQUET_HYBRID_H_
#define BOUNCEKIT_SRC_INTERNAL_PARQUET_HYBRID_H_

#include <cstddef>
#include <cstdint>

namespace bouncekit::parquet::internal {

// Decodes `count` values of `bit_width` (0..32) bits from the `n` bytes at
// `p` into `out` (room for `count`). False when the data ends early or is
// malformed. Linear in n + count whatever the run headers claim.
bool DecodeHybrid(const uint8_t* p, size_t n, int bit_width, int64_t count, uint32_t* out);

}  // namespace bouncekit::parquet::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_PARQUET_HYBRID_H_
