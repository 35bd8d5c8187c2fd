using System.Text;

namespace InotifySim.Model.Kernel;

/// <summary>
/// struct list_head embedded in a kernel object (CONFIG_DEBUG_LIST semantics). list_del
/// poisons the entry with LIST_POISON1/LIST_POISON2, so a second list_del, or a walk through
/// a deleted entry, is list corruption; list_add checks its neighbours; list_entry of an
/// empty list's head is a type confusion, never an object.
/// </summary>
public sealed class ListHead
{
    private ListHead _next, _prev;
    /// <summary>The object this list_head is embedded in (container_of's target).</summary>
    public KObject? Container { get; }
    public string Field { get; }

    /// <summary>INIT_LIST_HEAD() of a list_head embedded in <paramref name="container"/>.</summary>
    public ListHead(KObject container, string field)
    {
        Container = container;
        Field = field;
        _next = this;
        _prev = this;
    }

    public string Name => Container is null ? Field : $"{Container.Describe}->{Field}";

    private Kernel K => Container!.K;
    /// <summary>LIST_POISON1 / LIST_POISON2 (0x00100100 / 0x00200200), one pair per simulated kernel.</summary>
    private ListHead LIST_POISON1 => K.LIST_POISON1;
    private ListHead LIST_POISON2 => K.LIST_POISON2;

    // KASAN and KCSAN: reading next/prev (list_empty, a walk, the checks of list_add/list_del) reads the list_head,
    // setting them (list_add, list_del, INIT_LIST_HEAD) writes it
    internal ListHead next
    {
        get { Container?.ChkOp(Field, false, "list_head"); return _next; }
        set { Container?.ChkOp(Field, true, "list_head"); _next = value; }
    }

    internal ListHead prev
    {
        get { Container?.ChkOp(Field, false, "list_head"); return _prev; }
        set { Container?.ChkOp(Field, true, "list_head"); _prev = value; }
    }

    public bool IsPoisoned => Container != null && (_next == LIST_POISON1 || _prev == LIST_POISON2);

    public void INIT_LIST_HEAD()
    {
        next = this;
        prev = this;
    }

    /// <summary>list_empty(head)</summary>
    public bool list_empty()
    {
        var n = next;
        if (n == LIST_POISON1) Corruption("list_empty", this, "head->next is LIST_POISON1 (list_empty on a deleted entry)");
        return n == this;
    }

    /// <summary>list_add(new, head): insert <paramref name="entry"/> after this head.</summary>
    public void list_add(ListHead entry) => __list_add(entry, this, next);

    /// <summary>list_add_tail(new, head): insert <paramref name="entry"/> before this head.</summary>
    public void list_add_tail(ListHead entry) => __list_add(entry, prev, this);

    private void __list_add(ListHead entry, ListHead p, ListHead n)
    {
        K.FinePoint();
        if (n.prev != p) Corruption("list_add", entry, $"next->prev should be prev ({p.Name}), but was {n.prev.Name}. (next={n.Name})");
        if (p.next != n) Corruption("list_add", entry, $"prev->next should be next ({n.Name}), but was {p.next.Name}. (prev={p.Name})");
        // __list_add_valid's third check: adding an entry next to itself (it is already on this list, right there)
        if (entry == p || entry == n)
            CorruptionAt(K, "list_add double add", entry, $"list_add double add: new={entry.Name}, prev={p.Name}, next={n.Name}.", ownLine: true);
        n.prev = entry;
        entry.next = n;
        entry.prev = p;
        p.next = entry;
    }

    /// <summary>list_del(entry): unlink and poison.</summary>
    public void list_del()
    {
        K.FinePoint();
        var n = next;
        var p = prev;
        if (n == LIST_POISON1) Corruption("list_del", this, $"{Name}->next is LIST_POISON1 (00100100)");
        if (p == LIST_POISON2) Corruption("list_del", this, $"{Name}->prev is LIST_POISON2 (00200200)");
        if (p.next != this) Corruption("list_del", this, $"prev->next should be {Name}, but was {p.next.Name}");
        if (n.prev != this) Corruption("list_del", this, $"next->prev should be {Name}, but was {n.prev.Name}");
        n.prev = p;
        p.next = n;
        next = LIST_POISON1;
        prev = LIST_POISON2;
    }

    /// <summary>list_del_init(entry)</summary>
    public void list_del_init()
    {
        list_del();
        INIT_LIST_HEAD();
    }

    /// <summary>list_entry(ptr, type, member) = container_of(ptr, type, member).</summary>
    public T list_entry<T>(string member) where T : KObject
    {
        if (this == LIST_POISON1 || this == LIST_POISON2)
        {
            Corruption("list_entry", this, $"list_entry() of a LIST_POISON pointer while looking for {typeof(T).Name}.{member}: walked through a deleted entry");
        }
        if (Container is T t && Field == member) return t;
        var k = K;
        var cur = k.current;
        var sb = new StringBuilder();
        sb.Append($"list_entry({Name}, {TypeNameOf<T>()}, {member}) in {cur.CurrentFunction}:\n");
        sb.Append($"the list_head is {Container?.TypeName}.{Field}, not {TypeNameOf<T>()}.{member}");
        if (Container is not T) sb.Append(" (this is the list's head: the list is empty)");
        sb.Append("\ncontainer_of() returns a pointer into the wrong object; every field read through it is garbage.\n");
        sb.Append("Call Trace:\n").Append(k.SiteHere().Render());
        k.Bug(new BugReport(BugClass.TypeConfusion, $"BUG: list_entry() of an empty list or foreign list_head in {cur.CurrentFunction}")
        {
            Functions = Top(cur),
            Threads = new[] { cur.Name },
            Objects = new[] { Name },
            Body = sb.ToString(),
        });
        return null!;
    }

    /// <summary>Walk step: pos->member.next, checked for poison (list_for_each_entry).</summary>
    public ListHead Next(string walker)
    {
        var n = next;
        if (n == LIST_POISON1 || n == LIST_POISON2)
            Corruption(walker, this, $"list walk through a deleted entry: {Name}->next is LIST_POISON1");
        return n;
    }

    private void Corruption(string op, ListHead entry, string what) => CorruptionAt(K, op, entry, what);

    /// <summary>
    /// A CHECK_DATA_CORRUPTION report: "list_debug: OP corruption. WHAT", titled "list_debug: OP corruption in FN";
    /// with <paramref name="ownLine"/>, WHAT is the kernel's whole line ("list_add double add: new=..."), titled
    /// "list_debug: OP in FN".
    /// </summary>
    private static void CorruptionAt(Kernel k, string op, ListHead entry, string what, bool ownLine = false)
    {
        var cur = k.current;
        var sb = new StringBuilder();
        sb.Append(ownLine ? $"list_debug: {what}\n" : $"list_debug: {op} corruption. {what}\n");
        sb.Append($"entry {entry.Name}\n");
        sb.Append("Call Trace:\n").Append(k.SiteHere().Render());
        k.Bug(new BugReport(BugClass.ListCorruption, ownLine ? $"list_debug: {op} in {cur.CurrentFunction}" : $"list_debug: {op} corruption in {cur.CurrentFunction}")
        {
            Functions = Top(cur),
            Threads = new[] { cur.Name },
            Objects = new[] { entry.Name },
            Body = sb.ToString(),
        });
    }

    private static string[] Top(TaskStruct t)
    {
        var s = t.Stack();
        return s.Length > 3 ? s[..3] : s;
    }

    private static string TypeNameOf<T>() => typeof(T).Name;
}
