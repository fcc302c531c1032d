#!/bin/sh
# Run the imap-parse fuzz target over its seed corpus (TAP from standalone.c).
exec "${top_builddir:-.}/tests/fuzz/fuzz-imap-parse" "${top_srcdir:-.}/tests/fuzz/corpus/imap"
