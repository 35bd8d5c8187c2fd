using System.Globalization;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;

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
        if (!File.Exists(path)) throw new ScriptException($"{path}: no such file");
        string text;
        try { text = File.ReadAllText(path); }
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
        long Num(int i) => long.Parse(args[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int Int(int i) => (int)Math.Clamp(Num(i), int.MinValue, int.MaxValue);
        List<InotifyEventRecord>? events = null;
        int fd = -1;
        string fn;
        long r;
        var vfs = m.Vfs;
        switch (st.Op)
        {
            case "inotify_init":
                fn = "sys_inotify_init";
                r = args.Count == 1 && args[0] == "nonblock" ? m.inotify_init_nonblock() : m.inotify_init();
                break;
            case "add_watch":
                fn = "sys_inotify_add_watch";
                r = m.inotify_add_watch(Int(0), args[1], IN.ParseMask(args[2])!.Value);
                break;
            case "rm_watch":
                fn = "sys_inotify_rm_watch";
                r = m.inotify_rm_watch(Int(0), Int(1));
                break;
            case "read":
            {
                fn = "sys_read";
                fd = Int(0);
                bool inotify = IsInotifyFd(m, fd);
                if (inotify) r = m.read_events(fd, Math.Max(0, Int(1)), out events);
                else r = vfs.sys_read(fd, Math.Max(0, Int(1)), out _);
                break;
            }
            case "close":
                fn = "sys_close";
                r = m.close(Int(0));
                break;
            case "fionread":
            {
                fn = "sys_ioctl";
                r = vfs.sys_ioctl(Int(0), 0x541B, out int value);
                if (r == 0) r = value;
                break;
            }
            case "poll":
            {
                fn = "sys_poll";
                r = vfs.sys_poll(Int(0), out uint revents);
                if (r >= 0) r = revents;
                break;
            }
            case "open":
                fn = "sys_open";
                r = vfs.sys_open(args[0], args.Count > 1 ? Script.ParseOpenFlags(args[1])!.Value : 0);
                break;
            case "write":
                fn = "sys_write";
                if (args[0].StartsWith('/'))
                {
                    long f = vfs.sys_open(args[0], 1);
                    if (f < 0) { r = f; break; }
                    r = vfs.sys_write((int)f, Int(1));
                    vfs.sys_close((int)f);
                }
                else r = vfs.sys_write(Int(0), Int(1));
                break;
            case "touch":
            {
                fn = "sys_open";
                long f = vfs.sys_open(args[0], 0x41);
                r = f < 0 ? f : vfs.sys_close((int)f);
                break;
            }
            case "mkdir":
                fn = "sys_mkdir";
                r = args.Count > 1 ? vfs.sys_mkdir(args[0], Script.ParseMode(args[1])!.Value) : vfs.sys_mkdir(args[0]);
                break;
            case "rmdir": fn = "sys_rmdir"; r = vfs.sys_rmdir(args[0]); break;
            case "unlink": fn = "sys_unlink"; r = vfs.sys_unlink(args[0]); break;
            case "rename": fn = "sys_rename"; r = vfs.sys_rename(args[0], args[1]); break;
            case "chmod": fn = "sys_chmod"; r = vfs.sys_chmod(args[0], Script.ParseMode(args[1])!.Value); break;
            case "symlink": fn = "sys_symlink"; r = vfs.sys_symlink(args[0], args[1]); break;
            case "setxattr": fn = "sys_setxattr"; r = vfs.sys_setxattr(args[0]); break;
            case "mount": fn = "sys_mount"; r = vfs.sys_mount(args[0]); break;
            case "umount": fn = "sys_umount"; r = vfs.sys_umount(args[0]); break;
            case "audit_add": fn = "audit_add_rule"; r = m.Audit is null ? -Errno.EINVAL : m.Audit.audit_add_rule(args[0], IN.ParseMask(args[1])!.Value); break;
            case "audit_remove": fn = "audit_remove_rule"; r = m.Audit is null ? -Errno.EINVAL : m.Audit.audit_remove_rule(args[0]); break;
            default: throw new InvalidOperationException("unhandled script operation " + st.Op);
        }
        if (st.Assign != null) vars[st.Assign] = r;
        Log?.Invoke(new StepResult(st, thread, args, r, fd, (IReadOnlyList<InotifyEventRecord>?)events ?? Array.Empty<InotifyEventRecord>()));
        if (checkExpect && st.Expect != null && !st.Expect.Holds(r))
        {
            var k = m.K;
            k.Bug(BugClass.SpecViolation, $"script: expectation failed at {Script.Name}:{st.Line}: '{st.Text}' returned {Errno.Ret(r)}, expected {st.Expect.Text}",
                new[] { fn }, new[] { k.current.Name }, Array.Empty<string>(),
                $"{Script.Name}:{st.Line}: {st.Text}\nthread {thread} ({k.current.Name}): returned {Errno.Ret(r)}, expected {st.Expect.Text}\n");
        }
        return r;
    }

    private static bool IsInotifyFd(Machine m, int fd)
    {
        if (m.K.current.Process is not InotifySim.Model.Vfs.Process p) return false;
        return fd >= 0 && fd < p.Fds.Count && p.Fds[fd] is { } f && !f.IsFreed && f.f_op is InotifyUser;
    }
}
