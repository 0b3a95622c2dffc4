// The source of transit_test_pch (tests/CMakeLists.txt): compiling it builds the precompiled
// header every test binary reuses. It has no code of its own.
