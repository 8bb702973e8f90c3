/*
 * netns.c - open a port inside a network namespace: setns() into
 * /var/run/netns/NAME (what `ip netns add` makes), then back again.
 *
 * A socket, an AF_PACKET socket (net_af_packet) or a tap fd (net_tap) keeps
 * the namespace it was created in, so the engine can open one side in one
 * namespace and the other side in another, and run both from this process.
 * setns(CLONE_NEWNET) affects the calling thread only; the engine opens and
 * closes every port from its main thread.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

#define NETNS_DIR "/var/run/netns"
#define NETNS_NAME_MAX 64

static int check_name(const char *name, char *err, size_t errlen)
{
    size_t i, n = strlen(name);

    for (i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            break;
    }
    if (n == 0 || i < n || n > NETNS_NAME_MAX || name[0] == '.') {
        snprintf(err, errlen, "bad network namespace name '%s': use 1..%d of "
                 "[A-Za-z0-9_.-] (a name under " NETNS_DIR ")", name,
                 NETNS_NAME_MAX);
        return -EINVAL;
    }
    return 0;
}

int sk_netns_enter(const char *name, int *saved, char *err, size_t errlen)
{
    char path[sizeof(NETNS_DIR) + NETNS_NAME_MAX + 2];
    int fd = -1, self = -1, ret;

    *saved = -1;
    ret = check_name(name, err, errlen);
    if (ret < 0)
        goto out;
    snprintf(path, sizeof(path), NETNS_DIR "/%s", name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ret = errno == ENOENT ? -EINVAL : -ENODEV;
        snprintf(err, errlen, "cannot open network namespace %s: %s: %s", path,
                 strerror(errno), errno == ENOENT ?
                 "no such namespace (create it with `ip netns add`)" :
                 "needs root (CAP_SYS_ADMIN)");
        goto out;
    }
    self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) {
        ret = -ENODEV;
        snprintf(err, errlen, "cannot open this thread's network namespace: %s: "
                 "is /proc mounted?", strerror(errno));
        goto out;
    }
    if (setns(fd, CLONE_NEWNET) != 0) {
        ret = errno == EINVAL ? -EINVAL : -ENODEV;
        snprintf(err, errlen, "cannot enter network namespace %s: %s: %s", name,
                 strerror(errno), errno == EPERM ? "needs CAP_SYS_ADMIN (run as root)"
                 : "is it a network namespace?");
        goto out;
    }
    *saved = self;
    self = -1;
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    if (self >= 0)
        close(self);
    return ret;
}

int sk_netns_leave(int saved, char *err, size_t errlen)
{
    int ret = 0;

    if (saved < 0)
        return 0;
    if (setns(saved, CLONE_NEWNET) != 0) {
        ret = -errno;
        snprintf(err, errlen, "cannot return to the engine's network namespace: "
                 "%s: this is a bug, please report it", strerror(errno));
    }
    close(saved);
    return ret;
}
