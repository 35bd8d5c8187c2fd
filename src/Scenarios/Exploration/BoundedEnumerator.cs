using InotifySim.Model.Kernel;

namespace InotifySim.Scenarios.Exploration;

/// <summary>
/// Iterative context bounding (Musuvathi and Qadeer, PLDI 2007, as in CHESS): enumerates every schedule
/// with 0, then 1, ..., then <c>bound</c> preemptions, fewest first, each exactly once, by stateless
/// re-execution. A work item is a schedule prefix ending in a preemption (the empty prefix at level 0);
/// from it a depth-first search takes only free decisions (the running thread goes on at a scheduling
/// point; any runnable thread at blocking, exit and start; any value of a controlled choice), and every
/// preemption it could have taken instead becomes a work item of the next level. So every leaf reached
/// from a level-c item has exactly c preemptions, and every schedule with c preemptions is reached from
/// exactly one item: the prefix up to its last preemption.
///
/// Splitting: with <c>parts</c> &gt; 1, every part runs the levels below the bound (they are what discovers
/// the top level's items, in the same order everywhere) and only its share of the top level's items
/// (item number mod parts), so the parts' top levels partition the top level of one job.
/// </summary>
public sealed class BoundedEnumerator : ISchedulePolicy
{
    private sealed class Node
    {
        public DecisionKind Kind;
        public ulong Options;
        public int Current;
        public int Chosen;
        /// <summary>Free alternatives not tried yet (threads as a bit set; for a choice, the values above Chosen).</summary>
        public ulong Untried;
    }

    private readonly int _bound;
    private readonly int _parts, _part;
    private readonly Queue<int[]>[] _queues;
    private readonly List<Node> _path = new();
    private int[] _forced = Array.Empty<int>();
    private int _itemPrefixLen;
    private long _topItems;

    /// <summary>The preemption level being enumerated now.</summary>
    public int Level { get; private set; }
    public bool Exhausted { get; private set; }
    /// <summary>Some schedule was cut by the step bound: its subtree was not fully enumerated.</summary>
    public bool AnyCut { get; private set; }
    /// <summary>Schedules run at each preemption count.</summary>
    public long[] SchedulesPerLevel { get; }
    public long Schedules { get; private set; }
    public int Bound => _bound;

    public BoundedEnumerator(int bound, int parts = 1, int part = 0)
    {
        if (bound < 0) throw new ArgumentOutOfRangeException(nameof(bound));
        if (parts < 1 || part < 0 || part >= parts) throw new ArgumentOutOfRangeException(nameof(part));
        _bound = bound;
        _parts = parts;
        _part = part;
        _queues = new Queue<int[]>[bound + 1];
        for (int i = 0; i <= bound; i++) _queues[i] = new Queue<int[]>();
        SchedulesPerLevel = new long[bound + 1];
        _queues[0].Enqueue(Array.Empty<int>());
        if (!NextItem()) Exhausted = true;
    }

    public int Pick(DecisionKind kind, ulong options, int current, int index, long points, string site)
    {
        if (index < _forced.Length)
        {
            int c = _forced[index];
            if (index < _path.Count)
            {
                var n = _path[index];
                if (n.Kind != kind || n.Options != options || n.Current != current)
                    throw new NondeterminismException($"the same schedule prefix reached a different decision at step {index + 1} ({ReplayPolicy.Describe(n.Kind, n.Options, n.Current, "?")} before, {ReplayPolicy.Describe(kind, options, current, site)} now): the model is not deterministic");
            }
            else
            {
                bool ok = kind == DecisionKind.Choice ? c < (int)options : ThreadSet.Has(options, c);
                if (!ok) throw new NondeterminismException($"the recorded prefix chooses {c} at step {index + 1}, which is not an option of {ReplayPolicy.Describe(kind, options, current, site)}: the model is not deterministic");
                _path.Add(new Node { Kind = kind, Options = options, Current = current, Chosen = c });
            }
            return c;
        }
        if (index != _path.Count) throw new InvalidOperationException("enumerator out of step");
        var node = new Node { Kind = kind, Options = options, Current = current };
        if (kind == DecisionKind.Choice)
        {
            node.Chosen = 0;
            node.Untried = options <= 1 ? 0 : (options >= 64 ? ulong.MaxValue : (1UL << (int)options) - 1) & ~1UL;
        }
        else if (kind == DecisionKind.Point && ThreadSet.Has(options, current))
        {
            node.Chosen = current;
            node.Untried = 0;
            if (Level < _bound)
            {
                foreach (var o in ThreadSet.Members(options & ~(1UL << current))) Enqueue(Level + 1, index, o);
            }
        }
        else
        {
            node.Chosen = ThreadSet.Lowest(options);
            node.Untried = options & ~(1UL << node.Chosen);
        }
        _path.Add(node);
        return node.Chosen;
    }

    private void Enqueue(int level, int index, int choice)
    {
        if (level == _bound && _parts > 1)
        {
            long n = _topItems++;
            if (n % _parts != _part) return;
        }
        var prefix = new int[index + 1];
        for (int i = 0; i < index; i++) prefix[i] = _path[i].Chosen;
        prefix[index] = choice;
        _queues[level].Enqueue(prefix);
    }

    /// <summary>The run ended (<paramref name="cut"/>: it hit the step bound). Prepares the next schedule.</summary>
    public void EndRun(bool cut)
    {
        if (Exhausted) return;
        if (cut) AnyCut = true;
        Schedules++;
        SchedulesPerLevel[Level]++;
        for (int j = _path.Count - 1; j >= _itemPrefixLen; j--)
        {
            var n = _path[j];
            if (n.Untried == 0) continue;
            int a = ThreadSet.Lowest(n.Untried);
            n.Untried &= ~(1UL << a);
            n.Chosen = a;
            _path.RemoveRange(j + 1, _path.Count - j - 1);
            _forced = new int[j + 1];
            for (int i = 0; i <= j; i++) _forced[i] = _path[i].Chosen;
            return;
        }
        if (!NextItem()) Exhausted = true;
    }

    private bool NextItem()
    {
        while (Level <= _bound)
        {
            if (_queues[Level].Count > 0)
            {
                // an item of the top level is counted only in its own part; lower levels run everywhere
                if (_parts > 1 && Level == _bound && Level == 0 && _part != 0) { _queues[0].Clear(); continue; }
                _forced = _queues[Level].Dequeue();
                _itemPrefixLen = _forced.Length;
                _path.Clear();
                return true;
            }
            if (Level == _bound) break;
            Level++;
        }
        return false;
    }
}

/// <summary>The model took a different path for the same decisions: a harness defect, never a kernel bug.</summary>
public sealed class NondeterminismException(string message) : Exception(message);
