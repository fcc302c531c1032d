#include "m2c-config.h"
#include "imap-parse.h"
typedef int m2c_imap_parse_placeholder;
