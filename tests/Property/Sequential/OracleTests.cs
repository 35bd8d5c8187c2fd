using InotifySim.Model.Vfs;
using System.Buffers.Binary;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Oracles;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>
/// The oracles beside the machine (src/Model/Oracles/: accounting, structure, handle refcounts, limits,
/// inotify(7) IN_IGNORED rules): each fires on a planted fault — state corrupted behind the model's back —
/// and stays silent on the same run untouched, or when the run does not assert it (MachineOptions.Oracles).
/// </summary>
public class OracleTests
{
    private static (Machine m, TaskStruct t, int fd, int wd) Watched(Action<MachineOptions>? configure = null)
    {
        var m = Seq.NewMachine(Fix.All, configure);
        var t = m.NewProcess("p", 0);
        int fd = 0, wd = 0;
        m.As(t, () =>
        {
            Seq.Ok(m.Vfs.sys_mkdir("/d"));
            fd = Seq.Ok(m.inotify_init_nonblock());
            wd = Seq.Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
        });
        return (m, t, fd, wd);
    }

    [Fact]
    public void Silent_on_a_correct_run()
    {
        var (m, t, fd, wd) = Watched();
        m.As(t, () =>
        {
            Seq.Ok(m.inotify_rm_watch(fd, wd));
            m.CheckQuiescent();
        });
        m.Teardown();
        Assert.Null(m.K.FirstReport);
    }

    [Fact]
    public void Structure_oracle_fires_when_a_wd_leaves_the_idr_but_the_watch_stays_listed()
    {
        var (m, t, _, wd) = Watched();
        var r = Seq.ExpectBug(m, () => m.As(t, () =>
        {
            m.Core.Handles[0].idr.idr_remove(wd); // the planted fault
            m.CheckQuiescent();
        }));
        Assert.Equal(BugClass.ListCorruption, r.Class);
        Assert.Contains($"watch wd {wd} is on", r.Title);
        Assert.Contains("not in its idr", r.Title);
    }

    [Fact]
    public void Accounting_oracle_fires_when_the_user_counter_drifts()
    {
        var (m, t, _, _) = Watched();
        var r = Seq.ExpectBug(m, () => m.As(t, () =>
        {
            m.Processes[0].User.inotify_watches.atomic_inc(); // the planted fault
            m.CheckQuiescent();
        }));
        Assert.Equal(BugClass.Accounting, r.Class);
        Assert.Contains("inotify_watches is 2 but 1 user watches are live", r.Title);
        Assert.Contains("create_watch", r.Functions);
    }

    [Fact]
    public void Handle_refcount_oracle_fires_when_a_reference_has_no_holder()
    {
        var (m, t, _, _) = Watched();
        var r = Seq.ExpectBug(m, () => m.As(t, () =>
        {
            m.Core.Handles[0].count.atomic_inc(); // the planted fault: a get without a holder
            m.CheckQuiescent();
        }));
        Assert.Equal(BugClass.Accounting, r.Class);
        Assert.Contains("count 3 but 2 holders", r.Title);
        Assert.Contains("put_inotify_handle", r.Functions);
    }

    [Fact]
    public void Limit_oracle_fires_above_max_user_watches()
    {
        var (m, t, _, _) = Watched();
        var r = Seq.ExpectBug(m, () => m.As(t, () =>
        {
            m.Sysctl.max_user_watches = 0; // the planted fault: one watch now exceeds the limit
            m.CheckQuiescent();
        }));
        Assert.Equal(BugClass.LimitExceeded, r.Class);
        Assert.Contains("over max_user_watches 0", r.Title);
    }

    private static byte[] Events(params (int wd, uint mask)[] evs)
    {
        var b = new byte[evs.Length * EVENT_SIZE];
        for (int i = 0; i < evs.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(i * EVENT_SIZE), evs[i].wd);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(i * EVENT_SIZE + 4), evs[i].mask);
        }
        return b;
    }

    [Fact]
    public void IN_IGNORED_oracle_fires_on_an_event_after_IN_IGNORED()
    {
        var (m, t, _, wd) = Watched();
        var dev = m.User.Devices[0];
        var r = Seq.ExpectBug(m, () => m.As(t, () =>
            ((IInotifyObserver)m).EventsRead(dev, Events((wd, IN_IGNORED), (wd, IN_MODIFY)))));
        Assert.Equal(BugClass.SpecViolation, r.Class);
        Assert.Contains($"event IN_MODIFY for wd {wd} after its IN_IGNORED", r.Title);
    }

    [Fact]
    public void IN_IGNORED_oracle_fires_on_a_second_IN_IGNORED_and_is_silent_on_one()
    {
        var (m, t, _, wd) = Watched();
        var dev = m.User.Devices[0];
        m.As(t, () => ((IInotifyObserver)m).EventsRead(dev, Events((wd, IN_MODIFY), (wd, IN_IGNORED))));
        Assert.Null(m.K.FirstReport);
        var r = Seq.ExpectBug(m, () => m.As(t, () => ((IInotifyObserver)m).EventsRead(dev, Events((wd, IN_IGNORED)))));
        Assert.Equal(BugClass.SpecViolation, r.Class);
        Assert.Contains($"a second IN_IGNORED for wd {wd}", r.Title);
    }

    [Fact]
    public void Missing_IN_IGNORED_is_reported_at_teardown()
    {
        var (m, t, fd, wd) = Watched();
        m.As(t, () =>
        {
            Seq.Ok(m.inotify_rm_watch(fd, wd));
            Swallow(m, m.User.Devices[0]); // the planted fault: the queued IN_IGNORED is swallowed behind the oracle's back
        });
        var r = Seq.ExpectBug(m, () => m.Teardown());
        Assert.Equal(BugClass.SpecViolation, r.Class);
        Assert.Contains($"watch wd {wd} was removed but no IN_IGNORED was read for it", r.Title);
    }

    /// <summary>The planted fault of each oracle.</summary>
    private static void Plant(OracleSet oracle, Machine m, int wd)
    {
        switch (oracle)
        {
            case OracleSet.Accounting: m.User.Devices[0].event_count++; break; // the queue holds no event
            case OracleSet.Structure: m.Core.Handles[0].idr.idr_remove(wd); break;
            case OracleSet.HandleRefcounts: m.User.Devices[0].count.atomic_inc(); break;
            case OracleSet.Limits: m.Sysctl.max_user_instances = 0; break;
            case OracleSet.Ignored: ((IInotifyObserver)m).EventsRead(m.User.Devices[0], Events((wd, IN_IGNORED), (wd, IN_ATTRIB))); break;
            default: throw new ArgumentException(oracle.ToString());
        }
    }

    /// <summary>The class and title of the report each oracle gives on its planted fault.</summary>
    private static (BugClass cls, string title) Expected(OracleSet oracle, int wd) => oracle switch
    {
        OracleSet.Accounting => (BugClass.Accounting, "event_count 1 but 0 events queued"),
        OracleSet.Structure => (BugClass.ListCorruption, "not in its idr"),
        OracleSet.HandleRefcounts => (BugClass.Accounting, "count 3 but 2 holders (open file + live watches)"),
        OracleSet.Limits => (BugClass.LimitExceeded, "over max_user_instances 0"),
        OracleSet.Ignored => (BugClass.SpecViolation, $"event IN_ATTRIB for wd {wd} after its IN_IGNORED"),
        _ => throw new ArgumentException(oracle.ToString()),
    };

    public static TheoryData<OracleSet> EachOracle => new()
    {
        OracleSet.Accounting, OracleSet.Structure, OracleSet.HandleRefcounts, OracleSet.Limits, OracleSet.Ignored,
    };

    [Theory]
    [MemberData(nameof(EachOracle))]
    public void Each_oracle_fires_on_its_planted_fault_when_asserted_alone(OracleSet oracle)
    {
        var (m, t, _, wd) = Watched(o => o.Oracles = oracle);
        Assert.Equal(new[] { oracle }, m.Oracles.Select(o => o.Kind));
        var expected = Expected(oracle, wd);
        var r = Seq.ExpectBug(m, () => m.As(t, () =>
        {
            Plant(oracle, m, wd);
            m.CheckQuiescent();
        }));
        Assert.Equal(expected.cls, r.Class);
        Assert.Contains(expected.title, r.Title);
    }

    [Theory]
    [MemberData(nameof(EachOracle))]
    public void A_run_that_does_not_assert_an_oracle_is_silent_on_its_fault(OracleSet oracle)
    {
        var (m, t, _, wd) = Watched(o => o.Oracles = OracleSet.All & ~oracle);
        Assert.DoesNotContain(oracle, m.Oracles.Select(o => o.Kind));
        Assert.Equal(5, m.Oracles.Count);
        m.As(t, () =>
        {
            Plant(oracle, m, wd);
            m.CheckQuiescent();
        });
        Assert.Null(m.K.FirstReport);
    }

    [Fact]
    public void Every_run_asserts_every_oracle_by_default()
    {
        var m = Seq.NewMachine();
        Assert.Equal(new[] { "Accounting", "Limits", "Structure", "HandleRefcounts", "Ignored", "UserVisible" }, m.Oracles.Select(o => o.Name));
    }

    /// <summary>Removes every queued event behind the oracles' back (events, event_count, queue_size stay consistent).</summary>
    private static void Swallow(Machine m, InotifyDevice dev)
    {
        dev.ev_mutex.mutex_lock();
        while (!dev.events.list_empty())
        {
            var e = dev.events.Next("test").list_entry<InotifyKernelEvent>("list");
            e.list.list_del();
            dev.event_count--;
            dev.queue_size -= (uint)EVENT_SIZE + e.len;
            m.K.Slab.kfree(e.name);
            m.K.Slab.kmem_cache_free("inotify_event_cache", e);
        }
        dev.ev_mutex.mutex_unlock();
    }

    // =====================================================================================================
    // One row per oracle branch: every counter and limit CheckQuiescent / Teardown compares, and each
    // inotify(7) IN_IGNORED rule with each of its exceptions. The fault is planted behind the model's back
    // (or is a real seed defect, for the end-of-run checks); the twin is the same run left correct.
    // =====================================================================================================

    /// <summary>The state of a row: a machine with /d watched (wd) by a nonblocking inotify fd of process p (uid 0).</summary>
    public sealed class Ctx
    {
        public required Machine M { get; init; }
        public required TaskStruct T { get; init; }
        public required int Fd { get; init; }
        public required int Wd { get; init; }
        public InotifyDevice Dev => M.User.Devices[0];
        public InotifyHandle Ih => M.Core.Handles[0];
        public InotifyWatch W => Ih.idr.Entries.Select(kv => (InotifyWatch)kv.Value).Single(w => w.PeekWd == Wd);
        public UserStruct User => M.Processes[0].User;
        /// <summary>Events queued when the fault was planted (for the queue rows).</summary>
        public uint Queued { get; set; }
        public uint Bytes { get; set; }
    }

    /// <summary>An oracle branch: its planted fault (run as p), the exact expected report, and the silent twin.</summary>
    public sealed record OracleRow(string Name, BugClass Class, Func<Ctx, string> Title, string[] Functions,
        Action<Ctx> Fault, Action<Ctx> Twin, Fix Fixes = Fix.All, string Thread = "p")
    {
        public override string ToString() => Name;
    }

    private static Ctx NewCtx(Fix fixes)
    {
        var (m, t, fd, wd) = WatchedWith(fixes);
        return new Ctx { M = m, T = t, Fd = fd, Wd = wd };
    }

    private static (Machine m, TaskStruct t, int fd, int wd) WatchedWith(Fix fixes)
    {
        // the rows fabricate reads and swallow queued events behind the oracles' back, which the
        // user-visible oracle rightly reports (it has its own tests: UserVisibleOracleTests)
        var m = Seq.NewMachine(fixes, o => o.Oracles = OracleSet.All & ~OracleSet.UserVisible);
        var t = m.NewProcess("p", 0);
        int fd = 0, wd = 0;
        m.As(t, () =>
        {
            Seq.Ok(m.Vfs.sys_mkdir("/d"));
            fd = Seq.Ok(m.inotify_init_nonblock());
            wd = Seq.Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
        });
        return (m, t, fd, wd);
    }

    private static void Quiescent(Ctx c) => c.M.As(c.T, () => c.M.CheckQuiescent());

    private static void QueueSome(Ctx c)
    {
        c.M.As(c.T, () => Seq.Touch(c.M, "/d/f"));
        c.Queued = c.Dev.PeekEventCount;
        c.Bytes = c.Dev.PeekQueueSize;
        Assert.True(c.Queued > 0);
    }

    private static void Read(Ctx c, params (int wd, uint mask)[] evs) =>
        c.M.As(c.T, () => ((IInotifyObserver)c.M).EventsRead(c.Dev, Events(evs)));

    public static readonly OracleRow[] Rows =
    {
        // ------------------------------------------------ CheckQuiescent: per-user counters and limits
        new("acct/user-inotify_watches", BugClass.Accounting, c => "inotify accounting: user 0: inotify_watches is 2 but 1 user watches are live",
            new[] { "create_watch", "free_inotify_user_watch" },
            c => { c.M.As(c.T, () => c.User.inotify_watches.atomic_inc()); Quiescent(c); },
            c => { c.M.As(c.T, () => { c.User.inotify_watches.atomic_inc(); c.User.inotify_watches.atomic_dec(); }); Quiescent(c); }),
        new("acct/user-inotify_devs", BugClass.Accounting, c => "inotify accounting: user 0: inotify_devs is 2 but 1 devices are live",
            new[] { "sys_inotify_init", "put_inotify_dev" },
            c => { c.M.As(c.T, () => c.User.inotify_devs.atomic_inc()); Quiescent(c); },
            c => { c.M.As(c.T, () => Seq.Ok(c.M.inotify_init())); Quiescent(c); }),
        new("limit/max_user_watches", BugClass.LimitExceeded, c => "inotify limit exceeded: user 0 has 1 inotify watches, over max_user_watches 0",
            new[] { "create_watch", "sys_inotify_add_watch" },
            c => { c.M.Sysctl.max_user_watches = 0; Quiescent(c); },
            c => { c.M.Sysctl.max_user_watches = 1; Quiescent(c); }),  // at the limit is allowed
        new("limit/max_user_instances", BugClass.LimitExceeded, c => "inotify limit exceeded: user 0 has 1 inotify instances, over max_user_instances 0",
            new[] { "sys_inotify_init" },
            c => { c.M.Sysctl.max_user_instances = 0; Quiescent(c); },
            c => { c.M.Sysctl.max_user_instances = 1; Quiescent(c); }),

        // ------------------------------------------------ CheckQuiescent: each device's queue and references
        new("acct/dev-event_count", BugClass.Accounting, c => $"inotify accounting: {c.Dev.Describe}: event_count {c.Queued + 1} but {c.Queued} events queued",
            new[] { "inotify_dev_queue_event", "remove_kevent" },
            c => { QueueSome(c); c.M.As(c.T, () => c.Dev.event_count++); Quiescent(c); },
            c => { QueueSome(c); Quiescent(c); }),
        new("acct/dev-queue_size", BugClass.Accounting, c => $"inotify accounting: {c.Dev.Describe}: queue_size {c.Bytes + 1} but the queue holds {c.Bytes} bytes",
            new[] { "inotify_dev_queue_event", "remove_kevent" },
            c => { QueueSome(c); c.M.As(c.T, () => c.Dev.queue_size++); Quiescent(c); },
            c => { QueueSome(c); Quiescent(c); }),
        new("acct/dev-count", BugClass.Accounting, c => $"inotify accounting: {c.Dev.Describe}: count 3 but 2 holders (open file + live watches)",
            new[] { "get_inotify_dev", "put_inotify_dev" },
            c => { c.M.As(c.T, () => c.Dev.count.atomic_inc()); Quiescent(c); },
            c => { c.M.As(c.T, () => Seq.Ok(c.M.inotify_add_watch(c.Fd, "/", IN_CREATE))); Quiescent(c); }),

        // ------------------------------------------------ CheckQuiescent: each handle's watches (list <-> idr <-> inode list) and references
        new("struct/on-list-not-in-idr", BugClass.ListCorruption, c => $"inotify structure: watch wd {c.Wd} is on {c.Ih.Describe}->watches but not in its idr",
            new[] { "remove_watch_no_event" },
            c => { c.M.As(c.T, () => c.Ih.idr.idr_remove(c.Wd)); Quiescent(c); },
            c => Quiescent(c)),
        new("struct/on-list-not-on-inode", BugClass.ListCorruption, c => $"inotify structure: watch wd {c.Wd} is on its handle's list but not on {c.W.PeekInode!.Describe}->inotify_watches",
            new[] { "remove_watch_no_event" },
            c => { c.M.As(c.T, () => c.W.i_list.list_del_init()); Quiescent(c); },
            c => Quiescent(c)),
        new("struct/installed-watch-count", BugClass.ListCorruption, c => $"inotify structure: installed watch wd {c.Wd} has count 2 in a quiescent state (expected 1: the lists' reference)",
            new[] { "get_inotify_watch", "put_inotify_watch" },
            c => { c.M.As(c.T, () => c.W.count.atomic_inc()); Quiescent(c); },
            c => Quiescent(c)),
        new("struct/in-idr-not-on-list", BugClass.ListCorruption, c => $"inotify structure: wd {c.Wd} is in {c.Ih.Describe}->idr but the watch is not on the handle's list",
            new[] { "remove_watch_no_event" },
            c => { c.M.As(c.T, () => c.W.h_list.list_del_init()); Quiescent(c); },
            c => Quiescent(c)),
        new("acct/handle-count", BugClass.Accounting, c => $"inotify accounting: {c.Ih.Describe}: count 3 but 2 holders (its owner and the watches that reference it)",
            new[] { "get_inotify_handle", "put_inotify_handle", "put_inotify_watch" },
            c => { c.M.As(c.T, () => c.Ih.count.atomic_inc()); Quiescent(c); },
            c => { c.M.As(c.T, () => Seq.Ok(c.M.inotify_add_watch(c.Fd, "/", IN_CREATE))); Quiescent(c); }),

        // ------------------------------------------------ Teardown: per-user counters back to zero (real seed defects as the faults)
        new("teardown/leaked-watch", BugClass.Accounting, c => "inotify accounting: user 0: inotify_watches is 1 after every inotify fd was closed",
            new[] { "inotify_destroy", "remove_watch_no_event", "inotify_release", "free_inotify_user_watch" },
            c => c.M.Teardown(),
            c => c.M.Teardown(),
            Variants.AllBut(Fix.DestroyLeak), "init"),
        new("teardown/leaked-oneshot-watch", BugClass.Accounting, c => "inotify accounting: user 0: inotify_watches is 2 after every inotify fd was closed",
            new[] { "inotify_inode_queue_event", "remove_watch_no_event", "inotify_dev_queue_event", "free_inotify_user_watch" },
            c =>
            {
                c.M.As(c.T, () =>
                {
                    Seq.Ok(c.M.inotify_rm_watch(c.Fd, c.Wd));
                    Seq.Ok(c.M.Vfs.sys_mkdir("/o"));
                    Seq.Ok(c.M.inotify_add_watch(c.Fd, "/o", IN_CREATE | IN_ONESHOT));
                    Seq.Ok(c.M.inotify_add_watch(c.Fd, "/d", IN_CREATE | IN_ONESHOT));
                    Seq.Touch(c.M, "/o/a");
                    Seq.Touch(c.M, "/d/a");
                });
                c.M.Teardown();
            },
            c =>
            {
                c.M.As(c.T, () =>
                {
                    Seq.Ok(c.M.inotify_rm_watch(c.Fd, c.Wd));
                    Seq.Ok(c.M.Vfs.sys_mkdir("/o"));
                    Seq.Ok(c.M.inotify_add_watch(c.Fd, "/o", IN_CREATE | IN_ONESHOT));
                    Seq.Ok(c.M.inotify_add_watch(c.Fd, "/d", IN_CREATE | IN_ONESHOT));
                });
                c.M.Teardown();
            },
            Variants.AllBut(Fix.OneshotLeak), "init"),

        new("teardown/device-still-charged", BugClass.Accounting, c => "inotify accounting: user 0: inotify_devs is 1 after every inotify fd was closed",
            new[] { "inotify_release", "put_inotify_dev" },
            // a reference to the open file leaks (an fget without fput): close does not release the device
            c => { c.M.As(c.T, () => { Seq.Ok(c.M.inotify_rm_watch(c.Fd, c.Wd)); c.M.Processes[0].Fds[c.Fd]!.f_count.atomic_inc(); }); c.M.Teardown(); },
            c => { c.M.As(c.T, () => Seq.Ok(c.M.inotify_rm_watch(c.Fd, c.Wd))); c.M.Teardown(); },
            Fix.All, "init"),

        // ------------------------------------------------ inotify(7): IN_IGNORED rules
        new("in_ignored/event-after-IN_IGNORED", BugClass.SpecViolation, c => $"inotify(7): event IN_MODIFY for wd {c.Wd} after its IN_IGNORED",
            new[] { "inotify_read", "inotify_dev_queue_event" },
            c => Read(c, (c.Wd, IN_IGNORED), (c.Wd, IN_MODIFY)),
            c => Read(c, (c.Wd, IN_MODIFY), (c.Wd, IN_IGNORED), (c.Wd + 1, IN_MODIFY))),
        new("in_ignored/second-IN_IGNORED", BugClass.SpecViolation, c => $"inotify(7): a second IN_IGNORED for wd {c.Wd}",
            new[] { "inotify_read", "inotify_dev_queue_event" },
            c => { Read(c, (c.Wd, IN_IGNORED)); Read(c, (c.Wd, IN_IGNORED)); },
            c => { Read(c, (c.Wd, IN_IGNORED)); Read(c, (c.Wd + 1, IN_IGNORED)); }),
        new("in_ignored/missing-at-teardown", BugClass.SpecViolation, c => $"inotify(7): watch wd {c.Wd} was removed but no IN_IGNORED was read for it",
            new[] { "remove_watch", "inotify_dev_queue_event" },
            c => { c.M.As(c.T, () => { Seq.Ok(c.M.inotify_rm_watch(c.Fd, c.Wd)); Swallow(c.M, c.Dev); }); c.M.Teardown(); },
            c => { c.M.As(c.T, () => Seq.Ok(c.M.inotify_rm_watch(c.Fd, c.Wd))); c.M.Teardown(); }),
        // its exceptions: each twin swallows the IN_IGNORED too, and the oracle must excuse it
        new("in_ignored/missing-excused-by-overflow", BugClass.SpecViolation, c => $"inotify(7): watch wd {c.Wd} was removed but no IN_IGNORED was read for it",
            new[] { "remove_watch", "inotify_dev_queue_event" },
            c => { Read(c, (-1, IN_MODIFY)); c.M.As(c.T, () => { Seq.Ok(c.M.inotify_rm_watch(c.Fd, c.Wd)); Swallow(c.M, c.Dev); }); c.M.Teardown(); },
            c => { Read(c, (-1, IN_Q_OVERFLOW)); c.M.As(c.T, () => { Seq.Ok(c.M.inotify_rm_watch(c.Fd, c.Wd)); Swallow(c.M, c.Dev); }); c.M.Teardown(); }),
        new("in_ignored/missing-excused-by-a-dropped-event", BugClass.SpecViolation, c => $"inotify(7): watch wd {c.Wd} was removed but no IN_IGNORED was read for it",
            new[] { "remove_watch", "inotify_dev_queue_event" },
            c => { c.M.As(c.T, () => { Seq.Ok(c.M.inotify_rm_watch(c.Fd, c.Wd)); Swallow(c.M, c.Dev); }); c.M.Teardown(); },
            c =>
            {
                c.M.As(c.T, () => { Seq.Ok(c.M.inotify_rm_watch(c.Fd, c.Wd)); Swallow(c.M, c.Dev); });
                ((IInotifyObserver)c.M).EventDropped(c.Dev, IN_IGNORED);
                c.M.Teardown();
            }),
        new("in_ignored/missing-excused-for-IN_ONESHOT", BugClass.SpecViolation, c => "inotify(7): watch wd 2 was removed but no IN_IGNORED was read for it",
            new[] { "remove_watch", "inotify_dev_queue_event" },
            c => { c.M.As(c.T, () => { Seq.Ok(c.M.Vfs.sys_mkdir("/o")); Assert.Equal(2, Seq.Ok(c.M.inotify_add_watch(c.Fd, "/o", IN_CREATE))); Seq.Ok(c.M.inotify_rm_watch(c.Fd, 2)); Swallow(c.M, c.Dev); }); c.M.Teardown(); },
            c => { c.M.As(c.T, () => { Seq.Ok(c.M.Vfs.sys_mkdir("/o")); Assert.Equal(2, Seq.Ok(c.M.inotify_add_watch(c.Fd, "/o", IN_CREATE | IN_ONESHOT))); Seq.Touch(c.M, "/o/a"); Swallow(c.M, c.Dev); }); c.M.Teardown(); }),
        new("in_ignored/installed-watch-needs-none", BugClass.SpecViolation, c => $"inotify(7): watch wd {c.Wd} was removed but no IN_IGNORED was read for it",
            new[] { "remove_watch", "inotify_dev_queue_event" },
            c => { c.M.As(c.T, () => { Seq.Ok(c.M.inotify_rm_watch(c.Fd, c.Wd)); Swallow(c.M, c.Dev); }); c.M.Teardown(); },
            c => { c.M.As(c.T, () => Swallow(c.M, c.Dev)); c.M.Teardown(); }),
    };

    public static TheoryData<string> RowNames()
    {
        var d = new TheoryData<string>();
        foreach (var r in Rows) d.Add(r.Name);
        return d;
    }

    [Theory, MemberData(nameof(RowNames))]
    public void Oracle_row_fires_on_its_planted_fault_with_the_exact_report(string name)
    {
        var row = Rows.Single(r => r.Name == name);
        var c = NewCtx(row.Fixes);
        var r = Seq.ExpectBug(c.M, () => row.Fault(c));
        Assert.True(row.Class == r.Class, r.Summary);
        Assert.Equal(row.Title(c), r.Title);
        Assert.Equal(row.Functions, r.Functions);
        Assert.Equal(new[] { row.Thread }, r.Threads.Select(x => x[..x.LastIndexOf('/')]));
    }

    [Theory, MemberData(nameof(RowNames))]
    public void Oracle_row_is_silent_on_its_twin(string name)
    {
        var row = Rows.Single(r => r.Name == name);
        var c = NewCtx(Fix.All); // the twin of a seed-defect row is the same run with every fix
        row.Twin(c);
        Assert.True(c.M.K.FirstReport is null, c.M.K.FirstReport?.Text);
    }
}
