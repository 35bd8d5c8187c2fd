using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Oracles;
using InotifySim.Model.Vfs;
using InotifySim.Scenarios;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// <see cref="UserVisibleOracle"/> (issue 13 item 3): for each kind of user-visible mistake the
/// issue names, a fault planted in `fixed` through a test-only hook (the posted code is untouched)
/// is found by exploring a catalogue scenario, reported as spec-violation with the oracle's
/// functions; the same scenario without the fault is silent, and the oracle did judge it (it
/// explained devices, so the silence is not vacuous).
/// </summary>
public class UserVisibleOracleTests(ITestOutputHelper output)
{
    private static readonly string[] EventFns = { "inotify_dev_queue_event", "inotify_read" };

    /// <summary>A catalogue scenario with a fault planted after boot (<see cref="MachineOptions.AfterBoot"/>).</summary>
    private sealed class Planted(Scenario inner, Action<Machine>? plant) : Scenario
    {
        public override string Name => inner.Name;
        public override string Description => inner.Description;
        public override bool ToleratesFaultInjection => inner.ToleratesFaultInjection;
        public override void Configure(MachineOptions o)
        {
            inner.Configure(o);
            o.AfterBoot = plant;
        }
        public override void Build(Sim s) => inner.Build(s);
    }

    /// <summary>A consumer between the core and the user layer that changes what is queued (the planted fault).</summary>
    private sealed class FaultyConsumer(InotifyDevice dev, IInotifyConsumer inner, Func<InotifyDevice, uint, uint, uint, string?, (bool drop, string? name)> fault) : IInotifyConsumer
    {
        public void handle_event(InotifyWatch watch, uint wd, uint mask, uint cookie, string? name, Inode? inode)
        {
            var (drop, newName) = fault(dev, wd, mask, cookie, name);
            if (drop)
            {
                // the user layer's own duty for IN_IGNORED (freeing the watch) still happens: only the event is lost
                if ((mask & IN_IGNORED) == 0) return;
            }
            inner.handle_event(watch, wd, mask, cookie, newName, inode);
        }

        public void destroy_watch(InotifyWatch watch) => inner.destroy_watch(watch);
    }

    private static Action<Machine> Consumer(Func<InotifyDevice, uint, uint, uint, string?, (bool drop, string? name)> fault) =>
        m => m.Oracles.OfType<UserVisibleOracle>().Single().PlantConsumerFault = (dev, inner) => new FaultyConsumer(dev, inner, fault);

    /// <summary>A mistake of the registry (src/Model/Mistakes.cs), planted at its line in the model.</summary>
    private static Action<Machine> Model(Mistake mistake) => m => m.K.Plant(mistake);

    /// <summary>
    /// The planted faults: the kinds of user-visible mistake. Those of the six examples are
    /// mistakes of the registry, planted inside the model (<see cref="Mistakes"/>); the other kinds (a wrong
    /// name, a lost event, an unreachable instance limit) are planted through a test-only consumer or a sysctl.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (string scenario, Action<Machine> plant, string[] fns)> Faults =
        new Dictionary<string, (string, Action<Machine>, string[])>
        {
            // coalescing that ignores the event name: A then B (same wd, mask, cookie) loses B (planted in the model)
            ["coalesce-ignores-name"] = ("read-vs-queue-limit", Model(Mistake.CoalesceIgnoresName), EventFns),
            // a wrong event name
            ["wrong-name"] = ("read-vs-queue-limit", Consumer((dev, wd, mask, cookie, name) => (false, name == "b" ? "c" : name)), EventFns),
            // the overflow test off by one (>= for >): at max_queued_events the event is dropped, never IN_Q_OVERFLOW (planted in the model)
            ["overflow-off-by-one"] = ("read-vs-queue-limit", Model(Mistake.OverflowOffByOne), EventFns),
            // a lost event
            ["lost-event"] = ("event-vs-rm", Consumer((dev, wd, mask, cookie, name) => ((mask & IN_MODIFY) != 0, name)), EventFns),
            // a per-user limit check off by one: ENOSPC below max_user_watches (planted in the model)
            ["watch-limit-off-by-one"] = ("limit-race", Model(Mistake.WatchLimitOffByOne), new[] { "create_watch", "sys_inotify_add_watch" }),
            // a limit that cannot be reached: EMFILE with max_user_instances - 1 instances
            ["instance-limit-unreachable"] = ("limit-race", m => m.Sysctl.max_user_instances = m.Options.MaxUserInstances - 1,
                new[] { "sys_inotify_init" }),
        };

    public static TheoryData<string> FaultNames()
    {
        var d = new TheoryData<string>();
        foreach (var k in Faults.Keys) d.Add(k);
        return d;
    }

    private static HuntResult Hunt(string scenario, Action<Machine>? plant, Fix fixes = Fix.All, int iterations = 300) =>
        Explorer.Run(new HuntOptions
        {
            Scenario = new Planted(ScenarioCatalog.Find(scenario)!, plant),
            Fixes = fixes,
            Iterations = iterations,
            Seed = 1,
        });

    [Theory]
    [MemberData(nameof(FaultNames))]
    public void PlantedFaultIsFound(string fault)
    {
        var (scenario, plant, fns) = Faults[fault];
        var r = Hunt(scenario, plant);
        output.WriteLine($"{fault} on {scenario}: {r.Summary}");
        Assert.True(r.BugFound, $"{fault}: not found in {r.Iterations} schedules of {scenario}");
        Assert.True(r.Report != null, r.OtherBug);
        output.WriteLine(r.Report!.Text);
        Assert.Equal(BugClass.SpecViolation, r.Report.Class);
        Assert.Equal(fns, r.Report.Functions);
        Assert.StartsWith("inotify(7):", r.Report.Title);
    }

    [Theory]
    [MemberData(nameof(FaultNames))]
    public void SilentTwinOnFixed(string fault)
    {
        var (scenario, _, _) = Faults[fault];
        var r = Hunt(scenario, plant: null);
        output.WriteLine($"{scenario} on fixed: {r.Summary}");
        Assert.False(r.BugFound, r.Report?.Text ?? r.OtherBug);
        var o = r.LastMachine!.Oracles.OfType<UserVisibleOracle>().Single();
        output.WriteLine($"last schedule: {o.Explained} device(s) explained, {o.Undecided} undecided");
        Assert.True(o.Explained > 0, "the oracle judged no device: the silence would be vacuous");
        Assert.Equal(0, o.Undecided);
    }

    /// <summary>
    /// coalesce-last (the seed coalesces with the oldest queued event) was user-visible only: no
    /// detector fired. read-vs-queue-limit queues a, b, then a again at max_queued_events 2: the
    /// seed drops the second a as a duplicate of the oldest, so no IN_Q_OVERFLOW follows b.
    /// </summary>
    [Fact]
    public void ExplorationFindsCoalesceLast()
    {
        var r = Hunt("read-vs-queue-limit", plant: null, Variants.AllBut(Fix.CoalesceLast), iterations: 1000);
        output.WriteLine($"fixed without coalesce-last on read-vs-queue-limit: {r.Summary}, iteration {r.BugIteration}");
        Assert.True(r.BugFound, "coalesce-last not found");
        Assert.True(r.Report != null, r.OtherBug);
        output.WriteLine(r.Report!.Text);
        Assert.Equal(BugClass.SpecViolation, r.Report.Class);
        Assert.Equal(EventFns, r.Report.Functions);
    }

    /// <summary>
    /// A failing inotify_init holds its reservation (fixed's atomic_inc_return) until its error path: another
    /// init of the same user may get -EMFILE meanwhile. The oracle counted only overlapping successes and reported
    /// "inotify_init returned -EMFILE below max_user_instances (2 &lt; 3)" on schedule 23 of limit-race's fault chunk
    /// of the main job's worker 0 (seed 2 × 7919): `hunt --scenario all --variant fixed --iterations 2000` was not
    /// clean. An overlapping -ENOMEM call now counts as a holder; this is that schedule.
    /// </summary>
    [Fact]
    public void A_reservation_held_by_a_failing_call_explains_emfile()
    {
        var r = Explorer.Run(new HuntOptions { Scenario = ScenarioCatalog.Find("limit-race")!, Fixes = Fix.All, Iterations = 23, Seed = 2 * 7919, FaultInjection = true });
        output.WriteLine(r.Summary);
        Assert.False(r.BugFound, r.Report?.Text ?? r.OtherBug);
        Assert.Equal(23, r.Iterations);
    }

    /// <summary>The oracle can be switched off like the others, and then the planted fault goes unseen.</summary>
    [Fact]
    public void OracleIsSelectedByMachineOptions()
    {
        var scenario = new Planted(ScenarioCatalog.Find("read-vs-queue-limit")!, Faults["overflow-off-by-one"].plant);
        var off = new OffScenario(scenario);
        var r = Explorer.Run(new HuntOptions { Scenario = off, Fixes = Fix.All, Iterations = 100, Seed = 1 });
        output.WriteLine($"with the oracle off: {r.Summary}");
        Assert.False(r.BugFound, r.Report?.Text ?? r.OtherBug);
        Assert.Empty(r.LastMachine!.Oracles.OfType<UserVisibleOracle>());
        Assert.True(r.LastMachine.K.Planted(Mistake.OverflowOffByOne), "the mistake was planted: only the oracle was off");
    }

    private sealed class OffScenario(Scenario inner) : Scenario
    {
        public override string Name => inner.Name;
        public override string Description => inner.Description;
        public override void Configure(MachineOptions o)
        {
            inner.Configure(o);
            o.Oracles &= ~OracleSet.UserVisible;
            // the mistake stays planted in the model (o.AfterBoot): only the oracle is off
        }
        public override void Build(Sim s) => inner.Build(s);
    }

    /// <summary>Sequentially, the oracle and the reference specification agree on a queue at its limit (a direct unit check).</summary>
    [Fact]
    public void SequentialOverflowIsExplained()
    {
        var m = new Machine(new MachineOptions { MaxQueuedEvents = 2 });
        var t = m.NewProcess("u", 0);
        m.As(t, () =>
        {
            m.Vfs.sys_mkdir("/d");
            int fd = (int)m.inotify_init_nonblock();
            m.inotify_add_watch(fd, "/d", IN_CREATE);
            foreach (var n in new[] { "a", "b", "c", "d" }) { long f = m.Vfs.sys_open("/d/" + n, O.O_CREAT | O.O_WRONLY); m.Vfs.sys_close((int)f); }
            m.read_events(fd, 4096, out var evs);
            Assert.Equal(new uint[] { IN_CREATE, IN_CREATE, IN_Q_OVERFLOW }, evs.Select(e => e.Mask).ToArray());
            m.Teardown();
        });
        var o = m.Oracles.OfType<UserVisibleOracle>().Single();
        Assert.Equal(1, o.Explained);
    }
}
