using System.Reflection;
using InotifySim.Model.Kernel;
using InotifySim.Tests.Concurrency.Infrastructure;
using Xunit.Abstractions;
using KMutex = InotifySim.Model.Kernel.Mutex;

namespace InotifySim.Tests.Concurrency.Primitives;

/// <summary>
/// The mutex wait-for check, under Coyote: cycles of 2, 3 and 4 tasks are each reported by the check (not by
/// Coyote's own deadlock monitor) with every task, the lock it wants and the functions where it holds and
/// waits; a chain of waiters that ends at a running task is not a cycle and stays silent.
/// All locks are of ONE class taken as mutex_lock_nested(0) then (1), so lockdep records no edge and only the
/// wait-for graph can see the cycle. A barrier (every task holds its first lock before any takes its second)
/// makes every schedule deadlock, so the first iteration decides.
/// </summary>
public class WaitForBranchTests
{
    private const uint Seed = 20061;
    private readonly ITestOutputHelper _out;

    public WaitForBranchTests(ITestOutputHelper output) => _out = output;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_wait_for_cycle_of_n_tasks_is_reported_naming_every_task_lock_and_function(int n)
    {
        var tasks = new string[n];
        var locks = new string[n];
        var res = CoyoteHost.Run(k =>
        {
            var cls = k.Lockdep.Class("inode->i_mutex");
            var ls = Enumerable.Range(0, n).Select(i => new KMutex(k.Globals, $"i_mutex{i}", cls)).ToArray();
            int holding = 0;
            var ws = new Task[n];
            for (int i = 0; i < n; i++)
            {
                int me = i;
                var t = k.NewTask($"w{i}", 0);
                tasks[i] = t.Name;
                locks[i] = ls[i].Name;
                ws[i] = k.Spawn(t, () =>
                {
                    using var e = k.Entry("sys_rename");
                    using (k.Fn($"w{me}_first"))
                    {
                        ls[me].mutex_lock_nested(0);
                        holding++;
                        k.WaitUntil(() => holding == n, () => "the barrier");
                    }
                    using (k.Fn($"w{me}_second")) ls[(me + 1) % n].mutex_lock_nested(1);
                    ls[(me + 1) % n].mutex_unlock();
                    ls[me].mutex_unlock();
                });
            }
            CoyoteHost.Join(ws);
        }, iterations: 10, seed: Seed);
        _out.WriteLine(res.ToString());

        Assert.True(res.BugFound, "the wait-for cycle was not found");
        Assert.Equal(1, res.IterationsRun); // every schedule deadlocks
        Assert.StartsWith(CoyoteHost.KernelBugPrefix, res.BugText); // our check, not Coyote's deadlock monitor
        var r = res.KernelReport;
        Assert.NotNull(r);
        Assert.Equal(BugClass.Deadlock, r!.Class);
        // the task that closed the cycle comes first, then the chain of owners around the cycle
        int s = Array.IndexOf(tasks, r.Threads[0]);
        Assert.True(s >= 0, "unknown first task " + r.Threads[0]);
        var order = Enumerable.Range(0, n).Select(j => (s + j) % n).ToArray();
        Assert.Equal(order.Select(i => tasks[i]), r.Threads);
        Assert.Equal(order.Select(i => locks[(i + 1) % n]), r.Objects);
        Assert.Equal(order.SelectMany(i => new[] { $"w{i}_second", $"w{i}_first" }), r.Functions);
        Assert.Equal($"INFO: deadlock: {n} tasks wait for each other ({string.Join(" -> ", order.Select(i => tasks[i]))})", r.Title);
        Assert.Contains("Wait-for cycle:", r.Text);
        foreach (var i in order)
            Assert.Contains($"task {tasks[i]} holds (inode->i_mutex) {locks[i]} [taken in w{i}_first]", r.Text);
    }

    private static readonly FieldInfo s_waitingFor =
        typeof(TaskStruct).GetField("WaitingFor", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("TaskStruct.WaitingFor not found");

    private static bool Blocked(TaskStruct t) => s_waitingFor.GetValue(t) != null;

    /// <summary>
    /// w(n-1) waits for w(n-2) ... waits for w0, which holds its lock and runs (waits for nobody) until the whole
    /// chain is blocked, then releases: a chain of length n-1 that is not a cycle. Silent in every schedule.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_chain_of_waiters_that_is_not_a_cycle_stays_silent(int n)
    {
        int chains = 0;
        var res = CoyoteHost.Run(k =>
        {
            var cls = k.Lockdep.Class("inode->i_mutex");
            var ls = Enumerable.Range(0, n).Select(i => new KMutex(k.Globals, $"i_mutex{i}", cls)).ToArray();
            var ts = Enumerable.Range(0, n).Select(i => k.NewTask($"w{i}", 0)).ToArray();
            int holding = 0;
            var ws = new Task[n];
            for (int i = 0; i < n; i++)
            {
                int me = i;
                ws[i] = k.Spawn(ts[i], () =>
                {
                    using var e = k.Entry("sys_rename");
                    using (k.Fn($"w{me}_first"))
                    {
                        ls[me].mutex_lock_nested(0);
                        holding++;
                        k.WaitUntil(() => holding == n, () => "the barrier");
                    }
                    if (me == 0)
                    {
                        // the head of the chain runs on until every other task waits
                        k.WaitUntil(() => ts.Skip(1).All(Blocked), () => "the chain");
                        chains++;
                    }
                    else
                    {
                        using (k.Fn($"w{me}_second")) ls[me - 1].mutex_lock_nested(1);
                        ls[me - 1].mutex_unlock();
                    }
                    ls[me].mutex_unlock();
                });
            }
            CoyoteHost.Join(ws);
        }, iterations: 20, seed: Seed);
        _out.WriteLine(res.ToString());
        Assert.False(res.BugFound, res.ToString());
        Assert.Equal(20, res.IterationsRun);
        Assert.Equal(20, chains); // the full chain formed in every iteration
    }
}
