#!/bin/sh
# Run the reply fuzz target over its seed corpus (TAP from standalone.c).
exec "${top_builddir:-.}/tests/fuzz/fuzz-reply" "${top_srcdir:-.}/tests/fuzz/corpus/reply"
