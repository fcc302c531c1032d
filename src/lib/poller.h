/* poller.h - placeholder */
#ifndef M2C_POLLER_H
#define M2C_POLLER_H
#endif
