/* driver_serial: agents strictly one after another, even in the concurrent
 * phase. It is the control: its speedup is 1 by construction (what the
 * study's async-std variant measured by accident). */
#include "driver.h"

int pb_driver_serial_run_all(pb_transfer **ts, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        int rc = pb_driver_uv_run_all(&ts[i], 1, err, errlen);
        if (rc != 0)
            return rc; /* later transfers stay unstarted (t_start -1) */
    }
    return 0;
}
