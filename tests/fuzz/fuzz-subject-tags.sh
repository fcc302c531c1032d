#!/bin/sh
# Run the subject-tags fuzz target over its seed corpus (TAP from standalone.c).
exec "${top_builddir:-.}/tests/fuzz/fuzz-subject-tags" "${top_srcdir:-.}/tests/fuzz/corpus/subject-tags"
