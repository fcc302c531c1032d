#!/bin/sh
# Run the mime fuzz target over its seed corpus (TAP from standalone.c).
exec "${top_builddir:-.}/tests/fuzz/fuzz-mime" "${top_srcdir:-.}/tests/fuzz/corpus/mime"
