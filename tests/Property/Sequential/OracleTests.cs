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
            // the planted fault: the queued IN_IGNORED is swallowed behind the oracle's back
            var dev = m.User.Devices[0];
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
        Assert.Equal(4, m.Oracles.Count);
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
        Assert.Equal(new[] { "Accounting", "Limits", "Structure", "HandleRefcounts", "Ignored" }, m.Oracles.Select(o => o.Name));
    }
}
