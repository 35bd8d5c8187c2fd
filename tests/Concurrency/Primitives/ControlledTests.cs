using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;
using Xunit.Abstractions;
using KMutex = InotifySim.Model.Kernel.Mutex;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>Detectors and primitives under Coyote's controlled scheduler.</summary>
public class ControlledTests
{
    private const uint Iterations = 200;
    private const uint Seed = 20061;
    private readonly ITestOutputHelper _out;

    public ControlledTests(ITestOutputHelper output) => _out = output;

    // ------------------------------------------------------------ infrastructure

    [Fact]
    public void Assemblies_under_test_are_coyote_rewritten()
    {
        Assert.True(CoyoteHost.RewriteProblem is null, CoyoteHost.RewriteProblem);
        Assert.Equal(new[] { "InotifySim.Tests.Concurrency" },
            CoyoteHost.AssembliesUnderTest.Select(a => a.GetName().Name));
    }

    /// <summary>
    /// The model assembly is deliberately NOT rewritten (src/Model/Model.csproj: the rewriter's call-site hook at every
    /// method entry cost a third of a schedule). That is sound only while the model calls no threading API the
    /// rewriter would have replaced: its one thread start names Coyote's controlled Task.Run itself, and its waits
    /// are Operation.PauseUntil / the harness scheduler. This test reads the model's metadata and fails on any other
    /// member of System.Threading or System.Threading.Tasks (a `lock`, Task.Run, Wait, Thread.Sleep, Interlocked, ...).
    /// </summary>
    [Fact]
    public void Model_is_not_rewritten_and_calls_no_threading_api_the_rewriter_would_control()
    {
        var asm = typeof(Kernel).Assembly;
        Assert.False(Microsoft.Coyote.Rewriting.RewritingEngine.IsAssemblyRewritten(asm));
        var allowed = new HashSet<string>(StringComparer.Ordinal)
        {
            "System.Threading.Tasks.Task::get_CompletedTask",
        };
        var used = ThreadingMembers(asm.Location);
        // Coyote's own controlled types (called by name) are what rewriting would have produced
        var bad = used.Where(m => !allowed.Contains(m) && !m.StartsWith("Microsoft.Coyote.Rewriting.Types.", StringComparison.Ordinal)).ToList();
        Assert.True(bad.Count == 0, "the unrewritten model calls threading APIs Coyote would have controlled: " + string.Join(", ", bad));
        Assert.Contains("System.Threading.Tasks.Task::get_CompletedTask", used); // the scan sees the model's references at all
    }

    /// <summary>
    /// The tool (inotify-sim) is not rewritten either (Scenarios.csproj). Its CLI legitimately starts threads, takes
    /// locks and counts with Interlocked outside any Coyote test; inside one, the schedule's only cross-thread waits
    /// are the direct handoff's (deliberately uncontrolled) and the Coyote handoff's Task.Wait, named explicitly.
    /// This lists every threading member the tool references: a new one fails here until it is reviewed (does it
    /// run inside a Coyote iteration, and could it wait for a controlled operation?) and added.
    /// </summary>
    [Fact]
    public void Tool_is_not_rewritten_and_its_threading_members_are_the_reviewed_ones()
    {
        var asm = typeof(InotifySim.Scenarios.Exploration.Explorer).Assembly;
        Assert.False(Microsoft.Coyote.Rewriting.RewritingEngine.IsAssemblyRewritten(asm));
        var reviewed = new HashSet<string>(StringComparer.Ordinal)
        {
            // the CLI's workers (hunt --jobs, verify's workers) and its progress line: outside any Coyote test
            "System.Threading.Thread::.ctor", "System.Threading.Thread::Join", "System.Threading.Thread::Start",
            "System.Threading.Thread::set_IsBackground", "System.Threading.Thread::set_Name", "System.Threading.ThreadStart::.ctor",
            "System.Threading.ManualResetEventSlim::.ctor", "System.Threading.ManualResetEventSlim::Dispose",
            "System.Threading.ManualResetEventSlim::Set", "System.Threading.ManualResetEventSlim::Wait",
            "System.Threading.ManualResetEventSlim::get_IsSet",
            "System.Threading.Interlocked::Add", "System.Threading.Interlocked::CompareExchange",
            "System.Threading.Interlocked::Increment", "System.Threading.Interlocked::Read", "System.Threading.Volatile::Read",
            "System.Threading.ThreadPool::GetMinThreads", "System.Threading.ThreadPool::SetMinThreads",
            // `lock`: the CLI's output and counters, and Coverage.Add inside an iteration, whose short critical
            // section is shared only by other jobs' engines (never a wait for a controlled operation of its own)
            "System.Threading.Monitor::Enter", "System.Threading.Monitor::Exit",
        };
        var used = ThreadingMembers(asm.Location).Where(m => !m.StartsWith("Microsoft.Coyote.Rewriting.Types.", StringComparison.Ordinal)).ToList();
        var unreviewed = used.Where(m => !reviewed.Contains(m)).ToList();
        Assert.True(unreviewed.Count == 0, "threading members of inotify-sim not yet reviewed: " + string.Join(", ", unreviewed));
        Assert.Contains("Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task::Wait", ThreadingMembers(asm.Location));
    }

    [Fact]
    public void Threading_member_scan_sees_what_the_rewriter_replaces()
    {
        // the scan itself fires: the direct handoff's assembly (not rewritten either, and never run under Coyote's
        // control) waits on semaphores and starts threads, and the scan names exactly those members
        var used = ThreadingMembers(typeof(InotifySim.Handoff.SimThreadPool).Assembly.Location);
        Assert.Contains("System.Threading.SemaphoreSlim::Wait", used);
        Assert.Contains("System.Threading.Thread::UnsafeStart", used);
        // and the model's one thread start is Coyote's controlled Task.Run, seen by name
        Assert.Contains("Microsoft.Coyote.Rewriting.Types.Threading.Tasks.Task::Run", ThreadingMembers(typeof(Kernel).Assembly.Location));
    }

    private static List<string> ThreadingMembers(string path)
    {
        using var fs = File.OpenRead(path);
        using var pe = new System.Reflection.PortableExecutable.PEReader(fs);
        var md = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        string TypeName(System.Reflection.Metadata.EntityHandle h)
        {
            switch (h.Kind)
            {
                case System.Reflection.Metadata.HandleKind.TypeReference:
                    var tr = md.GetTypeReference((System.Reflection.Metadata.TypeReferenceHandle)h);
                    return md.GetString(tr.Namespace) + "." + md.GetString(tr.Name);
                case System.Reflection.Metadata.HandleKind.TypeSpecification:
                    var blob = md.GetBlobReader(md.GetTypeSpecification((System.Reflection.Metadata.TypeSpecificationHandle)h).Signature);
                    var code = blob.ReadSignatureTypeCode();
                    if (code == System.Reflection.Metadata.SignatureTypeCode.GenericTypeInstance)
                    {
                        blob.ReadCompressedInteger(); // class / valuetype
                        return TypeName(blob.ReadTypeHandle());
                    }
                    return "?";
                default:
                    return "?";
            }
        }
        var result = new List<string>();
        foreach (var h in md.MemberReferences)
        {
            var mr = md.GetMemberReference(h);
            string type = TypeName(mr.Parent);
            bool threading = type.StartsWith("System.Threading.", StringComparison.Ordinal)
                             || type.StartsWith("Microsoft.Coyote.Rewriting.Types.Threading.", StringComparison.Ordinal);
            if (threading && !type.StartsWith("System.Threading.Tasks.Task`1", StringComparison.Ordinal) || type == "System.Threading.Tasks.Task")
                result.Add(type + "::" + md.GetString(mr.Name));
        }
        return result.Distinct().OrderBy(x => x, StringComparer.Ordinal).ToList();
    }

    [Fact]
    public void Host_runs_every_iteration_when_nothing_fails_and_reports_an_assertion()
    {
        var ok = CoyoteHost.Run(k => { }, iterations: 50, seed: Seed);
        Assert.False(ok.BugFound, ok.ToString());
        Assert.Equal(50, ok.IterationsRun);

        // a plain (non-kernel) failure is still a Coyote bug, with no kernel report attached
        var bad = CoyoteHost.Run(k => Microsoft.Coyote.Specifications.Specification.Assert(false, "plain failure"), iterations: 5, seed: Seed);
        Assert.True(bad.BugFound);
        Assert.Null(bad.KernelReport);
        Assert.Contains("plain failure", bad.BugText);
    }

    // ------------------------------------------------------------ mutex wait-for deadlock

    /// <summary>
    /// ABBA on two locks of ONE lock class, each task annotating its second lock with
    /// mutex_lock_nested(1) (as code does for "parent then child" inodes). Lockdep records no
    /// edge for same-class nesting, so it is blind; only the wait-for graph can see the cycle.
    /// </summary>
    [Fact]
    public void ABBA_hidden_from_lockdep_is_reported_by_the_wait_for_graph_naming_both_tasks_and_locks()
    {
        string[] tasks = new string[2];
        string[] locks = new string[2];
        var res = CoyoteHost.Run(k =>
        {
            var cls = k.Lockdep.Class("inode->i_mutex");
            var a = new KMutex(k.Globals, "inode_a", cls);
            var b = new KMutex(k.Globals, "inode_b", cls);
            var t1 = k.NewTask("renamer1", 0);
            var t2 = k.NewTask("renamer2", 0);
            tasks[0] = t1.Name; tasks[1] = t2.Name;
            locks[0] = a.Name; locks[1] = b.Name;
            var w1 = k.Spawn(t1, () =>
            {
                using var e = k.Entry("sys_rename");
                using var f = k.Fn("lock_a_then_b");
                a.mutex_lock_nested(0);
                b.mutex_lock_nested(1);
                b.mutex_unlock();
                a.mutex_unlock();
            });
            var w2 = k.Spawn(t2, () =>
            {
                using var e = k.Entry("sys_rename");
                using var f = k.Fn("lock_b_then_a");
                b.mutex_lock_nested(0);
                a.mutex_lock_nested(1);
                a.mutex_unlock();
                b.mutex_unlock();
            });
            CoyoteHost.Join(w1, w2);
        }, Iterations, Seed);
        _out.WriteLine(res.ToString());

        Assert.True(res.BugFound, "the ABBA deadlock was not found in " + Iterations + " iterations");
        var r = res.KernelReport;
        Assert.NotNull(r);
        Assert.Equal(BugClass.Deadlock, r!.Class);
        Assert.Contains("deadlock: 2 tasks wait for each other", r.Title);
        Assert.Equal(tasks.OrderBy(x => x), r.Threads.OrderBy(x => x));
        Assert.Equal(locks.OrderBy(x => x), r.Objects.OrderBy(x => x));
        Assert.Contains("lock_a_then_b", r.Functions);
        Assert.Contains("lock_b_then_a", r.Functions);
        Assert.Contains("Wait-for cycle", r.Text);
        // it is OUR check that reported, not Coyote's own deadlock monitor
        Assert.StartsWith(CoyoteHost.KernelBugPrefix, res.BugText);
        Assert.DoesNotContain("Deadlock detected", res.BugText);
        Assert.DoesNotContain("potential deadlock", res.BugText, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Same_order_locking_by_three_tasks_never_deadlocks()
    {
        var res = CoyoteHost.Run(k =>
        {
            var a = new KMutex(k.Globals, "a", k.Lockdep.Class("A"));
            var b = new KMutex(k.Globals, "b", k.Lockdep.Class("B"));
            int inside = 0;
            var ws = Enumerable.Range(0, 3).Select(i => k.Spawn(k.NewTask("w" + i, 0), () =>
            {
                using var e = k.Entry("sys_w");
                a.mutex_lock();
                b.mutex_lock();
                inside++;
                Microsoft.Coyote.Specifications.Specification.Assert(inside == 1, "mutual exclusion violated");
                k.Point();
                inside--;
                b.mutex_unlock();
                a.mutex_unlock();
            })).ToArray();
            CoyoteHost.Join(ws);
        }, Iterations, Seed);
        Assert.False(res.BugFound, res.ToString());
        Assert.Equal((int)Iterations, res.IterationsRun);
    }

    /// <summary>With distinct lock classes lockdep sees the inversion before any task blocks, in every schedule.</summary>
    [Fact]
    public void ABBA_with_distinct_classes_is_caught_by_lockdep_first()
    {
        var res = CoyoteHost.Run(k =>
        {
            var a = new KMutex(k.Globals, "a", k.Lockdep.Class("A"));
            var b = new KMutex(k.Globals, "b", k.Lockdep.Class("B"));
            var w1 = k.Spawn(k.NewTask("t1", 0), () => { using var f = k.Fn("ab"); a.mutex_lock(); b.mutex_lock(); b.mutex_unlock(); a.mutex_unlock(); });
            var w2 = k.Spawn(k.NewTask("t2", 0), () => { using var f = k.Fn("ba"); b.mutex_lock(); a.mutex_lock(); a.mutex_unlock(); b.mutex_unlock(); });
            CoyoteHost.Join(w1, w2);
        }, Iterations, Seed);
        Assert.True(res.BugFound);
        Assert.Equal(1, res.IterationsRun); // every schedule takes both edges
        Assert.Equal(BugClass.LockOrderInversion, res.KernelReport!.Class);
        Assert.Contains("ab", res.KernelReport.Functions);
        Assert.Contains("ba", res.KernelReport.Functions);
    }

    // ------------------------------------------------------------ wait queues

    [Fact]
    public void Prepare_to_wait_then_schedule_is_always_woken_by_wake_up_interruptible()
    {
        int woke = 0, sleptAndWoke = 0;
        var res = CoyoteHost.Run(k =>
        {
            var o = new TestObj(k);
            bool ready = false;
            bool observed = false;
            var reader = k.Spawn(k.NewTask("reader", 0), () =>
            {
                using var e = k.Entry("sys_read");
                while (true)
                {
                    o.Wq.prepare_to_wait(TaskStruct.TASK_INTERRUPTIBLE);
                    if (ready) break;
                    o.Wq.schedule();
                    if (ready) sleptAndWoke++;
                }
                o.Wq.finish_wait();
                observed = ready;
            });
            var writer = k.Spawn(k.NewTask("writer", 0), () =>
            {
                using var e = k.Entry("sys_write");
                k.Point();
                ready = true;
                o.Wq.wake_up_interruptible();
            });
            CoyoteHost.Join(reader, writer);
            Microsoft.Coyote.Specifications.Specification.Assert(observed, "reader returned without the event");
            Microsoft.Coyote.Specifications.Specification.Assert(o.Wq.WaiterCount == 0, "reader left on the wait queue");
            woke++;
        }, Iterations, Seed);
        _out.WriteLine(res.ToString());
        Assert.False(res.BugFound, res.ToString());
        Assert.Equal((int)Iterations, woke);
        Assert.True(sleptAndWoke > 0, "no schedule ever made the reader actually sleep and be woken");
    }

    /// <summary>The negative control: checking the condition before prepare_to_wait loses the wake-up.</summary>
    [Fact]
    public void Checking_before_prepare_to_wait_loses_the_wakeup_and_is_found()
    {
        var res = CoyoteHost.Run(k =>
        {
            var o = new TestObj(k);
            bool ready = false;
            var reader = k.Spawn(k.NewTask("reader", 0), () =>
            {
                if (!ready)
                {
                    k.Point(); // the window: the writer may run here
                    o.Wq.prepare_to_wait(TaskStruct.TASK_INTERRUPTIBLE);
                    o.Wq.schedule();
                    o.Wq.finish_wait();
                }
            });
            var writer = k.Spawn(k.NewTask("writer", 0), () =>
            {
                ready = true;
                o.Wq.wake_up_interruptible();
            });
            CoyoteHost.Join(reader, writer);
        }, Iterations, Seed);
        _out.WriteLine(res.ToString());
        Assert.True(res.BugFound, "the lost wake-up was not found");
        Assert.Null(res.KernelReport); // a hang: found by Coyote's deadlock detection
        Assert.Contains("Deadlock", res.BugText, StringComparison.OrdinalIgnoreCase);
    }

    // ------------------------------------------------------------ fault injection

    [Fact]
    public void Fault_injection_explores_both_the_failing_and_the_succeeding_allocation()
    {
        int failed = 0, succeeded = 0, idrFailed = 0;
        var res = CoyoteHost.Run(k =>
        {
            Assert.True(k.FaultInjection);
            var t = k.Spawn(k.NewTask("alloc", 0), () =>
            {
                using var e = k.Entry("sys_alloc");
                var o = k.Slab.kmem_cache_alloc("test_cache", Gfp.GFP_KERNEL, () => new TestObj(k));
                if (o is null) { failed++; return; }
                succeeded++;
                if (o.Ids.idr_pre_get(Gfp.GFP_KERNEL) == 0) idrFailed++;
                k.Slab.kmem_cache_free("test_cache", o);
            });
            t.Wait();
            k.Slab.kmemleak_scan();
        }, Iterations, Seed, faultInjection: true);
        _out.WriteLine($"{res}\nfailed={failed} succeeded={succeeded} idr_pre_get failed={idrFailed}");
        Assert.False(res.BugFound, res.ToString());
        Assert.True(failed > 0, "kmem_cache_alloc never returned NULL");
        Assert.True(succeeded > 0, "kmem_cache_alloc never succeeded");
        Assert.True(idrFailed > 0, "idr_pre_get never failed");
        Assert.Equal((int)Iterations, failed + succeeded);
    }

    [Fact]
    public void Without_fault_injection_allocations_never_fail()
    {
        int failed = 0;
        var res = CoyoteHost.Run(k =>
        {
            var o = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k));
            if (o is null) failed++;
            k.Slab.kfree(o);
        }, 50, Seed);
        Assert.False(res.BugFound, res.ToString());
        Assert.Equal(0, failed);
    }

    // ------------------------------------------------------------ a kernel detector under Coyote

    [Fact]
    public void Racy_free_and_use_is_found_as_use_after_free_under_coyote()
    {
        var res = CoyoteHost.Run(k =>
        {
            var o = k.Slab.kmalloc(Gfp.GFP_KERNEL, () => new TestObj(k))!;
            var user = k.Spawn(k.NewTask("user", 0), () => { using var f = k.Fn("use_obj"); k.Point(); o.Value = 1; });
            var freer = k.Spawn(k.NewTask("freer", 0), () => { using var f = k.Fn("free_obj"); k.Slab.kfree(o); });
            CoyoteHost.Join(user, freer);
        }, Iterations, Seed);
        Assert.True(res.BugFound);
        Assert.Equal(BugClass.UseAfterFree, res.KernelReport!.Class);
        Assert.Equal(new[] { "use_obj", "free_obj" }, res.KernelReport.Functions.Take(2));
    }
}
