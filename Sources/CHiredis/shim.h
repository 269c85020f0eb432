#ifndef SMSHOOK_CHIREDIS_SHIM_H
#define SMSHOOK_CHIREDIS_SHIM_H
// hiredis's RESP reader (redisReaderCreate / redisReaderFeed / redisReaderGetReply) and reply objects.
#include <hiredis/hiredis.h>
#endif
