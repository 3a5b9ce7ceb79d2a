/* Copied unchanged from ../shared/tools/oldkernel.c (the project's shared test tools, see
 * shared/tools/README.md) so that CI builds it from the repository: gcc -O2 -o oldkernel oldkernel.c -lseccomp */
/* Run a command with the x86-64 syscalls added after Linux 4.4 answering ENOSYS, as a 4.4 kernel would.
   Syscalls up to mlock2 (325) existed in 4.4; 326.. (copy_file_range 4.5, preadv2/pwritev2 4.6, pkey_* 4.9,
   statx 4.11, io_pgetevents/rseq 4.18) and the 424.. range (pidfd_send_signal, io_uring_* 5.1, pidfd_open/clone3 5.3,
   close_range 5.9, openat2 5.6, faccessat2 5.8, epoll_pwait2 5.11, ... ) did not. Flags added later are not emulated. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: oldkernel CMD [ARGS...]\n"); return 2; }
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return 3;
  int n = 0;
  for (int nr = 326; nr <= 334; nr++) if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) == 0) n++;
  for (int nr = 424; nr <= 470; nr++) if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) == 0) n++;
  if (seccomp_load(ctx) != 0) { perror("seccomp_load"); return 4; }
  if (getenv("OLDKERNEL_VERBOSE")) fprintf(stderr, "oldkernel: %d syscalls now answer ENOSYS\n", n);
  execvp(argv[1], argv + 1);
  perror("execvp"); return 127;
}
