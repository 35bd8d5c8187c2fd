using InotifySim.Scenarios.Traces;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// The user-visible oracle's limit rule against a reservation that failed: with instance-limit-race,
/// sys_inotify_init reserves its instance (atomic_inc_return) before kmalloc; when that allocation fails
/// (fault injection) the reservation was held until out_dec_devs, so a concurrent init's EMFILE is
/// explained. This schedule (hunt --scenario all --variant fixed --iterations 2000, limit-race, worker 0,
/// chunk seed 15838, iteration 23; found once read-check-dequeue shifted the random stream) was reported
/// as "inotify_init returned -EMFILE below max_user_instances (2 &lt; 3)" before the oracle counted it.
/// The planted-fault twin is UserVisibleOracleTests' "instance-limit-unreachable".
/// </summary>
public class LimitReservationOracleTests
{
    private const string Trace = """
{
  "format": "inotify-sim-trace",
  "version": 2,
  "scenario": "limit-race",
  "variant": "fixed",
  "fixes": [
    "ev-mutex-unlock",
    "destroy-recheck",
    "rm-wd-recheck",
    "watch-destroy-op",
    "destroy-leak",
    "oneshot-leak",
    "coalesce-empty",
    "coalesce-last",
    "instance-limit-race",
    "watch-limit-race",
    "find-watch-ref",
    "umount-pin",
    "child-flags-warn",
    "oneshot-unmount",
    "oneshot-unmount-put",
    "gfp-nofs",
    "child-flags-race",
    "read-check-dequeue"
  ],
  "strategy": "probabilistic",
  "seed": 15838,
  "iteration": 23,
  "faultInjection": true,
  "maxSteps": 5000,
  "bug": {
    "class": "spec-violation",
    "title": "inotify(7): inotify_init returned -EMFILE below max_user_instances (2 < 3)",
    "functions": [
      "sys_inotify_init"
    ],
    "threads": [
      "a/2"
    ],
    "objects": [
      "user 1000"
    ],
    "text": "==================================================================\ninotify(7): inotify_init returned -EMFILE below max_user_instances (2 < 3)\ninotify_init by a/2 [8, 11] returned -EMFILE, but user 1000 held at most 2 of max_user_instances 3:\n  inotify_devs was 2 when the call began, and no other call of the user could add one meanwhile.\ninotify(7): -EMFILE only when the limit is reached; no order of these operations explains it (a limit check off by one, or a limit that cannot be reached).\n==================================================================\n"
  },
  "threads": [
    "a/2",
    "b/3"
  ],
  "preemptions": 4,
  "schedule": [
    "start -1 0,1 0 start",
    "point 0 0,1 0 sys_inotify_add_watch",
    "point 0 0,1 0 __user_walk",
    "point 0 0,1 0 __user_walk",
    "point 0 0,1 0 __user_walk",
    "point 0 0,1 0 __user_walk",
    "point 0 0,1 0 dput",
    "point 0 0,1 0 dput",
    "point 0 0,1 0 sys_inotify_add_watch",
    "point 0 0,1 0 inotify_find_update_watch",
    "point 0 0,1 1 inotify_find_update_watch",
    "point 1 0,1 1 sys_inotify_add_watch",
    "point 1 0,1 1 __user_walk",
    "point 1 0,1 1 __user_walk",
    "point 1 0,1 1 __user_walk",
    "point 1 0,1 1 __user_walk",
    "point 1 0,1 0 dput",
    "point 0 0,1 0 create_watch",
    "choice 0 n=2 1 fail kmem_cache_alloc:inotify_watch_cache",
    "point 0 0,1 0 create_watch",
    "point 0 0,1 0 dput",
    "point 0 0,1 0 dput",
    "point 0 0,1 0 path_release",
    "point 0 0,1 0 sys_inotify_add_watch",
    "choice 0 n=2 0 fail kmem_cache_alloc:filp",
    "point 0 0,1 1 sys_inotify_init",
    "point 1 0,1 1 dput",
    "point 1 0,1 1 sys_inotify_add_watch",
    "point 1 0,1 1 inotify_find_update_watch",
    "point 1 0,1 1 inotify_find_update_watch",
    "point 1 0,1 1 create_watch",
    "choice 1 n=2 1 fail kmem_cache_alloc:inotify_watch_cache",
    "point 1 0,1 1 create_watch",
    "point 1 0,1 1 dput",
    "point 1 0,1 1 dput",
    "point 1 0,1 1 path_release",
    "point 1 0,1 1 sys_inotify_add_watch",
    "choice 1 n=2 0 fail kmem_cache_alloc:filp",
    "point 1 0,1 1 sys_inotify_init",
    "point 1 0,1 1 sys_inotify_init",
    "choice 1 n=2 1 fail kmem_cache_alloc:kmalloc",
    "point 1 0,1 0 sys_inotify_init",
    "point 0 0,1 0 sys_inotify_init",
    "point 0 0,1 0 sys_inotify_init",
    "point 0 0,1 0 free_uid",
    "point 0 0,1 0 free_uid",
    "point 0 0,1 0 sys_inotify_init"
  ]
}
""";

    [Fact]
    public void EmfileBesideAnInitThatFailedAfterReservingIsExplained()
    {
        var trace = TraceFile.Parse(Trace, "limit-race-enomem-emfile.json");
        var r = TraceReplayer.Replay(trace, "limit-race-enomem-emfile.json");
        // the recorded schedule still applies (not diverged) and now runs to its end clean
        Assert.True(r.Status == ReplayStatus.NoBug, r.Message);
    }
}
