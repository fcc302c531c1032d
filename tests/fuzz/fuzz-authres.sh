#!/bin/sh
# Run the authres fuzz target over its seed corpus (TAP from standalone.c).
exec "${top_builddir:-.}/tests/fuzz/fuzz-authres" "${top_srcdir:-.}/tests/fuzz/corpus/authres"
