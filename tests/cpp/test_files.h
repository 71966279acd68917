// Copyright 2026 The bouncekit authors.
//
// Small file helpers shared by the gtest files.

#ifndef BOUNCEKIT_TESTS_CPP_TEST_FILES_H_
#define BOUNCEKIT_TESTS_CPP_TEST_FILES_H_

#include <fstream>
#include <sstream>
#include <string>

namespace bouncekit::testing {

// The whole file (empty when it cannot be read; the tests then fail on its content).
inline std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace bouncekit::testing

#endif  // BOUNCEKIT_TESTS_CPP_TEST_FILES_H_
