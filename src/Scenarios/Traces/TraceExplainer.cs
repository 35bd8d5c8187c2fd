using System.Globalization;
using System.Text;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Scenarios.Traces;

/// <summary>One line of an explained timeline: a kept kernel trace step, in kernel terms.</summary>
public sealed record TimelineRow(int Index, long Seq, string Task, TraceKind Kind, string Function, string Text, bool IsBug)
{
    /// <summary>The trace step shown (null for the explainer's own separator rows).</summary>
    public TraceStep? Step { get; init; }
    /// <summary>The step in kernel terms (<see cref="TraceExplanation.Words"/>).</summary>
    public string Words => Step is null ? Text : TraceExplanation.Words(Step);
}

/// <summary>A lock held by a task over a range of timeline rows (for the HTML bars), named as <see cref="TraceExplanation.PlainLock"/> names it.</summary>
public sealed record HeldSpan(string Task, string Lock, int FromRow, int ToRow, int Level, bool HeldAtBug);

/// <summary>
/// Turns a traced replay (the kernel's <see cref="Kernel.TraceLog"/>) into what a kernel
/// developer reads: the setup's syscalls in one line per task, then the threads' timeline
/// trimmed to the steps that matter (syscalls, the functions of the report, locks held across
/// another thread's steps, refcounts/allocations of the objects the report names or the threads
/// share, events queued and read), the failing step marked, and the report's own text.
/// Everything is derived in log order (no hashing, no clock), so the text is byte-for-byte stable.
/// </summary>
public sealed class TraceExplanation
{
    public required TraceFile Trace { get; init; }
    public required Report Report { get; init; }
    public required IReadOnlyList<string> Lanes { get; init; }
    public required IReadOnlyList<TimelineRow> Rows { get; init; }
    public required IReadOnlyList<HeldSpan> Spans { get; init; }
    public required IReadOnlyList<(string Task, string Syscalls)> Setup { get; init; }
    public required IReadOnlyList<string> Focus { get; init; }
    public required int KernelSteps { get; init; }
    public required int TraceEntries { get; init; }
    public required int ContextSwitches { get; init; }
    /// <summary>The scenario's threads that ran (the tasks of the threads' phase).</summary>
    public required int Threads { get; init; }
    /// <summary>Branching decisions of the replayed run (not of the file).</summary>
    public required int Decisions { get; init; }
    /// <summary>Preemptions of the replayed run.</summary>
    public required int Preemptions { get; init; }
    public required IReadOnlyList<(string Task, List<string> Locks)> HeldAtBug { get; init; }

    // Plumbing that every path walk or file open goes through: hidden unless the report names it.
    private static readonly HashSet<string> s_noiseFunctions = new(StringComparer.Ordinal)
    {
        "__user_walk", "dput", "path_release", "d_alloc", "new_inode", "get_empty_filp", "alloc_uid",
        "d_instantiate", "inotify_d_instantiate", "igrab", "fsnotify_open", "fsnotify_close", "fsnotify_create",
        "fsnotify_mkdir", "fsnotify_modify", "fsnotify_access", "fsnotify_change", "inotify_dentry_parent_queue_event",
    };
    private static readonly string[] s_plumbingTypes = { "struct dentry", "struct vfsmount", "struct file" };

    /// <summary>
    /// The allocation id of the kernel structure a step is about (its <see cref="TraceStep.Object"/>), or null: a static
    /// object, or an allocation that is not a struct (an event's name buffer), is never followed.
    /// </summary>
    public static int? StructId(TraceStep s) =>
        s.Object is { Id: int id } o && o.Type.StartsWith("struct ", StringComparison.Ordinal) ? id : null;

    /// <summary>Dentries, mounts and files: every path walk or open touches them; they are followed only when the report names them.</summary>
    private static bool IsPlumbing(TraceStep s) => s.Object is { } o && Array.IndexOf(s_plumbingTypes, o.Type) >= 0;

    /// <summary>Context switches between the scenario's threads in a traced run (a measure of preemptions).</summary>
    public static int CountContextSwitches(IReadOnlyList<TraceStep> log)
    {
        var (start, end) = Phases(log);
        int switches = 0;
        string? last = null;
        for (int i = start; i < end; i++)
        {
            var s = log[i];
            if (s.Task == "init/1") continue;
            if (last != null && s.Task != last) switches++;
            last = s.Task;
        }
        return switches;
    }

    /// <summary>[start, end) of the threads' phase in the log (after setup, before teardown).</summary>
    private static (int start, int end) Phases(IReadOnlyList<TraceStep> log)
    {
        int start = 0, end = log.Count;
        for (int i = 0; i < log.Count; i++)
        {
            if (log[i].Kind != TraceKind.Note) continue;
            if (log[i].Text == Explorer.ThreadsStartNote) start = i + 1;
            else if (log[i].Text == Explorer.ThreadsDoneNote) { end = i; break; }
        }
        return (start, end);
    }

    /// <summary>Where the parts of a traced run lie in its log: [Start, ThreadsEnd) is the threads' phase, BugIndex the failing step (-1: none), End one past the last step explained.</summary>
    private readonly record struct LogWindow(int Start, int ThreadsEnd, int BugIndex, int End);

    /// <summary>
    /// Explains a traced replay that raised <paramref name="report"/>, in named phases: where the threads ran
    /// (<see cref="Window"/>), what the setup did (<see cref="CollectSetup"/>), which objects matter
    /// (<see cref="CollectObjects"/>), which locks opened race windows (<see cref="CollectLocks"/>), the steps kept
    /// (<see cref="SelectTimeline"/>), the held-lock bars (<see cref="HeldSpans"/>) and the run's measures.
    /// </summary>
    public static TraceExplanation Build(TraceFile trace, Report report, IReadOnlyList<TraceStep> log, int decisions = 0, int preemptions = 0)
    {
        var w = Window(log);
        var reportText = report.Title + "\n" + report.Text + "\n" + string.Join("\n", report.Objects);
        var setup = CollectSetup(log, w);
        var focus = CollectObjects(log, w, reportText);
        var (windowLocks, heldAtBug) = CollectLocks(log, w);
        var (lanes, rows) = SelectTimeline(log, w, report, reportText, new HashSet<int>(focus), windowLocks);
        return new TraceExplanation
        {
            Trace = trace,
            Report = report,
            Lanes = lanes,
            Rows = rows,
            Spans = HeldSpans(rows),
            Setup = setup,
            Focus = focus.Select(id => Describe(log, id)).ToList(),
            KernelSteps = log.Count == 0 ? 0 : (int)log[^1].Seq,
            TraceEntries = log.Count,
            ContextSwitches = CountContextSwitches(log),
            Threads = log.Skip(w.Start).Take(Math.Max(0, w.ThreadsEnd - w.Start)).Select(x => x.Task).Where(x => x != "init/1").Distinct().Count(),
            Decisions = decisions,
            Preemptions = preemptions,
            HeldAtBug = heldAtBug,
        };
    }

    /// <summary>The threads' phase (between the explorer's start and done notes) and the failing step: nothing after it is explained.</summary>
    private static LogWindow Window(IReadOnlyList<TraceStep> log)
    {
        var (start, threadsEnd) = Phases(log);
        int bugIndex = -1;
        for (int i = 0; i < log.Count; i++) if (log[i].Kind == TraceKind.Bug) { bugIndex = i; break; }
        return new LogWindow(start, threadsEnd, bugIndex, bugIndex >= 0 ? bugIndex + 1 : log.Count);
    }

    /// <summary>The setup: the syscalls each task issued before the threads started, in order, repeats folded ("open x3").</summary>
    private static List<(string Task, string Syscalls)> CollectSetup(IReadOnlyList<TraceStep> log, LogWindow w)
    {
        var order = new List<string>();
        var calls = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (int i = 0; i < Math.Min(w.Start, w.End); i++)
        {
            var s = log[i];
            if (s.Kind != TraceKind.Syscall) continue;
            if (!calls.TryGetValue(s.Task, out var l)) { calls[s.Task] = l = new List<string>(); order.Add(s.Task); }
            string n = s.Text.StartsWith("sys_", StringComparison.Ordinal) ? s.Text[4..] : s.Text;
            if (l.Count > 0 && (l[^1] == n || l[^1].StartsWith(n + " x", StringComparison.Ordinal)))
            {
                int times = l[^1] == n ? 2 : int.Parse(l[^1][(n.Length + 2)..], CultureInfo.InvariantCulture) + 1;
                l[^1] = $"{n} x{times}";
            }
            else l.Add(n);
        }
        return order.Select(t => (t, string.Join(", ", calls[t]))).ToList();
    }

    /// <summary>
    /// The objects to follow (allocation ids, in order): those the report names, then those two threads touched after
    /// the setup (counts, allocations, locks; dentries, mounts and files excepted), then every watch a thread touched.
    /// </summary>
    private static List<int> CollectObjects(IReadOnlyList<TraceStep> log, LogWindow w, string reportText)
    {
        var focus = NamedByReport(log, reportText);
        void AddFocus(int id) { if (!focus.Contains(id)) focus.Add(id); }
        var touchedBy = new Dictionary<int, List<string>>();
        var idOrder = new List<int>();
        for (int i = w.Start; i < w.End; i++)
        {
            var s = log[i];
            if (s.Kind is not (TraceKind.Get or TraceKind.Put or TraceKind.Alloc or TraceKind.Free or TraceKind.Lock or TraceKind.Unlock)) continue;
            if (IsPlumbing(s) || s.Task == "init/1") continue;
            if (StructId(s) is not int id) continue;
            if (!touchedBy.TryGetValue(id, out var who)) { touchedBy[id] = who = new List<string>(); idOrder.Add(id); }
            if (!who.Contains(s.Task)) who.Add(s.Task);
        }
        foreach (var id in idOrder) if (touchedBy[id].Count >= 2) AddFocus(id);
        // the watches are what every rfc defect is about: follow them even when one thread touches them
        for (int i = w.Start; i < w.End; i++)
        {
            var s = log[i];
            if (s.Kind is (TraceKind.Get or TraceKind.Put or TraceKind.Alloc or TraceKind.Free) && s.Task != "init/1"
                && s.Object?.Type is "struct inotify_watch" or "struct inotify_user_watch" && StructId(s) is int id)
                AddFocus(id);
        }
        return focus;
    }

    /// <summary>The traced objects the report names ("struct inode #13" in its title, text or objects), in the order it first names them.</summary>
    private static List<int> NamedByReport(IReadOnlyList<TraceStep> log, string reportText)
    {
        var named = new List<(int At, int Id)>();
        var seen = new HashSet<(string, int)>();
        foreach (var s in log)
        {
            if (StructId(s) is not int id || !seen.Add((s.Object!.Type, id))) continue;
            int at = FirstMention(reportText, s.Object.Name);
            if (at >= 0) named.Add((at, id));
        }
        var ids = new List<int>();
        foreach (var (_, id) in named.OrderBy(x => x.At)) if (!ids.Contains(id)) ids.Add(id);
        return ids;
    }

    /// <summary>Where <paramref name="text"/> first names <paramref name="name"/> ("struct inode #1", not the start of "#13"), or -1.</summary>
    private static int FirstMention(string text, string name)
    {
        for (int at = text.IndexOf(name, StringComparison.Ordinal); at >= 0; at = text.IndexOf(name, at + 1, StringComparison.Ordinal))
        {
            int end = at + name.Length;
            if (end == text.Length || !char.IsAsciiDigit(text[end])) return at;
        }
        return -1;
    }

    /// <summary>
    /// The race windows: each lock some task held while another thread's steps ran, and every lock still held when the
    /// bug fired (per task, in task-name order, named as <see cref="PlainLock"/> names them).
    /// </summary>
    private static (HashSet<string> WindowLocks, List<(string Task, List<string> Locks)> HeldAtBug) CollectLocks(IReadOnlyList<TraceStep> log, LogWindow w)
    {
        var windowLocks = new HashSet<string>(StringComparer.Ordinal);
        var open = new Dictionary<string, List<(string Lock, int At)>>(StringComparer.Ordinal);
        for (int i = w.Start; i < w.End; i++)
        {
            var s = log[i];
            if (s.Kind == TraceKind.Lock)
            {
                if (!open.TryGetValue(s.Task, out var l)) open[s.Task] = l = new();
                l.Add((s.Lock!, i));
            }
            else if (s.Kind == TraceKind.Unlock && open.TryGetValue(s.Task, out var l))
            {
                int k = l.FindLastIndex(x => x.Lock == s.Lock);
                if (k < 0) continue;
                int from = l[k].At;
                l.RemoveAt(k);
                for (int j = from + 1; j < i; j++)
                {
                    if (log[j].Task != s.Task && log[j].Task != "init/1") { windowLocks.Add(s.Lock!); break; }
                }
            }
        }
        var heldAtBug = new List<(string, List<string>)>();
        foreach (var kv in open.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (kv.Value.Count > 0) heldAtBug.Add((kv.Key, kv.Value.Select(x => PlainLock(log[x.At])).ToList()));
            foreach (var (lk, _) in kv.Value) windowLocks.Add(lk);
        }
        return (windowLocks, heldAtBug);
    }

    /// <summary>
    /// The timeline: the steps of the threads' phase (and the end checks up to the failing step) that matter, and the
    /// tasks' lanes in order of appearance. Kept: syscalls, events, reads, the bug, injected failures, function entries
    /// (plumbing only when the report names it), the locks of race windows or of followed objects or that the report
    /// names, and the counts, allocations and frees of followed objects.
    /// </summary>
    private static (List<string> Lanes, List<TimelineRow> Rows) SelectTimeline(IReadOnlyList<TraceStep> log, LogWindow w, Report report,
        string reportText, HashSet<int> focus, HashSet<string> windowLocks)
    {
        bool Keep(TraceStep s)
        {
            switch (s.Kind)
            {
                case TraceKind.Bug:
                case TraceKind.Syscall:
                case TraceKind.Return:
                case TraceKind.Event:
                case TraceKind.Read:
                    return true;
                case TraceKind.Note:
                    return s.Text != Explorer.ThreadsStartNote && s.Text != Explorer.ThreadsDoneNote;
                case TraceKind.Choice:
                    return s.Text.StartsWith("fail ", StringComparison.Ordinal);
                case TraceKind.Enter:
                    if (s.Task == "init/1") return false;
                    return report.Functions.Contains(s.Text) || !s_noiseFunctions.Contains(s.Text);
                case TraceKind.Lock:
                case TraceKind.Unlock:
                    if (windowLocks.Contains(s.Lock!)) return true;
                    if (StructId(s) is int lid && focus.Contains(lid)) return true;
                    return LockMentioned(reportText, s);
                default: // Get, Put, Alloc, Free
                    return StructId(s) is int id && focus.Contains(id);
            }
        }

        var lanes = new List<string>();
        var rows = new List<TimelineRow>();
        for (int i = w.Start; i < w.End; i++)
        {
            var s = log[i];
            if (i == w.ThreadsEnd) rows.Add(new TimelineRow(rows.Count, s.Seq, "", TraceKind.Note, "", "threads done: end checks and teardown", false));
            if (s.Kind == TraceKind.Note && (s.Text == Explorer.ThreadsDoneNote || s.Text == Explorer.ThreadsStartNote)) continue;
            if (!Keep(s)) continue;
            if (!lanes.Contains(s.Task)) lanes.Add(s.Task);
            rows.Add(new TimelineRow(rows.Count, s.Seq, s.Task, s.Kind, s.Function, s.Text, i == w.BugIndex) { Step = s });
        }
        return (lanes, rows);
    }

    /// <summary>The held-lock bars over the kept rows: each lock from its lock row to its unlock row (or to the end, still held at the bug), by start row and nesting level.</summary>
    private static List<HeldSpan> HeldSpans(List<TimelineRow> rows)
    {
        var spans = new List<HeldSpan>();
        var openRows = new Dictionary<string, List<(string Lock, string Plain, int Row)>>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            if (r.Step is not { } s) continue;
            if (s.Kind == TraceKind.Lock)
            {
                if (!openRows.TryGetValue(r.Task, out var l)) openRows[r.Task] = l = new();
                l.Add((s.Lock!, PlainLock(s), r.Index));
            }
            else if (s.Kind == TraceKind.Unlock && openRows.TryGetValue(r.Task, out var l))
            {
                int k = l.FindLastIndex(x => x.Lock == s.Lock);
                if (k < 0) continue;
                spans.Add(new HeldSpan(r.Task, l[k].Plain, l[k].Row, r.Index, k, false));
                l.RemoveAt(k);
            }
        }
        foreach (var kv in openRows.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            for (int k = 0; k < kv.Value.Count; k++)
                spans.Add(new HeldSpan(kv.Key, kv.Value[k].Plain, kv.Value[k].Row, rows.Count - 1, k, true));
        }
        spans.Sort((a, b) => a.FromRow != b.FromRow ? a.FromRow.CompareTo(b.FromRow) : a.Level.CompareTo(b.Level));
        return spans;
    }

    /// <summary>
    /// Whether the report names a lock by its field ("i_mutex"): only for locks not embedded in a followed kind of
    /// object (globals such as iprune_mutex or dcache_lock), whose instances the report cannot name by id.
    /// </summary>
    private static bool LockMentioned(string reportText, TraceStep s)
    {
        string field = s.Field ?? s.Lock ?? s.Text;
        return field.Length > 2 && reportText.Contains(field, StringComparison.Ordinal) && StructId(s) is null;
    }

    /// <summary>How the timeline names a followed object: its type and id where the log first shows it ("struct inotify_user_watch #18").</summary>
    private static string Describe(IReadOnlyList<TraceStep> log, int id)
    {
        foreach (var s in log)
            if (StructId(s) == id) return s.Object!.Name;
        return "#" + id.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A short variant name: "rfc", "fixed", "fixed without X", or the fix list.</summary>
    public static string VariantName(Fix set)
    {
        if (set == Fix.All) return "fixed";
        if (set == Fix.None) return "rfc";
        foreach (var i in Variants.Fixes)
            if (Variants.AllBut(i.Fix) == set) return $"fixed without {i.Name}";
        return Variants.Describe(set);
    }

    /// <summary>Kernel-style wording of one step, composed from its data (objects named without their cache).</summary>
    public static string Words(TraceStep s)
    {
        string t = s.Text;
        var o = s.Object;
        return s.Kind switch
        {
            TraceKind.Syscall => "> " + t,
            TraceKind.Return => "< " + t + " returns",
            TraceKind.Enter => t + "()",
            TraceKind.Lock => "lock " + PlainLock(s),
            TraceKind.Unlock => "unlock " + PlainLock(s),
            TraceKind.Get when o != null => $"get {o.Name}->{s.Field} = {s.Refcount}",
            TraceKind.Put when o != null => $"put {o.Name}->{s.Field} = {s.Refcount}",
            TraceKind.Alloc when o != null => $"alloc {o.Name} ({o.Cache})",
            TraceKind.Free when o != null => "free " + o.Name,
            TraceKind.Get => "get " + t,
            TraceKind.Put => "put " + t,
            TraceKind.Alloc => "alloc " + t,
            TraceKind.Free => "free " + t,
            TraceKind.Event => "event " + t,
            TraceKind.Read => "read(2) " + (t.StartsWith("read ", StringComparison.Ordinal) ? t[5..] : t),
            TraceKind.Choice => "choice " + t,
            TraceKind.Bug => "*** " + t,
            _ => t,
        };
    }

    /// <summary>A Lock or Unlock step's lock as a developer reads it: its object named without the cache ("struct inode #13->i_mutex").</summary>
    public static string PlainLock(TraceStep s)
    {
        string l = s.Lock ?? s.Text;
        if (s.Object is not { } o) return l;
        string full = o.Describe + "->";
        return l.StartsWith(full, StringComparison.Ordinal) ? o.Name + l[(full.Length - 2)..] : l;
    }

    /// <summary>The text a developer reads: header, setup, trimmed per-thread timeline, the report.</summary>
    public string RenderText()
    {
        var sb = new StringBuilder();
        var t = Trace;
        sb.Append($"inotify-sim trace: {ScenarioLabel(t)} on {VariantName(t.FixSet())}\n");
        sb.Append($"bug:       [{Report.Class.Name()}] {Report.Title}\n");
        sb.Append($"functions: {string.Join(", ", Report.Functions)}\n");
        sb.Append($"schedule:  {Plural(Decisions, "scheduling decision", "scheduling decisions")} ({Plural(Preemptions, "preemption", "preemptions")}), {KernelSteps} kernel steps, {Plural(ContextSwitches, "context switch", "context switches")} between {Plural(Threads, "thread", "threads")}\n");
        if (Focus.Count > 0) sb.Append($"objects:   {string.Join(", ", Focus)}\n");
        sb.Append('\n');
        if (Setup.Count > 0)
        {
            sb.Append("setup (sequential, before the threads start):\n");
            foreach (var (task, calls) in Setup) sb.Append($"  {task}: {calls}\n");
            sb.Append('\n');
        }
        sb.Append($"timeline ({Rows.Count} of {TraceEntries} trace steps shown; '!!' marks the failing step):\n");
        const int cap = 46;
        var width = new int[Lanes.Count];
        for (int i = 0; i < Lanes.Count; i++) width[i] = Math.Max(Lanes[i].Length, 12);
        var texts = new string[Rows.Count];
        var lastFn = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int r = 0; r < Rows.Count; r++)
        {
            var row = Rows[r];
            string w = row.Task == "" ? "--- " + row.Text + " ---" : row.Words;
            if (row.Kind is TraceKind.Enter or TraceKind.Syscall) lastFn[row.Task] = row.Text;
            else if (row.Kind is TraceKind.Return) lastFn.Remove(row.Task);
            else if (row.Task != "" && row.Kind is not (TraceKind.Bug or TraceKind.Note) && lastFn.GetValueOrDefault(row.Task) != row.Function && row.Function != "(user)")
                w += $" [{row.Function}]";
            texts[r] = w;
            int lane = LaneOf(row.Task);
            if (lane >= 0) width[lane] = Math.Min(cap, Math.Max(width[lane], w.Length));
        }
        var head = new StringBuilder("     step  ");
        for (int i = 0; i < Lanes.Count; i++) head.Append(Lanes[i].PadRight(width[i] + 2));
        sb.Append(head.ToString().TrimEnd()).Append('\n');
        for (int r = 0; r < Rows.Count; r++)
        {
            var row = Rows[r];
            var line = new StringBuilder(row.IsBug ? "  !! " : "     ");
            line.Append(row.Seq.ToString(CultureInfo.InvariantCulture).PadLeft(4)).Append("  ");
            if (row.Task == "") line.Append(texts[r]);
            else
            {
                int lane = LaneOf(row.Task);
                for (int i = 0; i < lane; i++) line.Append(' ', width[i] + 2);
                line.Append(texts[r]);
            }
            sb.Append(line.ToString().TrimEnd()).Append('\n');
        }
        sb.Append('\n');
        if (HeldAtBug.Count > 0)
        {
            sb.Append("locks held when the bug fired:\n");
            foreach (var (task, locks) in HeldAtBug)
                sb.Append($"  {task}: {string.Join(", ", locks)}\n");
            sb.Append('\n');
        }
        sb.Append("report:\n");
        sb.Append(Report.Text);
        return sb.ToString();
    }

    private static string Plural(int n, string one, string many) => $"{n} {(n == 1 ? one : many)}";

    private int LaneOf(string task)
    {
        for (int i = 0; i < Lanes.Count; i++) if (Lanes[i] == task) return i;
        return -1;
    }

    public static string ScenarioLabel(TraceFile t) => t.Scenario == "script" ? "scenario script" : t.Scenario;
}
