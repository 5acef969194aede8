// GNU readline and its history library.
#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>

// Standard output line by line, also into a file or pipe (a long run's log can be followed).
static inline void svfap_line_buffered_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
