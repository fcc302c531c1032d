#include "m2c-config.h"
int main(void) { return 0; }
