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

    /// <summary>Per fd variable, every event the script's reads of it returned (this run).</summary>
    private Dictionary<string, List<InotifyEventRecord>> _history = new(StringComparer.Ordinal);

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
        var history = new Dictionary<string, List<InotifyEventRecord>>(StringComparer.Ordinal);
        _history = history;
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
                // the thread's ignored-last assertions hold on what its reads returned by now
                foreach (var a in Script.Asserts)
                    if (a.Thread == t.Name && a.Kind == StreamProperty.IgnoredLast) CheckStream(m, t.Name, a, vars, history);
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
        if (st.Events != null) CheckEvents(m, thread, st, res.Events, vars);
        if (st.Op == "read" && st.Args[0].StartsWith('$'))
        {
            var fdVar = st.Args[0][1..];
            if (!_history.TryGetValue(fdVar, out var h)) _history[fdVar] = h = new List<InotifyEventRecord>();
            h.AddRange(res.Events);
            foreach (var a in Script.Asserts)
                if (a.FdVar == fdVar && a.Kind == StreamProperty.NoEventAfterIgnored) CheckStream(m, thread, a, vars, _history);
        }
        if (checkExpect && st.Expect != null && !st.Expect.Holds(r))
        {
            var k = m.K;
            k.Bug(new BugReport(BugClass.SpecViolation, $"script: expectation failed at {Script.Name}:{st.Line}: '{st.Text}' returned {Errno.Ret(r)}, expected {st.Expect.Text}")
            {
                Functions = new[] { fn },
                Threads = new[] { k.current.Name },
                Body = $"{Script.Name}:{st.Line}: {st.Text}\nthread {thread} ({k.current.Name}): returned {Errno.Ret(r)}, expected {st.Expect.Text}\n",
            });
        }
        return r;
    }

    // ------------------------------------------------------------------ event assertions

    private static string Show(InotifyEventRecord e) =>
        $"{e.Wd} {e.MaskNames}" + (e.Name is null ? "" : " " + e.Name) + (e.Cookie != 0 ? $" (cookie {e.Cookie})" : "");

    private static long Var(string token, Dictionary<string, long> vars) =>
        token.StartsWith('$') ? (vars.TryGetValue(token[1..], out var v) ? v : -1) : long.Parse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    /// <summary>Does <paramref name="got"/> match <paramref name="want"/> exactly (wd, mask, name, cookie pairing)?</summary>
    private static string? Mismatch(IReadOnlyList<InotifyEventRecord> got, List<ExpectedEvent> want, Dictionary<string, long> vars)
    {
        if (got.Count != want.Count) return $"{got.Count} event(s) where {want.Count} were expected";
        var labels = new Dictionary<string, uint>(StringComparer.Ordinal);
        for (int i = 0; i < got.Count; i++)
        {
            var (g, w) = (got[i], want[i]);
            long wd = Var(w.Wd, vars);
            if (g.Wd != wd) return $"event {i + 1}: wd {g.Wd}, expected {w.Wd} = {wd}";
            if (g.Mask != w.Mask) return $"event {i + 1}: mask {g.MaskNames}, expected {IN.MaskNames(w.Mask)}";
            if (g.Name != w.Name) return $"event {i + 1}: name {g.Name ?? "(none)"}, expected {w.Name ?? "(none)"}";
            if (w.Cookie is null)
            {
                if (g.Cookie != 0) return $"event {i + 1}: cookie {g.Cookie}, expected 0 (give it a cookie=LABEL)";
                continue;
            }
            if (g.Cookie == 0) return $"event {i + 1}: cookie 0, expected a cookie (cookie={w.Cookie})";
            if (labels.TryGetValue(w.Cookie, out var c))
            {
                if (c != g.Cookie) return $"event {i + 1}: cookie {g.Cookie}, expected the cookie of cookie={w.Cookie} ({c})";
            }
            else
            {
                foreach (var (l, other) in labels)
                    if (other == g.Cookie) return $"event {i + 1}: cookie {g.Cookie} is cookie={l}'s, expected a different one (cookie={w.Cookie})";
                labels[w.Cookie] = g.Cookie;
            }
        }
        return null;
    }

    private void CheckEvents(Machine m, string thread, ScriptStep st, IReadOnlyList<InotifyEventRecord> got, Dictionary<string, long> vars)
    {
        var ea = st.Events!;
        var why = new List<string>();
        foreach (var alt in ea.Alternatives)
        {
            var mm = Mismatch(got, alt, vars);
            if (mm is null) return;
            why.Add(mm);
        }
        var expected = string.Join("\n  or\n", ea.Alternatives.Select(a => a.Count == 0 ? "    (no event)" : string.Join("\n", a.Select(e => "    " + e))));
        var actual = got.Count == 0 ? "    (no event)" : string.Join("\n", got.Select(e => "    " + Show(e)));
        EventBug(m, thread, ea.Line, $"'{st.Text}' (line {st.Line}) returned events that match {(ea.OneOf ? "none of the alternatives" : "not the expected sequence")}: {why[0]}",
            $"{Script.Name}:{ea.Line}: events of '{st.Text}' (line {st.Line})\nexpected{(ea.OneOf ? " one of" : "")}:\n{expected}\nread:\n{actual}\n");
    }

    private void CheckStream(Machine m, string thread, StreamAssertion a, Dictionary<string, long> vars, Dictionary<string, List<InotifyEventRecord>> history)
    {
        long wd = Var(a.Wd, vars);
        var evs = history.TryGetValue(a.FdVar, out var h) ? h.Where(e => e.Wd == wd).ToList() : new List<InotifyEventRecord>();
        string? why = null;
        if (a.Kind == StreamProperty.NoEventAfterIgnored)
        {
            int ig = evs.FindIndex(e => (e.Mask & IN.IN_IGNORED) != 0);
            if (ig >= 0 && ig < evs.Count - 1) why = $"{Show(evs[ig + 1])} was read after IN_IGNORED for {a.Wd} = {wd}";
        }
        else if (evs.Count == 0 || (evs[^1].Mask & IN.IN_IGNORED) == 0)
            why = evs.Count == 0 ? $"no event was read for {a.Wd} = {wd}, so not IN_IGNORED last" : $"the last event read for {a.Wd} = {wd} is {Show(evs[^1])}, not IN_IGNORED";
        if (why is null) return;
        EventBug(m, thread, a.Line, $"'{a.Text}': {why}",
            $"{Script.Name}:{a.Line}: {a.Text}\nevents read from ${a.FdVar} for wd {wd}:\n" +
            (evs.Count == 0 ? "    (none)" : string.Join("\n", evs.Select(e => "    " + Show(e)))) + "\n");
    }

    private void EventBug(Machine m, string thread, int line, string what, string text)
    {
        var k = m.K;
        k.Bug(new BugReport(BugClass.SpecViolation, $"script: events assertion failed at {Script.Name}:{line}: {what}")
        {
            Functions = new[] { "inotify_read" },
            Threads = new[] { k.current.Name },
            Body = $"thread {thread} ({k.current.Name})\n" + text,
        });
    }
}
