using System.Globalization;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;

namespace InotifySim.Scenarios.Scripts;

/// <summary>What one executed step returned (for <c>run</c>'s JSON lines).</summary>
public sealed record StepResult(ScriptStep Step, string Thread, IReadOnlyList<string> Args, long Ret, int Fd, IReadOnlyList<InotifyEventRecord> Events);

/// <summary>
/// A scenario written as a script (.isim): the setup section and each thread's prelude run
/// sequentially during <see cref="Build"/>; each thread's body becomes one simulated thread
/// whose interleavings Coyote explores. A failed <c>expect</c> is a report
/// (spec-violation, "script: expectation failed"); a failed setup step throws
/// <see cref="ScriptException"/>.
/// </summary>
public sealed class ScriptScenario : Scenario
{
    public Script Script { get; }
    /// <summary>The script's text (what a trace file stores).</summary>
    public string Text { get; }
    /// <summary>Called after every executed step (the <c>run</c> command prints it); null under exploration.</summary>
    public Action<StepResult>? Log { get; set; }

    private ScriptScenario(Script script, string text)
    {
        Script = script;
        Text = text;
    }

    /// <summary>Parses a script; throws <see cref="ScriptException"/> with "name:line: message".</summary>
    public static ScriptScenario Parse(string text, string name) => new(Script.Parse(text, name), text);

    /// <summary>Loads FILE.isim; the scenario's name is the file name without its extension.</summary>
    public static ScriptScenario Load(string path)
    {
        if (!System.IO.File.Exists(path)) throw new ScriptException($"{path}: no such file");
        string text;
        try { text = System.IO.File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ScriptException($"{path}: cannot read: {e.Message}"); }
        return new ScriptScenario(Script.Parse(text, path), text);
    }

    /// <summary>The script's name without its extension ("rm-race" for rm-race.isim).</summary>
    public override string Name => Path.GetFileNameWithoutExtension(Script.Name);
    public override string Description => $"script {Script.Name}: {Script.Threads.Count} thread(s)";

    public override void Configure(MachineOptions o)
    {
        if (Script.Audit) o.Audit = true;
        foreach (var (k, v) in Script.Sysctl)
        {
            switch (k)
            {
                case "max_user_instances": o.MaxUserInstances = v; break;
                case "max_user_watches": o.MaxUserWatches = v; break;
                case "max_queued_events": o.MaxQueuedEvents = v; break;
            }
        }
    }

    public override void Build(Sim s)
    {
        var m = s.M;
        var vars = new Dictionary<string, long>(StringComparer.Ordinal);
        var root = m.NewProcess("setup", 0);
        foreach (var st in Script.Setup) Setup(m, root, "setup", st, vars);

        var procs = new Dictionary<string, TaskStruct>(StringComparer.Ordinal);
        var tasks = new List<TaskStruct>();
        foreach (var t in Script.Threads)
        {
            TaskStruct task = procs.TryGetValue(t.Process, out var sib) ? m.NewThread(sib, t.Name) : m.NewProcess(t.Name, t.Uid);
            procs.TryAdd(t.Process, task);
            tasks.Add(task);
        }
        for (int i = 0; i < Script.Threads.Count; i++)
        {
            var t = Script.Threads[i];
            foreach (var st in t.Prelude) Setup(m, tasks[i], t.Name, st, vars);
        }
        for (int i = 0; i < Script.Threads.Count; i++)
        {
            var t = Script.Threads[i];
            var task = tasks[i];
            s.Thread(task, () =>
            {
                foreach (var st in t.Body) Step(m, t.Name, st, vars, checkExpect: true);
            });
        }
    }

    /// <summary>
    /// Builds a sequential machine and runs the setup and the preludes once, so that a setup
    /// step that fails is a usage error (with its line) before any exploration.
    /// </summary>
    public void CheckSetup(Fix fixes)
    {
        var o = new MachineOptions { Fixes = fixes, Mode = SchedMode.Sequential };
        Configure(o);
        var m = new Machine(o);
        try { Build(new Sim(m)); }
        catch (KernelBugException) { /* a bug in the setup itself: the hunt will report it */ }
    }

    private void Setup(Machine m, TaskStruct t, string thread, ScriptStep st, Dictionary<string, long> vars)
    {
        long r = m.As(t, () => Step(m, thread, st, vars, checkExpect: st.Expect != null));
        if (st.Expect is null && r < 0)
            throw new ScriptException($"{Script.Name}:{st.Line}: setup step '{st.Text}' failed with {Errno.Ret(r)} (add 'expect {Errno.Ret(r)}' if that is intended)");
    }

    private long Step(Machine m, string thread, ScriptStep st, Dictionary<string, long> vars, bool checkExpect)
    {
        var args = st.Args.Select(a => a.StartsWith('$') ? (vars.TryGetValue(a[1..], out var v) ? v : -1).ToString(CultureInfo.InvariantCulture) : a).ToList();
        var spec = st.Spec;
        var values = new object?[args.Count];
        for (int i = 0; i < args.Count; i++)
            values[i] = SysOps.ParseValue(spec.Args[i].Kind, args[i], spec.Args[i].Keywords)
                ?? throw new ScriptException($"{Script.Name}:{st.Line}: bad value '{args[i]}' for {spec.Args[i].Name} of '{spec.Name}'");
        var res = spec.Run(m, new SysArgs(values));
        long r = res.Ret;
        int fd = spec.Args.Length > 0 && spec.Args[0].Kind == ArgKind.Fd && values.Length > 0 ? (int)Math.Clamp((long)values[0]!, int.MinValue, int.MaxValue) : -1;
        string fn = spec.KernelFn;
        if (st.Assign != null) vars[st.Assign] = r;
        Log?.Invoke(new StepResult(st, thread, args, r, st.Op == "read" ? fd : -1, res.Events));
        if (checkExpect && st.Expect != null && !st.Expect.Holds(r))
        {
            var k = m.K;
            k.Bug(BugClass.SpecViolation, $"script: expectation failed at {Script.Name}:{st.Line}: '{st.Text}' returned {Errno.Ret(r)}, expected {st.Expect.Text}",
                new[] { fn }, new[] { k.current.Name }, Array.Empty<string>(),
                $"{Script.Name}:{st.Line}: {st.Text}\nthread {thread} ({k.current.Name}): returned {Errno.Ret(r)}, expected {st.Expect.Text}\n");
        }
        return r;
    }
}
