// FFmpeg's demuxing, decoding and scaling libraries, plus wrappers for macros Swift cannot import.
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/error.h>

/// AVERROR(e) as a function.
static inline int svfap_averror(int e) { return AVERROR(e); }
/// AVERROR_EOF as a function.
static inline int svfap_averror_eof(void) { return AVERROR_EOF; }
/// AV_NOPTS_VALUE as a function.
static inline int64_t svfap_nopts_value(void) { return AV_NOPTS_VALUE; }
