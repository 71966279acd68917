// Copyright 2026 The bouncekit authors.
//
// Which vector width the MIME walker's delimiter search uses. It uses AVX2
// (32 positions at a time) when the CPU has it, SSE2 otherwise; tests turn
// AVX2 off to check the SSE2 path on machines that have both.

#ifndef BOUNCEKIT_SRC_INTERNAL_MIME_SIMD_H_
#define BOUNCEKIT_SRC_INTERNAL_MIME_SIMD_H_

namespace bouncekit::internal {

// Whether the delimiter search uses AVX2 (false on CPUs without it).
bool MimeWideDelimiterSearch();
// Turns AVX2 off (false) or back on where the CPU has it (true). Not for use
// while another thread parses.
void SetMimeWideDelimiterSearch(bool on);

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_MIME_SIMD_H_
