/* driver_serial: agents strictly one after another, even in the concurrent
 * phase. It is the control: its speedup is 1 by construction (what the
 * study's async-std variant measured by accident). An agent starts at its
 * arrival or when the one before it ended, whichever is later. */
#include "driver.h"

#include <uv.h>

int pb_driver_serial_run(pb_wf_agent **ws, int n, uint64_t *release, char *err, size_t errlen)
{
    *release = uv_hrtime();
    for (int i = 0; i < n; i++) {
        int rc = pb_driver_uv_run_from(&ws[i], 1, *release, err, errlen);
        if (rc != 0)
            return rc; /* later agents stay unstarted */
    }
    return 0;
}
