/* cpus: CPU lists as Linux writes them, parsed and written back shortest;
 * every malformed list refused with a message naming the flag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cpus.h"

static void norm(const char *in, const char *want)
{
    char out[256], err[256];
    if (pb_cpus_normalize(in, out, sizeof out, err, sizeof err) != 0)
        fail_msg("'%s' refused: %s", in, err);
    if (strcmp(out, want) != 0)
        fail_msg("'%s' -> '%s', want '%s'", in, out, want);
}

static void refused(const char *in)
{
    char out[256], err[256] = "";
    if (pb_cpus_normalize(in, out, sizeof out, err, sizeof err) == 0)
        fail_msg("'%s' accepted as '%s'", in, out);
    if (!strstr(err, "--cpus"))
        fail_msg("'%s': message '%s' does not name --cpus", in, err);
}

static void test_lists(void **st)
{
    (void)st;
    norm("0", "0");
    norm("0-0", "0");
    norm("0,1,2", "0-2");
    norm("3,1", "1,3");
    norm("0-1,1-3,7", "0-3,7");
    norm("5,4,6,10-11", "4-6,10-11");
    refused("");
    refused("x");
    refused("-1");
    refused("1,");
    refused(",1");
    refused("2-1");
    refused("1-");
    refused("0 1");
    refused("+1");
    refused("1-+2");
    refused("99999");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_lists)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
