#include "CLinux.h"
#include <zlib.h>

int iw_gunzip(const unsigned char *input, size_t input_length, unsigned char *output, size_t output_capacity, size_t *output_length) {
    z_stream stream = {0};
    // 16 + MAX_WBITS: a gzip header and trailer, as /proc/config.gz has.
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) return IW_GUNZIP_CORRUPT;
    stream.next_in = (unsigned char *)input;
    stream.avail_in = (uInt)input_length;
    stream.next_out = output;
    stream.avail_out = (uInt)output_capacity;
    int status = inflate(&stream, Z_FINISH);
    *output_length = stream.total_out;
    inflateEnd(&stream);
    if (status == Z_STREAM_END) return stream.avail_in == 0 ? IW_GUNZIP_OK : IW_GUNZIP_TRAILING;
    if (status == Z_BUF_ERROR && stream.avail_out == 0) return IW_GUNZIP_TOO_LARGE;
    if (status == Z_BUF_ERROR) return IW_GUNZIP_TRUNCATED;
    return IW_GUNZIP_CORRUPT;
}
