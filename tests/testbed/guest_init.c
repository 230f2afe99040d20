/*
 * /init of the testbed guests (static, no libc beyond what gcc -static links).
 *
 * Reads from the kernel command line:
 *   wd.touch=<MiB>  memory the guest allocates, touches once, then rewrites
 *                   cyclically
 *   wd.rate=<MiB/s> how many MiB of that working set it dirties per second
 *                   (one byte written per 4 KiB page, paced by the clock)
 *   wd.name=<text>  name printed in every line
 *
 * Prints on the console (serial log) a "wd-mem" line once the working set is
 * touched (MemTotal/MemFree from /proc/meminfo, in kB), then every 0.5 s a line
 *   wd-tick <name> <counter> <pages-written>
 * The counter keeps advancing as long as the guest is alive: that is the
 * liveness check used after migrations.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char cmdline[4096];

static const char *param(const char *key, const char *dflt)
{
    static char val[256];
    size_t kl = strlen(key);
    char *p = cmdline;
    while ((p = strstr(p, key)) != NULL) {
        if ((p == cmdline || p[-1] == ' ') && p[kl] == '=') {
            size_t i = 0;
            p += kl + 1;
            while (*p && *p != ' ' && *p != '\n' && i < sizeof(val) - 1)
                val[i++] = *p++;
            val[i] = 0;
            return val;
        }
        p += kl;
    }
    return dflt;
}

static void meminfo(long *total, long *freekb)
{
    char buf[4096];
    int fd = open("/proc/meminfo", O_RDONLY);
    *total = *freekb = -1;
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = 0;
    char *p = strstr(buf, "MemTotal:");
    if (p)
        *total = strtol(p + 9, NULL, 10);
    p = strstr(buf, "MemFree:");
    if (p)
        *freekb = strtol(p + 8, NULL, 10);
}

int main(void)
{
    mkdir("/proc", 0755);
    mkdir("/dev", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    int con = open("/dev/ttyS0", O_WRONLY | O_NOCTTY);
    if (con < 0)
        con = open("/dev/console", O_WRONLY | O_NOCTTY);
    if (con >= 0) {
        dup2(con, 1);
        dup2(con, 2);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, cmdline, sizeof(cmdline) - 1);
        if (n > 0)
            cmdline[n] = 0;
        close(fd);
    }
    double wws_mb = atof(param("wd.touch", "16"));
    double rate_mb = atof(param("wd.rate", "1"));
    const char *pname = param("wd.name", "guest");
    char name[64];
    snprintf(name, sizeof(name), "%s", pname);

    unsigned long npages = (unsigned long)(wws_mb * 1048576.0 / PAGE);
    if (npages < 1)
        npages = 1;
    volatile unsigned char *mem = malloc(npages * PAGE);
    if (!mem) {
        printf("wd-error cannot allocate %lu pages\n", npages);
        npages = 0;
    }
    for (unsigned long i = 0; i < npages; i++)
        mem[i * PAGE] = (unsigned char)i, mem[i * PAGE + PAGE / 2] = 1;
    long total, freekb;
    meminfo(&total, &freekb);
    printf("wd-mem %s total_kb=%ld free_kb=%ld wws_pages=%lu rate_mb_s=%g\n",
           name, total, freekb, npages, rate_mb);

    double pages_per_s = rate_mb * 1048576.0 / PAGE;
    double start = now(), next_print = start;
    unsigned long counter = 0, written = 0, pos = 0;
    unsigned char gen = 0;
    for (;;) {
        double t = now();
        unsigned long due = (unsigned long)((t - start) * pages_per_s);
        /* After a pause (migration stop-and-copy, a starved vCPU, a clock step) write at most
         * one second of backlog: catching up all of it at CPU speed would dirty far faster than
         * wd.rate for as long as the backlog lasts, and a migration then may not converge. */
        if (due > written + (unsigned long)pages_per_s + 1)
            written = due - (unsigned long)pages_per_s - 1;
        while (npages && written < due) {
            mem[pos * PAGE + 8] = gen;
            written++;
            if (++pos == npages) {
                pos = 0;
                gen++;
            }
        }
        if (t >= next_print) {
            printf("wd-tick %s %lu %lu\n", name, counter++, written);
            next_print += 0.5;
            if (next_print < t)
                next_print = t + 0.5;
        }
        usleep(10000);
    }
    return 0;
}
