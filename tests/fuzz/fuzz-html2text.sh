#!/bin/sh
# Run the html2text fuzz target over its seed corpus (TAP from standalone.c).
exec "${top_builddir:-.}/tests/fuzz/fuzz-html2text" "${top_srcdir:-.}/tests/fuzz/corpus/html2text"
