// OpenBLAS's CBLAS interface and thread control.
#include <cblas.h>
