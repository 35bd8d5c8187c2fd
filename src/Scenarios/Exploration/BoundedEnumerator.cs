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
/// Splitting (<c>parts</c> &gt; 1): every schedule has exactly one owner part, a function of its decisions
/// alone, and each part counts the schedules it owns. The level-0 search (the one item every part starts
/// from) has a shared <em>skeleton</em>: the free decisions whose product of free branching factors from the
/// root is below <see cref="SplitProduct"/> times <c>parts</c>. The free decision where that product first
/// reaches it is the <em>split node</em>: its alternative of rank r (0-based, ascending) goes to part
/// (sum of the ranks chosen at the free decisions above it + r) mod parts, with everything below it,
/// including the preemption items found there (their subtrees too: an item belongs to the part that owns
/// the subtree it was found in). Every part runs the skeleton in the same order and, at each split node, only
/// its own alternatives; where it owns none it runs the first one as an uncounted <em>scouting</em> run
/// (its schedule belongs to another part) to get past it. A skeleton leaf (a schedule that ends above any
/// split node) goes to part (sum of its ranks) mod parts; every part runs it, its owner counts it. A
/// preemption item found in the skeleton is found by every part, in the same order: the n-th goes to part
/// n mod parts. So the parts' counted schedules partition the one-job enumeration, each exactly once, and
/// the bulk of level 0 (a workload's operation picks) splits as well as the levels above it. With one part
/// the search is exactly the unsplit one.
/// </summary>
public sealed class BoundedEnumerator : ISchedulePolicy
{
    /// <summary>Free-branching product per part at which the level-0 search splits (balance versus scouting runs).</summary>
    public const int SplitProduct = 32;

    private enum Zone : byte { Skeleton, Owned, Scout }

    private sealed class Node
    {
        public DecisionKind Kind;
        public ulong Options;
        public int Current;
        public int Chosen;
        /// <summary>Free alternatives not tried yet (threads as a bit set; for a choice, the values above Chosen).</summary>
        public ulong Untried;
        // splitting (level 0, parts > 1): the path's state after this node
        public ulong Product;
        public long RankSum;
        public Zone Zone;
    }

    private readonly int _bound;
    private readonly int _parts, _part;
    private readonly ulong _splitAt;
    private readonly Queue<int[]>[] _queues;
    private readonly List<Node> _path = new();
    private int[] _forced = Array.Empty<int>();
    private int _itemPrefixLen;
    private long _sharedItems;

    /// <summary>The preemption level being enumerated now.</summary>
    public int Level { get; private set; }
    public bool Exhausted { get; private set; }
    /// <summary>Some schedule was cut by the step bound: its subtree was not fully enumerated.</summary>
    public bool AnyCut { get; private set; }
    /// <summary>Schedules run at each preemption count (with parts: the ones this part owns).</summary>
    public long[] SchedulesPerLevel { get; }
    public long Schedules { get; private set; }
    /// <summary>Runs this part made only to get past a split node or a skeleton leaf it does not own (not counted).</summary>
    public long UncountedRuns { get; private set; }
    public int Bound => _bound;

    public BoundedEnumerator(int bound, int parts = 1, int part = 0)
    {
        if (bound < 0) throw new ArgumentOutOfRangeException(nameof(bound));
        if (parts < 1 || part < 0 || part >= parts) throw new ArgumentOutOfRangeException(nameof(part));
        _bound = bound;
        _parts = parts;
        _part = part;
        _splitAt = (ulong)SplitProduct * (ulong)parts;
        _queues = new Queue<int[]>[bound + 1];
        for (int i = 0; i <= bound; i++) _queues[i] = new Queue<int[]>();
        SchedulesPerLevel = new long[bound + 1];
        _queues[0].Enqueue(Array.Empty<int>());
        if (!NextItem()) Exhausted = true;
    }

    /// <summary>Level 0 of a split enumeration: the skeleton and split nodes decide which part owns what.</summary>
    private bool Splitting => _parts > 1 && Level == 0;

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
        Zone before = Splitting ? Before(index).Zone : Zone.Owned;
        if (IsContinuable(node))
        {
            // a scheduling point where the running thread may go on: that is the free decision; each preemption is an item
            node.Chosen = current;
            node.Untried = 0;
            if (Level < _bound && before != Zone.Scout)
            {
                foreach (var o in ThreadSet.Members(options & ~(1UL << current)))
                {
                    // an item found in the skeleton is found by every part: the n-th is part n mod parts'
                    if (before == Zone.Skeleton && _sharedItems++ % _parts != _part) continue;
                    Enqueue(Level + 1, index, o);
                }
            }
        }
        else
        {
            ulong all = Alternatives(node);
            if (all == 0) all = 1;
            if (before == Zone.Scout) all = Lowest(all);
            else if (before == Zone.Skeleton && SaturatingProduct(Before(index).Product, (ulong)NodeBranching(node)) >= _splitAt)
            {
                // the split node: keep this part's alternatives; none: scout with the first one
                ulong mine = 0;
                long sum = Before(index).RankSum;
                for (ulong m = all; m != 0; m &= m - 1)
                {
                    int a = System.Numerics.BitOperations.TrailingZeroCount(m);
                    if ((sum + Rank(node, a)) % _parts == _part) mine |= 1UL << a;
                }
                all = mine != 0 ? mine : Lowest(all);
            }
            node.Chosen = System.Numerics.BitOperations.TrailingZeroCount(all);
            node.Untried = all & ~(1UL << node.Chosen);
        }
        _path.Add(node);
        if (Splitting) Settle(index);
        return node.Chosen;
    }

    private static ulong Lowest(ulong m) => m & (~m + 1);

    private static bool IsContinuable(Node n) => n.Kind == DecisionKind.Point && ThreadSet.Has(n.Options, n.Current);

    /// <summary>The free alternatives of a node that is not a continuable point (threads, or choice values, as a bit set).</summary>
    private static ulong Alternatives(Node n) =>
        n.Kind == DecisionKind.Choice ? (n.Options >= 64 ? ulong.MaxValue : (1UL << (int)n.Options) - 1) : n.Options;

    private static int NodeBranching(Node n) => IsContinuable(n) ? 1 : System.Numerics.BitOperations.PopCount(Alternatives(n));

    /// <summary>The rank of alternative <paramref name="a"/> among the node's free alternatives (ascending).</summary>
    private static int Rank(Node n, int a) =>
        IsContinuable(n) ? 0 : n.Kind == DecisionKind.Choice ? a : System.Numerics.BitOperations.PopCount(n.Options & ((1UL << a) - 1));

    private static ulong SaturatingProduct(ulong a, ulong b) => a > ulong.MaxValue / Math.Max(1UL, b) ? ulong.MaxValue : a * b;

    private static readonly Node Root = new() { Product = 1, RankSum = 0, Zone = Zone.Skeleton };

    private Node Before(int index) => index == 0 ? Root : _path[index - 1];

    /// <summary>Level 0, parts &gt; 1: the path's state after node <paramref name="j"/> (its Chosen set).</summary>
    private void Settle(int j)
    {
        var n = _path[j];
        var b = Before(j);
        if (b.Zone != Zone.Skeleton) { n.Zone = b.Zone; return; }
        n.Product = SaturatingProduct(b.Product, (ulong)NodeBranching(n));
        n.RankSum = b.RankSum + Rank(n, n.Chosen);
        n.Zone = n.Product < _splitAt ? Zone.Skeleton : n.RankSum % _parts == _part ? Zone.Owned : Zone.Scout;
    }

    private void Enqueue(int level, int index, int choice)
    {
        var prefix = new int[index + 1];
        for (int i = 0; i < index; i++) prefix[i] = _path[i].Chosen;
        prefix[index] = choice;
        _queues[level].Enqueue(prefix);
    }

    /// <summary>
    /// The run ended (<paramref name="cut"/>: it hit the step bound). Prepares the next schedule. Returns
    /// whether the run was one of this part's schedules (false: a scouting run or another part's skeleton leaf).
    /// </summary>
    public bool EndRun(bool cut)
    {
        if (Exhausted) return false;
        bool counted = true;
        if (Splitting)
        {
            var last = _path.Count == 0 ? Root : _path[^1];
            counted = last.Zone == Zone.Owned || (last.Zone == Zone.Skeleton && last.RankSum % _parts == _part);
        }
        if (counted)
        {
            if (cut) AnyCut = true;
            Schedules++;
            SchedulesPerLevel[Level]++;
        }
        else UncountedRuns++;
        for (int j = _path.Count - 1; j >= _itemPrefixLen; j--)
        {
            var n = _path[j];
            if (n.Untried == 0) continue;
            int a = ThreadSet.Lowest(n.Untried);
            n.Untried &= ~(1UL << a);
            n.Chosen = a;
            _path.RemoveRange(j + 1, _path.Count - j - 1);
            if (Splitting) Settle(j);
            _forced = new int[j + 1];
            for (int i = 0; i <= j; i++) _forced[i] = _path[i].Chosen;
            return counted;
        }
        if (!NextItem()) Exhausted = true;
        return counted;
    }

    private bool NextItem()
    {
        while (Level <= _bound)
        {
            if (_queues[Level].Count > 0)
            {
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
