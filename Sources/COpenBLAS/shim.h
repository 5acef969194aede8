// OpenBLAS's CBLAS interface and thread control.
#include <cblas.h>

// Flush denormals to zero (FTZ) and treat denormal inputs as zero (DAZ) on the calling thread:
// a trained model's tiny activations and softmax tails otherwise take the slow microcode path
// (measured: a pretraining step 4x slower after a few hundred steps). PyTorch sets the same bits
// (torch.set_flush_denormal).
#include <xmmintrin.h>
static inline void svfap_flush_denormals(void) { _mm_setcsr(_mm_getcsr() | 0x8040); }

// OpenBLAS's worker threads keep the floating-point state they were created with (at library load,
// before us): shutting its pool down makes the next call create them again from a flushing thread.
int blas_thread_shutdown_(void);
static inline void svfap_flush_denormals_in_blas(void) {
  svfap_flush_denormals();
  blas_thread_shutdown_();
}
