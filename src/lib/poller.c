#include "m2c-config.h"
#include "poller.h"
typedef int m2c_poller_placeholder;
