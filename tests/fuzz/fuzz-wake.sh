#!/bin/sh
# Run the wake-up datagram fuzz target over its seed corpus (TAP from standalone.c).
exec "${top_builddir:-.}/tests/fuzz/fuzz-wake" "${top_srcdir:-.}/tests/fuzz/corpus/wake"
